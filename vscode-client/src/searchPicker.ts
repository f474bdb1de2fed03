// QuickPick UIs: the live "Semantic Search…" picker and a static picker for results
// of a one-shot search. Both keep the server's rank order and preview the highlighted
// result in the editor as you move through the list (as Go to Symbol does); Escape
// goes back to where you were. The search-as-you-type logic lives in search.ts.

import * as vscode from 'vscode';
import type { SearchResponse, SearchResult } from './protocol';
import { pickItemText } from './results';
import type { ResultOpener } from './resultEditor';
import { DebouncedSearch } from './search';

interface ResultItem extends vscode.QuickPickItem {
  result?: SearchResult;
  index?: number;
}

const PARTIAL_NOTE = 'index still building: results may be incomplete';

/**
 * alwaysShow for the live picker: the server already ranked the results, and the QuickPick's
 * own fuzzy filter on the label must not hide results whose symbol does not contain the
 * query text. The static picker lets that filter narrow the list by name.
 */
function resultItems(results: readonly SearchResult[], alwaysShow: boolean): ResultItem[] {
  return results.map((result, index) => ({ ...pickItemText(result), alwaysShow, result, index }));
}

function messageItem(label: string, detail?: string): ResultItem {
  return { label, detail, alwaysShow: true };
}

/**
 * A QuickPick that shows items in the order given. VS Code otherwise moves items whose
 * label fuzzy-matches the typed text to the top (0.62, 0.51, 0.70, … with the best hit
 * ninth). `sortByLabel` is settable at run time (VS Code 1.90 and later) although its
 * typing is still a proposal; without it the list would merely be re-sorted.
 */
function createOrderedPick(): vscode.QuickPick<ResultItem> {
  const picker = vscode.window.createQuickPick<ResultItem>();
  (picker as { sortByLabel?: boolean }).sortByLabel = false;
  picker.matchOnDescription = false;
  picker.matchOnDetail = false;
  return picker;
}

/** Where an accepted result goes: the caller records the run and opens the result. */
export type AcceptHandler = (result: SearchResult, index: number) => void;

/**
 * Previews the active item in the editor without taking the focus, and restores the
 * editor the user came from when the picker closes without a choice.
 */
function previewWhileMoving(picker: vscode.QuickPick<ResultItem>, opener: ResultOpener): { accepted(): void } {
  const before = opener.snapshot();
  let accepted = false;
  let previewed = false;
  picker.onDidChangeActive((items) => {
    const result = items[0]?.result;
    if (result && !accepted) {
      previewed = true;
      void opener.open(result, { preview: true, preserveFocus: true }).catch(() => undefined);
    }
  });
  picker.onDidHide(() => {
    if (!accepted && previewed) {
      void opener.restore(before).catch(() => undefined);
    }
  });
  return {
    accepted: () => {
      accepted = true;
    },
  };
}

function acceptActive(picker: vscode.QuickPick<ResultItem>, onAccept: AcceptHandler, preview: { accepted(): void }): boolean {
  const item = picker.selectedItems[0] ?? picker.activeItems[0];
  if (!item?.result || item.index === undefined) {
    return false;
  }
  preview.accepted();
  picker.hide();
  onAccept(item.result, item.index);
  return true;
}

export interface SemanticSearchDeps {
  search(query: string, token: vscode.CancellationToken): Promise<SearchResponse>;
  /** Enter on a result: the query and reply it came from, and its rank. */
  accept(query: string, response: SearchResponse, result: SearchResult, index: number): void;
  /** The picker's "show in Results view" button. */
  sendToView(query: string, response: SearchResponse): void;
  /** The picker's filter button: edits the filters, then the query runs again. */
  editFilters(): Promise<boolean>;
  /** Shown in the title, e.g. "src/** lang:python"; empty when there are none. */
  filtersText(): string;
  describeError(error: unknown): string;
  opener: ResultOpener;
  initialQuery?: string;
}

const TITLE = 'Nearcode: Semantic Search';

/** The live picker: results follow the typed query. */
export function showSemanticSearch(deps: SemanticSearchDeps): void {
  const picker = createOrderedPick();
  const viewButton: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('list-tree'),
    tooltip: 'Show these results in the Nearcode Results view',
  };
  const filterButton: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('filter'),
    tooltip: 'Filter results (include/exclude globs, languages)',
  };
  let last: { query: string; response: SearchResponse } | undefined;
  const title = (partial: boolean): string => {
    const filters = deps.filtersText();
    return `${TITLE}${filters ? ` — ${filters}` : ''}${partial ? ` (${PARTIAL_NOTE})` : ''}`;
  };
  picker.title = title(false);
  picker.placeholder = 'Describe the code you are looking for, e.g. "retry failed http requests with backoff"';
  picker.buttons = [filterButton, viewButton];
  const preview = previewWhileMoving(picker, deps.opener);
  let viewWanted = false; // the Results view button waits for the current text's results
  const toView = (query: string, response: SearchResponse): void => {
    viewWanted = false;
    preview.accepted(); // the view takes over: no jump back
    deps.sendToView(query, response);
    picker.hide();
  };

  const search = new DebouncedSearch<SearchResponse, vscode.CancellationToken>({
    run: deps.search,
    newCancelSource: () => new vscode.CancellationTokenSource(),
    onBusy: (busy) => {
      picker.busy = busy;
    },
    onCleared: () => {
      last = undefined;
      picker.items = [];
      picker.title = title(false);
    },
    onResults: (query, response) => {
      last = { query, response };
      if (viewWanted && query === picker.value) {
        toView(query, response);
        return;
      }
      picker.title = title(response.partial);
      picker.items = response.results.length > 0 ? resultItems(response.results, true) : [messageItem('No results')];
    },
    onError: (_query, error) => {
      last = undefined;
      picker.items = [messageItem('$(error) Search failed', deps.describeError(error))];
    },
  });

  picker.onDidChangeValue((value) => search.update(value));
  picker.onDidAccept(() => {
    const reply = last;
    const accepted = acceptActive(
      picker,
      (result, index) => reply && deps.accept(reply.query, reply.response, result, index),
      preview,
    );
    if (!accepted) {
      search.flush(picker.value);
    }
  });
  picker.onDidTriggerButton(async (button) => {
    if (button === viewButton) {
      if (last && last.query === picker.value) {
        toView(last.query, last.response);
      } else if (picker.value.trim() !== '') {
        // The list still shows an earlier text's results (its search is debounced or in
        // flight): the view gets the text in the box, once its results are in.
        viewWanted = true;
        search.flush(picker.value);
      }
    } else if (button === filterButton) {
      // The filter box replaces the picker; it reopens with the same text afterwards.
      const query = picker.value;
      picker.hide();
      await deps.editFilters();
      showSemanticSearch({ ...deps, initialQuery: query });
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
export function showResultsPicker(
  title: string,
  response: SearchResponse,
  opener: ResultOpener,
  onAccept: AcceptHandler,
): void {
  const picker = createOrderedPick();
  picker.title = response.partial ? `${title} (${PARTIAL_NOTE})` : title;
  picker.placeholder = 'Filter the results by name';
  picker.items = response.results.length > 0 ? resultItems(response.results, false) : [messageItem('No results')];
  const preview = previewWhileMoving(picker, opener);
  picker.onDidAccept(() => acceptActive(picker, onAccept, preview));
  picker.onDidHide(() => picker.dispose());
  picker.show();
}
