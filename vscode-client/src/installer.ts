// The "Install nearcode into a private environment" command: picks the wheel or source
// distribution (setting nearcode.server.installSource, else a file dialog), an interpreter
// of Python 3.10+, runs the plan from install.ts with progress and the output in the log,
// then points nearcode.server.python at the new environment (which restarts the server).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { describeSource, installPlan, runSteps, venvPython, versionCheck } from './install';
import { candidatePythons } from './server';
import { WHEEL_HINT, machineValue } from './settings';

export interface InstallContext {
  extension: vscode.ExtensionContext;
  output: vscode.OutputChannel;
}

function runs(command: { command: string; args: string[] }): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command.command, command.args, { timeout: 20_000, windowsHide: true }, (error) => resolve(!error));
  });
}

async function pickSource(): Promise<string | undefined> {
  const configured = machineValue(vscode.workspace.getConfiguration('nearcode').inspect<string>('server.installSource'));
  if (typeof configured === 'string' && configured.trim() !== '') {
    return configured.trim();
  }
  const picked = await vscode.window.showOpenDialog({
    title: `Nearcode: pick the nearcode wheel or source distribution (scripts/build-wheel.sh builds ${WHEEL_HINT})`,
    openLabel: 'Install',
    canSelectMany: false,
    filters: { 'Python packages': ['whl', 'gz', 'zip'] },
  });
  return picked?.[0]?.fsPath;
}

async function pickPython(output: vscode.OutputChannel): Promise<string[] | undefined> {
  for (const python of await candidatePythons((line) => output.appendLine(`[nearcode] ${line}`))) {
    if (await runs(versionCheck(python))) {
      return python;
    }
  }
  return undefined;
}

export async function runInstall(ctx: InstallContext): Promise<void> {
  const source = await pickSource();
  if (!source) {
    return;
  }
  const kind = describeSource(source);
  if (!kind || !existsSync(source)) {
    throw new Error(
      `${source} is not a nearcode wheel or source distribution. Build one with scripts/build-wheel.sh in a nearcode checkout (it writes ${WHEEL_HINT}).`,
    );
  }
  const python = await pickPython(ctx.output);
  if (!python) {
    throw new Error('no Python 3.10 or newer found (tried nearcode.server.python, the Python extension, python3, python).');
  }
  const venv = vscode.Uri.joinPath(ctx.extension.globalStorageUri, 'server-venv').fsPath;
  const steps = installPlan(python, venv, source);
  ctx.output.appendLine(`[nearcode] Installing ${kind} into ${venv} with ${python.join(' ')}`);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Nearcode: installing the server', cancellable: true },
    (progress, token) =>
      runSteps(steps, {
        onStep: (step, index, total) => {
          ctx.output.appendLine(`[nearcode] ${index + 1}/${total}: ${step.title}`);
          progress.report({ message: `${index + 1}/${total}: ${step.title}`, increment: index === 0 ? 0 : 100 / total });
        },
        onOutput: (text) => ctx.output.append(text),
        isCancelled: () => token.isCancellationRequested,
      }),
  );
  const interpreter = venvPython(venv);
  await vscode.workspace.getConfiguration('nearcode').update('server.python', interpreter, vscode.ConfigurationTarget.Global);
  void vscode.window.showInformationMessage(`Nearcode: installed into ${venv}; nearcode.server.python is now ${interpreter}.`);
}
