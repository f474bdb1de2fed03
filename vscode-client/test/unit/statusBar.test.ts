import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FolderStatus, StatusResponse } from '../../src/protocol';
import { StatusBarController, barView, needsPolling } from '../../src/statusBar';
import { FakeClock, flushMicrotasks } from './fakes';

function folder(over: Partial<FolderStatus> = {}): FolderStatus {
  return { uri: 'file:///w', files: 10, chunks: 200, embedded: 200, pending: 0, model: '', indexPath: '', state: 'ready', ...over };
}

describe('barView', () => {
  it('shows the $/progress percentage while indexing', () => {
    const view = barView({ phase: 'running', progress: [{ title: 'Indexing w', message: '120/480 files', percentage: 45 }] });
    assert.equal(view.text, '$(sync~spin) nearcode 45%');
    assert.equal(view.tooltip, 'Indexing w: 120/480 files');
  });

  it('shows the chunk count when the index is ready', () => {
    const view = barView({ phase: 'running', progress: [], status: { folders: [folder({ chunks: 1234 }), folder({ chunks: 6 })] } });
    assert.equal(view.text, '$(search) nearcode 1,240 chunks');
    assert.equal(view.error, false);
  });

  it('falls back to the embedded share from nearcode.status when no progress is reported', () => {
    const view = barView({ phase: 'running', progress: [], status: { folders: [folder({ state: 'embedding', embedded: 50 })] } });
    assert.equal(view.text, '$(sync~spin) nearcode 25%');
  });

  it('flags errors and non-running phases', () => {
    const failed = barView({ phase: 'running', progress: [], status: { folders: [folder({ state: 'error', message: 'disk full' })] } });
    assert.deepEqual([failed.text, failed.error], ['$(error) nearcode', true]);
    assert.match(failed.tooltip, /disk full/);
    assert.equal(barView({ phase: 'missing', progress: [] }).text, '$(warning) nearcode');
    assert.equal(barView({ phase: 'untrusted', progress: [] }).text, '$(shield) nearcode');
    assert.match(barView({ phase: 'stopped', detail: 'crashed 5 times', progress: [] }).tooltip, /crashed 5 times/);
  });

  it('says where embeddings go', () => {
    const local = barView({
      phase: 'running',
      progress: [],
      status: { folders: [folder()], embeddings: { provider: 'local', model: 'all-MiniLM-L6-v2' } },
    });
    assert.match(local.tooltip, /\nEmbeddings: local model all-MiniLM-L6-v2 \(nothing leaves this machine\)$/);
    const remote = barView({
      phase: 'running',
      progress: [],
      status: {
        folders: [folder({ state: 'embedding', message: 'paused, retrying: the embedding server is unavailable' })],
        embeddings: { provider: 'openai-compatible', url: 'http://gpu:8080/v1', model: 'bge-m3' },
      },
    });
    assert.match(remote.tooltip, /w: embedding \(10 files\): paused, retrying: the embedding server is unavailable/);
    assert.match(remote.tooltip, /Embeddings: bge-m3 at http:\/\/gpu:8080\/v1 \(code text is sent there\)$/);
  });

  it('polls only while running and not settled', () => {
    assert.equal(needsPolling({ phase: 'running', progress: [] }), true);
    assert.equal(needsPolling({ phase: 'running', progress: [], status: { folders: [folder({ state: 'indexing' })] } }), true);
    assert.equal(needsPolling({ phase: 'running', progress: [], status: { folders: [folder()] } }), false);
    assert.equal(needsPolling({ phase: 'stopped', progress: [] }), false);
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
      pollMs: 3000,
      setError: () => undefined,
      fetchStatus: async () => replies[Math.min(fetches++, replies.length - 1)],
    });
    return { clock, item, controller, fetches: () => fetches };
  }

  it('follows begin/report/end progress, then shows the chunk count', async () => {
    const t = setUp([{ folders: [folder({ chunks: 321 })] }]);
    t.controller.setPhase('running');
    t.controller.onProgress('tok', { kind: 'begin', title: 'Indexing w', percentage: 0 });
    t.controller.onProgress('tok', { kind: 'report', message: '120/480 files', percentage: 25 });
    assert.equal(t.item.text, '$(sync~spin) nearcode 25%');
    t.controller.onProgress('tok', { kind: 'end' });
    await flushMicrotasks();
    assert.equal(t.item.text, '$(search) nearcode 321 chunks');
    assert.equal(t.item.shown, true);
  });

  it('polls while a folder is busy and stops once it is ready', async () => {
    const busy = { folders: [folder({ state: 'embedding', embedded: 100 })] };
    const t = setUp([busy, busy, { folders: [folder()] }]);
    t.controller.setPhase('running');
    await t.controller.poll();
    assert.equal(t.item.text, '$(sync~spin) nearcode 50%');
    t.clock.advance(3000);
    await flushMicrotasks();
    t.clock.advance(3000);
    await flushMicrotasks();
    assert.equal(t.item.text, '$(search) nearcode 200 chunks');
    const count = t.fetches();
    t.clock.advance(30_000);
    await flushMicrotasks();
    assert.equal(t.fetches(), count, 'no polling once ready');
  });

  it('keeps the reason when the client later reports a plain stop', () => {
    const t = setUp([]);
    t.controller.setPhase('stopped', 'crashed 5 times');
    t.controller.setPhase('stopped');
    assert.match(String(t.item.tooltip), /crashed 5 times/);
  });
});
