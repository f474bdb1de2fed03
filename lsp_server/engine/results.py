"""Search results: one shape for the CLI's --json, the language server and the benchmarks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunker import split_lines
from .chunks import Chunk
from .tokens import code_tokens

PREVIEW_CHARS = 160
CONTEXT_BODY_LINES = 4  # lines of a result's body shown under its signature line


@dataclass(frozen=True)
class ContextLine:
    """One line of a result's multi-line preview."""

    line: int | None  # 0-based; None for the signature of a later part of a split definition
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text}


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
    context: tuple[ContextLine, ...] = ()  # the signature line and the best-matching lines

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
        data["context"] = [line.to_json() for line in self.context]
        return data


@dataclass
class SearchResponse:
    results: list[SearchResult] = field(default_factory=list)
    # True while part of the workspace is not embedded yet (or the model is still loading).
    partial: bool = False


def preview_of(text: str) -> str:
    """The first line that says something (skips blank lines and lone decorators' noise)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = next((line for line in lines if not line.startswith(("@", "#[", "//", "#"))), lines[0])
    return first if len(first) <= PREVIEW_CHARS else first[: PREVIEW_CHARS - 1] + "…"


_NOT_A_HEADER = ("@", "#[", "//", "#", "/*", "*")  # decorators, attributes, comments
_PROSE = ("markdown", "text")  # where "#" starts a heading and "*" a list item


def _is_header(line: str, prose: bool) -> bool:
    """Whether a line can name a result: not blank, not a decorator or comment (in code)."""
    stripped = line.strip()
    return bool(stripped) and (prose or not stripped.startswith(_NOT_A_HEADER))


def _line_score(line: str, terms: Collection[str]) -> int:
    return sum(1 for token in code_tokens(line) if token in terms)


def _focus(lines: list[str], head: int, terms: Collection[str], focus_line: int | None) -> int:
    """Index of the line to centre the body window on: a named line, else the best match."""
    if focus_line is not None and head < focus_line < len(lines):
        return focus_line
    scores = [_line_score(line, terms) if i > head else 0 for i, line in enumerate(lines)]
    best = max(range(len(lines)), key=lambda i: scores[i])
    return best if scores[best] > 0 else head + 1


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
    # The chunk starts at its first character: put the indentation back for dedenting.
    lines = split_lines(" " * chunk.start_col + chunk.text)
    while lines and not lines[-1].strip():
        lines.pop()
    prose = chunk.language in _PROSE
    head = next((i for i, line in enumerate(lines) if _is_header(line, prose)), None)
    if head is None:  # a chunk of comments only (a licence header): its first non-blank line
        head = next((i for i, line in enumerate(lines) if line.strip()), None)
    if head is None:
        return ()
    relative_focus = None if focus_line is None else focus_line - chunk.start_line
    centre = _focus(lines, head, set(terms), relative_focus)
    first = max(head + 1, min(centre - 1, len(lines) - body_lines))
    body = [i for i in range(first, min(first + body_lines, len(lines))) if lines[i].strip()]
    picked = [head, *body]
    texts = _dedented([lines[i] for i in picked])
    numbered = [ContextLine(chunk.start_line + i, t) for i, t in zip(picked, texts, strict=True)]
    if chunk.part > 1 and chunk.signature:  # the header lies above this part of the definition
        return (ContextLine(None, _capped(chunk.signature)), *numbered)
    return tuple(numbered)


def file_uri(root: Path, relative: str) -> str:
    return (root / relative).as_uri()
