"""Search results: one shape for the CLI's --json, the language server and the benchmarks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunks import Chunk

PREVIEW_CHARS = 160
EXCERPT_LINES = 3


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
    # The definition's first lines, from the preview's line on (not in to_json(): the
    # editors show the preview; agents get these through the MCP server).
    excerpt: tuple[str, ...] = ()

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
    annotations or attributes; other chunks show their first line with content.
    """
    if chunk.signature:
        line = _without_annotations(chunk.signature)
    elif chunk.kind not in _SPANS_OF_LINES:  # a definition without a header line
        line = _first_content_line(_without_annotations(chunk.text))
    else:
        line = _first_content_line(chunk.text)
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


_SPANS_OF_LINES = frozenset({"block", "window"})  # chunk kinds that are not definitions
# Lines with no word, or only these words, are structure, not content: `)`, `"""`, `/**`,
# `}`, `} else {`, `end`, `try:`.
_STRUCTURE_ONLY = re.compile(
    r"[\W_]*(?:(?:else|elif|end|endif|fi|done|esac|finally|try|do|then|begin)\b[\W_]*)*"
)
# A decorator or annotation (`@name`, its arguments follow) or a Rust/PHP attribute (`#[`).
_ANNOTATION = re.compile(r"@[\w.$]+|#!?(?=\[)")
_OPENING, _CLOSING = "([{", ")]}"


def _first_content_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    content = (line for line in lines if not _STRUCTURE_ONLY.fullmatch(line))
    return next(content, next((line for line in lines if line), ""))


def _without_annotations(text: str) -> str:
    """``text`` past its leading decorators, annotations and attributes, with their arguments
    (over several lines too): `@Override public void run()` -> `public void run()`."""
    rest = text.lstrip()
    while (m := _ANNOTATION.match(rest)) is not None:
        end = m.end()
        if end < len(rest) and rest[end] in _OPENING:
            end = _past_brackets(rest, end)
        rest = rest[end:].lstrip()
    return rest


def _past_brackets(text: str, start: int) -> int:
    """Index just past the bracket closing the one at ``start`` (or the end of ``text``)."""
    depth = 0
    for i in range(start, len(text)):
        char = text[i]
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def excerpt_of(
    text: str, count: int = EXCERPT_LINES, start_col: int = 0, starts_with: str = ""
) -> tuple[str, ...]:
    """Up to `count` non-blank lines from the first one that says something (the signature,
    past decorators and comments), dedented by that line's indentation.

    `start_col` is the column the text starts at in its file (a method's text starts at its
    `def`): the first line is indented by that much, like the lines after it. `starts_with`
    (the preview) picks the first line when it is found, past a doc comment.
    """
    lines = [
        (" " * start_col if number == 0 else "") + line.rstrip()
        for number, line in enumerate(text.splitlines())
        if line.strip()
    ]
    if not lines:
        return ()
    head = starts_with[:40].rstrip("…")
    first = next((i for i, line in enumerate(lines) if head and head in line), None)
    if first is None:
        first = next((i for i, line in enumerate(lines) if not _is_noise(line)), 0)
    picked = lines[first : first + count]
    indent = len(picked[0]) - len(picked[0].lstrip())
    return tuple(_clip(_dedent(line, indent)) for line in picked)


def _dedent(line: str, indent: int) -> str:
    """A line indented less than the first (the rest of a split chunk) is only stripped."""
    return line[indent:] if not line[:indent].strip() else line.strip()


def _is_noise(line: str) -> bool:
    return line.lstrip().startswith(("@", "#[", "//", "#"))


def _clip(line: str) -> str:
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def file_uri(root: Path, relative: str) -> str:
    return (root / relative).as_uri()
