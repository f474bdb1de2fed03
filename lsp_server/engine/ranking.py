"""Pure ranking helpers: rank fusion, result filters, merging overlapping hits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pathspec

from .chunks import Chunk


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[int], float]], k: int
) -> list[tuple[int, float]]:
    """Fuses ranked id lists, each with a weight, into one ranking scored in [0, 1].

    RRF ignores the raw scores (BM25 and cosine are not comparable) and rewards ids that
    rank high in several lists. Scores are divided by the best possible sum so that 1.0
    means "first in every list".
    """
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank + 1)
    best = sum(weight for ids, weight in rankings if ids) / (k + 1)
    ordered = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return [(chunk_id, score / best if best else 0.0) for chunk_id, score in ordered]


class GlobFilter:
    """Include/exclude path globs (gitignore syntax) and a language set."""

    def __init__(
        self,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> None:
        self._include = self._compile(include) if include else None
        self._exclude = self._compile(exclude) if exclude else None
        self._languages = {lang.lower() for lang in languages}

    @staticmethod
    def _compile(globs: Sequence[str]) -> pathspec.PathSpec:
        try:
            return pathspec.GitIgnoreSpec.from_lines(list(globs))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"bad glob in {list(globs)!r}: {exc}") from exc

    @property
    def active(self) -> bool:
        return bool(self._include or self._exclude or self._languages)

    def accepts(self, path: str, language: str) -> bool:
        if self._languages and language not in self._languages:
            return False
        if self._include and not self._include.match_file(path):
            return False
        return not (self._exclude and self._exclude.match_file(path))


@dataclass
class Hit:
    chunk_id: int
    chunk: Chunk
    score: float
    duplicate: bool = False


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line


def merge_overlapping(hits: Sequence[Hit]) -> list[Hit]:
    """Keeps the best-scored hit of overlapping ones (parts of one split definition)."""
    kept: list[Hit] = []
    # Indexed by path: deep candidate pools (1,000+ hits) made the all-pairs scan quadratic.
    by_path: dict[str, list[Hit]] = {}
    for hit in hits:
        same_file = by_path.setdefault(hit.chunk.path, [])
        home = next((k for k in same_file if _overlaps(k.chunk, hit.chunk)), None)
        if home is None:
            kept.append(hit)
            same_file.append(hit)
        else:
            home.chunk = _union(home.chunk, hit.chunk)
            home.duplicate = home.duplicate or hit.duplicate
    return kept


def _union(a: Chunk, b: Chunk) -> Chunk:
    """The span covering both; the text (and so the preview) of the one that starts first."""
    first = a if (a.start_line, a.start_col) <= (b.start_line, b.start_col) else b
    end = max((a.end_line, a.end_col), (b.end_line, b.end_col))
    return replace(first, end_line=end[0], end_col=end[1])
