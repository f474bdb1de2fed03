// Presentation of search results and index status as plain data (labels, grouping,
// history). Pure, so every string the user sees is unit-tested without VS Code.

import type { FolderStatus, SearchResult } from './protocol';

/** `src/app.py:42`: the line is 1-based for people, the protocol is 0-based. */
export function formatLocation(result: Pick<SearchResult, 'path' | 'range'>): string {
  return `${result.path}:${result.range.start.line + 1}`;
}

export function formatScore(score: number): string {
  return score.toFixed(2);
}

/** Collapses a multi-line preview into one line, cut at `max` characters with an ellipsis. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

const KIND_ICONS: Readonly<Record<string, string>> = {
  function: 'symbol-function',
  method: 'symbol-method',
  class: 'symbol-class',
  interface: 'symbol-interface',
  struct: 'symbol-struct',
  enum: 'symbol-enum',
  module: 'symbol-module',
  namespace: 'symbol-namespace',
  variable: 'symbol-variable',
  constant: 'symbol-constant',
  type: 'symbol-class',
  trait: 'symbol-interface',
  impl: 'symbol-class',
  text: 'symbol-text',
  block: 'symbol-text',
};

/** Codicon id for a server chunk kind; unknown kinds get a neutral icon. */
export function kindIcon(kind: string): string {
  return KIND_ICONS[kind.toLowerCase()] ?? 'symbol-misc';
}

/** What a result is called: its symbol, or the file name for anonymous chunks. */
export function resultTitle(result: Pick<SearchResult, 'symbol' | 'path' | 'range'>): string {
  return result.symbol !== '' ? result.symbol : `${baseName(result.path)}:${result.range.start.line + 1}`;
}

export interface PickItemText {
  label: string;
  description: string;
  detail: string;
}

export function pickItemText(result: SearchResult): PickItemText {
  return {
    label: `$(${kindIcon(result.kind)}) ${resultTitle(result)}`,
    description: `${formatLocation(result)}  ·  ${formatScore(result.score)}`,
    detail: oneLine(result.preview),
  };
}

export interface FileGroup {
  uri: string;
  path: string;
  /** Best score in the file: files are ordered by it. */
  bestScore: number;
  matches: SearchResult[];
}

/** Groups results by file, keeping the server's order within a file, best file first. */
export function groupByFile(results: readonly SearchResult[]): FileGroup[] {
  const groups = new Map<string, FileGroup>();
  for (const result of results) {
    let group = groups.get(result.uri);
    if (!group) {
      group = { uri: result.uri, path: result.path, bestScore: result.score, matches: [] };
      groups.set(result.uri, group);
    }
    group.bestScore = Math.max(group.bestScore, result.score);
    group.matches.push(result);
  }
  return [...groups.values()].sort((a, b) => b.bestScore - a.bestScore);
}

export type SearchKind = 'search' | 'similar' | 'selection';

export interface SearchEntry {
  id: number;
  kind: SearchKind;
  /** The query text, or a description of the code searched from. */
  query: string;
  results: SearchResult[];
  partial: boolean;
}

export function entryLabel(entry: Pick<SearchEntry, 'kind' | 'query'>): string {
  const prefix = entry.kind === 'similar' ? 'Similar to ' : entry.kind === 'selection' ? 'Selection: ' : '';
  return `${prefix}${oneLine(entry.query, 60)}`;
}

export function entryDescription(entry: Pick<SearchEntry, 'results' | 'partial'>): string {
  const n = entry.results.length;
  const count = `${n} result${n === 1 ? '' : 's'}`;
  return entry.partial ? `${count} (index still building)` : count;
}

/** The last searches, newest first, bounded so the view does not grow without end. */
export class SearchHistory {
  private entries: SearchEntry[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 10) {}

  add(entry: Omit<SearchEntry, 'id'>): SearchEntry {
    const added: SearchEntry = { ...entry, id: this.nextId++ };
    // Re-running the same search replaces the older copy instead of duplicating it.
    this.entries = this.entries.filter((e) => !(e.kind === entry.kind && e.query === entry.query));
    this.entries.unshift(added);
    this.entries.length = Math.min(this.entries.length, this.capacity);
    return added;
  }

  remove(id: number): void {
    this.entries = this.entries.filter((e) => e.id !== id);
  }

  clear(): void {
    this.entries = [];
  }

  list(): readonly SearchEntry[] {
    return this.entries;
  }
}

// ---- Index status

const STATE_ICONS: Readonly<Record<FolderStatus['state'], string>> = {
  indexing: 'sync~spin',
  embedding: 'sync~spin',
  ready: 'check',
  error: 'error',
};

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function folderName(uri: string): string {
  const trimmed = uri.replace(/[\\/]+$/, '');
  try {
    return decodeURIComponent(baseName(trimmed));
  } catch {
    return baseName(trimmed);
  }
}

/** Percentage of chunks embedded so far, or undefined when nothing is known yet. */
export function embeddedPercent(folder: Pick<FolderStatus, 'chunks' | 'embedded'>): number | undefined {
  return folder.chunks > 0 ? Math.min(100, Math.floor((folder.embedded / folder.chunks) * 100)) : undefined;
}

export function folderStatusText(folder: FolderStatus): PickItemText {
  const pct = embeddedPercent(folder);
  const progress = folder.state === 'ready' || pct === undefined ? '' : ` · ${pct}% embedded`;
  const pending = folder.pending > 0 ? ` · ${formatCount(folder.pending)} pending` : '';
  const counts = `${formatCount(folder.files)} files · ${formatCount(folder.chunks)} chunks${progress}${pending}`;
  const model = folder.model !== '' ? `model ${folder.model}` : 'default model';
  const message = folder.message ? `${folder.message} — ` : '';
  return {
    label: `$(${STATE_ICONS[folder.state]}) ${folderName(folder.uri)} — ${folder.state}`,
    description: counts,
    detail: `${message}${model} · index ${folder.indexPath || '(not written yet)'}`,
  };
}
