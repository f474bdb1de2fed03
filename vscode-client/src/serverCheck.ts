// Pre-flight check that the chosen interpreter can import the server package, so a
// missing install produces one clear notification instead of a crash/restart loop.
// It tells the three cases apart: no such interpreter, an interpreter without nearcode,
// and a check that failed in another way. Node-only (child_process), no VS Code imports.

import { execFile } from 'node:child_process';
import { importCheckCommand } from './settings';

export type CheckOutcome = 'ok' | 'notFound' | 'notInstalled' | 'failed';

export interface CheckResult {
  outcome: CheckOutcome;
  /** What went wrong, for the log: stderr, spawn error or timeout. */
  detail: string;
}

export const CHECK_TIMEOUT_MS = 20_000;

/** Spawn errors that mean "there is no program to run at that path". */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['ENOENT', 'EACCES', 'ENOTDIR']);

export function isNotFoundError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NOT_FOUND_CODES.has(code)) {
    return true;
  }
  // The language client reports spawn failures as text: "... Error: spawn /x ENOENT".
  return /\bspawn\b.*\b(ENOENT|EACCES|ENOTDIR)\b/.test(String((error as Error | null)?.message ?? error));
}

export function checkServerImport(
  python: readonly string[],
  timeoutMs = CHECK_TIMEOUT_MS,
  module?: string,
): Promise<CheckResult> {
  const { command, args } = importCheckCommand(python, module);
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) {
        resolve({ outcome: 'ok', detail: '' });
      } else if (isNotFoundError(error)) {
        resolve({ outcome: 'notFound', detail: error.message });
      } else if (error.killed) {
        resolve({ outcome: 'failed', detail: `timed out after ${timeoutMs} ms` });
      } else {
        // execFile's message repeats stderr; prefer stderr alone, which has the traceback.
        const text = String(stderr).trim() || error.message;
        resolve({ outcome: /ModuleNotFoundError|No module named/.test(text) ? 'notInstalled' : 'failed', detail: text });
      }
    });
  });
}
