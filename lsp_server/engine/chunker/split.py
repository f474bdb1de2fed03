"""A file cut into chunks: one per definition, blocks for the code around them, line windows
where there is no grammar."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import replace

from ..chunks import SPANS_OF_LINES, Chunk
from ..language_specs import SPECS
from ..languages import COMPONENT_LANGUAGES
from ..scanner import is_minified
from .blocks import (
    Containers,
    Declared,
    blocks_between,
    declared_names,
    statement_starts,
    unparsed_starts,
)
from .components import component_elements, markup_stretches, only_element_text
from .definitions import Definition, find_definitions
from .grammars import (
    Grammar,
    TooCostly,
    grammar_for,
    grammar_language,
    parse_budget,
    parse_source,
)
from .lines import Lines, Opts, byte_to_char, make_chunk, pack, trim
from .names import module_name
from .recovery import recover
from .windows import line_windows, windows_between


def chunk_text(
    path: str,
    text: str,
    language: str,
    *,
    max_chars: int = 1500,
    overlap_lines: int = 3,
    window_lines: int = 40,
) -> list[Chunk]:
    """Split ``text`` (the content of ``path``) into chunks, ordered by position."""
    if not text or text.isspace():
        return []
    # Labelled by its path's language: a `.h` file holding C++ is parsed as C++ but stays C
    # (labelling it C++ changes the header its vectors are embedded with, and cost fmt's
    # held-out questions 0.014 MRR: BENCHMARKS.md).
    syntax = grammar_language(language, text)
    opts = Opts(path, language, max(1, max_chars), max(0, overlap_lines), max(1, window_lines))
    lines = Lines(text)
    # A minified file is indexed only where a "!" rule names it: parsing it is slow and its
    # definitions are unreadable, so line windows only.
    readable = not is_minified(text)
    is_component = readable and language in COMPONENT_LANGUAGES
    grammar = grammar_for(syntax) if readable and syntax in SPECS else None
    if not is_component and grammar is None:
        return line_windows(lines, opts)
    # A file built so that its parse or queries never end (a hostile clone) gets windows.
    try:
        with parse_budget():
            if grammar is None:
                return _component_chunks(lines, opts)
            return _syntax_chunks(lines, opts, syntax, grammar)
    except TooCostly:
        return line_windows(lines, opts)


def _component_chunks(lines: Lines, opts: Opts) -> list[Chunk]:
    """A single-file component: each `<script>`'s code chunked by its grammar (its chunks
    labelled with its language: TypeScript in a `.vue` file is ranked, named and previewed
    as TypeScript), each `<style>` a stylesheet's windows, the markup around them windows."""
    text = lines.text
    component = module_name(opts.path)
    elements = component_elements(text, opts.language)
    chunks: list[Chunk] = []
    for element in elements:
        grammar = grammar_for(element.language) if element.language in SPECS else None
        labelled = replace(opts, language=element.language)
        if grammar is None:
            windows = windows_between(lines, labelled, element.start, element.end, component)
            chunks.extend(_one_unit(windows))
        else:
            in_place = Lines(only_element_text(text, element))
            found = _syntax_chunks(in_place, labelled, element.language, grammar)
            chunks.extend(_member_of(chunk, component) for chunk in found)
    # Markup in windows of half a chunk: one unit, scored by its best window, whose windows
    # each hold one part of the view (questions about markup, three trees: 0.33/0.60/0.14
    # MRR at a whole chunk, 0.58/0.60/0.36 at half: BENCHMARKS.md, "Vue and Svelte").
    halves = replace(opts, max_chars=max(1, opts.max_chars // 2))
    for start, end in markup_stretches(text, elements):
        chunks.extend(_one_unit(windows_between(lines, halves, start, end, component)))
    return sorted(chunks, key=lambda c: (c.start_line, c.start_col))


def _one_unit(windows: list[Chunk]) -> list[Chunk]:
    """The windows of one stretch of markup (a `<template>`) or of one `<style>`, as the
    parts of one unit, as a long function's are: one result over the whole, opened on the
    part that matched."""
    if len(windows) < 2:
        return windows
    unit = {"unit_start_line": windows[0].start_line, "unit_end_line": windows[-1].end_line}
    return [replace(window, part=i, **unit) for i, window in enumerate(windows, 1)]


def _member_of(chunk: Chunk, component: str) -> Chunk:
    """A component's script is its members, as a class's methods are: `SearchBox.matches`
    (code between definitions keeps the names it declares as its symbol)."""
    container = f"{component}.{chunk.container}" if chunk.container else component
    if chunk.kind in SPANS_OF_LINES or not chunk.symbol:
        return replace(chunk, container=container)
    return replace(chunk, symbol=f"{component}.{chunk.symbol}", container=container)


def _syntax_chunks(lines: Lines, opts: Opts, syntax: str, grammar: Grammar) -> list[Chunk]:
    data = lines.text.encode("utf-8", "surrogatepass")
    tree = parse_source(syntax, grammar.lang, data)
    spec = SPECS[syntax]
    module = module_name(opts.path)
    split_above = opts.max_chars
    defs = find_definitions(tree.root_node, grammar.query, data, spec, module, None, split_above)
    if tree.root_node.has_error:
        defs = recover(defs, tree.root_node, grammar, data, spec, module, split_above)
    spans = _def_spans(defs, data)
    statement_bytes = statement_starts(tree.root_node, defs, data, spec.statement_wrappers)
    if spec.unparsed:
        statement_bytes = sorted({*statement_bytes, *unparsed_starts(tree, data)})
    declared_bytes = declared_names(tree.root_node, grammar.declarations, spec.name_sigils)
    if len(data) == len(lines.text):
        to_char: dict[int, int] | None = None  # ASCII: byte and char offsets agree
    else:
        offsets = {o for s, e, _ in spans for o in (s, e)} | _container_ends(defs, data)
        offsets |= {o for at, scope, _ in declared_bytes for o in (at, scope) if o >= 0}
        to_char = byte_to_char(data, offsets | set(statement_bytes))

    def conv(b: int) -> int:
        return b if to_char is None else to_char[b]

    chunks: list[Chunk] = []
    classes = Containers(
        [(conv(d.start), conv(d.end), d.symbol) for d in defs if d.kind == "class"]
    )
    statements = [conv(b) for b in statement_bytes]
    declared = Declared(
        [(conv(at), conv(scope) if scope >= 0 else -1, name) for at, scope, name in declared_bytes]
    )
    held = _HeldCode(defs, data, conv)

    def between(start: int, end: int) -> list[Chunk]:
        """Code between definitions: blocks, or the parts of a function that holds units."""
        found: list[Chunk] = []
        for s, e, holder in held.stretches(start, end):
            if holder is None:
                found.extend(blocks_between(lines, opts, s, e, classes, spec, statements, declared))
            else:
                held.pieces[id(holder)].append((s, e))
        return found

    pos = 0
    for start, end, d in spans:
        s, e = conv(start), conv(end)
        chunks.extend(between(pos, s))
        if id(d) in held.pieces:
            held.pieces[id(d)].append((s, e))  # its header, before the units it holds
        else:
            chunks.extend(_definition_chunks(lines, opts, s, e, d))
        pos = max(pos, e)
    chunks.extend(between(pos, len(lines.text)))
    if not held.holders:
        return chunks
    for holder in held.holders:
        chunks.extend(_held_chunks(lines, opts, held.pieces[id(holder)], holder, held.unit(holder)))
    return sorted(chunks, key=lambda c: (c.start_line, c.start_col))


class _HeldCode:
    """Functions that hold units of their own (definitions.holds_units), and the stretches
    of their own code around those units: each such function is one unit whose parts are
    those stretches, as a class's header and members are apart."""

    def __init__(self, defs: list[Definition], data: bytes, conv: Callable[[int], int]) -> None:
        self.holders = [d for d in defs if _holds_units(d)]
        self.pieces: dict[int, list[tuple[int, int]]] = {id(h): [] for h in self.holders}
        self._spans = [(conv(h.start), conv(_trimmed_end(h, data)), h) for h in self.holders]
        self._extents = {id(h): (s, e) for s, e, h in self._spans}
        self._classes = [(conv(d.start), conv(d.end)) for d in defs if d.kind == "class"]
        # Cut where a holder ends, and where a class inside one ends (its code is blocks, the
        # holder's resumes); code outside every holder is cut as in a file that has none.
        held = [e for s, e in self._classes if any(a <= s and e <= b for a, b, _ in self._spans)]
        self._ends = sorted({e for _, e, _ in self._spans} | set(held))

    def unit(self, holder: Definition) -> tuple[int, int]:
        """The holder's whole extent (chars), which its parts belong to."""
        return self._extents[id(holder)]

    def stretches(self, start: int, end: int) -> list[tuple[int, int, Definition | None]]:
        """[start, end) cut where a holder or a class ends, each stretch with the innermost
        holder it lies in (None: outside every holder, or in a class inside it: blocks as
        ever)."""
        if not self.holders:
            return [(start, end, None)]
        inside = self._ends[bisect_right(self._ends, start) : bisect_left(self._ends, end)]
        cuts = [start, *inside, end]
        return [(a, b, self._holder_of(a, b)) for a, b in zip(cuts, cuts[1:], strict=False)]

    def _holder_of(self, start: int, end: int) -> Definition | None:
        inside = [(s, h) for s, e, h in self._spans if s <= start and end <= e]
        if not inside:
            return None
        held_from, holder = max(inside, key=lambda item: item[0])
        in_class = any(held_from < s <= start and end <= e for s, e in self._classes)
        return None if in_class else holder


def _trimmed_end(d: Definition, data: bytes, end: int | None = None) -> int:
    """Where the definition's text up to `end` (its own end) stops, trailing space left out."""
    return d.start + len(data[d.start : d.end if end is None else end].rstrip())


def _holds_units(d: Definition) -> bool:
    """A function that definitions.holds_units let definitions in (it has members)."""
    return d.kind != "class" and d.cut >= 0


def _container_ends(defs: list[Definition], data: bytes) -> set[int]:
    """Byte offsets where classes and functions that hold units start and end."""
    classes = {o for d in defs if d.kind == "class" for o in (d.start, d.end)}
    holders = filter(_holds_units, defs)
    return classes | {o for d in holders for o in (d.start, _trimmed_end(d, data))}


def _def_spans(defs: list[Definition], data: bytes) -> list[tuple[int, int, Definition]]:
    """Non-overlapping byte spans, in order; a class span stops before its first member."""
    spans: list[tuple[int, int, Definition]] = []
    for d in sorted(defs, key=lambda d: d.start):
        end = _trimmed_end(d, data, min(d.end, d.cut) if d.cut >= 0 else d.end)
        start = max(d.start, spans[-1][1]) if spans else d.start
        if end > start:
            spans.append((start, end, d))
    return spans


def _definition_chunks(
    lines: Lines, opts: Opts, start: int, end: int, d: Definition
) -> list[Chunk]:
    span = trim(lines.text, start, end)
    if span is None:
        return []
    start, end = span
    parts = _parts(lines, opts, start, end)
    if len(parts) == 1:
        return [make_chunk(lines, opts, start, end, d.kind, d.symbol, d.signature, d.container, 0)]
    unit = (lines.line_of(start), lines.line_of(end))
    return [
        make_chunk(lines, opts, s, e, d.kind, d.symbol, d.signature, d.container, i, unit)
        for i, (s, e) in enumerate(parts, 1)
    ]


def _held_chunks(
    lines: Lines,
    opts: Opts,
    pieces: list[tuple[int, int]],
    d: Definition,
    extent: tuple[int, int],
) -> list[Chunk]:
    """A function that holds units: its own code (its header, the code between and after
    them) as the parts of one unit over its whole extent."""
    parts = [
        part
        for start, end in pieces
        if (span := trim(lines.text, start, end)) is not None
        for part in _parts(lines, opts, *span)
    ]
    unit = (lines.line_of(extent[0]), lines.line_of(extent[1]))
    return [
        make_chunk(lines, opts, s, e, d.kind, d.symbol, d.signature, d.container, i, unit)
        for i, (s, e) in enumerate(parts, 1)
    ]


def _parts(lines: Lines, opts: Opts, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) (trimmed), or its parts where it is longer than a chunk."""
    if end - start <= opts.max_chars:
        return [(start, end)]
    segs = lines.segments(start, end, opts.max_chars)
    return list(pack(lines.text, segs, opts.max_chars, len(segs), opts.overlap_lines))
