import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FolderStatus, ModelStatus, StatusResponse } from '../../src/protocol';
import { StatusBarController, barView, isSettled, needsPolling } from '../../src/statusBar';
import { FakeClock, flushMicrotasks } from './fakes';

function folder(over: Partial<FolderStatus> = {}): FolderStatus {
  return { uri: 'file:///w', files: 10, chunks: 200, embedded: 200, pending: 0, model: '', indexPath: '', state: 'ready', skipped: 0, skippedFiles: [], exclude: [], maxFileSize: 0, ...over };
}

const READY_MODEL: ModelStatus = { state: 'ready', message: '' };

function status(folders: FolderStatus[], model: ModelStatus = READY_MODEL): StatusResponse {
  return { folders, model };
}

describe('barView', () => {
  it('shows $/progress only until the first status reply', () => {
    const view = barView({ phase: 'running', progress: [{ title: 'Indexing w', message: '120/480 files' }] });
    assert.equal(view.text, '$(sync~spin) nearcode');
    assert.equal(view.tooltip, 'Indexing w: 120/480 files');
  });

  it('shows the chunk count when the index is ready', () => {
    const view = barView({ phase: 'running', progress: [], status: status([folder({ chunks: 1234, embedded: 1234 }), folder({ chunks: 6, embedded: 6 })]) });
    assert.equal(view.text, '$(search) nearcode 1,240 chunks');
    assert.equal(view.error, false);
  });

  it('shows the share of chunks embedded, whatever percentage $/progress last said', () => {
    const busy = status([folder({ state: 'embedding', embedded: 50, pending: 150 })]);
    const view = barView({ phase: 'running', progress: [{ title: 'Indexing w', percentage: 100 }], status: busy });
    assert.equal(view.text, '$(sync~spin) nearcode 25%');
    assert.equal(view.tooltip, 'w: embedding, 50/200 chunks embedded');
  });

  it('counts a ready folder with pending chunks (a save being embedded) as busy', () => {
    const view = barView({ phase: 'running', progress: [], status: status([folder({ embedded: 198, pending: 2 })]) });
    assert.equal(view.text, '$(sync~spin) nearcode 99%');
  });

  it('says the model is being prepared during the first-run export', () => {
    const model = { state: 'exporting' as const, message: 'preparing the model (first run, about 30 s)' };
    const view = barView({ phase: 'running', progress: [], status: status([folder({ state: 'embedding', embedded: 0 })], model) });
    assert.equal(view.text, '$(sync~spin) nearcode: preparing the model (first run, about 30 s)');
    assert.match(view.tooltip, /w: embedding, 0\/200 chunks embedded/);
  });

  it('says the model is loading (after a restart) instead of a percentage that stands still', () => {
    const view = barView({ phase: 'running', progress: [], status: status([folder()], { state: 'loading', message: '' }) });
    assert.equal(view.text, '$(sync~spin) nearcode: loading the model');
  });

  it('never shows "0 chunks" for a folder that is still opening', () => {
    const view = barView({ phase: 'running', progress: [], status: status([folder({ state: 'starting', chunks: 0, embedded: 0 })]) });
    assert.equal(view.text, '$(sync~spin) nearcode indexing');
    assert.equal(view.tooltip, 'w: opening the index');
  });

  it('flags errors and non-running phases', () => {
    const failed = barView({ phase: 'running', progress: [], status: status([folder({ state: 'error', message: 'disk full' })]) });
    assert.deepEqual([failed.text, failed.error], ['$(error) nearcode', true]);
    assert.match(failed.tooltip, /disk full/);
    assert.equal(barView({ phase: 'missing', progress: [] }).text, '$(warning) nearcode');
    assert.equal(barView({ phase: 'notFound', progress: [] }).text, '$(warning) nearcode');
    assert.equal(barView({ phase: 'untrusted', progress: [] }).text, '$(shield) nearcode');
    assert.match(barView({ phase: 'stopped', detail: 'crashed 5 times', progress: [] }).tooltip, /crashed 5 times/);
  });

  it('says where embeddings go', () => {
    const local = barView({
      phase: 'running',
      progress: [],
      status: { ...status([folder()]), embeddings: { provider: 'local', model: 'all-MiniLM-L6-v2' } },
    });
    assert.match(local.tooltip, /\nEmbeddings: local model all-MiniLM-L6-v2 \(nothing leaves this machine\)$/);
    const remote = barView({
      phase: 'running',
      progress: [],
      status: {
        ...status([folder({ state: 'embedding', message: 'paused, retrying: the embedding server is unavailable' })]),
        embeddings: { provider: 'openai-compatible', url: 'http://gpu:8080/v1', model: 'bge-m3' },
      },
    });
    assert.match(remote.tooltip, /w: embedding, 200\/200 chunks embedded: paused, retrying: the embedding server is unavailable/);
    assert.match(remote.tooltip, /Embeddings: bge-m3 at http:\/\/gpu:8080\/v1 \(code text is sent there\)$/);
  });

  it('polls only while running and not settled', () => {
    assert.equal(needsPolling({ phase: 'running', progress: [] }), true);
    assert.equal(needsPolling({ phase: 'running', progress: [], status: status([folder({ state: 'indexing' })]) }), true);
    assert.equal(needsPolling({ phase: 'running', progress: [], status: status([folder()]) }), false);
    assert.equal(needsPolling({ phase: 'running', progress: [], status: status([folder()], { state: 'loading', message: '' }) }), true);
    assert.equal(needsPolling({ phase: 'stopped', progress: [] }), false);
  });

  it('is settled when every folder is embedded and the model is loaded (or failed)', () => {
    assert.equal(isSettled(status([folder()])), true);
    assert.equal(isSettled(status([folder()], { state: 'error', message: 'x' })), true);
    assert.equal(isSettled(status([folder({ pending: 1 })])), false);
    assert.equal(isSettled(status([folder()], { state: 'exporting', message: '' })), false);
    assert.equal(isSettled(undefined), false);
  });
});

describe('StatusBarController', () => {
  function setUp(replies: StatusResponse[]) {
    const clock = new FakeClock();
    const item = { text: '', tooltip: undefined as unknown, shown: false, show() { this.shown = true; } };
    let fetches = 0;
    const controller = new StatusBarController({
      item,
      clock,
      pollMs: 1000,
      soonMs: 300,
      setError: () => undefined,
      fetchStatus: async () => replies[Math.min(fetches++, replies.length - 1)],
    });
    return { clock, item, controller, fetches: () => fetches };
  }

  async function tick(clock: FakeClock, ms: number): Promise<void> {
    clock.advance(ms);
    await flushMicrotasks();
  }

  it('fetches the status when progress arrives and shows its counts', async () => {
    const t = setUp([status([folder({ chunks: 321, embedded: 321 })])]);
    t.controller.setPhase('running');
    t.controller.onProgress('tok', { kind: 'begin', title: 'Indexing w', message: 'scanning files' });
    assert.equal(t.item.text, '$(sync~spin) nearcode');
    t.controller.onProgress('tok', { kind: 'end' });
    await tick(t.clock, 300);
    assert.equal(t.item.text, '$(search) nearcode 321 chunks');
    assert.equal(t.item.shown, true);
  });

  it('polls while a folder is busy and stops once it is ready', async () => {
    const busy = status([folder({ state: 'embedding', embedded: 100, pending: 100 })]);
    const t = setUp([busy, busy, status([folder()])]);
    t.controller.setPhase('running');
    await t.controller.poll();
    assert.equal(t.item.text, '$(sync~spin) nearcode 50%');
    await tick(t.clock, 1000);
    await tick(t.clock, 1000);
    assert.equal(t.item.text, '$(search) nearcode 200 chunks');
    const count = t.fetches();
    await tick(t.clock, 30_000);
    assert.equal(t.fetches(), count, 'no polling once ready');
  });

  it('shows the new count after a save, even when the index looked settled', async () => {
    const t = setUp([status([folder()]), status([folder()]), status([folder({ chunks: 202, embedded: 202 })])]);
    t.controller.setPhase('running');
    await t.controller.poll();
    assert.equal(t.item.text, '$(search) nearcode 200 chunks');
    t.controller.pollSoon(); // a save
    await tick(t.clock, 300); // the first fetch came before the server applied it
    assert.equal(t.item.text, '$(search) nearcode 200 chunks');
    await tick(t.clock, 1000); // the follow-up fetch sees it
    assert.equal(t.item.text, '$(search) nearcode 202 chunks');
    const count = t.fetches();
    await tick(t.clock, 30_000);
    assert.equal(t.fetches(), count, 'then it stops again');
  });

  it('tells listeners each time the index becomes settled', async () => {
    const busy = status([folder({ state: 'embedding', embedded: 10, pending: 190 })]);
    const t = setUp([busy, status([folder()]), status([folder()]), busy, status([folder()])]);
    let settled = 0;
    t.controller.onSettled(() => settled++);
    t.controller.setPhase('running');
    await t.controller.poll();
    assert.equal([settled, t.controller.isSettled].join(), '0,false');
    await tick(t.clock, 1000);
    assert.equal([settled, t.controller.isSettled].join(), '1,true');
    t.controller.pollSoon();
    await tick(t.clock, 300);
    assert.equal(settled, 1, 'still settled: no second event');
    await tick(t.clock, 1000); // busy again (a save)
    await tick(t.clock, 1000); // and settled
    assert.equal(settled, 2);
  });

  it('keeps the reason when the client later reports a plain stop', () => {
    const t = setUp([]);
    t.controller.setPhase('stopped', 'crashed 5 times');
    t.controller.setPhase('stopped');
    assert.match(String(t.item.tooltip), /crashed 5 times/);
  });
});
