"""Tree-sitter grammars: loaded once per language and shared, parsers per thread, and the
small reads of a syntax tree that every step of the chunker makes."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import import_module

from tree_sitter import Language, Node, Parser, Point, Query, QueryCursor, Range, Tree

from ..language_specs import CPP_HINT, SPECS
from ..languages import GRAMMAR_MODULES

# Files this large whose lines average this long are treated as minified: line windows only.
_MINIFIED_MIN_CHARS = 100_000
_MINIFIED_LINE_CHARS = 1_000


@dataclass(frozen=True)
class Grammar:
    lang: Language
    query: Query
    fragment_lang: Language
    fragment_query: Query
    declarations: Query | None  # LanguageSpec.declarations, on the file's grammar
    fragment_declarations: Query | None  # and on the fragment's (a chunk parsed alone)


_lock = threading.Lock()
_grammars: dict[str, Grammar | None] = {}
_local = threading.local()


def grammar_for(language: str) -> Grammar | None:
    with _lock:
        if language not in _grammars:
            _grammars[language] = _load_grammar(language)
        return _grammars[language]


def _load_grammar(language: str) -> Grammar | None:
    module_name, func = GRAMMAR_MODULES[language]
    try:
        module = import_module(module_name)
        lang = Language(getattr(module, func)())
        spec = SPECS[language]
        query = Query(lang, spec.query)
        declarations = Query(lang, spec.declarations) if spec.declarations else None
        if not spec.fragment_function:
            return Grammar(lang, query, lang, query, declarations, declarations)
        fragment = Language(getattr(module, spec.fragment_function)())
        return Grammar(
            lang,
            query,
            fragment,
            Query(fragment, spec.query),
            declarations,
            Query(fragment, spec.declarations) if spec.declarations else None,
        )
    except Exception:  # a missing or ABI-incompatible wheel: fall back to line windows
        return None


def parser_for(language: str, lang: Language) -> Parser:
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = Parser(lang)
    return parser


def parse_source(language: str, lang: Language, data: bytes, parser: str = "") -> Tree:
    """`data` parsed with `lang` (`language`'s grammar, or its fragment grammar, whose
    cached parser is named `parser`), less what `language`'s spec leaves unparsed
    (LanguageSpec.unparsed): the tree's positions are still those of `data`."""
    ranges = included_ranges(data, 0, len(data), SPECS[language].unparsed)
    if len(ranges) == 1 and ranges[0].end_byte - ranges[0].start_byte == len(data):
        return parser_for(parser or language, lang).parse(data)  # nothing left out
    return Parser(lang, included_ranges=ranges).parse(data)


def included_ranges(
    data: bytes, start: int, end: int, hidden: tuple[re.Pattern[bytes], ...]
) -> list[Range]:
    """The ranges of `data[start:end]` to parse: all of it but group 1 of each match of a
    `hidden` pattern there."""
    gaps = sorted(m.span(1) for pattern in hidden for m in pattern.finditer(data, start, end))
    bounds = [start]
    for low, high in gaps:
        if low >= bounds[-1]:
            bounds += [low, high]
        else:  # overlapping gaps are left out as one
            bounds[-1] = max(bounds[-1], high)
    bounds.append(end)
    points = _points_at(data, bounds)
    return [
        Range(points[i], points[i + 1], bounds[i], bounds[i + 1])
        for i in range(0, len(bounds), 2)
        if bounds[i + 1] > bounds[i]
    ]


def _points_at(data: bytes, offsets: list[int]) -> list[Point]:
    """Tree-sitter's (row, byte column) of each byte offset, given in increasing order: the
    rows are counted once over the file, not from its start for each (a Qt header leaves
    out hundreds of words)."""
    points, row, counted = [], 0, 0
    for offset in offsets:
        row += data.count(b"\n", counted, offset)
        counted = offset
        points.append(Point(row, offset - data.rfind(b"\n", 0, offset) - 1))
    return points


def node_text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def captures(query: Query, root: Node) -> list[Node]:
    """The `@def` nodes (other captures only test a pattern's predicates)."""
    return QueryCursor(query).captures(root).get("def", [])


def grammar_language(language: str, text: str) -> str:
    """The language a file's text is written in, given the one its path says: a `.h` file
    is C by its path, C++ when its text holds C++ (CPP_HINT). Chunks are parsed with it,
    and the benchmark set builders read files by it."""
    if language == "c" and CPP_HINT.search(text, 0, 200_000):
        return "cpp"
    return language


def minified(text: str) -> bool:
    """Bundles and minified files: parsing them is slow and their definitions are unreadable."""
    return len(text) > _MINIFIED_MIN_CHARS and len(text) > _MINIFIED_LINE_CHARS * (
        text.count("\n") + 1
    )
