// How often a crashed server is restarted. A server that dies at start-up (missing
// model, broken install) would otherwise restart forever and spam notifications, so
// restarts are limited to `maxRestarts` within a sliding window; crashes older than
// the window are forgiven, so a server that runs for hours can still be revived.

export interface RestartBudgetOptions {
  maxRestarts?: number;
  windowMs?: number;
  now?: () => number;
}

export class RestartBudget {
  private crashes: number[] = [];
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: RestartBudgetOptions = {}) {
    this.maxRestarts = options.maxRestarts ?? 4;
    this.windowMs = options.windowMs ?? 3 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a crash; true when the server may be restarted once more. */
  recordCrash(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length <= this.maxRestarts;
  }

  /** Crashes counted in the current window. */
  get recent(): number {
    const t = this.now();
    return this.crashes.filter((c) => t - c < this.windowMs).length;
  }

  get limit(): number {
    return this.maxRestarts;
  }

  /** A manual restart (command, settings change) starts with a fresh budget. */
  reset(): void {
    this.crashes = [];
  }
}
