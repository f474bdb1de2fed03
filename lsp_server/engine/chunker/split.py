"""A file cut into chunks: one per definition, blocks for the code around them, line windows
where there is no grammar."""

from __future__ import annotations

from ..chunks import Chunk
from ..language_specs import SPECS
from .blocks import Containers, Declared, blocks_between, declared_names, statement_starts
from .definitions import Definition, find_definitions
from .grammars import Grammar, grammar_for, grammar_language, minified, parser_for
from .lines import Lines, Opts, byte_to_char, make_chunk, pack, trim
from .names import module_name
from .recovery import recover
from .windows import line_windows


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
    grammar = grammar_for(syntax) if syntax in SPECS and not minified(text) else None
    if grammar is None:
        return line_windows(lines, opts)
    return _syntax_chunks(lines, opts, syntax, grammar)


def _syntax_chunks(lines: Lines, opts: Opts, syntax: str, grammar: Grammar) -> list[Chunk]:
    data = lines.text.encode("utf-8", "surrogatepass")
    tree = parser_for(syntax, grammar.lang).parse(data)
    spec = SPECS[syntax]
    module = module_name(opts.path)
    defs = find_definitions(tree.root_node, grammar.query, data, spec, module)
    if tree.root_node.has_error:
        defs = recover(defs, tree.root_node, grammar, data, spec, module)
    spans = _def_spans(defs, data)
    statement_bytes = statement_starts(tree.root_node, defs, data)
    declared_bytes = declared_names(tree.root_node, grammar.declarations)
    if len(data) == len(lines.text):
        to_char: dict[int, int] | None = None  # ASCII: byte and char offsets agree
    else:
        offsets = {o for s, e, _ in spans for o in (s, e)} | _class_ends(defs)
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
    pos = 0
    for start, end, d in spans:
        s, e = conv(start), conv(end)
        chunks.extend(blocks_between(lines, opts, pos, s, classes, spec, statements, declared))
        chunks.extend(_definition_chunks(lines, opts, s, e, d))
        pos = max(pos, e)
    chunks.extend(
        blocks_between(lines, opts, pos, len(lines.text), classes, spec, statements, declared)
    )
    return chunks


def _class_ends(defs: list[Definition]) -> set[int]:
    return {o for d in defs if d.kind == "class" for o in (d.start, d.end)}


def _def_spans(defs: list[Definition], data: bytes) -> list[tuple[int, int, Definition]]:
    """Non-overlapping byte spans, in order; a class span stops before its first member."""
    spans: list[tuple[int, int, Definition]] = []
    for d in sorted(defs, key=lambda d: d.start):
        end = min(d.end, d.cut) if d.cut >= 0 else d.end
        end = d.start + len(data[d.start : end].rstrip())
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
    parts = [(start, end)]
    if end - start > opts.max_chars:
        segs = lines.segments(start, end, opts.max_chars)
        parts = list(pack(lines.text, segs, opts.max_chars, len(segs), opts.overlap_lines))
    if len(parts) == 1:
        return [make_chunk(lines, opts, start, end, d.kind, d.symbol, d.signature, d.container, 0)]
    unit = (lines.line_of(start), lines.line_of(end))
    return [
        make_chunk(lines, opts, s, e, d.kind, d.symbol, d.signature, d.container, i, unit)
        for i, (s, e) in enumerate(parts, 1)
    ]
