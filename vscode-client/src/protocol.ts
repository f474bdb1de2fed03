// The nearcode server's workspace/executeCommand contract: command ids, argument
// builders and defensive parsing of the replies. Pure: no VS Code imports, so it is
// unit-tested directly.

/** Command ids the server advertises (and the language client registers as VS Code commands). */
export const ServerCommand = {
  search: 'nearcode.search',
  findSimilar: 'nearcode.findSimilar',
  searchSelection: 'nearcode.searchSelection',
  reindex: 'nearcode.reindex',
  status: 'nearcode.status',
} as const;
export type ServerCommandId = (typeof ServerCommand)[keyof typeof ServerCommand];

/**
 * The extension's own command ids. They must differ from ServerCommand: the language
 * client registers each server command under its own id, and a second registration
 * of the same id fails.
 */
export const ClientCommand = {
  semanticSearch: 'nearcode.semanticSearch',
  findSimilarCode: 'nearcode.findSimilarCode',
  searchBySelection: 'nearcode.searchBySelection',
  reindexWorkspace: 'nearcode.reindexWorkspace',
  showStatus: 'nearcode.showStatus',
  showLog: 'nearcode.showLog',
  clearResults: 'nearcode.clearResults',
  restartServer: 'nearcode.restartServer',
  nextResult: 'nearcode.nextResult',
  previousResult: 'nearcode.previousResult',
  setFilters: 'nearcode.setFilters',
  clearFilters: 'nearcode.clearFilters',
  installServer: 'nearcode.installServer',
  /** Inline action on a search in the Results view: runs it again. */
  refreshSearch: 'nearcode.refreshSearch',
  /** Internal: removes one search from the Results view (inline action). */
  removeSearch: 'nearcode.removeSearch',
  /** Internal: opens a result from the tree view; hidden from the palette. */
  openResult: 'nearcode.openResult',
} as const;

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** One line of a result's multi-line preview. */
export interface ContextLine {
  /** 0-based line in the file; null for the signature of a later part of a split definition. */
  line: number | null;
  text: string;
}

export interface SearchResult {
  uri: string;
  /** Workspace-relative path. */
  path: string;
  /** 0-based, as in LSP. */
  range: Range;
  /**
   * Where opening the result puts the cursor: the definition's name, past its doc comment and
   * decorators, or a stack frame's line (older servers: the start of `range`).
   */
  selectionRange: Range;
  score: number;
  symbol: string;
  kind: string;
  language: string;
  preview: string;
  /** The signature line, then the lines that matched best (servers before 0.2: empty). */
  context: ContextLine[];
}

export interface SearchResponse {
  results: SearchResult[];
  /** True while the index is still being built: results may be incomplete. */
  partial: boolean;
}

export type IndexState = 'starting' | 'indexing' | 'embedding' | 'ready' | 'paused' | 'error';

/** What the server's embedding model is doing (nearcode.status modelState). */
export type ModelState = 'idle' | 'exporting' | 'loading' | 'ready' | 'error';

export interface ModelStatus {
  state: ModelState;
  /** E.g. "preparing the model (first run, about 30 s)", or the load error. */
  message: string;
}

export interface FolderStatus {
  uri: string;
  files: number;
  chunks: number;
  embedded: number;
  pending: number;
  model: string;
  indexPath: string;
  state: IndexState;
  message?: string;
  /** Files a user would expect indexed that are not (binary, too large, minified...). */
  skipped: number;
  /** The first of them by path, each with why (the server names up to 20). */
  skippedFiles: SkippedFile[];
  /** The folder's exclude patterns: its settings', or those its index was built with. */
  exclude: string[];
  /** Its largest file in bytes; 0 from a server that does not say. */
  maxFileSize: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

/** Where chunk and query text is embedded: the bundled local model, or a server. */
export interface EmbeddingsTarget {
  provider: string;
  /** The server's base URL (credentials stripped); absent for the local model. */
  url?: string;
  model: string;
}

export interface StatusResponse {
  folders: FolderStatus[];
  model: ModelStatus;
  embeddings?: EmbeddingsTarget;
}

export interface ReindexResponse {
  started: string[];
}

/** Result filters every search command accepts (globs on workspace-relative paths). */
export interface SearchFilters {
  include: string[];
  exclude: string[];
  languages: string[];
}

export const NO_FILTERS: SearchFilters = { include: [], exclude: [], languages: [] };

export interface SearchArgs extends Partial<SearchFilters> {
  query: string;
  limit?: number;
}

export interface TextDocumentRef {
  uri: string;
}

export type FindSimilarArgs = (
  | { textDocument: TextDocumentRef; position: Position }
  | { textDocument: TextDocumentRef; range: Range }
) &
  Partial<SearchFilters> & { limit?: number };

export type SearchSelectionArgs = ({ textDocument: TextDocumentRef; range: Range } | { text: string }) &
  Partial<SearchFilters> & { limit?: number };

/** Limit and filters shared by the three searches; empty lists are left out. */
export interface SearchOptions {
  limit?: number;
  filters?: SearchFilters;
}

function searchOptionArgs(options: SearchOptions): Partial<SearchFilters> & { limit?: number } {
  const args: Partial<SearchFilters> & { limit?: number } = {};
  if (options.limit !== undefined && options.limit > 0) {
    args.limit = Math.floor(options.limit);
  }
  const filters = options.filters ?? NO_FILTERS;
  for (const key of ['include', 'exclude', 'languages'] as const) {
    if (filters[key].length > 0) {
      args[key] = [...filters[key]];
    }
  }
  return args;
}

/** What workspace/executeCommand carries: the command and its single argument object. */
export interface ExecuteCommandCall {
  command: ServerCommandId;
  arguments: [object];
}

export function searchCall(query: string, options: SearchOptions = {}): ExecuteCommandCall {
  const args: SearchArgs = { query: query.trim(), ...searchOptionArgs(options) };
  return { command: ServerCommand.search, arguments: [args] };
}

export function findSimilarCall(uri: string, at: Position | Range, options: SearchOptions = {}): ExecuteCommandCall {
  const textDocument = { uri };
  const where = isRange(at) ? { textDocument, range: at } : { textDocument, position: at };
  const args: FindSimilarArgs = { ...where, ...searchOptionArgs(options) };
  return { command: ServerCommand.findSimilar, arguments: [args] };
}

/** Where the selected text lives, as seen by the editor. */
export interface SelectionSource {
  uri: string;
  /** Only file: documents can be read by the server from disk. */
  scheme: string;
  /** Unsaved edits: the server's copy of the file would be stale. */
  isDirty: boolean;
  range: Range;
  text: string;
}

/**
 * Sends a reference to the file when the server can read the same text from disk,
 * otherwise (untitled buffer with a pasted stack trace, unsaved edits) the text itself.
 */
export function searchSelectionCall(source: SelectionSource, options: SearchOptions = {}): ExecuteCommandCall {
  const byReference = source.scheme === 'file' && !source.isDirty && !isEmptyRange(source.range);
  const what = byReference ? { textDocument: { uri: source.uri }, range: source.range } : { text: source.text };
  const args: SearchSelectionArgs = { ...what, ...searchOptionArgs(options) };
  return { command: ServerCommand.searchSelection, arguments: [args] };
}

export function reindexCall(folderUri?: string): ExecuteCommandCall {
  return { command: ServerCommand.reindex, arguments: [folderUri === undefined ? {} : { folder: folderUri }] };
}

export function statusCall(): ExecuteCommandCall {
  return { command: ServerCommand.status, arguments: [{}] };
}

export function isRange(value: Position | Range): value is Range {
  return 'start' in value && 'end' in value;
}

export function isEmptyRange(range: Range): boolean {
  return range.start.line === range.end.line && range.start.character === range.end.character;
}

// ---- Reply parsing. The server is a separate program (possibly another version), so
// replies are checked instead of trusted; malformed entries are dropped, not fatal.

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function parsePosition(value: unknown): Position | undefined {
  if (!isDict(value) || typeof value.line !== 'number' || typeof value.character !== 'number') {
    return undefined;
  }
  return { line: value.line, character: value.character };
}

export function parseRange(value: unknown): Range | undefined {
  if (!isDict(value)) {
    return undefined;
  }
  const start = parsePosition(value.start);
  const end = parsePosition(value.end);
  return start && end ? { start, end } : undefined;
}

function parseContextLine(value: unknown): ContextLine | undefined {
  if (!isDict(value) || typeof value.text !== 'string') {
    return undefined;
  }
  const line = typeof value.line === 'number' && Number.isInteger(value.line) && value.line >= 0 ? value.line : null;
  return { line, text: value.text };
}

export function parseResult(value: unknown): SearchResult | undefined {
  if (!isDict(value) || typeof value.uri !== 'string') {
    return undefined;
  }
  const range = parseRange(value.range);
  if (!range) {
    return undefined;
  }
  return {
    uri: value.uri,
    path: str(value.path, value.uri),
    range,
    selectionRange: parseRange(value.selectionRange) ?? { start: range.start, end: range.start },
    score: num(value.score),
    symbol: str(value.symbol),
    kind: str(value.kind),
    language: str(value.language),
    preview: str(value.preview),
    context: Array.isArray(value.context)
      ? value.context.map(parseContextLine).filter((c): c is ContextLine => c !== undefined)
      : [],
  };
}

export function parseSearchResponse(value: unknown): SearchResponse {
  if (!isDict(value) || !Array.isArray(value.results)) {
    throw new Error('nearcode server sent an unexpected search reply');
  }
  const results = value.results.map(parseResult).filter((r): r is SearchResult => r !== undefined);
  return { results, partial: value.partial === true };
}

const STATES: readonly IndexState[] = ['starting', 'indexing', 'embedding', 'ready', 'paused', 'error'];
const MODEL_STATES: readonly ModelState[] = ['idle', 'exporting', 'loading', 'ready', 'error'];

function parseFolderStatus(value: unknown): FolderStatus | undefined {
  if (!isDict(value) || typeof value.uri !== 'string') {
    return undefined;
  }
  const state = STATES.find((s) => s === value.state) ?? 'error';
  const folder: FolderStatus = {
    uri: value.uri,
    files: num(value.files),
    chunks: num(value.chunks),
    embedded: num(value.embedded),
    pending: num(value.pending),
    model: str(value.model),
    indexPath: str(value.indexPath),
    state,
    skipped: num(value.skipped),
    skippedFiles: Array.isArray(value.skippedFiles)
      ? value.skippedFiles.filter(isDict).map((item) => ({ path: str(item.path), reason: str(item.reason) }))
      : [],
    exclude: Array.isArray(value.exclude) ? value.exclude.filter((p): p is string => typeof p === 'string') : [],
    maxFileSize: num(value.maxFileSize),
  };
  if (typeof value.message === 'string' && value.message !== '') {
    folder.message = value.message;
  }
  return folder;
}

export function parseStatusResponse(value: unknown): StatusResponse {
  if (!isDict(value) || !Array.isArray(value.folders)) {
    throw new Error('nearcode server sent an unexpected status reply');
  }
  const folders = value.folders.map(parseFolderStatus).filter((f): f is FolderStatus => f !== undefined);
  const reply: StatusResponse = { folders, model: parseModelStatus(value) };
  const embeddings = parseEmbeddingsTarget(value.embeddings);
  if (embeddings) {
    reply.embeddings = embeddings;
  }
  return reply;
}

/** Servers before modelState only say modelLoaded/modelError: derive the state from those. */
function parseModelStatus(value: Dict): ModelStatus {
  const known = MODEL_STATES.find((s) => s === value.modelState);
  if (known) {
    return { state: known, message: str(value.modelMessage) };
  }
  if (typeof value.modelError === 'string' && value.modelError !== '') {
    return { state: 'error', message: value.modelError };
  }
  return { state: value.modelLoaded === true ? 'ready' : 'loading', message: '' };
}

function parseEmbeddingsTarget(value: unknown): EmbeddingsTarget | undefined {
  if (!isDict(value) || typeof value.provider !== 'string') {
    return undefined;
  }
  const target: EmbeddingsTarget = { provider: value.provider, model: str(value.model) };
  if (typeof value.url === 'string' && value.url !== '') {
    target.url = value.url;
  }
  return target;
}

export function parseReindexResponse(value: unknown): ReindexResponse {
  const started = isDict(value) && Array.isArray(value.started) ? value.started : [];
  return { started: started.filter((s): s is string => typeof s === 'string') };
}

/** A readable message for a failed request (JSON-RPC ResponseError, Error or anything). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}
