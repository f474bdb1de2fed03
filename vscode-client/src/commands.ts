// The extension's commands. Each one builds the server call (protocol.ts), sends it
// through the ServerManager and shows the reply: in the Results view (rank order, with
// previews) or a Quick Pick that keeps the server's order.

import * as vscode from 'vscode';
import { formatFilters } from './filters';
import { runInstall } from './installer';
import {
  ClientCommand,
  type ExecuteCommandCall,
  type SearchOptions,
  type SearchResponse,
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
import { type SearchKind, type SearchRun, folderName, folderStatusText, oneLine } from './results';
import type { ResultsController } from './resultsController';
import type { OpenTarget, ResultNode } from './resultsView';
import { showResultsPicker, showSemanticSearch } from './searchPicker';
import { type ServerManager, readServerSettings } from './server';
import type { StatusBarController } from './statusBar';

export interface CommandContext {
  server: ServerManager;
  results: ResultsController;
  statusBar: StatusBarController;
  extension: vscode.ExtensionContext;
  output: vscode.OutputChannel;
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

function searchOptions(ctx: CommandContext): SearchOptions {
  return { limit: readServerSettings().resultLimit, filters: ctx.results.filters };
}

function withWindowProgress<T>(title: string, task: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, task);
}

function run(
  ctx: CommandContext,
  kind: SearchKind,
  query: string,
  call: ExecuteCommandCall,
  response: SearchResponse,
): SearchRun {
  return { kind, query, call, filters: ctx.results.filters, results: response.results, partial: response.partial };
}

function semanticSearch(ctx: CommandContext): void {
  const calls = new Map<string, ExecuteCommandCall>();
  showSemanticSearch({
    search: async (query, token) => {
      const call = searchCall(query, searchOptions(ctx));
      calls.set(query, call);
      return parseSearchResponse(await ctx.server.execute(call, token));
    },
    accept: (query, response, result, index) => {
      const call = calls.get(query) ?? searchCall(query, searchOptions(ctx));
      const entry = ctx.results.record(run(ctx, 'search', query, call, response), { current: index });
      void ctx.results.open({ result, position: { entryId: entry.id, index } });
    },
    sendToView: (query, response) => {
      const call = calls.get(query) ?? searchCall(query, searchOptions(ctx));
      ctx.results.record(run(ctx, 'search', query, call, response), { reveal: true, focus: true });
    },
    editFilters: () => ctx.results.editFilters(),
    filtersText: () => formatFilters(ctx.results.filters),
    describeError: errorMessage,
    opener: ctx.results.opener,
  });
}

function describeOrigin(editor: vscode.TextEditor): string {
  const line = editor.selection.active.line;
  const name = vscode.workspace.asRelativePath(editor.document.uri, false);
  return `${name}:${line + 1} — ${oneLine(editor.document.lineAt(line).text, 40)}`;
}

/** Similar code goes to the Results view: rank order, scores, previews; F4 walks it. */
async function findSimilarCode(ctx: CommandContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Nearcode: open a file and put the cursor in the code to compare.');
    return;
  }
  const { selection, document } = editor;
  const at = selection.isEmpty ? selection.active : selection;
  const call = findSimilarCall(document.uri.toString(), at, searchOptions(ctx));
  const reply = await withWindowProgress('Nearcode: finding similar code', () => ctx.server.execute(call));
  const response = parseSearchResponse(reply);
  ctx.results.record(run(ctx, 'similar', describeOrigin(editor), call, response), { reveal: true });
  if (response.results.length === 0) {
    void vscode.window.showInformationMessage('Nearcode: no similar code found.');
  }
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
  const call = searchSelectionCall(source, searchOptions(ctx));
  const reply = await withWindowProgress('Nearcode: searching by selection', () => ctx.server.execute(call));
  const response = parseSearchResponse(reply);
  const label = oneLine(source.text, 60);
  const entry = ctx.results.record(run(ctx, 'selection', label, call, response));
  showResultsPicker(`Nearcode: code like "${label}"`, response, ctx.results.opener, (result, index) => {
    void ctx.results.open({ result, position: { entryId: entry.id, index } });
  });
}

async function reindexWorkspace(ctx: CommandContext): Promise<void> {
  const { started } = parseReindexResponse(await ctx.server.execute(reindexCall()));
  const names = started.map(folderName).join(', ');
  void vscode.window.showInformationMessage(
    started.length > 0 ? `Nearcode: reindexing ${names}.` : 'Nearcode: nothing to reindex.',
  );
  ctx.statusBar.pollSoon();
}

interface StatusItem extends vscode.QuickPickItem {
  action?: () => void;
}

async function showStatus(ctx: CommandContext): Promise<void> {
  let items: StatusItem[];
  try {
    const status = parseStatusResponse(await ctx.server.execute(statusCall()));
    items = status.folders.map((folder) => folderStatusText(folder));
    if (status.model.state === 'exporting' || status.model.state === 'error') {
      items.unshift({ label: `$(${status.model.state === 'error' ? 'error' : 'sync~spin'}) model`, detail: status.model.message });
    }
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
    [ClientCommand.nextResult]: (c) => c.results.step(1),
    [ClientCommand.previousResult]: (c) => c.results.step(-1),
    [ClientCommand.setFilters]: async (c) => {
      await c.results.editFilters();
    },
    [ClientCommand.clearFilters]: (c) => c.results.setFilters({ include: [], exclude: [], languages: [] }),
    [ClientCommand.installServer]: (c) => runInstall(c),
  };
  const withNode: Record<string, (ctx: CommandContext, node: ResultNode | undefined) => Promise<void> | void> = {
    [ClientCommand.refreshSearch]: async (c, node) => {
      if (node?.type === 'query') {
        await c.results.refresh(node.entry);
      }
    },
    [ClientCommand.removeSearch]: (c, node) => c.results.removeSearch(node),
  };
  return [
    ...Object.entries(commands).map(([id, command]) =>
      vscode.commands.registerCommand(id, () => runCommand(ctx, command)),
    ),
    ...Object.entries(withNode).map(([id, command]) =>
      vscode.commands.registerCommand(id, (node?: ResultNode) => runCommand(ctx, (c) => command(c, node))),
    ),
    vscode.commands.registerCommand(ClientCommand.openResult, (target: OpenTarget) =>
      runCommand(ctx, (c) => c.results.open(target)),
    ),
  ];
}
