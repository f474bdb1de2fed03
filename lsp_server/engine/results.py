"""Search results: one shape for the CLI's --json, the language server and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREVIEW_CHARS = 160


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
    # Why the answer is lexical only, when the encoder could not answer (a server down).
    notice: str = ""


def preview_of(text: str) -> str:
    """The first line that says something (skips blank lines and lone decorators' noise)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = next((line for line in lines if not line.startswith(("@", "#[", "//", "#"))), lines[0])
    return first if len(first) <= PREVIEW_CHARS else first[: PREVIEW_CHARS - 1] + "…"


def file_uri(root: Path, relative: str) -> str:
    return (root / relative).as_uri()
