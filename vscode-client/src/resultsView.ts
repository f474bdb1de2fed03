// The Nearcode Results view (its own container in the bottom panel): one node per search
// run, newest first; under it the results in the server's rank order, each with its
// multi-line preview (signature and best-matching lines) as child rows. Data and labels
// come from results.ts; this file only maps them onto VS Code tree items.

import * as vscode from 'vscode';
import { ClientCommand, type SearchResult } from './protocol';
import {
  type ContextRow,
  type ResultPosition,
  type SearchEntry,
  type SearchHistory,
  type SearchRun,
  contextRows,
  entryDescription,
  entryLabel,
  formatLocation,
  formatScore,
  kindIcon,
  resultTitle,
} from './results';

export const RESULTS_VIEW_ID = 'nearcodeResults';

export type ResultNode =
  | { type: 'query'; entry: SearchEntry; newest: boolean }
  | { type: 'result'; entry: SearchEntry; index: number; result: SearchResult }
  | { type: 'line'; entry: SearchEntry; index: number; result: SearchResult; row: ContextRow; rowIndex: number };

const QUERY_ICONS: Readonly<Record<SearchEntry['kind'], string>> = {
  search: 'search',
  similar: 'references',
  selection: 'selection',
};

/** What the tree's open command receives: the result, where it ranks, and the line to go to. */
export interface OpenTarget {
  result: SearchResult;
  position?: ResultPosition;
  line?: number;
}

function openCommand(target: OpenTarget): vscode.Command {
  return { title: 'Open', command: ClientCommand.openResult, arguments: [target] };
}

function queryItem(entry: SearchEntry, newest: boolean): vscode.TreeItem {
  const state = newest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(entryLabel(entry), state);
  item.id = `q${entry.id}`;
  item.description = entryDescription(entry);
  item.tooltip = entry.query;
  item.iconPath = new vscode.ThemeIcon(QUERY_ICONS[entry.kind]);
  item.contextValue = 'nearcodeQuery';
  return item;
}

function resultItem(entry: SearchEntry, index: number, result: SearchResult): vscode.TreeItem {
  const item = new vscode.TreeItem(resultTitle(result), vscode.TreeItemCollapsibleState.Expanded);
  item.id = `q${entry.id}r${index}`;
  item.description = `${formatLocation(result)}  ·  ${formatScore(result.score)}`;
  item.iconPath = new vscode.ThemeIcon(kindIcon(result.kind));
  const heading = `**${index + 1} of ${entry.results.length}: ${resultTitle(result)}** — ${formatLocation(result)} — score ${formatScore(result.score)}`;
  const tooltip = new vscode.MarkdownString(`${heading}\n\n`);
  tooltip.appendCodeblock(result.context.map((c) => c.text).join('\n') || result.preview, result.language);
  item.tooltip = tooltip;
  item.command = openCommand({ result, position: { entryId: entry.id, index } });
  item.contextValue = 'nearcodeResult';
  return item;
}

function lineItem(node: Extract<ResultNode, { type: 'line' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.None);
  item.id = `q${node.entry.id}r${node.index}l${node.rowIndex}`;
  item.description = node.row.description;
  item.command = openCommand({
    result: node.result,
    position: { entryId: node.entry.id, index: node.index },
    line: node.row.line,
  });
  return item;
}

export class ResultsTreeProvider implements vscode.TreeDataProvider<ResultNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ResultNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(readonly history: SearchHistory) {}

  add(run: SearchRun): SearchEntry {
    const added = this.history.add(run);
    this.changed.fire(undefined);
    return added;
  }

  replaceResults(id: number, results: SearchResult[], partial: boolean): void {
    if (this.history.replaceResults(id, results, partial)) {
      this.changed.fire(undefined);
    }
  }

  /** Inline action on a query node. */
  remove(node: ResultNode | undefined): void {
    if (node?.type === 'query') {
      this.history.remove(node.entry.id);
      this.changed.fire(undefined);
    }
  }

  clear(): void {
    this.history.clear();
    this.changed.fire(undefined);
  }

  /** The tree node of a result, to reveal and select it (F4). */
  resultNode(position: ResultPosition): ResultNode | undefined {
    const entry = this.history.get(position.entryId);
    const result = entry?.results[position.index];
    return entry && result ? { type: 'result', entry, index: position.index, result } : undefined;
  }

  getTreeItem(node: ResultNode): vscode.TreeItem {
    switch (node.type) {
      case 'query':
        return queryItem(node.entry, node.newest);
      case 'result':
        return resultItem(node.entry, node.index, node.result);
      case 'line':
        return lineItem(node);
    }
  }

  getChildren(node?: ResultNode): ResultNode[] {
    if (!node) {
      return this.history.list().map((entry, i) => ({ type: 'query', entry, newest: i === 0 }));
    }
    if (node.type === 'query') {
      return node.entry.results.map((result, index) => ({ type: 'result', entry: node.entry, index, result }));
    }
    if (node.type === 'result') {
      return contextRows(node.result).map((row, rowIndex) => ({ ...node, type: 'line', row, rowIndex }));
    }
    return [];
  }

  getParent(node: ResultNode): ResultNode | undefined {
    if (node.type === 'query') {
      return undefined;
    }
    if (node.type === 'result') {
      return { type: 'query', entry: node.entry, newest: this.history.list()[0]?.id === node.entry.id };
    }
    return { type: 'result', entry: node.entry, index: node.index, result: node.result };
  }

  dispose(): void {
    this.changed.dispose();
  }
}
