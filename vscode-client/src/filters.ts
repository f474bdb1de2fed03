// Result filters as one line of text, as typed in the filter box and shown in titles:
//   src/** !**/tests/** lang:python,go
// A glob keeps results under it (include), `!glob` drops them (exclude), `lang:` keeps
// the languages named. Pure, so the syntax is unit-tested.

import { NO_FILTERS, type SearchFilters } from './protocol';

const LANGUAGE_PREFIX = /^(?:lang|language|languages):/i;
const EXCLUDE_PREFIX = '!';

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function commaList(text: string): string[] {
  return text.split(',').map((w) => w.trim()).filter((w) => w !== '');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function parseFilters(text: string): SearchFilters {
  const include: string[] = [];
  const exclude: string[] = [];
  const languages: string[] = [];
  for (const word of words(text)) {
    if (LANGUAGE_PREFIX.test(word)) {
      languages.push(...commaList(word.replace(LANGUAGE_PREFIX, '')).map((l) => l.toLowerCase()));
    } else if (word.startsWith(EXCLUDE_PREFIX)) {
      exclude.push(...commaList(word.slice(EXCLUDE_PREFIX.length)));
    } else {
      include.push(...commaList(word));
    }
  }
  return { include: unique(include), exclude: unique(exclude), languages: unique(languages) };
}

export function formatFilters(filters: SearchFilters): string {
  const parts = [...filters.include, ...filters.exclude.map((g) => `${EXCLUDE_PREFIX}${g}`)];
  if (filters.languages.length > 0) {
    parts.push(`lang:${filters.languages.join(',')}`);
  }
  return parts.join(' ');
}

export function hasFilters(filters: SearchFilters): boolean {
  return filters.include.length + filters.exclude.length + filters.languages.length > 0;
}

/** Copies the value read back from workspace state, dropping anything malformed. */
export function sanitizeFilters(value: unknown): SearchFilters {
  if (typeof value !== 'object' || value === null) {
    return NO_FILTERS;
  }
  const record = value as Record<string, unknown>;
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '') : [];
  return { include: list(record.include), exclude: list(record.exclude), languages: list(record.languages) };
}
