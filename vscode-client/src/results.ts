// Presentation of search results and index status as plain data (labels, grouping,
// history). Pure, so every string the user sees is unit-tested without VS Code.

import { formatFilters, hasFilters } from './filters';
import type { ContextLine, ExecuteCommandCall, FolderStatus, SearchFilters, SearchResult } from './protocol';

/** `src/app.py:42`, the line the cursor lands on: 1-based for people, the protocol is 0-based. */
export function formatLocation(result: Pick<SearchResult, 'path' | 'selectionRange'>): string {
  return `${result.path}:${result.selectionRange.start.line + 1}`;
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
  script: 'symbol-module', // Python's `if __name__ == "__main__":`, named __main__
};

/** Codicon id for a server chunk kind; unknown kinds get a neutral icon. */
export function kindIcon(kind: string): string {
  return KIND_ICONS[kind.toLowerCase()] ?? 'symbol-misc';
}

/** What a result is called: its symbol, or the file name for anonymous chunks. */
export function resultTitle(result: Pick<SearchResult, 'symbol' | 'path' | 'selectionRange'>): string {
  return result.symbol !== '' ? result.symbol : `${baseName(result.path)}:${result.selectionRange.start.line + 1}`;
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

/** One row of a result's multi-line preview, ready for a tree item. */
export interface ContextRow {
  /** The code, indentation kept (as no-break spaces: tree labels collapse plain spaces). */
  label: string;
  /** `:28` (1-based), or `signature` for a header above the result's range. */
  description: string;
  /** 0-based line to open, undefined for the signature of a split definition. */
  line: number | undefined;
}

function keepIndent(text: string): string {
  const indent = /^[ \t]*/.exec(text)?.[0] ?? '';
  return indent.replace(/\t/g, '    ').replace(/ /g, '\u00a0') + text.slice(indent.length);
}

/** The result's preview lines; older servers without `context` give the one-line preview. */
export function contextRows(result: Pick<SearchResult, 'context' | 'preview' | 'selectionRange'>): ContextRow[] {
  const lines: ContextLine[] =
    result.context.length > 0
      ? result.context
      : result.preview
        ? [{ line: result.selectionRange.start.line, text: result.preview }]
        : [];
  return lines.map((c) => ({
    label: keepIndent(c.text),
    description: c.line === null ? 'signature' : `:${c.line + 1}`,
    line: c.line ?? undefined,
  }));
}

export type SearchKind = 'search' | 'similar' | 'selection';

export interface SearchRun {
  kind: SearchKind;
  /** The query text, or a description of the code searched from. */
  query: string;
  /** The server call that produced the results: refresh sends it again. */
  call: ExecuteCommandCall;
  filters: SearchFilters;
  results: SearchResult[];
  partial: boolean;
}

export interface SearchEntry extends SearchRun {
  id: number;
  /** The results were replaced by a re-run (after indexing finished, or on request). */
  refreshed: boolean;
}

export function entryLabel(entry: Pick<SearchEntry, 'kind' | 'query'>): string {
  const prefix = entry.kind === 'similar' ? 'Similar to ' : entry.kind === 'selection' ? 'Selection: ' : '';
  return `${prefix}${oneLine(entry.query, 60)}`;
}

export const PARTIAL_NOTE = 'index still building: refreshed when it is done';

export function entryDescription(entry: Pick<SearchEntry, 'results' | 'partial' | 'refreshed' | 'filters'>): string {
  const n = entry.results.length;
  const parts = [`${n} result${n === 1 ? '' : 's'}`];
  if (entry.partial) {
    parts.push(PARTIAL_NOTE);
  } else if (entry.refreshed) {
    parts.push('refreshed');
  }
  if (hasFilters(entry.filters)) {
    parts.push(formatFilters(entry.filters));
  }
  return parts.join(' · ');
}

/** The last searches, newest first, bounded so the view does not grow without end. */
export class SearchHistory {
  private entries: SearchEntry[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 10) {}

  add(run: SearchRun): SearchEntry {
    const added: SearchEntry = { ...run, id: this.nextId++, refreshed: false };
    // Re-running the same search replaces the older copy instead of duplicating it.
    this.entries = this.entries.filter((e) => !(e.kind === run.kind && e.query === run.query));
    this.entries.unshift(added);
    this.entries.length = Math.min(this.entries.length, this.capacity);
    return added;
  }

  /** New results for an entry (a refresh); false when the entry is gone. */
  replaceResults(id: number, results: SearchResult[], partial: boolean): boolean {
    const entry = this.get(id);
    if (!entry) {
      return false;
    }
    Object.assign(entry, { results, partial, refreshed: true });
    return true;
  }

  get(id: number): SearchEntry | undefined {
    return this.entries.find((e) => e.id === id);
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

  partialEntries(): SearchEntry[] {
    return this.entries.filter((e) => e.partial);
  }
}

/** Where F4 / Shift+F4 are: a result of one search run. */
export interface ResultPosition {
  entryId: number;
  index: number;
}

/**
 * The next (delta 1) or previous (-1) result, wrapping around within the run. Starts in
 * the newest run when there is no position yet or its run is gone.
 */
export function stepResult(
  entries: readonly Pick<SearchEntry, 'id' | 'results'>[],
  current: ResultPosition | undefined,
  delta: 1 | -1,
): ResultPosition | undefined {
  const entry = entries.find((e) => e.id === current?.entryId) ?? entries.find((e) => e.results.length > 0);
  if (!entry || entry.results.length === 0) {
    return undefined;
  }
  const n = entry.results.length;
  if (!current || current.entryId !== entry.id) {
    return { entryId: entry.id, index: delta === 1 ? 0 : n - 1 };
  }
  return { entryId: entry.id, index: (((current.index + delta) % n) + n) % n };
}

// ---- Index status

const STATE_ICONS: Readonly<Record<FolderStatus['state'], string>> = {
  starting: 'sync~spin',
  indexing: 'sync~spin',
  embedding: 'sync~spin',
  ready: 'check',
  paused: 'debug-pause',
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
  const skipped = folder.skipped > 0 ? ` · ${formatCount(folder.skipped)} not indexed` : '';
  const counts = `${formatCount(folder.files)} files · ${formatCount(folder.chunks)} chunks${progress}${pending}${skipped}`;
  const model = folder.model !== '' ? `model ${modelName(folder.model)}` : 'default model';
  const message = folder.message ? `${folder.message} — ` : '';
  // One line, cut at the window's width: what the user may act on (the files left out)
  // before what is only told (the model, where the index lives).
  const parts = [...scopeParts(folder), notIndexedText(folder), model, `index ${folder.indexPath || '(not written yet)'}`];
  return {
    label: `$(${STATE_ICONS[folder.state]}) ${folderName(folder.uri)} — ${folder.state}`,
    description: counts,
    detail: `${message}${parts.filter((part) => part !== '').join(' · ')}`,
  };
}

/**
 * 'all-MiniLM-L6-v2 (onnx-fp32)' for the encoder identity
 * 'all-MiniLM-L6-v2@gt-…+encoder-lora-v2@fb14…|onnx-fp32|max256': the model's name and
 * backend (the whole identity is in `nearcode status` and the server log).
 */
export function modelName(identity: string): string {
  const [label, backend] = identity.split('|');
  const name = label.split('@')[0] || label;
  return backend ? `${name} (${backend})` : name;
}

/** '2 KiB', '1.5 MiB', '900 bytes': a size as the server's messages write it. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 * 1024 * 1024, 'GiB'],
    [1024 * 1024, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      return `${Number((bytes / size).toFixed(1))} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** The server's default largest file (nearcode.maxFileSize), not worth a word. */
const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

/** ['excluding gen/**, vendor/**', 'files over 2 KiB left out']: files left out by choice,
 *  which no scan lists (the patterns may be those `nearcode index` was given). */
function scopeParts(folder: FolderStatus): string[] {
  const parts: string[] = [];
  if (folder.exclude.length > 0) {
    parts.push(`excluding ${folder.exclude.join(', ')}`);
  }
  if (folder.maxFileSize > 0 && folder.maxFileSize !== DEFAULT_MAX_FILE_SIZE) {
    parts.push(`files over ${formatBytes(folder.maxFileSize)} left out`);
  }
  return parts;
}

/** 'not indexed: css/all.css: minified (...), and 5 more': the first file left out and
 *  why, so that a user who misses it in the results learns what to change; '' if none. */
function notIndexedText(folder: FolderStatus): string {
  const first = folder.skippedFiles[0];
  if (folder.skipped === 0 || first === undefined) {
    return '';
  }
  const more = folder.skipped > 1 ? `, and ${formatCount(folder.skipped - 1)} more` : '';
  return `not indexed: ${first.path}: ${first.reason}${more}`;
}
