"""Search results: one shape for the CLI's --json, the language server and the benchmarks."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunker import is_structure, past_boilerplate_comments, split_lines, without_annotations
from .chunks import SPANS_OF_LINES, Chunk
from .language_specs import SPECS
from .languages import COMPONENT_LANGUAGES, PROSE_LANGUAGES
from .tokens import code_tokens

PREVIEW_CHARS = 160
CONTEXT_BODY_LINES = 4  # lines of a result's body shown under its signature line


Selection = tuple[int, int, int, int]  # start line, start col, end line, end col (0-based)


@dataclass(frozen=True)
class ContextLine:
    """One line of a result's multi-line preview."""

    line: int | None  # 0-based; None for the signature of a later part of a split definition
    text: str
    best: bool = False  # the line that holds the most of the query's terms, or the frame's

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.line, "text": self.text}
        if self.best:
            data["best"] = True
        return data


@dataclass(frozen=True)
class SearchResult:
    path: str  # workspace-relative
    uri: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    score: float
    symbol: str
    kind: str
    language: str
    preview: str
    duplicate: bool = False  # similar(): the same code, modulo white space
    # For a split definition, the lines (0-based, inclusive) of the part that matched best.
    match_lines: tuple[int, int] | None = None
    context: tuple[ContextLine, ...] = ()  # the signature line and the best-matching lines
    # Where opening it puts the cursor (selection_of); None: the start of its range.
    selection: Selection | None = None

    @property
    def cursor(self) -> tuple[int, int]:
        """Line and column (0-based) where opening the result puts the cursor."""
        if self.selection is None:
            return self.start_line, self.start_col
        return self.selection[0], self.selection[1]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "uri": self.uri,
            "range": {
                "start": {"line": self.start_line, "character": self.start_col},
                "end": {"line": self.end_line, "character": self.end_col},
            },
            "score": round(self.score, 4),
            "symbol": self.symbol,
            "kind": self.kind,
            "language": self.language,
            "preview": self.preview,
        }
        if self.duplicate:
            data["duplicate"] = True
        if self.match_lines is not None and self.match_lines != (self.start_line, self.end_line):
            data["match"] = {"startLine": self.match_lines[0], "endLine": self.match_lines[1]}
        data["context"] = [line.to_json() for line in self.context]
        start_line, start_col, end_line, end_col = self.selection or (self.cursor * 2)
        data["selectionRange"] = {
            "start": {"line": start_line, "character": start_col},
            "end": {"line": end_line, "character": end_col},
        }
        return data


@dataclass
class SearchResponse:
    results: list[SearchResult] = field(default_factory=list)
    # True while part of the workspace is not embedded yet (or the model is still loading).
    partial: bool = False
    # True when files changed on disk since indexing and the index could not catch up.
    stale: bool = False
    notices: list[str] = field(default_factory=list)  # what the user should know about it

    def to_json(self) -> dict[str, Any]:
        """The shape of `--json` output and of the servers' answers."""
        return {
            "results": [r.to_json() for r in self.results],
            "partial": self.partial,
            "stale": self.stale,
        }


def preview_of(chunk: Chunk) -> str:
    """The line a result list shows for a chunk.

    A definition shows its signature (on every part of a split one too) without decorators,
    annotations or attributes; other chunks show their first line with content, past the
    comments that open them when those say nothing of the code (a licence, a banner, a
    tool directive).
    """
    if chunk.signature:
        line = _past_template_head(without_annotations(chunk.signature))
    elif chunk.language in COMPONENT_LANGUAGES:
        line = _first_opening_line(chunk.text)
    elif chunk.kind not in SPANS_OF_LINES:  # a definition without a header line
        line = _first_content_line(without_annotations(chunk.text))
    else:
        text = past_boilerplate_comments(_from_declaration(chunk), chunk.language)
        line = _first_code_line(text)
    return _capped(line)


def preview_at(chunk: Chunk, line: int | None) -> str:
    """preview_of(chunk), or for code between definitions opened at another `line` (0-based
    in the file: where matching_line or a stack frame puts the cursor), that line: a list
    shows `path:line` and this text together, so they must be the same line (chi's
    `throttle.go:16` showed line 10's `errCapacityExceeded = ...` for "timeout")."""
    if line is None or chunk.kind not in _LANDS_ON_A_LINE:
        return preview_of(chunk)
    lines = _lines_of(chunk)
    at = line - chunk.start_line
    if not 0 <= at < len(lines) or not lines[at].strip():
        return preview_of(chunk)
    return _capped(lines[at].strip())


# Chunks whose cursor can land on any of their lines (matching_line); a definition lands
# on its name and shows its signature.
_LANDS_ON_A_LINE = ("block", "window")


# C++'s `template <typename Char>` above a definition is, like a decorator, not the line that
# names it: the preview shows that line, and the cursor lands on the name in it (fmt's
# `template <typename Char>` / `FMT_CONSTEXPR auto make_emphasis(emphasis em)`).
_TEMPLATE_HEAD = re.compile(r"template\s*<")


def _past_template_head(signature: str) -> str:
    """``signature`` past the template parameter lists that open it (nested brackets, and a
    `>` inside parentheses, `enable_if_t<(N > 0)>`, too)."""
    while (head := _TEMPLATE_HEAD.match(signature)) is not None:
        angles = parens = 0
        for i in range(head.end() - 1, len(signature)):
            char = signature[i]
            parens += (char == "(") - (char == ")")
            if parens == 0 and char in "<>":
                angles += 1 if char == "<" else -1
                if angles == 0:
                    break
        else:
            return signature  # no closing bracket: cut short (MAX_SIGNATURE_CHARS)
        rest = signature[i + 1 :].lstrip()
        if not rest:
            return signature
        signature = rest
    return signature


def _from_declaration(chunk: Chunk) -> str:
    """A block's text from the line where its cursor lands (its first declared name), with
    the comment right above that line: code above it (a header's prototypes above its
    `#define` flags) is not what the result was found by, and the preview must show where
    opening it leads. Other chunks' text whole."""
    lines = _lines_of(chunk)
    at = _declaring_line(lines, chunk)
    if at is None or at == _first_header_line(lines, _is_prose(chunk)):
        return chunk.text
    return "\n".join(split_lines(chunk.text)[_comment_above(lines, at, chunk) :])


def _declaring_line(lines: list[str], chunk: Chunk) -> int | None:
    """Index of the line that holds a block's first declared name, from its first header
    line on (the name may lie lines below: `const (` in Go, imports above a constant); None
    for other chunks and a block that declares nothing."""
    name = _short_name(chunk) if chunk.kind == "block" else ""
    head = _first_header_line(lines, _is_prose(chunk)) if name else None
    if head is None:
        return None
    return next((i for i in range(head, len(lines)) if _word_at(lines[i], name) >= 0), None)


def _comment_above(lines: list[str], index: int, chunk: Chunk) -> int:
    """Index of the first line of the comment that ends right above `lines[index]` (no blank
    line between), else `index`. Read line by line by its markers, not as whole comments
    (chunker.comments_only): a window can start inside a block comment (lua's `** Initial
    size for the string table` lines without their `/*`), and those lines are comment too."""
    markers = _comment_markers(chunk)
    if not markers:
        return index
    start = index
    while start > 0 and lines[start - 1].strip().startswith(markers):
        start -= 1
    return start


def _comment_markers(chunk: Chunk) -> tuple[str, ...]:
    """What a line of a comment starts with in the chunk's language (none: not known)."""
    spec = SPECS.get(chunk.language)
    if spec is None:
        return ()
    opener, closer = spec.block_comment
    return (*spec.comment_openers, *spec.doc_comments, *((closer, "*") if opener else ()))


def _first_code_line(text: str) -> str:
    """The first line with content past the attributes and annotations that open ``text``
    (`#[cfg(test)]`, `@NonnullByDefault`), unless only a comment follows them."""
    code = without_annotations(text)
    if not code or code.startswith(_NOT_A_HEADER):
        code = text
    return _first_content_line(code)


# A line of a component's markup that opens an element (`<li v-for=…>`) or a Svelte block
# (`{#if expandable}`, `{:else}`): what a window of it shows, not an attribute it starts
# inside (`@click="go(route.no)"`, whose `@click` code rules read as a decorator) or a
# closing `{/if}`; nor a Vue file's `<template>` root, which says nothing.
_OPENS_MARKUP = re.compile(r"<[A-Za-z!]|\{[#:]")
_ROOT_TEMPLATE = "<template>"


def _first_opening_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    opening = (line for line in lines if _OPENS_MARKUP.match(line) and line != _ROOT_TEMPLATE)
    return next(opening, next((line for line in lines if line), ""))


def _first_content_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    content = (line for line in lines if not is_structure(line))
    return next(content, next((line for line in lines if line), ""))


_NOT_A_HEADER = ("@", "#[", "//", "#", "/*", "*")  # decorators, attributes, comments


def _is_header(line: str, prose: bool) -> bool:
    """Whether a line can name a result: not blank, not a decorator or comment (in code)."""
    stripped = line.strip()
    return bool(stripped) and (prose or not stripped.startswith(_NOT_A_HEADER))


def _line_score(line: str, terms: Collection[str]) -> int:
    lowered = line.lower()
    if not any(term in lowered for term in terms):  # a term is a word of the line's tokens
        return 0
    return sum(1 for token in code_tokens(line) if token in terms)


def _best_line(
    lines: list[str], head: int, terms: Collection[str], focus_line: int | None
) -> int | None:
    """Index of the body line a result is shown for: a named line (a stack frame's), else
    the one that holds the most query terms; None where no line holds one."""
    if focus_line is not None and head < focus_line < len(lines):
        return focus_line
    scores = [_line_score(line, terms) if i > head else 0 for i, line in enumerate(lines)]
    best = _best_index(scores)
    return best if scores[best] > 0 else None


def _best_index(scores: list[int]) -> int:
    """The index of the highest score, the first of equals."""
    return max(range(len(scores)), key=scores.__getitem__)


def _dedented(texts: list[str]) -> list[str]:
    indents = [len(t) - len(t.lstrip()) for t in texts if t.strip()]
    cut = min(indents, default=0)
    return [_capped(t[cut:].rstrip()) for t in texts]


def _capped(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def context_of(
    chunk: Chunk,
    terms: Collection[str] = (),
    focus_line: int | None = None,
    body_lines: int = CONTEXT_BODY_LINES,
) -> tuple[ContextLine, ...]:
    """A few lines that show what a result is: its signature (or first meaningful) line,
    then the body lines around the best-matching one (most query terms, or `focus_line`,
    0-based in the file, e.g. a stack frame's line). Short chunks are shown whole."""
    lines = _lines_of(chunk)
    preview = preview_of(chunk) if chunk.signature else ""
    head = _head(lines, chunk, preview)
    if head is None:
        return ()
    relative_focus = None if focus_line is None else focus_line - chunk.start_line
    best = _best_line(lines, head, set(terms), relative_focus)
    # The window holds the best line with the one above it, or every line of a short chunk.
    centre = head + 1 if best is None else best
    first = max(head + 1, min(centre - 1, len(lines) - body_lines))
    body = [i for i in range(first, min(first + body_lines, len(lines))) if lines[i].strip()]
    picked = [head, *body]
    texts = _dedented([lines[i] for i in picked])
    numbered = [
        ContextLine(chunk.start_line + i, t, best=i == best)
        for i, t in zip(picked, texts, strict=True)
    ]
    if chunk.part > 1 and chunk.signature:  # the header lies above this part of the definition
        return (ContextLine(None, preview), *numbered)
    return tuple(numbered)


def _lines_of(chunk: Chunk) -> list[str]:
    """The chunk's lines with trailing blank ones dropped; the first gets its indentation
    back (the chunk starts at its first character), so columns are the file's."""
    lines = split_lines(" " * chunk.start_col + chunk.text)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _head(lines: list[str], chunk: Chunk, preview: str) -> int | None:
    """Index of the line that says what the chunk is: the preview's line when it is in the
    chunk (past a doc comment and a decorator's arguments), a block's first declared name's
    line, else the first line that is not a decorator or a comment, else (a chunk of
    comments only, a licence header) the first line that is not blank."""
    head = _signature_index(lines, chunk, preview)
    return head if head is not None else _block_head(lines, chunk)


def _block_head(lines: list[str], chunk: Chunk) -> int | None:
    """Index of a block's first declared name's line, else of the chunk's first header line."""
    at = _declaring_line(lines, chunk)
    return at if at is not None else _first_header_line(lines, _is_prose(chunk))


def _signature_index(lines: list[str], chunk: Chunk, preview: str) -> int | None:
    """Index of the line that starts the definition's signature (`preview`), not a comment
    that quotes it; None where the chunk does not hold it."""
    wanted = _signature_start(preview, _short_name(chunk))
    return _signature_line(lines, wanted, _is_prose(chunk))


def _is_prose(chunk: Chunk) -> bool:
    return chunk.language in PROSE_LANGUAGES  # "#" starts a heading, "*" a list item


def _first_header_line(lines: list[str], prose: bool) -> int | None:
    head = next((i for i, line in enumerate(lines) if _is_header(line, prose)), None)
    if head is None:
        head = next((i for i, line in enumerate(lines) if line.strip()), None)
    return head


def matching_line(chunk: Chunk, terms: Collection[str]) -> int | None:
    """The line (0-based, in the file) of code between definitions that holds the most of
    a query's terms, where it holds more of them than the line the cursor lands on
    otherwise (the first name the block declares, else its first line): a window of
    tmux's options table answers "how long tmux waits after an escape byte" at its
    `escape-time` entry, thirty lines below where the window starts. A comment line is
    not one: the comment above a table says what the table is, and the cursor goes to
    the table's name (serde_json's `// Lookup table of bytes that must be escaped.`).
    Lines above that one (imports above a constant) are not either: the result's
    context (context_of) shows the cursor's line and the lines below the name.
    None for a definition (it lands on its name), and where no line holds more."""
    if chunk.kind not in _LANDS_ON_A_LINE or not terms:
        return None
    lines = _lines_of(chunk)
    head = _block_head(lines, chunk)
    if head is None:
        return None
    markers = _comment_markers(chunk)
    wanted = set(terms)  # each token of each line is looked up
    scores = [
        0
        if i < head or (markers and line.strip().startswith(markers))
        else _line_score(line, wanted)
        for i, line in enumerate(lines)
    ]
    best = _best_index(scores)
    return chunk.start_line + best if scores[best] > scores[head] else None


def selection_of(chunk: Chunk, focus_line: int | None = None) -> Selection | None:
    """Where opening a result puts the cursor, as clangd's `selectionRange`: the name on the
    definition's signature line, past its doc comment and decorators (else that line's
    text); for code between definitions the first name it declares (else its first
    meaningful line), for other chunks their first meaningful line; `focus_line` (0-based
    in the file, a stack frame's line) when it lies in the chunk. None for a part of a split
    definition that does not hold the signature (a later part, or a first part that a long
    doc comment fills): the caller looks in the other parts."""
    lines = _lines_of(chunk)
    relative_focus = None if focus_line is None else focus_line - chunk.start_line
    if relative_focus is not None and 0 <= relative_focus < len(lines):
        return _line_selection(chunk.start_line + relative_focus, lines[relative_focus])
    head = _signature_index(lines, chunk, preview_of(chunk) if chunk.signature else "")
    if head is None:
        if chunk.part:
            return None
        head = _block_head(lines, chunk)
        if head is None:
            return None
    name = _short_name(chunk)
    at = _word_at(lines[head], name)
    if at < 0 and chunk.signature:
        head, at = _name_below(lines, head, name)
    if at >= 0:
        line = chunk.start_line + head
        return line, at, line, at + len(name)
    return _line_selection(chunk.start_line + head, lines[head])


# A signature's first line and the line that holds its name are at most this many apart
# (GNU C's `static struct window *` above `window_find(...)`, `template <typename T>`).
_SIGNATURE_LINES = 4


def _name_below(lines: list[str], head: int, name: str) -> tuple[int, int]:
    """The line under a signature's first (`head`) that holds the definition's name, and
    the name's column there; up to the line that opens the body. (head, -1) if none."""
    for index in range(head + 1, min(head + _SIGNATURE_LINES, len(lines))):
        at = _word_at(lines[index], name)
        if at >= 0:
            return index, at
        if "{" in lines[index] or lines[index].rstrip().endswith(":"):
            break  # the body opens: a name below it is a use, not the definition's
    return head, -1


def _signature_line(lines: list[str], wanted: str, prose: bool) -> int | None:
    """Index of the line that starts a signature (`wanted`), not a comment that quotes it,
    past annotations on the same line (`@Test public void padding() {`); also where
    `wanted` runs over several lines, which the stored signature joins with a space (GNU C's
    `static struct window *` above `window_find(...)`)."""
    if not wanted:
        return None
    found = next(
        (i for i, line in enumerate(lines) if wanted in line and _is_signature(line, prose)),
        None,
    )
    if found is None:  # read line by line first: this runs for every result shown
        found = next(
            (
                i
                for i, line in enumerate(lines)
                if _starts_over_lines(lines, i, wanted) and _is_signature(line, prose)
            ),
            None,
        )
    return found


def _is_signature(line: str, prose: bool) -> bool:
    """Whether a line can start a signature: a header line once its annotations are past."""
    return _is_header(without_annotations(line), prose)


def _starts_over_lines(lines: list[str], index: int, wanted: str) -> bool:
    """Whether `wanted` starts on line `index` and goes on over the lines below it."""
    first = " ".join(lines[index].split())
    joined = " ".join(" ".join(lines[index : index + _SIGNATURE_LINES]).split())
    return 0 <= joined.find(wanted) < len(first)


def _short_name(chunk: Chunk) -> str:
    """The name a definition's signature spells (`send` for `Client.send`); a block's first."""
    return chunk.names[0].rsplit(".", 1)[-1].rsplit("::", 1)[-1] if chunk.names else ""


def signature_start(chunk: Chunk) -> str:
    """What the line that starts a definition's signature holds, up to its name (`fn
    test_limit`): where the doc comment and attributes above it end. "" without one."""
    return _signature_start(preview_of(chunk), _short_name(chunk)) if chunk.signature else ""


def _signature_start(preview: str, name: str) -> str:
    """What a signature's line starts with, to find it among a chunk's lines: up to the
    definition's name (`def send`, `public Date parseDate`). The stored signature joins a
    multi-line one into one line (`def send(self, request, *, ...)`), which no line of the
    file holds past its first."""
    first = preview.split("\n", 1)[0]
    at = _word_at(first, name)
    return (first[: at + len(name)] if at >= 0 else first[:40]).rstrip("…")


def _word_at(text: str, word: str) -> int:
    """Where `word` stands in `text` as a whole identifier (not inside `send_all`), or -1.
    A scan, not a regular expression: each result's name would compile one."""
    if not word:
        return -1
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        before = text[at - 1] if at else " "
        after = text[end] if end < len(text) else " "
        if not _in_identifier(before) and not _in_identifier(after):
            return at
        at = text.find(word, at + 1)
    return -1


def _in_identifier(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _line_selection(line: int, text: str) -> Selection:
    """A line's text, past its indentation."""
    stripped = text.strip()
    start = text.index(stripped) if stripped else 0
    return line, start, line, start + len(stripped)


def file_uri(root: Path, relative: str) -> str:
    return (root / relative).as_uri()
