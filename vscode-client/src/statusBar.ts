// The status bar item. Its numbers come from nearcode.status, so the percentage is the
// share of chunks embedded and the count is what is searchable now: the status is
// fetched when $/progress arrives, after saves, and every second while the index is not
// settled. $/progress itself is only shown before the first status reply.
// VS Code objects come in through small interfaces, so this file has no runtime
// dependency on the `vscode` module and is unit-tested.

import type { EmbeddingsTarget, FolderStatus, ModelStatus, StatusResponse } from './protocol';
import { embeddedPercent, folderName, formatCount } from './results';
import { type Clock, realClock } from './search';

export type ServerPhase = 'starting' | 'running' | 'stopped' | 'missing' | 'notFound' | 'untrusted' | 'installing';

export interface ProgressState {
  title: string;
  message?: string;
  percentage?: number;
}

/** The LSP work-done progress notification payloads we read. */
export type ProgressValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

export interface BarView {
  text: string;
  tooltip: string;
  /** Error look (status bar errorBackground). */
  error: boolean;
}

export interface BarState {
  phase: ServerPhase;
  detail?: string;
  progress: readonly ProgressState[];
  status?: StatusResponse;
}

const NAME = 'nearcode';
const BUSY_STATES: ReadonlySet<FolderStatus['state']> = new Set(['starting', 'indexing', 'embedding']);
/** Before the first chunk is stored the counts mean nothing yet. */
const SCANNING_STATES: ReadonlySet<FolderStatus['state']> = new Set(['starting', 'indexing']);

function busyText(suffix: string): string {
  return `$(sync~spin) ${NAME}${suffix ? ` ${suffix}` : ''}`;
}

function progressView(progress: readonly ProgressState[]): BarView {
  const percentages = progress.map((p) => p.percentage).filter((p): p is number => p !== undefined);
  const lines = progress.map((p) => (p.message ? `${p.title}: ${p.message}` : p.title));
  const pct = percentages.length > 0 ? `${Math.min(...percentages)}%` : '';
  return { text: busyText(pct), tooltip: lines.join('\n'), error: false };
}

function isBusy(folder: FolderStatus): boolean {
  return BUSY_STATES.has(folder.state) || folder.pending > 0;
}

/** True when every folder is searchable with vectors: partial searches can be re-run. */
export function isSettled(status: StatusResponse | undefined): boolean {
  if (!status) {
    return false;
  }
  const modelBusy = status.model.state === 'exporting' || status.model.state === 'loading';
  return !modelBusy && !status.folders.some(isBusy);
}

function folderLine(folder: FolderStatus): string {
  const name = folderName(folder.uri);
  if (SCANNING_STATES.has(folder.state)) {
    return `${name}: ${folder.state === 'starting' ? 'opening the index' : 'scanning files'}`;
  }
  const embedded = `${formatCount(folder.embedded)}/${formatCount(folder.chunks)} chunks embedded`;
  const state = folder.state === 'ready' && folder.pending === 0 ? 'ready' : folder.state;
  // The folder's message says why it waits (an embedding server that is down, say).
  return `${name}: ${state}, ${embedded}${folder.message ? `: ${folder.message}` : ''}`;
}

const MODEL_BUSY: Partial<Record<ModelStatus['state'], string>> = {
  exporting: 'preparing the model (first run)',
  loading: 'loading the model',
};

function sum(folders: readonly FolderStatus[], key: 'chunks' | 'embedded' | 'files'): number {
  return folders.reduce((total, f) => total + f[key], 0);
}

/** The tooltip line that says where code text goes to be embedded (privacy: always shown). */
export function embeddingsLine(target: EmbeddingsTarget | undefined): string | undefined {
  if (target === undefined) {
    return undefined;
  }
  if (target.url === undefined) {
    return `Embeddings: local model ${target.model} (nothing leaves this machine)`;
  }
  return `Embeddings: ${target.model} at ${target.url} (code text is sent there)`;
}

function withEmbeddings(view: BarView, status: StatusResponse): BarView {
  const line = embeddingsLine(status.embeddings);
  return line ? { ...view, tooltip: `${view.tooltip}\n${line}` } : view;
}

function statusView(status: StatusResponse): BarView {
  return withEmbeddings(folderView(status), status);
}

function folderView(status: StatusResponse): BarView {
  const failed = status.folders.filter((f) => f.state === 'error');
  if (failed.length > 0) {
    const lines = failed.map((f) => `${folderName(f.uri)}: ${f.message ?? 'indexing failed'}`);
    return { text: `$(error) ${NAME}`, tooltip: lines.join('\n'), error: true };
  }
  const lines = status.folders.map(folderLine);
  // Until the model is there, the embedded share stands still: say why instead.
  const modelBusy = MODEL_BUSY[status.model.state];
  if (modelBusy) {
    const message = status.model.message || modelBusy;
    return { text: `$(sync~spin) ${NAME}: ${message}`, tooltip: [message, ...lines].join('\n'), error: false };
  }
  if (status.folders.some((f) => SCANNING_STATES.has(f.state))) {
    return { text: busyText('indexing'), tooltip: lines.join('\n'), error: false };
  }
  if (!isSettled(status)) {
    const pct = embeddedPercent({ chunks: sum(status.folders, 'chunks'), embedded: sum(status.folders, 'embedded') });
    return { text: busyText(pct === undefined ? '' : `${pct}%`), tooltip: lines.join('\n'), error: false };
  }
  if (status.folders.length === 0) {
    return { text: `$(search) ${NAME}`, tooltip: 'No workspace folder to index.', error: false };
  }
  const chunks = formatCount(sum(status.folders, 'chunks'));
  const files = formatCount(sum(status.folders, 'files'));
  const modelNote = status.model.state === 'error' ? `\nLexical search only: ${status.model.message}` : '';
  return {
    text: `$(search) ${NAME} ${chunks} chunks`,
    tooltip: `Index ready: ${files} files, ${chunks} chunks. Click for details.${modelNote}`,
    error: status.model.state === 'error',
  };
}

const PHASE_VIEWS: Readonly<Record<Exclude<ServerPhase, 'running'>, BarView>> = {
  starting: { text: `$(sync~spin) ${NAME}`, tooltip: 'Starting the nearcode server…', error: false },
  stopped: { text: `$(error) ${NAME}`, tooltip: 'The nearcode server is not running.', error: true },
  missing: { text: `$(warning) ${NAME}`, tooltip: 'The nearcode server is not installed.', error: true },
  notFound: { text: `$(warning) ${NAME}`, tooltip: 'The Python interpreter for nearcode was not found.', error: true },
  installing: { text: `$(sync~spin) ${NAME} installing`, tooltip: 'Installing the nearcode server…', error: false },
  untrusted: {
    text: `$(shield) ${NAME}`,
    tooltip: 'Nearcode is off in Restricted Mode: trust this workspace to start it.',
    error: false,
  },
};

/** What the item shows for a state: pure, unit-tested. */
export function barView(state: BarState): BarView {
  if (state.phase !== 'running') {
    const view = PHASE_VIEWS[state.phase];
    return state.detail ? { ...view, tooltip: `${view.tooltip}\n${state.detail}` } : view;
  }
  if (state.status) {
    return statusView(state.status);
  }
  return state.progress.length > 0 ? progressView(state.progress) : PHASE_VIEWS.starting;
}

/** True while the index is not settled, so the status should be polled. */
export function needsPolling(state: BarState): boolean {
  return state.phase === 'running' && !isSettled(state.status);
}

/** The parts of vscode.StatusBarItem used here. */
export interface StatusItem {
  text: string;
  /** vscode's type is string | MarkdownString | undefined; only strings are written. */
  tooltip: unknown;
  show(): void;
}

export interface StatusBarOptions {
  item: StatusItem;
  /** Applies or removes the error background (needs vscode.ThemeColor, so injected). */
  setError(error: boolean): void;
  fetchStatus(): Promise<StatusResponse>;
  clock?: Clock;
  /** Poll interval while the index is not settled. */
  pollMs?: number;
  /** Delay of the status fetch after a save or a progress message (coalesces bursts). */
  soonMs?: number;
}

export class StatusBarController {
  private phase: ServerPhase = 'starting';
  private detail: string | undefined;
  private readonly progress = new Map<string, ProgressState>();
  private status: StatusResponse | undefined;
  private pollTimer: unknown;
  private fetching = false;
  private disposed = false;
  private settled = false;
  /** Polls still owed after a save or progress message, even if the status looks settled. */
  private followUps = 0;
  private readonly settledListeners = new Set<() => void>();
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly soonMs: number;

  constructor(private readonly options: StatusBarOptions) {
    this.clock = options.clock ?? realClock;
    this.pollMs = options.pollMs ?? 1000;
    this.soonMs = options.soonMs ?? 300;
    this.render();
    options.item.show();
  }

  setPhase(phase: ServerPhase, detail?: string): void {
    // A later plain state change (client reports Stopped) keeps the reason given first.
    this.detail = detail ?? (phase === this.phase ? this.detail : undefined);
    this.phase = phase;
    if (phase !== 'running') {
      this.progress.clear();
      this.status = undefined;
      this.settled = false;
      this.followUps = 0;
    }
    this.render();
    this.schedulePoll(this.pollMs);
  }

  /** One $/progress notification from the server: the counts changed, fetch them soon. */
  onProgress(token: string | number, value: ProgressValue): void {
    const key = String(token);
    if (value.kind === 'end') {
      this.progress.delete(key);
    } else {
      const previous = this.progress.get(key);
      const title = value.kind === 'begin' ? value.title : (previous?.title ?? 'Indexing');
      this.progress.set(key, {
        title,
        message: value.message ?? previous?.message,
        percentage: value.percentage ?? previous?.percentage,
      });
    }
    this.render();
    this.pollSoon();
  }

  /**
   * A file was saved or the server reported progress: it re-indexes within its debounce, so
   * fetch the counts soon, and once more a poll interval later in case the first fetch
   * came before the change was applied.
   */
  pollSoon(): void {
    if (this.phase === 'running') {
      this.followUps = 2;
      this.schedulePoll(this.soonMs);
    }
  }

  /** Fetches the status now (after a reindex, on click). */
  async poll(): Promise<void> {
    if (this.fetching || this.disposed || this.phase !== 'running') {
      return;
    }
    this.fetching = true;
    try {
      const status = await this.options.fetchStatus();
      // The server may have stopped while the request was out.
      if (this.phase === 'running') {
        this.status = status;
      }
    } catch {
      // A failed poll (server busy or restarting) keeps the last known state; the
      // next poll or progress notification corrects it.
    } finally {
      this.fetching = false;
      this.followUps = Math.max(0, this.followUps - 1);
    }
    this.render();
    this.noticeSettled();
    this.schedulePoll(this.pollMs);
  }

  /** Called each time the index becomes settled (after being busy or unknown). */
  onSettled(listener: () => void): { dispose(): void } {
    this.settledListeners.add(listener);
    return { dispose: () => this.settledListeners.delete(listener) };
  }

  get isSettled(): boolean {
    return this.phase === 'running' && isSettled(this.status);
  }

  get state(): BarState {
    return { phase: this.phase, detail: this.detail, progress: [...this.progress.values()], status: this.status };
  }

  dispose(): void {
    this.disposed = true;
    this.settledListeners.clear();
    this.cancelPoll();
  }

  private noticeSettled(): void {
    const now = this.isSettled;
    const became = now && !this.settled;
    this.settled = now;
    if (became) {
      this.settledListeners.forEach((listener) => listener());
    }
  }

  private render(): void {
    if (this.disposed) {
      return;
    }
    const view = barView(this.state);
    this.options.item.text = view.text;
    this.options.item.tooltip = view.tooltip;
    this.options.setError(view.error);
  }

  private schedulePoll(ms: number): void {
    this.cancelPoll();
    if (this.disposed || (this.followUps === 0 && !needsPolling(this.state))) {
      return;
    }
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, ms);
  }

  private cancelPoll(): void {
    if (this.pollTimer !== undefined) {
      this.clock.clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
  }
}
