// Activation: creates the pieces and wires them together; the logic lives in the
// modules it imports.

import * as vscode from 'vscode';
import { CLIENT_NAME } from './client';
import { registerCommands } from './commands';
import { ClientCommand, parseStatusResponse, statusCall } from './protocol';
import { ResultsController } from './resultsController';
import { ServerManager } from './server';
import { StatusBarController } from './statusBar';

let server: ServerManager | undefined;

function createStatusBar(context: vscode.ExtensionContext, fetch: () => Promise<unknown>): StatusBarController {
  const item = vscode.window.createStatusBarItem('nearcode.status', vscode.StatusBarAlignment.Left, 0);
  item.name = 'Nearcode';
  item.command = ClientCommand.showStatus;
  const errorColor = new vscode.ThemeColor('statusBarItem.errorBackground');
  const controller = new StatusBarController({
    item,
    setError: (error) => {
      item.backgroundColor = error ? errorColor : undefined;
    },
    fetchStatus: async () => parseStatusResponse(await fetch()),
  });
  context.subscriptions.push(item, { dispose: () => controller.dispose() });
  return controller;
}

export function activate(context: vscode.ExtensionContext): void {
  // One channel for the whole session: the client writes the server's stderr here and
  // keeps it across restarts, so the log of a crash is still there afterwards.
  const output = vscode.window.createOutputChannel(CLIENT_NAME);
  const statusBar = createStatusBar(context, () => manager.execute(statusCall()));
  const manager = new ServerManager(output, statusBar);
  server = manager;
  const results = new ResultsController(manager, statusBar, context.workspaceState);
  context.subscriptions.push(
    output,
    results,
    ...registerCommands({ server: manager, results, statusBar, extension: context, output }),
  );
  void manager.start();
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
