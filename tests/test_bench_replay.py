"""Rank traces captured by a quality run, and fusions replayed offline over them."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest

from lsp_server.bench.beir import BeirSet, Query, load_set, write_set
from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.cli import per_query_path
from lsp_server.bench.inplace import build_in_place
from lsp_server.bench.namesets import build_name_set
from lsp_server.bench.quality import QualityRun, write_capture
from lsp_server.bench.replay import (
    CAPTURE_VERSION,
    DENSE_ALONE,
    SHIPPED,
    load_capture,
    parse_fusion,
    replay_ranks,
    scaled,
    unreproduced,
)
from lsp_server.bench.report import pooled_table
from lsp_server.bench.treeset import load_tree_set
from lsp_server.engine.ranking import NAMED_SO
from lsp_server.engine.settings import EngineSettings

from .test_bench_inplace import EXPECTED, make_tree


def _tree_set(tmp_path: Path) -> Path:
    out = tmp_path / "sets" / "demo"
    build_in_place(make_tree(tmp_path / "src"), out, sample=100, meta={"source": "test"})
    return out


def _capture(tmp_path: Path, encoder, data, code_mode: str = "similar") -> tuple[dict, Path]:
    capture = tmp_path / "capture"
    quality = QualityRun(
        tmp_path / "work",
        EngineSettings(),
        code_mode=code_mode,
        encoder=encoder,
        patterns=["bm25", "dense", "hybrid", "hybrid/neighbour_depth=0"],
        capture=capture,
    )
    result = quality.run(data)
    return result.per_query, capture / f"{data.name}.jsonl.gz"


def test_shipped_fusion_replays_to_the_engines_ranks(tmp_path: Path, encoder) -> None:
    data = load_tree_set(_tree_set(tmp_path))
    engine, path = _capture(tmp_path, encoder, data)
    captured = load_capture(path)
    assert captured.name == "demo" and len(captured.queries) == len(EXPECTED)
    assert unreproduced(captured) == 0
    assert replay_ranks(captured, SHIPPED) == pytest.approx(engine["hybrid"], abs=1e-6)
    # Alone, dense ties break by the hybrid's order: the same ranks on this small tree.
    assert replay_ranks(captured, DENSE_ALONE) == pytest.approx(engine["dense"], abs=1e-6)
    # Without the documented-neighbour swap, as the engine ranks without it.
    without = replay_ranks(captured, parse_fusion("neighbours=0"))
    assert without == pytest.approx(engine["hybrid/neighbour_depth=0"], abs=1e-6)


def test_a_trace_says_the_query_kind_weights_and_where_candidates_point(
    tmp_path: Path, encoder
) -> None:
    data = load_tree_set(_tree_set(tmp_path))
    _, path = _capture(tmp_path, encoder, data)
    with gzip.open(path, "rt") as rows:
        header, *queries = [json.loads(line) for line in rows]
    assert header == {"set": "demo", "version": CAPTURE_VERSION}
    settings = EngineSettings()
    by_query = dict(zip([q.query for q in data.questions], queries, strict=True))
    prose = by_query["Split the text into lowercase words."]
    assert prose["kind"] == "prose"
    assert prose["weights"] == [settings.dense_weight, settings.prose_lexical_weight]
    # BM25's weight for a question is scaled by how much of it BM25's best unit holds.
    assert 0 < prose["coverage"] <= 1
    assert prose["lexical_scale"] == prose["coverage"] ** settings.prose_lexical_coverage
    assert prose["relevant"] == {"t0": 1}
    # The answer's unit points at the whole definition (decorator to last line, 0-based).
    core = [u for u in prose["units"] if u[0] == "pkg/core.py"]
    tree_lines = (data.tree / "pkg/core.py").read_text().splitlines()
    decorator = tree_lines.index("@functools.cache")
    assert any(u[1] == decorator and u[4] is not None and u[5] is not None for u in core)
    # Each unit says whether it is documented (dense_among_neighbours), and the trace how
    # deep that ran: questions only.
    assert prose["neighbours"] == settings.neighbour_depth
    assert {u[10] for u in prose["units"]} <= {True, False, None}
    assert any(u[10] is not None for u in prose["units"])
    # The README repeats the sentence: a question may get it back, below code (factor < 1).
    readme = [u for u in prose["units"] if u[0] == "README.md"]
    assert readme and all(0 < u[6] < 1 for u in readme)
    named = by_query["Reverse returns the string with its runes in reverse order."]
    assert named["kind"] == "prose"  # "Reverse" alone is a word, not an identifier's shape


def test_beir_captures_leave_the_query_document_out(tmp_path: Path, encoder) -> None:
    corpus = {
        "a": "def add_numbers(a, b):\n    return a + b",
        "b": "def sum_two(x, y):\n    return x + y",
        "c": "def read_config(path):\n    return open(path).read()",
    }
    queries = [Query("q1", "add two numbers"), Query("q2", corpus["a"], self_id="a")]
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    write_set(tmp_path / "tiny", BeirSet("tiny", corpus, queries, qrels))
    data = load_set(tmp_path / "tiny")
    engine, path = _capture(tmp_path, encoder, data, code_mode="selection")
    captured = load_capture(path)
    assert [q.kind for q in captured.queries] == ["prose", "similar"]
    # Document "a" answers the question; asked with "a" selected, it is never counted.
    file_of_a = next(u[0] for u in captured.queries[0].units if u[0].startswith("corpus/a-"))
    assert captured.queries[0].judge(file_of_a, 0, 1, 0) == "a"
    assert captured.queries[1].judge(file_of_a, 0, 1, 0) is None
    assert replay_ranks(captured, SHIPPED) == pytest.approx(engine["hybrid"], abs=1e-6)


def test_scales_look_at_the_top_of_a_ranking_only() -> None:
    scores = np.array([3.0, 2.0, 1.0, np.nan])
    assert scaled(scores, "minmax", 3).tolist() == [1.0, 0.5, 0.0, 0.0]
    assert scaled(scores, "minmax", 2).tolist() == [1.0, 0.0, 0.0, 0.0]
    deviation = math.sqrt(2 / 3)  # of 3, 2, 1 around 2
    assert scaled(scores, "zscore", 3) == pytest.approx([1 / deviation, 0.0, 0.0, 0.0])
    assert scaled(np.array([np.nan, np.nan]), "zscore", 5).tolist() == [0.0, 0.0]


def test_fusion_specs_parse_or_say_what_is_wrong() -> None:
    fusion = parse_fusion("zscore:20 prose=0.5 named=1 dense=2 coverage=1 neighbours=0")
    assert (fusion.normalization, fusion.depth, fusion.dense) == ("zscore", 20, 2.0)
    assert (fusion.coverage, fusion.neighbours) == (1.0, 0)
    assert parse_fusion("prose=0.1").neighbours is None  # as captured
    assert fusion.lexical == {"prose": 0.5, "named": 1.0}
    assert parse_fusion("prose=0.1").normalization == "max"
    for spec, said in [
        ("l2", "normalization 'l2' is not one of max, zscore, minmax"),
        ("minmax:0", "the depth of minmax must be 1 or more"),
        ("prose=x", "'x' is not a number"),
        ("named=-1", "-1 is negative"),
        ("loud=1", "'loud' is not dense, coverage, neighbours, blocks, agreed or a query kind "
         "(prose, named, code, similar, class)"),
        ("agreed=2", "agreed is 0 or 1, not '2'"),
    ]:
        with pytest.raises(ValueError, match=said.replace("(", r"\(").replace(")", r"\)")):
            parse_fusion(spec)


def test_cli_replays_a_capture_beside_the_engines_figures(tmp_path: Path) -> None:
    sets = _tree_set(tmp_path).parent
    out = tmp_path / "results" / "quality.json"
    capture = tmp_path / "capture"
    run = ["quality", "--data", str(sets), "--pipelines", "hybrid", "--out", str(out)]
    assert bench_main([*run, "--capture", str(capture)]) == 0
    engine = json.loads(out.read_text())["sets"]["demo"]["pipelines"]["hybrid"]["mrr"]
    replayed = tmp_path / "results" / "replay.json"
    spec = "zscore:20 prose=0.5"
    assert bench_main(["replay", str(capture), "--try", spec, "--out", str(replayed)]) == 0
    figures = json.loads(replayed.read_text())["sets"]["demo"]
    assert list(figures) == ["shipped", "bm25", "dense", spec]
    assert figures["shipped"] == engine
    table = replayed.with_suffix(".md").read_text()
    assert f"| demo | {engine:.4f} |" in table
    assert "| sets below bm25 or dense alone |" in table
    count = len(json.loads(per_query_path(replayed).read_text())["mrr"]["demo"]["shipped"])
    assert f"| all {count} queries of 1 sets |" in table
    assert f"| shipped | {engine:.4f} | | | |" in table


def test_pooled_table_takes_every_sets_queries_together() -> None:
    """Two sets of two queries: the tried fusion gains 0.5 on one query of each set and
    loses on none; pooled, it is 0.25 above over four queries, better on two, worse on none.
    A fusion scored on one set only has no paired row."""
    per_query = {
        "a": {"shipped": [1.0, 0.5], "tried": [1.0, 1.0], "partial": [1.0, 1.0]},
        "b": {"shipped": [0.5, 0.0], "tried": [1.0, 0.0]},
    }
    lines = pooled_table(per_query, "shipped").splitlines()
    assert lines[0].startswith("| all 4 queries of 2 sets | MRR | MRR - shipped |")
    assert lines[2] == "| shipped | 0.5000 | | | |"
    assert lines[3].startswith("| tried | 0.7500 | +0.2500 | [")
    assert lines[3].endswith("| 2 / 0 |")
    assert not any(line.startswith("| partial") for line in lines)


def test_cli_replay_without_a_capture_says_so(tmp_path: Path, capsys) -> None:
    assert bench_main(["replay", str(tmp_path), "--out", str(tmp_path / "r.json")]) == 1
    assert f"{tmp_path}: no capture (*.jsonl.gz) there" in capsys.readouterr().err


def test_a_capture_needs_the_hybrid_and_says_so(tmp_path: Path, encoder) -> None:
    data = load_tree_set(_tree_set(tmp_path))
    said: list[str] = []
    capture = tmp_path / "capture"
    quality = QualityRun(
        tmp_path / "work",
        EngineSettings(),
        encoder=encoder,
        patterns=["dense"],
        capture=capture,
        log=said.append,
    )
    quality.run(data)
    assert "demo: nothing captured: hybrid is not scored" in said
    assert not capture.exists()


def test_overlapping_windows_count_once_as_the_engine_merges_them(tmp_path: Path) -> None:
    def unit(path: str, lines: tuple[int, int], dense: float, part: int = 0) -> list:
        start, end = lines
        return [path, start, end, 9, dense, None, 1.0, part, [start, 0, end, 9], False]

    row = {
        "relevant": {"t0": 1},
        "targets": [["pkg/a.py", 1, 6]],
        "rr": 0.5,
        "kind": "prose",
        "weights": [1.0, 0.2],
        # Two windows of one README that share lines 9-10, then the answer.
        "units": [
            unit("README.md", (0, 10), 0.9),
            unit("README.md", (9, 20), 0.85),
            unit("pkg/a.py", (0, 5), 0.8),
        ],
    }
    path = write_capture(tmp_path, "windows", {}, [row])
    captured = load_capture(path)
    assert replay_ranks(captured, SHIPPED) == [0.5]  # not 1/3: the windows are one result
    assert unreproduced(captured) == 0


def _block_question(units: list[tuple[str, float, float, bool]], **fields) -> dict:
    """A captured question whose answer is pkg/a.py:10-11, with units (path, dense score,
    BM25 score, whether it is a block declaring a question word), the coverage leaving BM25
    a weight of 0.15 of its 0.6, and the block rule run to depth 2."""
    return {
        "relevant": {"t0": 1},
        "targets": [["pkg/a.py", 10, 11]],
        "rr": 1.0,
        "kind": "prose",
        "weights": [1.0, 0.6],
        "lexical_scale": 0.25,
        "neighbours": 0,
        "block_depth": 2,
        "units": [
            [path, 9, 10, 4, dense, lexical, 1.0, 0, [9, 0, 10, 4], 0, None, declared]
            for path, dense, lexical, declared in units
        ],
    } | fields


def test_a_block_declaring_a_question_word_replays_raised_as_captured(tmp_path: Path) -> None:
    row = _block_question([("pkg/b.py", 0.9, 10.0, False), ("pkg/a.py", 0.8, 9.0, True)])
    captured = load_capture(write_capture(tmp_path, "blocks", {}, [row]))
    # The block, BM25's second, gets the 0.45 the coverage took back: 0.89 + 0.35 > 1.
    assert replay_ranks(captured, SHIPPED) == [1.0]
    assert unreproduced(captured) == 0
    assert replay_ranks(captured, parse_fusion("blocks=0")) == [0.5]
    assert replay_ranks(captured, parse_fusion("blocks=1")) == [0.5]  # not BM25's first


def test_a_raised_block_replays_below_the_unit_both_rankings_put_first(tmp_path: Path) -> None:
    # pkg/a.py is first in both rankings; the block is BM25's second.
    units = [("pkg/a.py", 0.9, 10.0, False), ("pkg/b.py", 0.85, 9.0, True)]
    row = _block_question(units, kept_first=True)
    captured = load_capture(write_capture(tmp_path, "agreed", {}, [row]))
    assert replay_ranks(captured, SHIPPED) == [1.0]  # as captured: kept first
    assert unreproduced(captured) == 0
    # Unkept, the block gets the 0.45 the coverage took, times 0.9 of BM25's best, over the
    # weights' total of 1.15: 0.94 + 0.35, above the first's 1.
    assert replay_ranks(captured, parse_fusion("agreed=0")) == [0.5]
    assert replay_ranks(captured, parse_fusion("agreed=1 blocks=0")) == [1.0]


def test_a_constant_weight_replays_as_the_engine_ranks_with_it(tmp_path: Path, encoder) -> None:
    """A capture of the shipped fusion, replayed with `prose=0.2 coverage=0`, ranks as the
    engine does with that constant weight for questions (the fusion before coverage)."""
    data = load_tree_set(_tree_set(tmp_path))
    _, path = _capture(tmp_path, encoder, data)
    constant = "hybrid/prose_lexical_weight=0.2/prose_lexical_coverage=0"
    quality = QualityRun(
        tmp_path / "work", EngineSettings(), encoder=encoder, patterns=[constant]
    )
    engine = quality.run(data).per_query[constant]
    captured = load_capture(path)
    assert [q.coverage is not None for q in captured.queries] == [
        q.kind == "prose" for q in captured.queries
    ]
    replayed = replay_ranks(captured, parse_fusion("prose=0.2 coverage=0"))
    assert replayed == pytest.approx(engine, abs=1e-6)


def test_a_bare_name_replays_with_what_is_named_so_first(tmp_path: Path, encoder) -> None:
    build_name_set(make_tree(tmp_path / "src"), tmp_path / "names", queries="names", meta={})
    data = load_tree_set(tmp_path / "names")
    engine, path = _capture(tmp_path, encoder, data)
    captured = load_capture(path)
    # Every question is a name, and its definition is the one unit named so.
    assert [sorted(q.named[q.named > 0]) for q in captured.queries] == [[NAMED_SO]] * len(
        data.questions
    )
    assert unreproduced(captured) == 0
    assert replay_ranks(captured, SHIPPED) == pytest.approx(engine["hybrid"], abs=1e-6)
