"""Search results: one shape for the CLI's --json, the language server and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        return data


@dataclass
class SearchResponse:
    results: list[SearchResult] = field(default_factory=list)
    # True while part of the workspace is not embedded yet (or the model is still loading).
    partial: bool = False
    # True when files changed on disk since indexing and the index could not catch up.
    stale: bool = False

    def to_json(self) -> dict[str, Any]:
        """The shape of `--json` output and of the servers' answers."""
        return {
            "results": [r.to_json() for r in self.results],
            "partial": self.partial,
            "stale": self.stale,
        }


def preview_of(text: str) -> str:
    """The first line that says something (skips blank lines and lone decorators' noise)."""
    lines = excerpt_of(text, 1)
    return _clip(lines[0].strip()) if lines else ""


def excerpt_of(text: str, count: int = EXCERPT_LINES, start_col: int = 0) -> tuple[str, ...]:
    """Up to `count` non-blank lines from the first one that says something (the signature,
    past decorators and comments), dedented by that line's indentation.

    `start_col` is the column the text starts at in its file (a method's text starts at its
    `def`): the first line is indented by that much, like the lines after it.
    """
    lines = [
        (" " * start_col if number == 0 else "") + line.rstrip()
        for number, line in enumerate(text.splitlines())
        if line.strip()
    ]
    if not lines:
        return ()
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
