"""Definitions that a syntax error hid, found by parsing stretches of the file again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Node, Parser

from ..language_specs import LanguageSpec
from .definitions import Definition, find_definitions
from .grammars import Grammar, included_ranges, parse_within_budget

# Bounds on recovery work: at most this many re-parses, of at most this many times the file.
_MAX_REPARSES = 32
_REPARSE_BYTES_FACTOR = 2


@dataclass(frozen=True, slots=True)
class _Region:
    """A stretch of the file to parse again on its own, from the start of a line."""

    start: int
    end: int
    owner_start: int  # earlier definitions from here that reach past `start` are replaced
    parent: Definition | None  # the class the stretch lies in
    source: tuple[int, int] | None  # the re-parsed stretch this one was found in

    def replaces(self, d: Definition) -> bool:
        return self.owner_start <= d.start < self.end and d.end > self.start


@lru_cache(maxsize=64)
def _restart_line(indent: int) -> re.Pattern[bytes]:
    """A line indented at most ``indent`` that could start a new definition or statement.

    Brackets, `end`, comments, preprocessor lines and labels (`out:`, `public:`, `else:`) do
    not count: they are usually still part of the construct being closed (or, for `{` on a
    line of its own, the body being opened).
    """
    return re.compile(rb"\n[ \t]{0,%d}(?=\S)(?![{})\]#/]|end\b|\w+:(?!:))" % indent)


def recover(
    defs: list[Definition],
    root: Node,
    grammar: Grammar,
    data: bytes,
    spec: LanguageSpec,
    module: str,
    split_above: int | None = None,
) -> list[Definition]:
    """Find definitions that a syntax error hid, by parsing parts of the file again
    (``split_above`` as find_definitions takes it).

    Error recovery often turns everything from a broken line to the end of the file into one
    top-level ERROR node, or (after an unclosed brace) nests all later definitions in the broken
    one. In both cases the next line that is indented no deeper than the broken construct
    usually starts sound code again, so that stretch is parsed on its own.
    """
    todo = _error_regions(root, data, spec, None) + _broken_regions(defs, data, None)
    done: list[tuple[int, int]] = []
    budget, byte_budget = _MAX_REPARSES, _REPARSE_BYTES_FACTOR * len(data)
    while todo and budget > 0 and byte_budget > 0:
        todo.sort(key=lambda r: r.start, reverse=True)
        region = todo.pop()
        if any(s <= region.start < e for s, e in done if (s, e) != region.source):
            continue  # already re-parsed as part of an enclosing broken construct
        end = min([region.end] + [s for s, _ in done if s > region.start])
        budget -= 1
        byte_budget -= end - region.start
        done.append((region.start, end))
        defs = [d for d in defs if not region.replaces(d)]
        stretch = included_ranges(data, region.start, end, spec.unparsed)
        sub = parse_within_budget(Parser(grammar.fragment_lang, included_ranges=stretch), data)
        sub = sub.root_node
        found = find_definitions(
            sub, grammar.fragment_query, data, spec, module, region.parent, split_above
        )
        defs.extend(found)
        source = (region.start, end)
        todo.extend(_error_regions(sub, data, spec, source) + _broken_regions(found, data, source))
    return defs


def _error_regions(
    root: Node, data: bytes, spec: LanguageSpec, source: tuple[int, int] | None
) -> list[_Region]:
    """Stretches of broken top-level statements that start an unindented line (in a wrapper,
    past the line the definition it holds starts on)."""
    broken = [root] if root.type == "ERROR" else [c for c in root.children if c.has_error]
    regions = []
    for node in broken:
        body = node.child_by_field_name("body")  # a header over several lines is no restart
        start = (node if body is None else body).start_byte
        if node.type in spec.wrappers and node.named_children:
            # `template <typename T, FMT_ENABLE_IF(...)>` above `auto fill(...) {`: parsed
            # again from the function's own line, the function lost its `template` line.
            start = max(start, node.named_children[-1].start_byte)
        m = _restart_line(0).search(data, start, node.end_byte)
        if m is not None:
            regions.append(_Region(m.start() + 1, node.end_byte, node.start_byte, None, source))
    return regions


def _broken_regions(
    defs: list[Definition], data: bytes, source: tuple[int, int] | None
) -> list[_Region]:
    """Stretches of broken definitions that start a line indented no deeper than the definition.

    The search starts at the body: a header written over several lines at the definition's
    indent (C's `static void` above `name(args)`, BSD and GNU style) is not a restart.
    """
    regions = []
    for d in defs:
        if not d.broken:
            continue
        m = _restart_line(d.col).search(data, d.body_start, d.node_end)
        if m is not None:
            d.end = min(d.end, m.start() + 1)  # the definition ends before that line
            regions.append(_Region(m.start() + 1, d.node_end, d.start, d.parent, source))
    return regions
