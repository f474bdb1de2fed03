// Pre-flight check that the chosen interpreter can import the server package, so a
// missing install produces one clear notification instead of a crash/restart loop.
// Node-only (child_process), no VS Code imports.

import { execFile } from 'node:child_process';
import { importCheckCommand } from './settings';

export interface CheckResult {
  ok: boolean;
  /** What went wrong, for the log: stderr, spawn error or timeout. */
  detail: string;
}

export const CHECK_TIMEOUT_MS = 20_000;

export function checkServerImport(
  python: readonly string[],
  timeoutMs = CHECK_TIMEOUT_MS,
  module?: string,
): Promise<CheckResult> {
  const { command, args } = importCheckCommand(python, module);
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) {
        resolve({ ok: true, detail: '' });
        return;
      }
      // execFile's message repeats stderr; prefer stderr alone, which has the traceback.
      const detail = error.killed ? `timed out after ${timeoutMs} ms` : String(stderr).trim() || error.message;
      resolve({ ok: false, detail });
    });
  });
}
