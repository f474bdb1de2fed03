// The results experience around the Results view: recording search runs, opening results
// (cursor at the definition, range highlighted), stepping through them with F4/Shift+F4,
// the filters every search sends, and re-running searches that were made while the index
// was still building once it is done.

import * as vscode from 'vscode';
import { formatFilters, hasFilters, parseFilters, sanitizeFilters } from './filters';
import { type SearchFilters, type SearchResult, errorMessage, parseSearchResponse } from './protocol';
import { type ResultPosition, type SearchEntry, type SearchRun, SearchHistory, stepResult } from './results';
import { ResultOpener } from './resultEditor';
import { type OpenTarget, RESULTS_VIEW_ID, type ResultNode, ResultsTreeProvider } from './resultsView';
import type { ServerManager } from './server';
import type { StatusBarController } from './statusBar';

const FILTERS_KEY = 'nearcode.filters';
/** True while there are results to step through (the F4 / Shift+F4 keybindings). */
const HAS_RESULTS_CONTEXT = 'nearcode.hasResults';
const HAS_FILTERS_CONTEXT = 'nearcode.hasFilters';

export interface RecordOptions {
  /** Show the Results view (it takes the focus only when `focus`). */
  reveal?: boolean;
  focus?: boolean;
  /** Make this result the current one (F4 continues after it). */
  current?: number;
}

export class ResultsController implements vscode.Disposable {
  readonly tree = new ResultsTreeProvider(new SearchHistory());
  readonly opener = new ResultOpener();
  private readonly view: vscode.TreeView<ResultNode>;
  private position: ResultPosition | undefined;
  private filterValue: SearchFilters;
  private refreshing = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerManager,
    private readonly statusBar: StatusBarController,
    private readonly state: vscode.Memento,
  ) {
    this.view = vscode.window.createTreeView(RESULTS_VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true });
    this.filterValue = sanitizeFilters(state.get(FILTERS_KEY));
    this.showFilters();
    const settled = statusBar.onSettled(() => void this.refreshPartial());
    this.disposables.push(this.view, this.tree, this.opener, { dispose: () => settled.dispose() });
  }

  get filters(): SearchFilters {
    return this.filterValue;
  }

  /** Adds a search run to the view; a partial one is re-run when the index is done. */
  record(run: SearchRun, options: RecordOptions = {}): SearchEntry {
    const entry = this.tree.add(run);
    this.position = options.current === undefined ? undefined : { entryId: entry.id, index: options.current };
    void vscode.commands.executeCommand('setContext', HAS_RESULTS_CONTEXT, entry.results.length > 0);
    if (options.reveal) {
      void this.reveal(entry, options.focus ?? false);
    }
    if (run.partial && this.statusBar.isSettled) {
      // The index finished between the search and now: no "settled" event will come.
      void this.refreshPartial();
    }
    return entry;
  }

  /** Opens a result; `target.position` makes it the current one for F4. */
  async open(target: OpenTarget, preserveFocus = false): Promise<void> {
    if (target.position) {
      this.position = target.position;
    }
    await this.opener.open(target.result, { line: target.line, preserveFocus });
  }

  openResult(result: SearchResult): Promise<void> {
    return this.open({ result });
  }

  /** F4 (delta 1) and Shift+F4 (-1): the next or previous result of the current run. */
  async step(delta: 1 | -1): Promise<void> {
    const next = stepResult(this.tree.history.list(), this.position, delta);
    const node = next && this.tree.resultNode(next);
    if (!next || node?.type !== 'result') {
      void vscode.window.showInformationMessage('Nearcode: no results to go through. Run a search first.');
      return;
    }
    this.position = next;
    await this.opener.open(node.result);
    if (this.view.visible) {
      await this.view.reveal(node, { select: true, focus: false });
    }
  }

  async editFilters(): Promise<boolean> {
    const value = await vscode.window.showInputBox({
      title: 'Nearcode: Search Filters',
      prompt: 'Globs to keep (src/**), !globs to drop (!**/tests/**), lang:python,go — for every Nearcode search',
      placeHolder: 'src/** !**/tests/** lang:python',
      value: formatFilters(this.filterValue),
    });
    if (value === undefined) {
      return false;
    }
    await this.setFilters(parseFilters(value));
    return true;
  }

  async setFilters(filters: SearchFilters): Promise<void> {
    this.filterValue = filters;
    await this.state.update(FILTERS_KEY, filters);
    this.showFilters();
  }

  /** Runs a recorded search again with its original call (inline action, or after indexing). */
  async refresh(entry: SearchEntry): Promise<void> {
    const reply = parseSearchResponse(await this.server.execute(entry.call));
    this.tree.replaceResults(entry.id, reply.results, reply.partial);
  }

  removeSearch(node: ResultNode | undefined): void {
    this.tree.remove(node);
    this.syncContext();
  }

  clear(): void {
    this.tree.clear();
    this.position = undefined;
    this.opener.clear();
    this.syncContext();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }

  private async refreshPartial(): Promise<void> {
    if (this.refreshing) {
      return;
    }
    this.refreshing = true;
    try {
      for (const entry of this.tree.history.partialEntries()) {
        try {
          await this.refresh(entry);
        } catch (error) {
          // The entry keeps its partial results; the next settled index tries again.
          console.warn(`nearcode: refreshing "${entry.query}" failed: ${errorMessage(error)}`);
        }
      }
    } finally {
      this.refreshing = false;
    }
  }

  private async reveal(entry: SearchEntry, focus: boolean): Promise<void> {
    const first = this.tree.resultNode({ entryId: entry.id, index: 0 });
    try {
      if (first) {
        await this.view.reveal(first, { select: true, focus, expand: true });
      } else {
        await vscode.commands.executeCommand(`${RESULTS_VIEW_ID}.focus`);
      }
    } catch {
      // The view is being rebuilt; the results are there when it is shown.
    }
  }

  private showFilters(): void {
    const active = hasFilters(this.filterValue);
    // The description shows where the view has a title bar of its own; the message shows
    // above the tree everywhere (a container with one view in the panel hides the title).
    this.view.description = active ? `filters: ${formatFilters(this.filterValue)}` : undefined;
    this.view.message = active ? `Filters: ${formatFilters(this.filterValue)} (Nearcode: Clear Search Filters)` : undefined;
    void vscode.commands.executeCommand('setContext', HAS_FILTERS_CONTEXT, active);
  }

  private syncContext(): void {
    const any = this.tree.history.list().some((e) => e.results.length > 0);
    void vscode.commands.executeCommand('setContext', HAS_RESULTS_CONTEXT, any);
  }
}
