"""Tree-sitter grammars: loaded once per language and shared, parsers per thread, and the
small reads of a syntax tree that every step of the chunker makes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module

from tree_sitter import Language, Node, Parser, Point, Query, QueryCursor, Range, Tree

from ..language_specs import CPP_HINT, SPECS
from ..languages import GRAMMAR_MODULES

# Time a file's parses may take together (chunker.split.chunk_text): a real file of the
# largest size indexed (1 MiB) parses in well under a second, but Kotlin's parser never ends
# on 90,000 lines of `func f() {}`. Past the budget, the file is cut in line windows.
PARSE_BUDGET_SECONDS = 20.0
_READ_BYTES = 1 << 16  # what the parser is handed per read when a budget is kept
# Trees that tree-sitter's queries take hours over (quadratic in an error node's children),
# which no real file makes: of 700 files with errors in 54 benchmark trees and 20 npm
# packages, the largest error node (sqlite3.h's) holds 1,301 children; half a million `(`
# lines, in Java, Python, Kotlin or Swift, give one of as many. (Deep trees are not costly:
# 5,000 nested parentheses or 3,000 nested functions are queried in well under a second.)
_MAX_ERROR_CHILDREN = 5_000


class TooCostly(Exception):
    """A parse ran past the file's budget (PARSE_BUDGET_SECONDS), or made a tree that
    queries would take hours over (_MAX_ERROR_CHILDREN)."""


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
        return parse_within_budget(parser_for(parser or language, lang), data)  # all of it
    return parse_within_budget(Parser(lang, included_ranges=ranges), data)


@contextmanager
def parse_budget(seconds: float | None = None) -> Iterator[None]:
    """Parses on this thread raise TooCostly once ``seconds`` (by default
    PARSE_BUDGET_SECONDS) have passed, or when their tree is too costly to query."""
    outer = _deadline()
    _local.deadline = time.monotonic() + (PARSE_BUDGET_SECONDS if seconds is None else seconds)
    try:
        yield
    finally:
        _local.deadline = outer


def _deadline() -> float | None:
    return getattr(_local, "deadline", None)


def parse_within_budget(parser: Parser, data: bytes) -> Tree:
    """``parser``'s tree of ``data``, or TooCostly when a parse budget is kept on this
    thread (parse_budget) and the parse runs past it."""
    deadline = _deadline()
    if deadline is None:
        return parser.parse(data)
    view = memoryview(data)
    try:
        tree = parser.parse(
            lambda offset, _point: view[offset : offset + _READ_BYTES].tobytes(),
            encoding="utf8",
            progress_callback=lambda _offset, _errors: time.monotonic() > deadline,
        )
    except ValueError as cancelled:  # tree-sitter's "Parsing failed": the callback stopped it
        raise TooCostly from cancelled
    if _costly_to_query(tree.root_node):
        raise TooCostly
    return tree


def _costly_to_query(root: Node) -> bool:
    """Whether the tree holds an error node of more than _MAX_ERROR_CHILDREN children: one
    walk, no query (py-tree-sitter 0.26's query progress callback crashes the process on
    ordinary files, so a query cannot be stopped midway)."""
    if not root.has_error:
        return False
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and node.type == "ERROR" and node.child_count > _MAX_ERROR_CHILDREN:
            return True
        if node is not None and node.has_error and cursor.goto_first_child():
            continue  # only subtrees that hold an error can hold an error node
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return False


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

