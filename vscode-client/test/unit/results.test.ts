import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FolderStatus, SearchResult } from '../../src/protocol';
import {
  SearchHistory,
  entryDescription,
  entryLabel,
  folderName,
  folderStatusText,
  formatLocation,
  groupByFile,
  kindIcon,
  oneLine,
  pickItemText,
  resultTitle,
} from '../../src/results';

function result(over: Partial<SearchResult> = {}): SearchResult {
  return {
    uri: 'file:///w/net/retry.py',
    path: 'net/retry.py',
    range: { start: { line: 11, character: 0 }, end: { line: 25, character: 0 } },
    score: 0.8123,
    symbol: 'retry_http_request',
    kind: 'function',
    language: 'python',
    preview: 'def retry_http_request(url, attempts=3):\n    """Retry."""',
    ...over,
  };
}

describe('result formatting', () => {
  it('shows 1-based lines', () => {
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
  });

  it('oneLine collapses whitespace and truncates with an ellipsis', () => {
    assert.equal(oneLine('a\n\t  b   c'), 'a b c');
    assert.equal(oneLine('abcdefghij', 5), 'abcd…');
    assert.equal(oneLine('abcde', 5), 'abcde');
  });

  it('groups by file, best file first, server order within a file', () => {
    const groups = groupByFile([
      result({ uri: 'file:///w/a.py', path: 'a.py', score: 0.5, symbol: 'a1' }),
      result({ uri: 'file:///w/b.py', path: 'b.py', score: 0.9, symbol: 'b1' }),
      result({ uri: 'file:///w/a.py', path: 'a.py', score: 0.7, symbol: 'a2' }),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.path, g.bestScore, g.matches.map((m) => m.symbol)]),
      [
        ['b.py', 0.9, ['b1']],
        ['a.py', 0.7, ['a1', 'a2']],
      ],
    );
  });
});

describe('SearchHistory', () => {
  it('keeps the newest first, bounded, replacing a repeated query', () => {
    const history = new SearchHistory(2);
    history.add({ kind: 'search', query: 'one', results: [], partial: false });
    history.add({ kind: 'search', query: 'two', results: [], partial: false });
    history.add({ kind: 'search', query: 'one', results: [result()], partial: false });
    history.add({ kind: 'similar', query: 'three', results: [], partial: true });
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

  it('labels entries by kind and notes partial results', () => {
    assert.equal(entryLabel({ kind: 'similar', query: 'a.py:3' }), 'Similar to a.py:3');
    assert.equal(entryLabel({ kind: 'selection', query: 'x' }), 'Selection: x');
    assert.equal(entryDescription({ results: [result()], partial: false }), '1 result');
    assert.equal(entryDescription({ results: [], partial: true }), '0 results (index still building)');
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
});
