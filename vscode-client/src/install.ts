// "Install nearcode into a private environment": a virtual environment in the extension's
// storage, CPU torch first (an unpinned torch pulls a multi-gigabyte CUDA build), then the
// wheel or source distribution the user picked (scripts/build-wheel.sh builds them), then
// an import check. The plan is pure and unit-tested; runSteps runs it with child_process.

import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';

/** The torch pin the project installs first (README.md, scripts/bootstrap.sh). */
export const TORCH_REQUIREMENT = 'torch==2.13.0';

export interface InstallStep {
  title: string;
  command: string;
  args: string[];
}

export function venvPython(venvDir: string, platform: string = process.platform): string {
  return platform === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
}

/** Wheels, sdists (.tar.gz, .zip) and checkouts (a folder with pyproject.toml) install with pip. */
export function describeSource(path: string): string | undefined {
  const name = basename(path);
  if (name.endsWith('.whl')) {
    return `the wheel ${name}`;
  }
  if (name.endsWith('.tar.gz') || name.endsWith('.zip')) {
    return `the source distribution ${name}`;
  }
  return undefined;
}

/** argv that exits 0 when the interpreter can run nearcode (Python 3.10 or newer). */
export function versionCheck(python: readonly string[]): { command: string; args: string[] } {
  return {
    command: python[0],
    args: [...python.slice(1), '-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'],
  };
}

export function installPlan(
  basePython: readonly string[],
  venvDir: string,
  source: string,
  platform: string = process.platform,
): InstallStep[] {
  const python = venvPython(venvDir, platform);
  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check'];
  return [
    {
      title: 'creating the environment',
      command: basePython[0],
      args: [...basePython.slice(1), '-m', 'venv', venvDir],
    },
    { title: `installing ${TORCH_REQUIREMENT} (CPU build, the largest download)`, command: python, args: [...pip, TORCH_REQUIREMENT] },
    { title: `installing ${basename(source)} and its dependencies`, command: python, args: [...pip, source] },
    { title: 'checking the installation', command: python, args: ['-c', 'import lsp_server'] },
  ];
}

export interface RunHooks {
  onStep(step: InstallStep, index: number, total: number): void;
  onOutput(text: string): void;
  isCancelled(): boolean;
}

const TAIL_LINES = 5;

/** Runs the steps in order; rejects with the failing step and the end of its output. */
export async function runSteps(steps: readonly InstallStep[], hooks: RunHooks): Promise<void> {
  for (const [index, step] of steps.entries()) {
    if (hooks.isCancelled()) {
      throw new Error('cancelled');
    }
    hooks.onStep(step, index, steps.length);
    await runStep(step, hooks);
  }
}

function runStep(step: InstallStep, hooks: RunHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const child = spawn(step.command, step.args, { windowsHide: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const collect = (data: Buffer): void => {
      const text = data.toString();
      hooks.onOutput(text);
      tail = (tail + text).split('\n').slice(-TAIL_LINES - 1).join('\n');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const cancelPoll = setInterval(() => {
      if (hooks.isCancelled()) {
        child.kill();
      }
    }, 250);
    child.on('error', (error) => {
      clearInterval(cancelPoll);
      reject(new Error(`${step.title} failed: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(cancelPoll);
      if (code === 0) {
        resolve();
      } else {
        const why = signal ? `stopped (${signal})` : `exit code ${code}`;
        reject(new Error(`${step.title} failed (${why}): ${tail.trim().split('\n').pop() ?? ''}`));
      }
    });
  });
}
