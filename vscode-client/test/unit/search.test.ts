import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DebouncedSearch } from '../../src/search';
import { FakeCancelSource, FakeClock, type Deferred, deferred, flushMicrotasks } from './fakes';

interface Call {
  query: string;
  source: FakeCancelSource;
  reply: Deferred<string>;
}

function setUp(debounceMs = 250) {
  const clock = new FakeClock();
  const calls: Call[] = [];
  const shown: string[] = [];
  const errors: string[] = [];
  const busy: boolean[] = [];
  let cleared = 0;
  let lastSource: FakeCancelSource | undefined;
  const search = new DebouncedSearch<string>({
    clock,
    debounceMs,
    newCancelSource: () => {
      lastSource = new FakeCancelSource();
      return lastSource;
    },
    run: (query) => {
      const reply = deferred<string>();
      calls.push({ query, source: lastSource as FakeCancelSource, reply });
      return reply.promise;
    },
    onResults: (query, value) => shown.push(`${query}=>${value}`),
    onError: (query, error) => errors.push(`${query}: ${String(error)}`),
    onCleared: () => {
      cleared++;
    },
    onBusy: (b) => busy.push(b),
  });
  return { clock, calls, shown, errors, busy, search, cleared: () => cleared };
}

describe('DebouncedSearch', () => {
  it('sends one request for a burst of keystrokes, after the debounce', async () => {
    const t = setUp();
    for (const q of ['r', 're', 'ret', 'retry']) {
      t.search.update(q);
      t.clock.advance(100);
    }
    assert.equal(t.calls.length, 0, 'no request while typing faster than the debounce');
    t.clock.advance(250);
    assert.deepEqual(
      t.calls.map((c) => c.query),
      ['retry'],
    );
    t.calls[0].reply.resolve('R1');
    await flushMicrotasks();
    assert.deepEqual(t.shown, ['retry=>R1']);
    assert.equal(t.busy[t.busy.length - 1], false);
  });

  it('cancels the in-flight request when the query changes and drops its late reply', async () => {
    const t = setUp();
    t.search.update('http');
    t.clock.advance(250);
    const first = t.calls[0];
    t.search.update('http retry');
    assert.equal(first.source.token.isCancellationRequested, true, 'stale request cancelled at once');
    t.clock.advance(250);
    const second = t.calls[1];
    // The stale reply arrives after the new request started: it must not be shown.
    first.reply.resolve('OLD');
    await flushMicrotasks();
    assert.deepEqual(t.shown, []);
    second.reply.resolve('NEW');
    await flushMicrotasks();
    assert.deepEqual(t.shown, ['http retry=>NEW']);
  });

  it('drops the stale reply even if the server ignores the cancellation and answers out of order', async () => {
    const t = setUp();
    t.search.update('a');
    t.clock.advance(250);
    t.search.update('b');
    t.clock.advance(250);
    t.calls[1].reply.resolve('B');
    t.calls[0].reply.resolve('A');
    await flushMicrotasks();
    assert.deepEqual(t.shown, ['b=>B']);
  });

  it('reports errors of the current query only', async () => {
    const t = setUp();
    t.search.update('x');
    t.clock.advance(250);
    t.search.update('y');
    t.clock.advance(250);
    t.calls[0].reply.reject(new Error('cancelled'));
    t.calls[1].reply.reject(new Error('index missing'));
    await flushMicrotasks();
    assert.deepEqual(t.errors, ['y: Error: index missing']);
  });

  it('clears at once on an empty query, cancelling pending work', async () => {
    const t = setUp();
    t.search.update('foo');
    t.clock.advance(250);
    t.search.update('   ');
    assert.equal(t.cleared(), 1);
    assert.equal(t.calls[0].source.token.isCancellationRequested, true);
    assert.equal(t.clock.pending, 0);
    t.calls[0].reply.resolve('late');
    await flushMicrotasks();
    assert.deepEqual(t.shown, []);
    assert.equal(t.busy[t.busy.length - 1], false);
  });

  it('flush runs the query without waiting for the debounce', () => {
    const t = setUp();
    t.search.update('now');
    t.search.flush('now');
    assert.equal(t.calls.length, 1);
    t.clock.advance(1000);
    assert.equal(t.calls.length, 1, 'the debounced timer was replaced, not duplicated');
  });

  it('does nothing after dispose, and cancels what was in flight', async () => {
    const t = setUp();
    t.search.update('q');
    t.clock.advance(250);
    t.search.dispose();
    assert.equal(t.calls[0].source.token.isCancellationRequested, true);
    t.calls[0].reply.resolve('late');
    t.search.update('again');
    t.clock.advance(1000);
    await flushMicrotasks();
    assert.equal(t.calls.length, 1);
    assert.deepEqual(t.shown, []);
  });
});
