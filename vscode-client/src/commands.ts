// The extension's commands. Each one builds the server call (protocol.ts), sends it
// through the ServerManager and shows the reply.

import * as vscode from 'vscode';
import {
  ClientCommand,
  type SearchResponse,
  type SearchResult,
  errorMessage,
  findSimilarCall,
  parseReindexResponse,
  parseSearchResponse,
  parseStatusResponse,
  reindexCall,
  searchCall,
  searchSelectionCall,
  statusCall,
} from './protocol';
import { folderName, folderStatusText, oneLine, type SearchKind } from './results';
import { RESULTS_VIEW_ID, type ResultsTreeProvider, toVscodeRange } from './resultsView';
import { showResultsPicker, showSemanticSearch } from './searchPicker';
import { type ServerManager, readServerSettings } from './server';
import type { StatusBarController } from './statusBar';

export interface CommandContext {
  server: ServerManager;
  results: ResultsTreeProvider;
  statusBar: StatusBarController;
}

function isCancellation(error: unknown): boolean {
  return error instanceof vscode.CancellationError || (error instanceof Error && error.name === 'Canceled');
}

async function reportError(error: unknown, server: ServerManager): Promise<void> {
  if (isCancellation(error)) {
    return;
  }
  const choice = await vscode.window.showErrorMessage(`Nearcode: ${errorMessage(error)}`, 'Show Log');
  if (choice) {
    server.showLog();
  }
}

/**
 * Records a search in the Results view. `reveal` focuses the view; it is only used when
 * the user asked for the view, since taking focus closes an open QuickPick or peek.
 */
function addToView(
  ctx: CommandContext,
  kind: SearchKind,
  query: string,
  response: SearchResponse,
  reveal = false,
): void {
  ctx.results.add({ kind, query, results: response.results, partial: response.partial });
  if (reveal) {
    void vscode.commands.executeCommand(`${RESULTS_VIEW_ID}.focus`);
  }
}

function withWindowProgress<T>(title: string, task: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, task);
}

function semanticSearch(ctx: CommandContext): void {
  showSemanticSearch({
    search: async (query, token) => {
      const reply = await ctx.server.execute(searchCall(query, readServerSettings().resultLimit), token);
      return parseSearchResponse(reply);
    },
    sendToView: (query, response) => addToView(ctx, 'search', query, response, true),
    describeError: errorMessage,
  });
}

function toLocation(result: SearchResult): vscode.Location {
  return new vscode.Location(vscode.Uri.parse(result.uri), toVscodeRange(result.range));
}

function describeOrigin(editor: vscode.TextEditor): string {
  const line = editor.selection.active.line;
  const name = vscode.workspace.asRelativePath(editor.document.uri, false);
  return `${name}:${line + 1} — ${oneLine(editor.document.lineAt(line).text, 40)}`;
}

async function findSimilarCode(ctx: CommandContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Nearcode: open a file and put the cursor in the code to compare.');
    return;
  }
  const { selection, document } = editor;
  const at = selection.isEmpty ? selection.active : selection;
  const reply = await withWindowProgress('Nearcode: finding similar code', () =>
    ctx.server.execute(findSimilarCall(document.uri.toString(), at)),
  );
  const response = parseSearchResponse(reply);
  addToView(ctx, 'similar', describeOrigin(editor), response);
  if (response.results.length === 0) {
    void vscode.window.showInformationMessage('Nearcode: no similar code found.');
    return;
  }
  await vscode.commands.executeCommand(
    'editor.action.peekLocations',
    document.uri,
    selection.active,
    response.results.map(toLocation),
    'peek',
  );
}

/** The selected text, or, if nothing is selected, the clipboard when the user agrees. */
async function selectionSource(): Promise<Parameters<typeof searchSelectionCall>[0] | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) {
    const { document, selection } = editor;
    return {
      uri: document.uri.toString(),
      scheme: document.uri.scheme,
      isDirty: document.isDirty,
      range: { start: selection.start, end: selection.end },
      text: document.getText(selection),
    };
  }
  const choice = await vscode.window.showInformationMessage(
    'Nearcode: select code or a stack trace first, or search with the text on the clipboard.',
    'Use Clipboard',
  );
  const text = choice ? (await vscode.env.clipboard.readText()).trim() : '';
  if (!text) {
    return undefined;
  }
  const empty = { line: 0, character: 0 };
  return { uri: '', scheme: 'clipboard', isDirty: false, range: { start: empty, end: empty }, text };
}

async function searchBySelection(ctx: CommandContext): Promise<void> {
  const source = await selectionSource();
  if (!source) {
    return;
  }
  const reply = await withWindowProgress('Nearcode: searching by selection', () =>
    ctx.server.execute(searchSelectionCall(source)),
  );
  const response = parseSearchResponse(reply);
  const label = oneLine(source.text, 60);
  addToView(ctx, 'selection', label, response);
  showResultsPicker(`Nearcode: code like "${label}"`, response);
}

async function reindexWorkspace(ctx: CommandContext): Promise<void> {
  const { started } = parseReindexResponse(await ctx.server.execute(reindexCall()));
  const names = started.map(folderName).join(', ');
  void vscode.window.showInformationMessage(
    started.length > 0 ? `Nearcode: reindexing ${names}.` : 'Nearcode: nothing to reindex.',
  );
  void ctx.statusBar.poll();
}

interface StatusItem extends vscode.QuickPickItem {
  action?: () => void;
}

async function showStatus(ctx: CommandContext): Promise<void> {
  let items: StatusItem[];
  try {
    const status = parseStatusResponse(await ctx.server.execute(statusCall()));
    items = status.folders.map((folder) => folderStatusText(folder));
    if (items.length === 0) {
      items.push({ label: 'No workspace folder is indexed', detail: 'Open a folder to index it.' });
    }
  } catch (error) {
    items = [{ label: '$(error) Index status unavailable', detail: errorMessage(error) }];
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(refresh) Reindex Workspace', action: () => void runCommand(ctx, reindexWorkspace) },
    { label: '$(output) Show Server Log', action: () => ctx.server.showLog() },
    { label: '$(debug-restart) Restart Server', action: () => void ctx.server.restart() },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Nearcode: Index Status', matchOnDetail: true });
  picked?.action?.();
}

async function runCommand(ctx: CommandContext, command: (ctx: CommandContext) => Promise<void> | void): Promise<void> {
  try {
    await command(ctx);
  } catch (error) {
    await reportError(error, ctx.server);
  }
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const commands: Record<string, (ctx: CommandContext) => Promise<void> | void> = {
    [ClientCommand.semanticSearch]: semanticSearch,
    [ClientCommand.findSimilarCode]: findSimilarCode,
    [ClientCommand.searchBySelection]: searchBySelection,
    [ClientCommand.reindexWorkspace]: reindexWorkspace,
    [ClientCommand.showStatus]: showStatus,
    [ClientCommand.showLog]: (c) => c.server.showLog(),
    [ClientCommand.clearResults]: (c) => c.results.clear(),
    [ClientCommand.restartServer]: (c) => c.server.restart(),
  };
  return Object.entries(commands).map(([id, command]) =>
    vscode.commands.registerCommand(id, () => runCommand(ctx, command)),
  );
}
