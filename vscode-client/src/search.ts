// Search-as-you-type logic for the Semantic Search QuickPick: debounce keystrokes,
// cancel the request a newer query makes stale, and never show a stale reply.
// Timers and cancellation come through seams so tests drive them with a fake clock.

export interface CancelToken {
  readonly isCancellationRequested: boolean;
}

export interface CancelSource<K extends CancelToken = CancelToken> {
  readonly token: K;
  cancel(): void;
  dispose(): void;
}

export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface DebouncedSearchOptions<T, K extends CancelToken = CancelToken> {
  /** Runs one query; should honour the token (the language client sends $/cancelRequest). */
  run(query: string, token: K): Promise<T>;
  /** Called only with the reply to the latest query. */
  onResults(query: string, value: T): void;
  onError(query: string, error: unknown): void;
  /** The query became empty: clear the list. */
  onCleared(): void;
  /** True while a request for the latest query is scheduled or in flight. */
  onBusy(busy: boolean): void;
  newCancelSource(): CancelSource<K>;
  clock?: Clock;
  debounceMs?: number;
}

export const DEFAULT_DEBOUNCE_MS = 250;

export class DebouncedSearch<T, K extends CancelToken = CancelToken> {
  private timer: unknown;
  private inFlight: CancelSource<K> | undefined;
  /** Incremented per scheduled query; a reply is shown only if its generation is current. */
  private generation = 0;
  private disposed = false;
  private readonly clock: Clock;
  private readonly debounceMs: number;

  constructor(private readonly options: DebouncedSearchOptions<T, K>) {
    this.clock = options.clock ?? realClock;
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  /** The query text changed (a keystroke). */
  update(query: string): void {
    if (this.disposed) {
      return;
    }
    const generation = this.invalidate();
    if (query.trim() === '') {
      this.options.onBusy(false);
      this.options.onCleared();
      return;
    }
    this.options.onBusy(true);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.start(query, generation);
    }, this.debounceMs);
  }

  /** Runs the current query now, skipping the debounce (e.g. Enter on an empty list). */
  flush(query: string): void {
    if (this.disposed || query.trim() === '') {
      return;
    }
    const generation = this.invalidate();
    this.options.onBusy(true);
    void this.start(query, generation);
  }

  dispose(): void {
    this.invalidate();
    this.disposed = true;
  }

  /** Drops the pending timer and cancels the in-flight request: both are stale now. */
  private invalidate(): number {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight) {
      this.inFlight.cancel();
      this.inFlight.dispose();
      this.inFlight = undefined;
    }
    return ++this.generation;
  }

  private async start(query: string, generation: number): Promise<void> {
    const source = this.options.newCancelSource();
    this.inFlight = source;
    try {
      const value = await this.options.run(query, source.token);
      if (this.isCurrent(generation, source)) {
        this.options.onResults(query, value);
      }
    } catch (error) {
      if (this.isCurrent(generation, source)) {
        this.options.onError(query, error);
      }
    } finally {
      if (this.isCurrent(generation, source)) {
        this.inFlight = undefined;
        source.dispose();
        this.options.onBusy(false);
      }
    }
  }

  private isCurrent(generation: number, source: CancelSource<K>): boolean {
    return !this.disposed && generation === this.generation && !source.token.isCancellationRequested;
  }
}
