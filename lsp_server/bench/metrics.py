"""Retrieval metrics with the CodeXGLUE/CoSQA conventions (rank cut-off 1000)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

MAX_RANK = 1000
METRICS = ("mrr", "recall@1", "recall@10", "ndcg@10")
# In-place sets also score where opening a result puts the cursor (its selectionRange): the
# reciprocal rank of the first result that lands inside a target, not only overlaps it.
LANDING = "landing"


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int]) -> float:
    """1/rank of the first relevant document; 0 when none is in the first 1000."""
    for rank, doc_id in enumerate(ranked[:MAX_RANK], start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Linear gains (the qrels score), as pytrec_eval/BEIR compute it."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def score_query(
    ranked: Sequence[str], relevant: Mapping[str, int], landed: Sequence[str] | None = None
) -> dict[str, float]:
    """The metrics of one query; with `landed` (the results ranked by where they land), the
    landing MRR too."""
    scores = {
        "mrr": reciprocal_rank(ranked, relevant),
        "recall@1": recall_at(ranked, relevant, 1),
        "recall@10": recall_at(ranked, relevant, 10),
        "ndcg@10": ndcg_at(ranked, relevant, 10),
    }
    if landed is not None:
        scores[LANDING] = reciprocal_rank(landed, relevant)
    return scores


def mean_scores(per_query: Sequence[dict[str, float]]) -> dict[str, float]:
    if not per_query:
        return dict.fromkeys(METRICS, 0.0)
    scored = [*METRICS, LANDING] if all(LANDING in q for q in per_query) else METRICS
    return {m: round(sum(q[m] for q in per_query) / len(per_query), 4) for m in scored}


def paired_interval(
    ours: Sequence[float], theirs: Sequence[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% interval of mean(theirs - ours), by resampling the queries (paired bootstrap).

    Two pipelines scored on the same queries differ by chance alone when the interval holds
    0: on a set of 30 questions a difference of 0.02 MRR usually does.
    """
    if len(ours) != len(theirs):
        raise ValueError("paired scores need the same queries")
    diffs = [b - a for a, b in zip(ours, theirs, strict=True)]
    if not diffs:
        return 0.0, 0.0
    draw = random.Random(seed)
    count = len(diffs)
    means = sorted(sum(draw.choices(diffs, k=count)) / count for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]
