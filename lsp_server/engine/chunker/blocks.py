"""The code between definitions: cut between statements into windows, a run of imports
apart, each named by the names its statements declare."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from tree_sitter import Node, Query, QueryCursor, Tree

from ..chunks import NAMES_JOINT, Chunk
from ..language_specs import LOCAL_SCOPES, LanguageSpec
from .commentary import DOCSTRING_HEAD, banner_or_licence
from .definitions import Definition
from .grammars import node_text
from .lines import Lines, Opts, make_chunk, pack, trim


def declared_names(root: Node, query: Query | None, sigils: str = "") -> list[tuple[int, int, str]]:
    """(offset, scope, name) of each name a statement declares, by offset; the scope is
    where the function that holds the name starts (-1 at the top level). A block that holds
    the start of that function holds its locals, which name nothing (`process.on('exit', ()
    => { const code })`); a function invoked where it is written (`(function () { var
    VERSION = ... })()`, a library wrapped whole) holds the module's names, and is no scope."""
    if query is None:
        return []
    captures = QueryCursor(query).captures(root)
    guards = {node.start_byte for node in captures.get("guard", [])}
    found = []
    for node in captures.get("name", []):
        if node.start_byte in guards:
            continue
        scope = node.parent
        while scope is not None and (scope.type not in LOCAL_SCOPES or _invoked_at_once(scope)):
            scope = scope.parent
        text = node_text(node)
        name = text.lstrip(sigils)  # LanguageSpec.name_sigils: ASCII, a byte each
        at = node.start_byte + len(text) - len(name)
        found.append((at, scope.start_byte if scope else -1, name))
    return sorted(found)


def _invoked_at_once(function: Node) -> bool:
    """`(function () {...})();` as a statement of its own: the wrapper of a whole module. An
    IIFE whose value is kept (`var x = (function () { var _ref })()`) is a closure, whose
    names are its own."""
    callee = function
    if callee.parent is not None and callee.parent.type == "parenthesized_expression":
        callee = callee.parent
    call = callee.parent
    return (
        call is not None
        and call.type == "call_expression"
        and call.child_by_field_name("function") == callee
        and call.parent is not None
        and call.parent.type == "expression_statement"
    )


class Declared:
    """The declared names of a file, looked up by the span of a block."""

    def __init__(self, names: list[tuple[int, int, str]]) -> None:
        self._names = names
        self._offsets = [at for at, _, _ in names]

    def symbol(self, start: int, end: int) -> str:
        """The block's name: the names declared in [start, end) but in functions that start
        in it, in order, each once ("A, B, C"; Chunk.shown_symbol shortens a long list)."""
        first, last = bisect_left(self._offsets, start), bisect_left(self._offsets, end)
        names = dict.fromkeys(n for _, scope, n in self._names[first:last] if scope < start)
        return NAMES_JOINT.join(names)


def statement_starts(
    root: Node, defs: list[Definition], data: bytes, wrappers: frozenset[str]
) -> list[int]:
    """Byte offsets of the statements that begin a line: the file's own, and those inside
    whatever holds definitions (class bodies, object literals, namespaces) or wraps several
    statements (``wrappers``: C's include guard and `#if` groups, Go's `var (`). The code
    between definitions is cut there, never inside a statement (`from x import (` and its
    names); a header of macros in an include guard was otherwise one statement, cut into
    windows of 40 lines wherever they fell, a comment apart from the macro it explains."""
    inner = sorted(d.node_start for d in defs)
    starts: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.named_children:
            if _begins_line(data, child.start_byte):
                starts.append(child.start_byte)
            first = bisect_right(inner, child.start_byte)
            if first < len(inner) and inner[first] < child.end_byte:
                stack.append(child)  # holds a definition: its statements count too
            elif child.type in wrappers and _wraps_several(child, data, wrappers):
                stack.append(child)
    return sorted(set(starts))


def unparsed_starts(tree: Tree, data: bytes) -> list[int]:
    """Byte offsets where text left out of the parse (LanguageSpec.unparsed) begins a line:
    `FMT_BEGIN_NAMESPACE` or `G_BEGIN_DECLS` alone on its line is a statement of its own,
    though the tree has no node for it. It would otherwise join the statement above it, and
    a run of `#include`s ending there would be no `imports` chunk."""
    bounds = [0]
    for parsed in tree.included_ranges:
        bounds += [parsed.start_byte, parsed.end_byte]
    bounds.append(len(data))
    gaps = zip(bounds[::2], bounds[1::2], strict=True)
    return [start for start, end in gaps if start < end and _begins_line(data, start)]


def _wraps_several(node: Node, data: bytes, wrappers: frozenset[str]) -> bool:
    """Whether a wrapper holds more than one statement: `#if !defined(X)` / `#define X 200`
    / `#endif` is one guarded statement, never cut between its lines; `#ifdef __cplusplus` /
    `extern "C" {` holds one wrapper, which may hold many."""
    own = [child for child in node.named_children if _begins_line(data, child.start_byte)]
    return len(own) != 1 or own[0].type in wrappers


def _begins_line(data: bytes, offset: int) -> bool:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return not data[line_start:offset].strip()


def blocks_between(
    lines: Lines,
    opts: Opts,
    start: int,
    end: int,
    classes: Containers,
    spec: LanguageSpec,
    statements: list[int],
    declared: Declared,
) -> list[Chunk]:
    """Code between definitions, in windows that do not overlap, each named by the names
    its statements declare (imports are found by what they import, and are left unnamed).

    Windows start on statements (``statements``: their char offsets), never between a
    comment and the statement right below it (`// Lookup table of bytes that must be
    escaped.` above `static ESCAPE: [bool; 256]`: what the table is for, which a question
    asks in its words), and a run of imports is a window of its own, apart from the code
    around it, so that it is an `imports` chunk. A window of comments alone is left out
    when it is a licence header or a banner (a few words: `# ----- Helpers -----`,
    `/** Module exports. */`): not code, it would only compete with the code around it.
    """
    if start >= end or lines.text[start:end].isspace():
        return []
    chunks: list[Chunk] = []
    # Only this stretch's statements: a file of thousands of one-line properties
    # (KeePass's KPRes.Generated.cs) has as many stretches between them.
    inside = statements[bisect_left(statements, start) : bisect_left(statements, end)]
    window_starts = [s for s in inside if not _below_a_comment(lines, s, spec)]
    for run_start, run_end in _import_runs(lines, start, end, statements, spec):
        segs = lines.segments(run_start, run_end, opts.max_chars)
        breaks = _segments_starting(segs, window_starts, run_start, run_end)
        for s, e in pack(lines.text, segs, opts.max_chars, opts.window_lines, 0, breaks):
            if not banner_or_licence(lines.text, s, e, spec):
                kind = _block_kind(lines.text[s:e], spec)
                name = declared.symbol(s, e) if kind == "block" else ""
                chunks.append(make_chunk(lines, opts, s, e, kind, name, "", classes.of(s, e), 0))
    return chunks


def _below_a_comment(lines: Lines, offset: int, spec: LanguageSpec) -> bool:
    """Whether the line above the one `offset` is on is a comment's (no blank line between)."""
    line = lines.line_of(offset)
    if line == 0:
        return False
    above = lines.text[lines.starts[line - 1] : lines.ends[line - 1]].strip()
    return above.startswith(spec.comment_openers) or above.endswith("*/")


def _import_runs(
    lines: Lines, start: int, end: int, statements: list[int], spec: LanguageSpec
) -> list[tuple[int, int]]:
    """[start, end) cut around its runs of imports of _MIN_IMPORT_LINES lines or more (fewer
    stay with the code around them: `import os` above `DEBUG = ...` is one block; imports for
    type checkers join a run but do not count, so click's `from threading import local`
    stays with `_local = local()`). Comments and docstrings go with the statements after
    them (a module's docstring with its imports: apart, a Go package comment or a Rust `//!`
    outranked the definitions that questions ask for; measured in BENCHMARKS.md)."""
    if spec.import_line is None:
        return [(start, end)]
    runs: list[_Run] = []
    pending = -1  # where the comments before the next statement began
    inside = statements[bisect_left(statements, start) : bisect_left(statements, end)]
    for offset, next_offset in zip(inside, [*inside[1:], end], strict=False):
        kind = _statement_kind(lines, offset, next_offset, spec)
        if kind == "neutral":
            pending = offset if pending < 0 else pending
            continue
        guarded = kind == "guarded"
        kind = "import" if guarded else kind
        if not runs or kind != runs[-1].kind:
            at = start if not runs else (pending if pending >= 0 else offset)
            runs.append(_Run(kind, at))
        if guarded:
            runs[-1].guarded = True
        else:
            runs[-1].plain_end = next_offset
        pending = -1
    if not runs:
        return [(start, end)]
    ends = [run.start for run in runs[1:]] + [end]
    bounds = [start]
    for run, run_end in zip(runs, ends, strict=True):
        if run.kind == "import" and run.lines(lines, run_end) >= _MIN_IMPORT_LINES:
            # The imports begin a window, and the code after them another.
            bounds.extend(b for b in (run.start, run_end) if start < b < end)
    bounds.append(end)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


@dataclass
class _Run:
    """Statements of one kind in a row (comments before them included)."""

    kind: str  # "import" or "code"
    start: int
    plain_end: int = -1  # where its last import that no guard holds ends (-1: none)
    guarded: bool = False  # holds imports for type checkers

    def lines(self, lines: Lines, end: int) -> int:
        """Its length in lines, up to `end`; guarded imports at its end do not count."""
        if self.guarded:
            end = self.plain_end if self.plain_end >= 0 else self.start
        return _line_count(lines, self.start, end)


def _line_count(lines: Lines, start: int, end: int) -> int:
    """Lines of [start, end) from its first to its last character that is not a space."""
    trimmed = trim(lines.text, start, end) or (start, start + 1)
    return lines.line_of(trimmed[1] - 1) - lines.line_of(trimmed[0]) + 1


def _statement_kind(lines: Lines, offset: int, next_offset: int, spec: LanguageSpec) -> str:
    """`import`, `neutral` (a comment, a docstring) or `code`, by a statement's first line;
    a statement that guards imports (`if TYPE_CHECKING:`) by what it holds: `guarded` when
    imports alone."""
    line = lines.line_of(offset)
    head = lines.text[offset : lines.ends[line]].strip()
    if head.startswith(spec.comment_openers) or head[:1] in ("'", '"', "*"):
        return "neutral"
    assert spec.import_line is not None
    if spec.import_guard is not None and spec.import_guard.match(head):
        guarded = lines.text[offset:next_offset]
        return "guarded" if _block_kind(guarded, spec) == "imports" else "code"
    return "import" if spec.import_line.match(head) else "code"


def _segments_starting(
    segs: list[tuple[int, int]], statements: list[int], start: int, end: int
) -> list[int]:
    """Sorted indexes of the segments that statements in [start, end) start on."""
    seg_starts = [s for s, _ in segs]
    first, last = bisect_left(statements, start), bisect_left(statements, end)
    found = {bisect_right(seg_starts, offset) - 1 for offset in statements[first:last]}
    return sorted(index for index in found if index > 0)


_MIN_IMPORT_LINES = 3  # a run of imports this long is a window of its own


def _block_kind(text: str, spec: LanguageSpec) -> str:
    """`imports` for a block of imports, includes and module declarations alone (with the
    module's docstring or comments), else `block`."""
    if spec.import_line is None:
        return "block"
    head = DOCSTRING_HEAD.match(text)
    body = text[head.end() :] if head else text
    depth, saw_import = 0, False
    for raw in body.splitlines():
        line = raw.strip()
        if not line or line.startswith(spec.comment_openers) or line.startswith("*"):
            continue
        if depth == 0:
            if spec.import_line.match(line) is None:
                return "block"
            saw_import = True
        # Inside `from x import (`, `import {` or `use a::{`: names until the brackets close.
        opened = sum(line.count(c) for c in "({[") - sum(line.count(c) for c in ")}]")
        depth = max(0, depth + opened)
    return "imports" if saw_import else "block"


class Containers:
    """Innermost class holding a span, for spans asked about in increasing start order.

    A sweep with a stack of open classes (they nest like the tree they came from) keeps
    this linear for files with thousands of classes.
    """

    def __init__(self, classes: list[tuple[int, int, str]]) -> None:
        self._classes = sorted(classes)
        self._next = 0
        self._open: list[tuple[int, int, str]] = []

    def of(self, start: int, end: int) -> str:
        while self._next < len(self._classes) and self._classes[self._next][0] <= start:
            self._push(self._classes[self._next])
            self._next += 1
        while self._open and self._open[-1][1] <= start:
            self._open.pop()
        for _, class_end, symbol in reversed(self._open):
            if end <= class_end:
                return symbol
        return ""

    def _push(self, cls: tuple[int, int, str]) -> None:
        while self._open and self._open[-1][1] <= cls[0]:
            self._open.pop()
        self._open.append(cls)
