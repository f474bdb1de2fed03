// The "Nearcode Results" tree in the Explorer: last searches, grouped
// query → file → match. Data and labels come from results.ts; this file only maps
// them onto VS Code tree items.

import * as vscode from 'vscode';
import { ClientCommand, type SearchResult } from './protocol';
import {
  type FileGroup,
  type SearchEntry,
  type SearchHistory,
  entryDescription,
  entryLabel,
  formatScore,
  groupByFile,
  kindIcon,
  resultTitle,
} from './results';

export const RESULTS_VIEW_ID = 'nearcodeResults';

export type ResultNode =
  | { type: 'query'; entry: SearchEntry; newest: boolean }
  | { type: 'file'; group: FileGroup }
  | { type: 'match'; result: SearchResult };

const QUERY_ICONS: Readonly<Record<SearchEntry['kind'], string>> = {
  search: 'search',
  similar: 'references',
  selection: 'selection',
};

export function toVscodeRange(range: SearchResult['range']): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

/** Tree items open results through the same code path as the pickers (see openResult). */
export const OPEN_RESULT_COMMAND = ClientCommand.openResult;

function openResultCommand(result: SearchResult): vscode.Command {
  return { title: 'Open', command: OPEN_RESULT_COMMAND, arguments: [result] };
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

function fileItem(group: FileGroup): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.Uri.parse(group.uri), vscode.TreeItemCollapsibleState.Expanded);
  item.label = group.path;
  item.description = `best ${formatScore(group.bestScore)}`;
  return item;
}

function matchItem(result: SearchResult): vscode.TreeItem {
  const item = new vscode.TreeItem(resultTitle(result), vscode.TreeItemCollapsibleState.None);
  item.description = `:${result.range.start.line + 1}  ${formatScore(result.score)}`;
  item.iconPath = new vscode.ThemeIcon(kindIcon(result.kind));
  const where = `${result.path}:${result.range.start.line + 1}`;
  const heading = `**${resultTitle(result)}** — ${where} — score ${formatScore(result.score)}`;
  const tooltip = new vscode.MarkdownString(`${heading}\n\n`);
  tooltip.appendCodeblock(result.preview, result.language);
  item.tooltip = tooltip;
  item.command = openResultCommand(result);
  return item;
}

export class ResultsTreeProvider implements vscode.TreeDataProvider<ResultNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ResultNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly history: SearchHistory) {}

  add(entry: Omit<SearchEntry, 'id'>): SearchEntry {
    const added = this.history.add(entry);
    this.changed.fire(undefined);
    return added;
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

  getTreeItem(node: ResultNode): vscode.TreeItem {
    switch (node.type) {
      case 'query':
        return queryItem(node.entry, node.newest);
      case 'file':
        return fileItem(node.group);
      case 'match':
        return matchItem(node.result);
    }
  }

  getChildren(node?: ResultNode): ResultNode[] {
    if (!node) {
      return this.history.list().map((entry, i) => ({ type: 'query', entry, newest: i === 0 }));
    }
    if (node.type === 'query') {
      return groupByFile(node.entry.results).map((group) => ({ type: 'file', group }));
    }
    if (node.type === 'file') {
      return node.group.matches.map((result) => ({ type: 'match', result }));
    }
    return [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
