// The status bar item: indexing progress while the server works ("nearcode 45%"),
// then the number of indexed chunks. Progress comes from the server's $/progress
// (fed in by the client middleware) and from polling nearcode.status while any
// folder is not ready, since embedding may run without a progress token.
// VS Code objects come in through small interfaces, so this file has no runtime
// dependency on the `vscode` module and is unit-tested.

import type { EmbeddingsTarget, FolderStatus, StatusResponse } from './protocol';
import { embeddedPercent, folderName, formatCount } from './results';
import { type Clock, realClock } from './search';

export type ServerPhase = 'starting' | 'running' | 'stopped' | 'missing' | 'untrusted';

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

function average(values: number[]): number | undefined {
  return values.length === 0 ? undefined : Math.floor(values.reduce((a, b) => a + b, 0) / values.length);
}

function busyText(percentage: number | undefined): string {
  return `$(sync~spin) ${NAME}${percentage === undefined ? '' : ` ${percentage}%`}`;
}

function progressView(progress: readonly ProgressState[]): BarView {
  const pct = average(progress.map((p) => p.percentage).filter((p): p is number => p !== undefined));
  const lines = progress.map((p) => (p.message ? `${p.title}: ${p.message}` : p.title));
  return { text: busyText(pct), tooltip: lines.join('\n'), error: false };
}

function busyFolders(folders: readonly FolderStatus[]): FolderStatus[] {
  return folders.filter((f) => f.state === 'indexing' || f.state === 'embedding');
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
  const busy = busyFolders(status.folders);
  if (busy.length > 0) {
    const pct = average(busy.map(embeddedPercent).filter((p): p is number => p !== undefined));
    const lines = busy.map(
      (f) => `${folderName(f.uri)}: ${f.state} (${formatCount(f.files)} files)${f.message ? `: ${f.message}` : ''}`,
    );
    return { text: busyText(pct), tooltip: lines.join('\n'), error: false };
  }
  const chunks = status.folders.reduce((sum, f) => sum + f.chunks, 0);
  const files = status.folders.reduce((sum, f) => sum + f.files, 0);
  return {
    text: `$(search) ${NAME} ${formatCount(chunks)} chunks`,
    tooltip: `Index ready: ${formatCount(files)} files, ${formatCount(chunks)} chunks. Click for details.`,
    error: false,
  };
}

const PHASE_VIEWS: Readonly<Record<Exclude<ServerPhase, 'running'>, BarView>> = {
  starting: { text: `$(sync~spin) ${NAME}`, tooltip: 'Starting the nearcode server…', error: false },
  stopped: { text: `$(error) ${NAME}`, tooltip: 'The nearcode server is not running.', error: true },
  missing: { text: `$(warning) ${NAME}`, tooltip: 'The nearcode server is not installed.', error: true },
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
  if (state.progress.length > 0) {
    const view = progressView(state.progress);
    return state.status ? withEmbeddings(view, state.status) : view;
  }
  return state.status ? statusView(state.status) : PHASE_VIEWS.starting;
}

/** True while the index is not settled, so the status should be polled. */
export function needsPolling(state: BarState): boolean {
  if (state.phase !== 'running') {
    return false;
  }
  return state.status === undefined || busyFolders(state.status.folders).length > 0;
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
  pollMs?: number;
}

export class StatusBarController {
  private phase: ServerPhase = 'starting';
  private detail: string | undefined;
  private readonly progress = new Map<string, ProgressState>();
  private status: StatusResponse | undefined;
  private pollTimer: unknown;
  private fetching = false;
  private disposed = false;
  private readonly clock: Clock;
  private readonly pollMs: number;

  constructor(private readonly options: StatusBarOptions) {
    this.clock = options.clock ?? realClock;
    this.pollMs = options.pollMs ?? 3000;
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
    }
    this.render();
    this.schedulePoll();
  }

  /** One $/progress notification from the server. */
  onProgress(token: string | number, value: ProgressValue): void {
    const key = String(token);
    if (value.kind === 'end') {
      this.progress.delete(key);
      // The end of indexing is when the chunk count changes: fetch it now.
      void this.poll();
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
    }
    this.render();
    this.schedulePoll();
  }

  get state(): BarState {
    return { phase: this.phase, detail: this.detail, progress: [...this.progress.values()], status: this.status };
  }

  dispose(): void {
    this.disposed = true;
    this.cancelPoll();
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

  private schedulePoll(): void {
    this.cancelPoll();
    if (!this.disposed && needsPolling(this.state)) {
      this.pollTimer = this.clock.setTimeout(() => {
        this.pollTimer = undefined;
        void this.poll();
      }, this.pollMs);
    }
  }

  private cancelPoll(): void {
    if (this.pollTimer !== undefined) {
      this.clock.clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
  }
}
