// Test doubles for the seams in search.ts / statusBar.ts: a manual clock and a
// cancellation source, so debounce and staleness are tested deterministically.

import type { CancelSource, CancelToken, Clock } from '../../src/search';

interface Timer {
  id: number;
  due: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  now = 0;
  private timers: Timer[] = [];
  private nextId = 1;

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.now + ms, callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!next) {
        break;
      }
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.due;
      next.callback();
    }
    this.now = target;
  }

  get pending(): number {
    return this.timers.length;
  }
}

export class FakeCancelSource implements CancelSource {
  private cancelled = false;
  disposed = false;
  readonly token: CancelToken;

  constructor() {
    const self = this;
    this.token = {
      get isCancellationRequested() {
        return self.cancelled;
      },
    };
  }

  cancel(): void {
    this.cancelled = true;
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A promise whose settlement the test controls. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}
