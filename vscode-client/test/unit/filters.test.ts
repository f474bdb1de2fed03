import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFilters, hasFilters, parseFilters, sanitizeFilters } from '../../src/filters';

describe('search filters as text', () => {
  it('reads globs to keep, !globs to drop and lang: lists', () => {
    assert.deepEqual(parseFilters('  src/**,lib/**  !**/tests/** lang:Python,go  language:rust !x'), {
      include: ['src/**', 'lib/**'],
      exclude: ['**/tests/**', 'x'],
      languages: ['python', 'go', 'rust'],
    });
    assert.deepEqual(parseFilters(''), { include: [], exclude: [], languages: [] });
  });

  it('writes what it reads', () => {
    const text = 'web/** !**/*.min.js lang:javascript,typescript';
    assert.equal(formatFilters(parseFilters(text)), text);
    assert.equal(hasFilters(parseFilters(text)), true);
    assert.equal(hasFilters(parseFilters('  ')), false);
  });

  it('drops duplicates and malformed stored values', () => {
    assert.deepEqual(parseFilters('a a !b !b').include, ['a']);
    assert.deepEqual(sanitizeFilters({ include: ['a', 3, ''], exclude: 'x' }), { include: ['a'], exclude: [], languages: [] });
    assert.deepEqual(sanitizeFilters(undefined), { include: [], exclude: [], languages: [] });
  });
});
