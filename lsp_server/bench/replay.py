"""`nearcode bench replay`: other fusions scored offline on a quality run's captured traces.

`bench quality --capture` keeps, for every query of the shipped hybrid, each candidate
unit's dense and BM25 score, its intent prior and where it points (engine/ranking.py,
`RankTrace`). Replaying a fusion ranks every query again without an index or the model
(tens of milliseconds a query, most of it the engine's own merging), with the engine's own
fusion and merging code: the shipped fusion replayed must give the engine's reciprocal
ranks (checked for every query, and said when not), and weights, normalizations and
per-kind settings can then be compared on many sets at once.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..engine.chunks import Chunk
from ..engine.ranking import (
    QUESTION_KINDS,
    Hit,
    agreed_first,
    convex_fusion,
    convex_total,
    dense_among_neighbours,
    merge_overlapping,
    named_first,
    raise_declared_blocks,
)
from .metrics import MAX_RANK, reciprocal_rank
from .treeset import Target

NORMALIZATIONS = ("max", "zscore", "minmax")
KINDS = ("prose", "named", "code", "similar", "class")
DEFAULT_DEPTH = 50  # top scores of a ranking that set its scale (zscore, minmax)
# 2: each unit also carries its best part's own span (for merging); 3: and whether it is
# named as a bare-name query asks (ranked first); 4: how, as a naming tier (0, 1 or 2);
# 5: a question's BM25 coverage and the factor its BM25 weight was scaled by; 6: whether
# each unit is documented and how deep dense_among_neighbours ran; 7: whether each unit is a
# block declaring a question's word, and how deep and by how much raise_declared_blocks ran;
# 8: naming tiers 0 to 3, a declaration apart from a definition (ranking.DECLARED); 9: whether
# raise_declared_blocks kept below a unit both rankings put first (ranking.agreed_first)
CAPTURE_VERSION = 9
_REPRODUCED = 1e-6  # a replayed reciprocal rank this close to the engine's is the same


@dataclass
class CapturedQuery:
    kind: str
    weights: tuple[float, float]  # dense, and BM25's weight for the kind, before its scale
    coverage: float | None  # a question's BM25 coverage (None: its weight is not scaled)
    lexical_scale: float  # what the engine multiplied BM25's weight by (coverage ** exponent)
    relevant: dict[str, int]
    units: list[list]  # RankedUnit rows, in the shipped fusion's order
    judge: Callable[[str, int, int, int], str | None]  # a result's key (None: not counted)
    dense: np.ndarray  # NaN where a unit is outside that ranking's pool
    lexical: np.ndarray
    factors: np.ndarray  # NaN: not an answer for this query (dropped)
    named: np.ndarray  # naming tier for a bare-name query (ranking.naming_tier), ranked first
    engine_rr: float
    neighbours: int = 0  # the depth the engine ran dense_among_neighbours to (0: not run)
    declared: np.ndarray | None = None  # declares_asked() per unit (raise_declared_blocks)
    block_depth: int = 0  # the depth the engine ran raise_declared_blocks to (0: not run)
    kept_first: bool = False  # whether it kept below a unit both rankings put first


@dataclass
class CapturedSet:
    name: str
    queries: list[CapturedQuery] = field(default_factory=list)


@dataclass(frozen=True)
class Fusion:
    """A fusion to replay: how each ranking's scores are scaled, BM25's weight per kind
    (kinds not named keep the captured weight) and the exponent of a question's coverage
    that weight is scaled by (None: as captured; 0: a constant weight), and the depth of
    dense_among_neighbours for questions (None: as captured; 0: not run)."""

    label: str
    normalization: str = "max"
    depth: int = DEFAULT_DEPTH
    lexical: dict[str, float] = field(default_factory=dict)
    dense: float | None = None
    coverage: float | None = None
    neighbours: int | None = None
    blocks: int | None = None  # raise_declared_blocks' depth (None: as captured; 0: not run)
    agreed: bool | None = None  # ... kept below an agreed first (None: as captured)

    def weights(self, query: CapturedQuery) -> tuple[float, float]:
        dense = query.weights[0] if self.dense is None else self.dense
        lexical = self.lexical.get(query.kind, query.weights[1])
        if query.coverage is None or self.coverage is None:
            return dense, lexical * query.lexical_scale
        return dense, lexical * query.coverage**self.coverage


SHIPPED = Fusion("shipped")
DENSE_ALONE = Fusion("dense", lexical=dict.fromkeys(KINDS, 0.0))
BM25_ALONE = Fusion("bm25", dense=0.0)


def parse_fusion(spec: str) -> Fusion:
    """'zscore:50 prose=0.2 named=0.5 dense=1 coverage=2 neighbours=10 blocks=2 agreed=1':
    a normalization (max, zscore[:DEPTH], minmax[:DEPTH]; default max), weights (BM25's per
    query kind, or the dense one), the exponent of the coverage that scales a question's BM25
    weight, the depth of dense_among_neighbours and that of raise_declared_blocks, and
    whether the latter keeps below a unit both rankings put first (1) or not (0)."""
    normalization, depth = "max", DEFAULT_DEPTH
    lexical: dict[str, float] = {}
    dense: float | None = None
    coverage: float | None = None
    neighbours: int | None = None
    blocks: int | None = None
    agreed: bool | None = None
    for word in spec.split():
        name, _, value = word.partition("=")
        if not value:
            normalization, _, given = name.partition(":")
            if normalization not in NORMALIZATIONS:
                raise ValueError(
                    f"{spec!r}: normalization {normalization!r} is not one of "
                    f"{', '.join(NORMALIZATIONS)}"
                )
            depth = int(_number(spec, given, int)) if given else DEFAULT_DEPTH
            if depth < 1:
                raise ValueError(f"{spec!r}: the depth of {normalization} must be 1 or more")
        elif name == "dense":
            dense = _number(spec, value, float)
        elif name == "coverage":
            coverage = _number(spec, value, float)
        elif name == "neighbours":
            neighbours = int(_number(spec, value, int))
        elif name == "blocks":
            blocks = int(_number(spec, value, int))
        elif name == "agreed":
            if value not in ("0", "1"):
                raise ValueError(f"{spec!r}: agreed is 0 or 1, not {value!r}")
            agreed = value == "1"
        elif name in KINDS:
            lexical[name] = _number(spec, value, float)
        else:
            raise ValueError(
                f"{spec!r}: {name!r} is not dense, coverage, neighbours, blocks, agreed or a "
                "query kind "
                f"({', '.join(KINDS)})"
            )
    return Fusion(
        spec, normalization, depth, lexical, dense, coverage, neighbours, blocks, agreed
    )


def _number(spec: str, text: str, kind: Callable[[str], float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{spec!r}: {text!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{spec!r}: {text} is negative")
    return value


# -- reading captures ---------------------------------------------------------------------


def load_capture(path: Path) -> CapturedSet:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        header = json.loads(next(lines))
        if header.get("version") != CAPTURE_VERSION:
            raise ValueError(
                f"{path}: a capture of version {header.get('version')}; this replay reads "
                f"version {CAPTURE_VERSION}: capture again with `bench quality --capture`"
            )
        captured = CapturedSet(header["set"])
        docs: dict[str, str] | None = header.get("docs")
        for line in lines:
            row = json.loads(line)
            if "units" in row:
                captured.queries.append(_query(row, docs))
    return captured


def load_captures(paths: Sequence[Path]) -> list[CapturedSet]:
    """Capture files, or folders of them (in name order)."""
    files: list[Path] = []
    for path in paths:
        found = sorted(path.glob("*.jsonl.gz")) if path.is_dir() else [path]
        if not found:
            raise ValueError(f"{path}: no capture (*.jsonl.gz) there")
        files += found
    return [load_capture(file) for file in files]


def _query(row: dict, docs: dict[str, str] | None) -> CapturedQuery:
    units = row["units"]
    return CapturedQuery(
        kind=row["kind"],
        weights=(row["weights"][0], row["weights"][1]),
        coverage=row.get("coverage"),
        lexical_scale=row.get("lexical_scale", 1.0),
        relevant=row["relevant"],
        units=units,
        judge=_judge(row, docs),
        dense=np.array([np.nan if u[4] is None else u[4] for u in units], dtype=float),
        lexical=np.array([np.nan if u[5] is None else u[5] for u in units], dtype=float),
        factors=np.array([np.nan if u[6] is None else u[6] for u in units], dtype=float),
        named=np.array([int(u[9]) for u in units], dtype=int),
        engine_rr=row["rr"],
        neighbours=row.get("neighbours", 0),
        declared=np.array([len(u) > 11 and bool(u[11]) for u in units], dtype=bool),
        block_depth=row.get("block_depth", 0),
        kept_first=row.get("kept_first", False),
    )


def _judge(row: dict, docs: dict[str, str] | None) -> Callable[[str, int, int, int], str | None]:
    """The key the quality run would judge a result (path, start line, end line, end col)
    of this query by: its target or range, or its BEIR document (not the query's own)."""
    # Imported here: quality.py imports the engine's indexer, which replay does not need.
    from .quality import target_key

    if docs is None:
        targets = [Target(*target) for target in row["targets"]]
        return lambda path, start, end, end_col: target_key(path, start, end, end_col, targets)
    own = row.get("self")

    def document(path: str, start: int, end: int, end_col: int) -> str | None:
        doc = docs.get(path)
        return None if doc is None or doc == own else doc

    return document


# -- replaying -----------------------------------------------------------------------------


def scaled(scores: np.ndarray, normalization: str, depth: int) -> np.ndarray:
    """A ranking's scores on a common scale (NaN, outside its pool, becomes 0).

    zscore: (score - mean) / deviation of its top `depth` scores, below the mean 0; a
    ranking whose best stands far above the rest then counts for more. minmax: the best is
    1, the depth-th best 0. Both look at the top `depth` only, so the editor's 100
    candidates and a benchmark's 1,000 scale alike.
    """
    present = np.sort(scores[~np.isnan(scores)])[::-1]
    out = np.zeros_like(scores)
    if not len(present):
        return out
    top = present[:depth]
    if normalization == "zscore":
        spread = float(top.std()) or 1.0
        values = (scores - float(top.mean())) / spread
    else:  # minmax
        floor = float(top[-1])
        values = (scores - floor) / (float(top[0]) - floor or 1.0)
    return np.where(np.isnan(values), 0.0, np.maximum(values, 0.0))


def fused(query: CapturedQuery, fusion: Fusion) -> np.ndarray:
    """Each unit's fused score before its prior, as `fusion` scores it."""
    dense_weight, lexical_weight = fusion.weights(query)
    if fusion.normalization == "max":
        return _convex(query, fusion, dense_weight, lexical_weight)
    return dense_weight * scaled(query.dense, fusion.normalization, fusion.depth) + (
        lexical_weight * scaled(query.lexical, fusion.normalization, fusion.depth)
    )


def _convex(
    query: CapturedQuery, fusion: Fusion, dense_weight: float, lexical_weight: float
) -> np.ndarray:
    # The engine's own functions, so the shipped fusion replays to the same floats.
    rankings = [
        (_present(scores), weight)
        for scores, weight in ((query.dense, dense_weight), (query.lexical, lexical_weight))
    ]
    fused_list = convex_fusion(rankings)
    depth = query.block_depth if fusion.blocks is None else fusion.blocks
    # As the engine: only for questions, and only with the model in the fusion.
    if depth and query.kind in QUESTION_KINDS and dense_weight > 0 and query.declared is not None:
        lexical = dict(sorted(rankings[1][0].items(), key=lambda item: -item[1]))
        declared = set(np.flatnonzero(query.declared).tolist())
        unscaled = fusion.lexical.get(query.kind, query.weights[1])
        kept = _kept_first(query, fusion, rankings) if declared else None
        fused_list = raise_declared_blocks(
            fused_list,
            lexical,
            declared,
            unscaled - lexical_weight,
            convex_total(rankings),
            depth,
            kept,
        )
    out = np.zeros(len(query.units))
    for index, score in fused_list:
        out[int(index)] = score  # type: ignore[call-overload]
    return out


def _kept_first(
    query: CapturedQuery, fusion: Fusion, rankings: list[tuple[dict[int, float], float]]
) -> tuple[int, dict[int, float | None]] | None:
    """What raise_declared_blocks keeps first, as the engine finds it (agreed_first)."""
    if not (query.kept_first if fusion.agreed is None else fusion.agreed):
        return None
    factors = {i: None if np.isnan(f) else float(f) for i, f in enumerate(query.factors)}
    first = agreed_first([scores for scores, _ in rankings], factors)
    return None if first is None else (int(first), factors)  # type: ignore[call-overload]


def _present(scores: np.ndarray) -> dict[int, float]:
    """Unit index -> score for the units in a ranking's pool (not NaN)."""
    indexes = np.flatnonzero(~np.isnan(scores))
    return dict(zip(indexes.tolist(), scores[indexes].tolist(), strict=True))


def replayed_rank(query: CapturedQuery, fusion: Fusion) -> float:
    """The reciprocal rank the engine would give with `fusion`: priors applied, units that
    are no answer left out, overlapping hits merged by the engine's own `merge_overlapping`
    and cut to the first 1000, then judged as the quality run judges (each key once, zero
    scores dropped)."""
    scores = fused(query, fusion) * query.factors
    hits = [_hit(i, query.units[i], score) for i, score in _present(scores).items()]
    hits.sort(key=lambda hit: -hit.score)  # stable: ties keep the fused order, as the engine
    depth = query.neighbours if fusion.neighbours is None else fusion.neighbours
    # As the engine: without the model in the fusion (BM25 alone) nothing prefers a neighbour.
    if depth and query.kind in QUESTION_KINDS and fusion.weights(query)[0] > 0:
        first = [hit.chunk_id for hit in hits[:depth]]
        dense = {i: float(query.dense[i]) for i in first if not np.isnan(query.dense[i])}
        dense_among_neighbours(hits, dense, {i: query.units[i][10] for i in first}, depth)
    if query.named.any():
        for hit in hits:
            demoted = bool(query.factors[hit.chunk_id] < 1)
            hit.score = named_first(hit.score, int(query.named[hit.chunk_id]), demoted)
        hits.sort(key=lambda hit: -hit.score)
    # A part's result spans its whole definition; which one is read after merging.
    ends = {(u[0], u[1], u[2]): u[3] for u in query.units}
    ranked: list[str] = []
    seen: set[str] = set()
    for hit in merge_overlapping(hits)[:MAX_RANK]:
        key = query.judge(hit.chunk.path, *_extent(hit, ends))
        if hit.score > 0 and key is not None and key not in seen:
            seen.add(key)
            ranked.append(key)
    return reciprocal_rank(ranked, query.relevant)


def _hit(index: int, unit: list, score: float) -> Hit:
    """A captured unit as the engine's hit: its best part's own span, before widening."""
    path, unit_start, unit_end = unit[0], unit[1], unit[2]
    start_line, start_col, end_line, end_col = unit[8]
    chunk = Chunk(path, "", "", "", start_line, start_col, end_line, end_col, "", part=unit[7])
    if chunk.part:
        chunk = replace(chunk, unit_start_line=unit_start, unit_end_line=unit_end)
    return Hit(index, chunk, score)


def _extent(hit: Hit, ends: dict[tuple[str, int, int], int]) -> tuple[int, int, int]:
    """Where the result points (start line, end line, end col): a part widens to its whole
    definition, as the engine's results do; anything else keeps its (merged) span."""
    chunk = hit.chunk
    if chunk.part:
        unit = (chunk.path, chunk.unit_start_line, chunk.unit_end_line)
        return unit[1], unit[2], ends[unit]
    start_line, _, end_line, end_col = hit.extent
    return start_line, end_line, end_col


def replay_ranks(captured: CapturedSet, fusion: Fusion) -> list[float]:
    return [replayed_rank(query, fusion) for query in captured.queries]


def unreproduced(captured: CapturedSet, shipped: Sequence[float] | None = None) -> int:
    """Queries whose shipped fusion, replayed, does not give the engine's rank (`shipped`:
    those replayed ranks, when the caller has them)."""
    ranks = replay_ranks(captured, SHIPPED) if shipped is None else shipped
    return sum(
        abs(ours - query.engine_rr) > _REPRODUCED
        for ours, query in zip(ranks, captured.queries, strict=True)
    )
