"""The Markdown summary of a quality run: what the issue's fusion condition reads from it."""

from __future__ import annotations

from lsp_server.bench.report import sets_below_a_ranking_alone, summary_table


def _set(bm25: float, dense: float, hybrid: float, today_hybrid: float | None = None) -> dict:
    pipelines = {"bm25": {"mrr": bm25}, "dense": {"mrr": dense}, "hybrid": {"mrr": hybrid}}
    if today_hybrid is not None:
        pipelines |= {
            "today/bm25": {"mrr": bm25},
            "today/dense": {"mrr": dense},
            "today/hybrid": {"mrr": today_hybrid},
        }
    return {"queries": 10, "pipelines": pipelines}


def test_the_summary_names_the_sets_where_the_hybrid_is_below_a_ranking_alone() -> None:
    sets = {
        "rust": _set(0.17, 0.34, 0.28, today_hybrid=0.29),
        "go": _set(0.79, 0.78, 0.86, today_hybrid=0.86),
        "blocks": _set(0.70, 0.56, 0.78, today_hybrid=0.51),
    }
    assert sets_below_a_ranking_alone(sets) == ["rust"]
    assert sets_below_a_ranking_alone(sets, "today/") == ["rust", "blocks"]
    table = summary_table(sets)
    assert "\nhybrid below bm25 or dense alone: 1 of 3 sets (rust)" in table
    assert "\ntoday/hybrid below bm25 or dense alone: 2 of 3 sets (rust, blocks)" in table


def test_a_run_without_both_rankings_alone_says_nothing_of_them() -> None:
    sets = {"only": {"queries": 5, "pipelines": {"hybrid": {"mrr": 0.5}}}}
    assert sets_below_a_ranking_alone(sets) is None
    assert "below bm25 or dense alone" not in summary_table(sets)
    level = {"tie": _set(0.5, 0.5, 0.5)}
    assert "hybrid below bm25 or dense alone: 0 of 1 sets\n" in summary_table(level) + "\n"
