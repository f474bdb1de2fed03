import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClientCommand,
  ServerCommand,
  errorMessage,
  findSimilarCall,
  parseReindexResponse,
  parseSearchResponse,
  parseStatusResponse,
  reindexCall,
  searchCall,
  searchSelectionCall,
  statusCall,
} from '../../src/protocol';

const range = { start: { line: 3, character: 0 }, end: { line: 9, character: 4 } };

describe('server command arguments', () => {
  it('extension command ids never collide with the server commands the client registers', () => {
    const server = new Set<string>(Object.values(ServerCommand));
    for (const id of Object.values(ClientCommand)) {
      assert.equal(server.has(id), false, id);
    }
  });

  it('nearcode.search: one argument object with the trimmed query and an integer limit', () => {
    assert.deepEqual(searchCall('  retry http  ', { limit: 20.7 }), {
      command: 'nearcode.search',
      arguments: [{ query: 'retry http', limit: 20 }],
    });
    assert.deepEqual(searchCall('q'), { command: 'nearcode.search', arguments: [{ query: 'q' }] });
    assert.deepEqual(searchCall('q', { limit: 0 }).arguments, [{ query: 'q' }]);
  });

  it('sends the include/exclude/language filters with every search, leaving out empty ones', () => {
    const filters = { include: ['src/**'], exclude: [], languages: ['python'] };
    assert.deepEqual(searchCall('q', { filters }).arguments, [{ query: 'q', include: ['src/**'], languages: ['python'] }]);
    const uri = 'file:///w/a.py';
    assert.deepEqual(findSimilarCall(uri, { line: 1, character: 2 }, { filters, limit: 5 }).arguments, [
      { textDocument: { uri }, position: { line: 1, character: 2 }, limit: 5, include: ['src/**'], languages: ['python'] },
    ]);
    const source = { uri, scheme: 'untitled', isDirty: false, range, text: 'boom' };
    assert.deepEqual(searchSelectionCall(source, { filters: { ...filters, exclude: ['**/tests/**'] } }).arguments, [
      { text: 'boom', include: ['src/**'], exclude: ['**/tests/**'], languages: ['python'] },
    ]);
  });

  it('nearcode.findSimilar: position or range', () => {
    const uri = 'file:///w/a.py';
    assert.deepEqual(findSimilarCall(uri, { line: 1, character: 2 }), {
      command: 'nearcode.findSimilar',
      arguments: [{ textDocument: { uri }, position: { line: 1, character: 2 } }],
    });
    assert.deepEqual(findSimilarCall(uri, range).arguments, [{ textDocument: { uri }, range }]);
  });

  it('nearcode.searchSelection: a file reference for saved files, the text otherwise', () => {
    const base = { uri: 'file:///w/a.py', scheme: 'file', isDirty: false, range, text: 'def f(): pass' };
    assert.deepEqual(searchSelectionCall(base), {
      command: 'nearcode.searchSelection',
      arguments: [{ textDocument: { uri: 'file:///w/a.py' }, range }],
    });
    const trace = 'Traceback (most recent call last):\n  File "a.py", line 3';
    const untitled = { ...base, uri: 'untitled:Untitled-1', scheme: 'untitled', text: trace };
    assert.deepEqual(searchSelectionCall(untitled).arguments, [{ text: trace }]);
    assert.deepEqual(searchSelectionCall({ ...base, isDirty: true }).arguments, [{ text: 'def f(): pass' }]);
  });

  it('nearcode.reindex and nearcode.status', () => {
    assert.deepEqual(reindexCall(), { command: 'nearcode.reindex', arguments: [{}] });
    assert.deepEqual(reindexCall('file:///w').arguments, [{ folder: 'file:///w' }]);
    assert.deepEqual(statusCall(), { command: 'nearcode.status', arguments: [{}] });
  });
});

describe('reply parsing', () => {
  const good = {
    uri: 'file:///w/net/retry.py',
    path: 'net/retry.py',
    range,
    selectionRange: { start: { line: 3, character: 4 }, end: { line: 3, character: 22 } },
    score: 0.81,
    symbol: 'retry_http_request',
    kind: 'function',
    language: 'python',
    preview: 'def retry_http_request(url, attempts=3):',
    context: [
      { line: 3, text: 'def retry_http_request(url, attempts=3):' },
      { line: 7, text: '    time.sleep(backoff)' },
    ],
  };

  it('keeps well-formed results and drops malformed ones', () => {
    const reply = parseSearchResponse({ results: [good, { uri: 'x' }, 42, { ...good, score: 'high' }], partial: true });
    assert.equal(reply.partial, true);
    assert.equal(reply.results.length, 2);
    assert.deepEqual(reply.results[0], good);
    assert.equal(reply.results[1].score, 0, 'a non-numeric score falls back to 0');
  });

  it('reads the multi-line context, keeping null lines and dropping malformed ones', () => {
    const context = [{ line: null, text: 'def f(a):' }, { line: 4, text: 'x' }, { line: 2 }, 'y', { line: -1, text: 'z' }];
    const reply = parseSearchResponse({ results: [{ ...good, context }] });
    assert.deepEqual(reply.results[0].context, [
      { line: null, text: 'def f(a):' },
      { line: 4, text: 'x' },
      { line: null, text: 'z' },
    ]);
    const { context: _dropped, ...old } = good;
    assert.deepEqual(parseSearchResponse({ results: [old] }).results[0].context, [], 'older servers send none');
  });

  it('lands on the selectionRange; older servers without one land on the start of the range', () => {
    assert.deepEqual(parseSearchResponse({ results: [good] }).results[0].selectionRange.start, { line: 3, character: 4 });
    const { selectionRange: _dropped, ...old } = good;
    const parsed = parseSearchResponse({ results: [old, { ...good, selectionRange: { start: 3 } }] }).results;
    assert.deepEqual(parsed[0].selectionRange, { start: range.start, end: range.start });
    assert.deepEqual(parsed[1].selectionRange, { start: range.start, end: range.start }, 'a malformed one is ignored');
  });

  it('rejects a reply without results', () => {
    assert.throws(() => parseSearchResponse(null), /unexpected search reply/);
    assert.throws(() => parseSearchResponse({ partial: false }), /unexpected search reply/);
  });

  it('parses status and maps unknown states to error', () => {
    const status = parseStatusResponse({
      folders: [
        { uri: 'file:///w', files: 3, chunks: 10, embedded: 5, pending: 5, model: 'm', indexPath: '/i', state: 'embedding' },
        { uri: 'file:///v', state: 'weird', message: 'boom' },
        { uri: 'file:///s', state: 'starting' },
        { uri: 'file:///p', state: 'paused' },
      ],
      modelState: 'exporting',
      modelMessage: 'preparing the model (first run, about 30 s)',
    });
    assert.deepEqual(
      status.folders.map((f) => f.state),
      ['embedding', 'error', 'starting', 'paused'],
    );
    assert.equal(status.folders[1].message, 'boom');
    assert.equal(status.folders[1].chunks, 0);
    assert.deepEqual(status.model, { state: 'exporting', message: 'preparing the model (first run, about 30 s)' });
  });

  it('parses the files left out, dropping malformed entries', () => {
    const status = parseStatusResponse({
      folders: [
        {
          uri: 'file:///w',
          state: 'ready',
          skipped: 3,
          skippedFiles: [{ path: 'css/all.css', reason: 'minified' }, 'junk', { path: 'a.bin', reason: 'binary' }],
        },
        { uri: 'file:///old', state: 'ready' },
      ],
    });
    assert.equal(status.folders[0].skipped, 3);
    assert.deepEqual(status.folders[0].skippedFiles, [
      { path: 'css/all.css', reason: 'minified' },
      { path: 'a.bin', reason: 'binary' },
    ]);
    assert.deepEqual([status.folders[1].skipped, status.folders[1].skippedFiles], [0, []]);
  });

  it('parses the scope a folder holds, from servers that send it or not', () => {
    const status = parseStatusResponse({
      folders: [
        { uri: 'file:///w', state: 'ready', exclude: ['gen/**', 3], maxFileSize: 2048 },
        { uri: 'file:///old', state: 'ready', exclude: 'gen/**' },
      ],
    });
    assert.deepEqual([status.folders[0].exclude, status.folders[0].maxFileSize], [['gen/**'], 2048]);
    assert.deepEqual([status.folders[1].exclude, status.folders[1].maxFileSize], [[], 0]);
  });

  it('derives the model state from older servers (modelLoaded, modelError)', () => {
    assert.deepEqual(parseStatusResponse({ folders: [], modelLoaded: true }).model, { state: 'ready', message: '' });
    assert.deepEqual(parseStatusResponse({ folders: [], modelLoaded: false }).model, { state: 'loading', message: '' });
    assert.deepEqual(parseStatusResponse({ folders: [], modelError: 'no model' }).model, { state: 'error', message: 'no model' });
  });

  it('parses where embeddings go, with or without a server URL', () => {
    const remote = parseStatusResponse({
      folders: [],
      embeddings: { provider: 'openai-compatible', url: 'http://gpu:8080/v1', model: 'bge-m3' },
    });
    assert.deepEqual(remote.embeddings, { provider: 'openai-compatible', url: 'http://gpu:8080/v1', model: 'bge-m3' });
    const local = parseStatusResponse({ folders: [], embeddings: { provider: 'local', url: null, model: 'm' } });
    assert.deepEqual(local.embeddings, { provider: 'local', model: 'm' });
    assert.equal(parseStatusResponse({ folders: [], embeddings: 'x' }).embeddings, undefined);
  });

  it('parses reindex replies defensively', () => {
    assert.deepEqual(parseReindexResponse({ started: ['file:///w', 3] }), { started: ['file:///w'] });
    assert.deepEqual(parseReindexResponse(undefined), { started: [] });
  });

  it('errorMessage reads JSON-RPC errors, Errors and anything else', () => {
    assert.equal(errorMessage(new Error('boom')), 'boom');
    assert.equal(errorMessage({ code: -32603, message: 'index not ready' }), 'index not ready');
    assert.equal(errorMessage(7), '7');
  });
});
