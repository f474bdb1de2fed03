// Activation: creates the pieces and wires them together; the logic lives in the
// modules it imports.

import * as vscode from 'vscode';
import { CLIENT_NAME } from './client';
import { registerCommands } from './commands';
import { ClientCommand, parseStatusResponse, statusCall } from './protocol';
import { SearchHistory } from './results';
import { OPEN_RESULT_COMMAND, RESULTS_VIEW_ID, type ResultNode, ResultsTreeProvider } from './resultsView';
import { openResult } from './searchPicker';
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
  const results = new ResultsTreeProvider(new SearchHistory());
  const statusBar = createStatusBar(context, () => manager.execute(statusCall()));
  const manager = new ServerManager(output, statusBar);
  server = manager;
  context.subscriptions.push(
    output,
    results,
    vscode.window.createTreeView(RESULTS_VIEW_ID, { treeDataProvider: results, showCollapseAll: true }),
    ...registerCommands({ server: manager, results, statusBar }),
    vscode.commands.registerCommand(OPEN_RESULT_COMMAND, openResult),
    vscode.commands.registerCommand(ClientCommand.removeSearch, (node?: ResultNode) => results.remove(node)),
  );
  void manager.start();
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
