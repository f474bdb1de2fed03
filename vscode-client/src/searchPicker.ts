// QuickPick UIs: the live "Semantic Search…" picker and a static picker for results
// of a one-shot search. The search-as-you-type logic lives in search.ts.

import * as vscode from 'vscode';
import type { SearchResponse, SearchResult } from './protocol';
import { pickItemText } from './results';
import { toVscodeRange } from './resultsView';
import { DebouncedSearch } from './search';

interface ResultItem extends vscode.QuickPickItem {
  result?: SearchResult;
}

const PARTIAL_NOTE = 'index still building: results may be incomplete';

/**
 * alwaysShow for the live picker: the server already ranked the results, and the
 * QuickPick's own fuzzy filter on the label must not hide results whose symbol does
 * not contain the query text. The static picker lets that filter work.
 */
function resultItems(results: readonly SearchResult[], alwaysShow: boolean): ResultItem[] {
  return results.map((result) => ({ ...pickItemText(result), alwaysShow, result }));
}

function messageItem(label: string, detail?: string): ResultItem {
  return { label, detail, alwaysShow: true };
}

/**
 * Opens a result with its range selected and the cursor at the range's start, so the
 * cursor (and the "Ln" indicator) sits on the symbol's first line, not after its body.
 */
export async function openResult(result: SearchResult): Promise<void> {
  const range = toVscodeRange(result.range);
  const editor = await vscode.window.showTextDocument(vscode.Uri.parse(result.uri), { preview: true });
  editor.selection = new vscode.Selection(range.end, range.start);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function acceptSelected(picker: vscode.QuickPick<ResultItem>): boolean {
  const result = picker.selectedItems[0]?.result ?? picker.activeItems[0]?.result;
  if (!result) {
    return false;
  }
  picker.hide();
  void openResult(result);
  return true;
}

export interface SemanticSearchDeps {
  search(query: string, token: vscode.CancellationToken): Promise<SearchResponse>;
  /** The picker's "show in Results view" button. */
  sendToView(query: string, response: SearchResponse): void;
  describeError(error: unknown): string;
  initialQuery?: string;
}

const TITLE = 'Nearcode: Semantic Search';

/** The live picker: results follow the typed query. */
export function showSemanticSearch(deps: SemanticSearchDeps): void {
  const picker = vscode.window.createQuickPick<ResultItem>();
  const viewButton: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('list-tree'),
    tooltip: 'Show these results in the Nearcode Results view',
  };
  let last: { query: string; response: SearchResponse } | undefined;
  picker.title = TITLE;
  picker.placeholder = 'Describe the code you are looking for, e.g. "retry failed http requests with backoff"';
  picker.matchOnDescription = false;
  picker.matchOnDetail = false;
  picker.buttons = [viewButton];

  const search = new DebouncedSearch<SearchResponse, vscode.CancellationToken>({
    run: deps.search,
    newCancelSource: () => new vscode.CancellationTokenSource(),
    onBusy: (busy) => {
      picker.busy = busy;
    },
    onCleared: () => {
      last = undefined;
      picker.items = [];
      picker.title = TITLE;
    },
    onResults: (query, response) => {
      last = { query, response };
      picker.title = response.partial ? `${TITLE} (${PARTIAL_NOTE})` : TITLE;
      picker.items = response.results.length > 0 ? resultItems(response.results, true) : [messageItem('No results')];
    },
    onError: (_query, error) => {
      last = undefined;
      picker.items = [messageItem('$(error) Search failed', deps.describeError(error))];
    },
  });

  picker.onDidChangeValue((value) => search.update(value));
  picker.onDidAccept(() => {
    if (!acceptSelected(picker)) {
      search.flush(picker.value);
    }
  });
  picker.onDidTriggerButton((button) => {
    if (button === viewButton && last) {
      deps.sendToView(last.query, last.response);
      picker.hide();
    }
  });
  picker.onDidHide(() => {
    search.dispose();
    picker.dispose();
  });
  picker.show();
  if (deps.initialQuery) {
    picker.value = deps.initialQuery;
    search.update(deps.initialQuery);
  }
}

/** A static picker over results already fetched (Search by Selection). */
export function showResultsPicker(title: string, response: SearchResponse): void {
  const picker = vscode.window.createQuickPick<ResultItem>();
  picker.title = response.partial ? `${title} (${PARTIAL_NOTE})` : title;
  picker.placeholder = 'Filter the results by name';
  picker.matchOnDescription = true;
  picker.items = response.results.length > 0 ? resultItems(response.results, false) : [messageItem('No results')];
  picker.onDidAccept(() => acceptSelected(picker));
  picker.onDidHide(() => picker.dispose());
  picker.show();
}
