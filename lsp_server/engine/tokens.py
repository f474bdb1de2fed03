"""Code-aware tokens for the lexical index: identifiers are split into their words.

`parseHTTPRequest` and `parse_http_request` both index as "parse http request" plus the
whole identifier, and both as "parsehttprequest", so a query in either style (or in plain
words) finds them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
# Splits camelCase, PascalCase and acronyms: "parseHTTPRequest2" -> parse, HTTP, Request, 2
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Words that carry no meaning in a question about code ("where do we ...").
STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how i if in into is it its me my of on
    or our that the their then there these this to was we what when where which who why will
    with you your find show code function functions method""".split()  # noqa: SIM905
)

# Bump when index_text would store other tokens for the same text: the owner of an index
# written with other tokens re-makes its lexical table from the stored chunks on open.
# 2: snake-case identifiers also as their words joined (`map_ok` -> mapok, as `MapOk`).
LEXICAL_TOKENS = "2"

MAX_QUERY_TERMS = 64
MAX_QUERY_PHRASES = 32
# Terms a long code query's most telling ones are picked from (most_telling).
MAX_CANDIDATE_TERMS = 128


def identifier_words(identifier: str) -> list[str]:
    """Lower-cased words of one identifier, without the identifier itself."""
    return [w.lower() for part in identifier.split("_") for w in _WORD.findall(part)]


def code_tokens(text: str) -> Iterable[str]:
    """Every identifier's words, then the whole identifier when it had several words."""
    for words, whole in _identifiers(text):
        yield from words
        if len(words) > 1:
            yield whole


def _identifiers(text: str) -> Iterator[tuple[list[str], str]]:
    """Each identifier of the text: its lower-cased words, and itself lower-cased."""
    for match in _IDENTIFIER.finditer(text):
        identifier = match.group()
        yield identifier_words(identifier), identifier.lower().strip("_")


def _tokens_and_joined_names(text: str) -> tuple[list[str], list[str]]:
    """The text's own tokens (code_tokens) and, read in the same pass, its joined names: the
    identifiers whose whole form is not their words joined (`map_ok`, `MAP_OK`), as their
    words joined ("mapok", as `MapOk` and `mapOk` already are whole).

    FTS5 splits `map_ok` at the underscore, so without this token a question that names the
    type `MapOk` never matches the function `map_ok` that makes it (Rust's usual pair).
    """
    tokens: list[str] = []
    joined_names: list[str] = []
    for words, whole in _identifiers(text):
        tokens += words
        if len(words) > 1:
            tokens.append(whole)
            joined = "".join(words)
            if joined != whole:
                joined_names.append(joined)
    return tokens, joined_names


def index_text(text: str) -> str:
    """The document form stored in FTS5 (its own tokenizer then splits on spaces).

    The joined names go after the text's own tokens, so the words of the text stay adjacent
    as a code query's word pairs (query_phrases) read them.
    """
    tokens, joined_names = _tokens_and_joined_names(text)
    return " ".join(tokens + joined_names)


def query_terms(text: str, joined: bool = False, limit: int = MAX_QUERY_TERMS) -> list[str]:
    """Distinct meaningful terms of a query, in order, the first `limit` of them.

    `joined`: also the joined names (a question's `map_ok` or `MapOk`); code, a selection or
    Find Similar's definition is matched by its words and names as written, as they were
    weighed (with joined names too, leetcode's Find Similar MRR fell 0.8826 -> 0.8756).
    """
    if joined:
        own, joined_names = _tokens_and_joined_names(text)
        tokens: Iterable[str] = own + joined_names
    else:
        tokens = code_tokens(text)
    seen: dict[str, None] = {}
    for token in tokens:
        if token not in STOPWORDS and len(token) > 1 and token not in seen:
            seen[token] = None
            if len(seen) >= limit:
                break
    return list(seen)


def most_telling(
    terms: Sequence[str],
    counts: Mapping[str, int],
    frequencies: Mapping[str, int],
    chunks: int,
    limit: int,
    least: int = 1,
) -> list[str]:
    """The terms BM25 searches a code query by, at most `limit`, in the query's order.

    A term weighs (1 + ln tf) * ln(chunks / df), tf its count in the query, df the chunks
    holding it: how Lucene's MoreLikeThis picks a document's query terms. BM25 must score
    every chunk that holds a term, so the words a function shares with most of the code
    cost the most and decide the least. Left out: terms fewer than `least` chunks hold
    (none, or only the query's own definition: nothing else to find by them), and terms
    more than half the chunks hold, to which FTS5's BM25 gives an IDF of 1e-6 (nothing),
    unless no other term would remain: then their counts are all BM25 has to rank by.
    """
    held = {term: df for term in terms if (df := frequencies.get(term, 0)) >= max(1, least)}
    telling = {term: df for term, df in held.items() if 2 * df <= chunks} or held
    weights = {
        term: (1 + math.log(max(1, counts.get(term, 1)))) * math.log(max(chunks, df) / df)
        for term, df in telling.items()
    }
    kept = set(sorted(weights, key=lambda term: -weights[term])[:limit])
    return [term for term in terms if term in kept]


# A word counts as its file's own only when this many of the file's other chunks hold it:
# in a file of two or three definitions (C's alternatives under #if), the words they share
# are the likeness asked for (tmux's `getprogname`), not the file's vocabulary.
FILE_WORDS_LEAST = 3


def file_words(holders: Mapping[str, int], neighbours: int, share: float) -> set[str]:
    """Of a Find Similar query's terms, those of its file rather than of the definition: held
    by more than `share` of the file's `neighbours` other chunks (`holders`: how many hold
    each term) and by at least FILE_WORDS_LEAST of them."""
    return {
        term
        for term, held in holders.items()
        if held >= FILE_WORDS_LEAST and held > share * neighbours
    }


def query_phrases(text: str) -> list[str]:
    """Adjacent word pairs of a code query, matched as FTS5 phrases ("invalid argument").

    Terms alone lose word order: a pasted message shares its common words with much of the
    code, and the literal that raises it is found by its words in sequence. Pairs are read
    from the same token stream the index is built from, so adjacency means the same on
    both sides; a pair of stopwords, or with a one-letter word, says nothing.
    """
    seen: dict[str, None] = {}
    previous = ""
    for token in code_tokens(text):
        if _phrase_pair(previous, token):
            seen.setdefault(f"{previous} {token}")
            if len(seen) >= MAX_QUERY_PHRASES:
                break
        previous = token
    return list(seen)


def _phrase_pair(first: str, second: str) -> bool:
    words = (first, second)
    meaningful = any(word not in STOPWORDS for word in words)
    return meaningful and all(len(word) > 1 and not word.isdigit() for word in words)


def fts_match_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression that ORs the terms (BM25 then ranks by how many match)."""
    return " OR ".join(f'"{term}"' for term in terms)


# Marks of code in a query: brackets and operators, keywords, snake_case and camelCase.
_CODE_MARKS = re.compile(
    r"[(){}\[\];=<>]|::|->|\b(?:def|class|function|func|fn|return|import|const|let|var)\b"
    r"|\b\w+_\w+\b|\b[a-z]+[A-Z]\w*\b"
)


# Inline code in prose (`Router#use()`, :func:`echo`): named code, not code to match.
_INLINE_CODE = re.compile(r"(?::\w+:)?`+[^`]*`+")
# A word of prose: letters, lower case after the first, maybe in brackets or before a comma.
_PROSE_WORD = re.compile(r"\(?[A-Za-z][a-z]*(?:'[a-z]+)?\)?[,.;:!?]?")
# Keywords that read as English but mark a line of code.
_CODE_WORDS = frozenset(
    {
        "def", "class", "function", "func", "fn", "return", "import", "const", "let", "var",
        "elif", "none", "null", "nil", "self", "this", "void", "lambda", "impl", "pub",
        "struct", "async", "await", "yield",
    }
)  # fmt: skip


def reads_as_sentence(text: str) -> bool:
    """Mostly words of prose (two thirds, at least four), inline code aside: "Proxy
    `Router#use()` to add middleware", "Return an iterator of tuples (up to 12)"."""
    words = _INLINE_CODE.sub(" ", text).split()
    prose = [
        w for w in words
        if _PROSE_WORD.fullmatch(w) and w.lower().strip("(),.;:!?") not in _CODE_WORDS
    ]  # fmt: skip
    return len(prose) >= 4 and 3 * len(prose) >= 2 * len(words)


def looks_like_code(query: str, sentences: bool = True) -> bool:
    """True for code, stack traces and bare identifiers; False for questions in words
    (with `sentences`, also those that name code or hold brackets)."""
    text = query.strip()
    if "\n" in text or " " not in text:
        return True
    if sentences and reads_as_sentence(text):
        return False
    return len(_CODE_MARKS.findall(text)) >= 2
