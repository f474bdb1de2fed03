"""The benchmarks on tiny inputs, so they cannot rot (figures live in BENCHMARKS.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server.bench.beir import BeirSet, Query, load_set, subsample, write_set
from lsp_server.bench.buildset import build_from_folder, first_sentence
from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.metrics import METRICS, ndcg_at, paired_interval, reciprocal_rank
from lsp_server.bench.speed import (
    BenchEncoder,
    add_synthetic_rows,
    encoder_limit,
    save_to_searchable,
    scale_latencies,
    speed_tables,
    targets,
    warm_resync,
)
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.workspace import WorkspaceIndex

# Twenty small, distinct functions: the corpus of the real-model quality smoke.
FUNCTIONS = {
    "add": "def add_numbers(a, b):\n    return a + b",
    "reverse": "def reverse_string(text):\n    return text[::-1]",
    "read": "def read_file(path):\n    with open(path) as handle:\n        return handle.read()",
    "mean": "def average(values):\n    return sum(values) / len(values)",
    "email": "def is_valid_email(address):\n    return '@' in address and '.' in address",
    "sort": "def sort_by_age(people):\n    return sorted(people, key=lambda p: p.age)",
    "json": "def load_json(path):\n    import json\n    return json.load(open(path))",
    "prime": "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, n))",
    "fib": "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
    "    return a",
    "fib2": "def fib(count):\n    x, y = 0, 1\n    for i in range(count):\n"
    "        x, y = y, x + y\n"
    "    return x",
    "upper": "def shout(message):\n    return message.upper() + '!'",
    "flatten": "def flatten(lists):\n    return [x for sub in lists for x in sub]",
    "dedupe": "def unique(items):\n    return list(dict.fromkeys(items))",
    "today": "def today():\n    import datetime\n    return datetime.date.today()",
    "sleep": "def wait(seconds):\n    import time\n    time.sleep(seconds)",
    "env": "def get_env(name):\n    import os\n    return os.environ.get(name)",
    "words": "def count_words(text):\n    return len(text.split())",
    "max": "def largest(values):\n    return max(values)",
    "square": "def squares(n):\n    return [i * i for i in range(n)]",
    "url": "def join_url(base, path):\n    return base.rstrip('/') + '/' + path.lstrip('/')",
}


def tiny_set() -> BeirSet:
    queries = [
        Query("q1", "reverse a string"),
        Query("q2", "check whether an email address is valid"),
        Query("q3", "read the contents of a file"),
        Query("q4", "compute the mean of a list of numbers"),
        Query("q5", "fibonacci sequence", None),
        Query("c1", FUNCTIONS["fib"], "fib"),  # code-to-code: the other fibonacci
    ]
    qrels = {"q1": {"reverse": 1}, "q2": {"email": 1}, "q3": {"read": 1}, "q4": {"mean": 1}}
    qrels |= {"q5": {"fib": 1, "fib2": 1}, "c1": {"fib2": 1}}
    return BeirSet("tiny", dict(FUNCTIONS), queries, qrels)


def test_metrics_follow_the_conventions() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"c": 1}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"] * 1000 + ["c"], {"c": 1}) == 0.0  # past rank 1000
    assert ndcg_at(["a", "b"], {"a": 1}, 10) == 1.0
    assert 0 < ndcg_at(["b", "a"], {"a": 1}, 10) < 1


def test_paired_interval_holds_the_difference_only_when_it_is_beyond_chance() -> None:
    assert paired_interval([0.5] * 40, [0.5] * 40) == (0.0, 0.0)
    assert paired_interval([0.2] * 40, [0.7] * 40) == pytest.approx((0.5, 0.5))
    # One query of forty better by 1: a difference of 0.025, which chance explains.
    low, high = paired_interval([0.0] * 40, [1.0] + [0.0] * 39)
    assert low == 0.0 and high > 0.0
    # Thirty of forty better by 0.5: well beyond chance.
    low, high = paired_interval([0.0] * 40, [0.5] * 30 + [0.0] * 10)
    assert 0.2 < low < 0.375 < high < 0.5
    with pytest.raises(ValueError):
        paired_interval([0.1], [0.1, 0.2])


def test_beir_round_trip_and_subsample_keeps_relevant(tmp_path: Path) -> None:
    write_set(tmp_path / "tiny", tiny_set())
    loaded = load_set(tmp_path / "tiny")
    assert len(loaded.corpus) == 20 and len(loaded.queries) == 6
    assert loaded.queries[-1].self_id == "fib"
    small = subsample(loaded, max_queries=3, max_corpus=5, seed=1)
    needed = {d for q in small.queries for d in small.qrels[q.id]}
    assert len(small.queries) == 3 and needed <= set(small.corpus)


def test_quality_with_the_real_model(tmp_path: Path) -> None:
    write_set(tmp_path / "tiny", tiny_set())
    out = tmp_path / "results" / "quality.json"
    assert bench_main(["quality", "--data", str(tmp_path / "tiny"), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert list(result) == ["sets"]
    entry = result["sets"]["tiny"]
    assert set(entry) == {"corpus", "queries", "pipelines"}
    assert (entry["corpus"], entry["queries"]) == (20, 6)
    assert {"bm25", "dense", "hybrid"} <= set(entry["pipelines"])
    for scores in entry["pipelines"].values():
        assert set(scores) == set(METRICS)
        assert all(0.0 <= value <= 1.0 for value in scores.values())
    # Twenty distinct functions: the shipped pipeline must find nearly everything first.
    assert entry["pipelines"]["hybrid"]["mrr"] >= 0.8
    # One row per pipeline, the set's row in the bm25/dense/hybrid summary, and one row per
    # pipeline other than hybrid in the table of differences from it.
    report = out.with_suffix(".md").read_text()
    assert report.count("| tiny |") == 2 * len(entry["pipelines"])
    ranks = json.loads((out.parent / "quality.per-query.json").read_text())["mrr"]["tiny"]
    assert set(ranks) == set(entry["pipelines"])
    for pipeline, values in ranks.items():  # each query's reciprocal rank, in query order
        assert len(values) == 6
        assert sum(values) / 6 == pytest.approx(entry["pipelines"][pipeline]["mrr"], abs=1e-4)
    bm25 = sum(ranks["bm25"]) / 6 - sum(ranks["hybrid"]) / 6
    assert f"| tiny | bm25 | {bm25:+.4f} | [" in report
    # Every set's queries taken together (here the one set's six).
    assert "| all 6 queries of 1 sets | MRR | MRR - hybrid |" in report
    assert f"| bm25 | {sum(ranks['bm25']) / 6:.4f} | {bm25:+.4f} | [" in report


def test_build_set_removes_docstrings(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        'def parse(text):\n    """Parse the text into words. More detail."""\n'
        "    return text.split()\n\n"
        "class Box:\n    def size(self):\n        '''Return the size of the box.'''\n"
        "        return 3\n\n    def stub(self):\n        '''Only a docstring here.'''\n\n"
        "def helper():\n    return 1\n"
    )
    out = tmp_path / "set"
    assert bench_main(["build-set", "--from-folder", str(package), "--out", str(out)]) == 0
    built = load_set(out)
    assert set(built.corpus) == {"mod.py::parse", "mod.py::Box.size", "mod.py::helper"}
    assert "Parse the text" not in built.corpus["mod.py::parse"]
    assert {q.text for q in built.queries} == {
        "Parse the text into words.",
        "Return the size of the box.",
    }
    assert build_from_folder(package, "x").qrels["q:mod.py::parse"] == {"mod.py::parse": 1}
    assert first_sentence("Do it now.\n\nDetails.") == "Do it now."


def test_speed_measurements_on_a_tiny_folder(workspace: Path, encoder, tmp_path: Path) -> None:
    bench = BenchEncoder(encoder)
    index = WorkspaceIndex(workspace, EngineSettings(), encoder=bench, index_dir=tmp_path / "ix")
    try:
        index.sync()
        limit = encoder_limit(index, bench, 5)
        assert limit["sample_chunks"] >= 1 and limit["raw_encode_chunks_per_s"] > 0
        bench.synthetic = True
        index.embed_pending()
        bench.synthetic = False
        assert index.status().pending == 0
        resync = warm_resync(index, repeats=2)
        assert resync["files"] > 0 and resync["median_s"] >= 0
        saved = save_to_searchable(index, runs=3)
        assert saved["runs"] == 3 and saved["p95_ms"] >= saved["median_ms"] > 0
        before = index.status().chunks
        add_synthetic_rows(index, 50)
    finally:
        index.close()
    reopened = WorkspaceIndex(workspace, EngineSettings(), encoder=bench, index_dir=tmp_path / "ix")
    try:
        assert reopened.status().chunks == before + 50
        assert reopened.status().pending == 0
        latencies = scale_latencies(reopened, bench, repeats=3)
    finally:
        reopened.close()
    assert set(latencies) == {"search", "search_without_embedding", "similar"}
    results = {
        "encoder_limit": {"ratio": 0.95},
        "warm_resync": resync,
        "save_to_searchable": saved,
        "scales": {
            "100000": {
                "chunks": 100_000,
                "sync_s": 1.0,
                "index_s_extrapolated": 9.0,
                "after_indexing": {"peak_rss_mb": 600.0, "rss_mb": 500.0},
                "steady": {"peak_rss_mb": 650.0, "rss_mb": 500.0},
                "index_mb": 10.0,
                **latencies,
            }
        },
    }
    results["targets"] = targets(results)
    assert {t["target"].split(" <")[0].split(" >=")[0] for t in results["targets"]} >= {
        "cold index / raw encoder throughput",
        "peak RSS MB at 100k chunks (model included)",
    }
    assert "MISSED" in speed_tables(results) or "met" in speed_tables(results)


def test_a_baseline_revision_runs_its_own_engine_under_this_benchmark(tmp_path):
    from lsp_server.bench.baseline import PACKAGE, engine_tree, merge

    tree = engine_tree("HEAD", tmp_path / "pkg")
    engine = tree / "lsp_server" / "engine" / "workspace.py"
    committed = subprocess.run(
        ["git", "-C", str(PACKAGE.parent), "show", "HEAD:lsp_server/engine/workspace.py"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert engine.read_text() == committed  # the revision's engine...
    bench = tree / "lsp_server" / "bench" / "baseline.py"
    assert bench.read_text() == (PACKAGE / "bench" / "baseline.py").read_text()  # ...our bench
    sets = {"s": {"pipelines": {"hybrid": {"mrr": 0.5}}}}
    merge(sets, {"s": {"pipelines": {"hybrid": {"mrr": 0.4}}}, "other": {}}, "today")
    assert sets == {"s": {"pipelines": {"hybrid": {"mrr": 0.5}, "today/hybrid": {"mrr": 0.4}}}}
    with pytest.raises(ValueError, match="cannot read revision"):
        engine_tree("no-such-revision-xyz", tmp_path / "bad")


# An engine from before this benchmark's newest engine imports (chunker.grammar_language):
# the benchmark must load over it, as `bench quality --baseline-rev` composes them.
OLDER_ENGINE = "4efbbc7"


def test_this_benchmark_loads_over_an_older_engine(tmp_path):
    from lsp_server.bench.baseline import engine_tree

    tree = engine_tree(OLDER_ENGINE, tmp_path / "pkg")
    loaded = subprocess.run(
        [sys.executable, "-c", "import lsp_server.bench.cli, lsp_server.engine.chunker as c; "
         "print(c.CHUNKER_VERSION)"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "16"  # that revision's engine, not this checkout's


def test_term_latency_times_each_term_choice_on_the_same_definitions(
    workspace: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    with WorkspaceIndex(workspace, index_dir=index_dir) as built:
        built.index()
        chunks = built.status().chunks
    out = tmp_path / "term-latency.json"
    argv = ["term-latency", str(workspace), "--index-dir", str(index_dir)]
    assert bench_main([*argv, "--definitions", "3", "--rounds", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["chunks"], result["definitions"], result["rounds"]) == (chunks, 3, 2)
    for setting in ("first_64_terms", "telling", "telling_less_file_words"):
        for query in ("similar", "selection"):
            figures = result[setting][query]
            assert figures["runs"] == 6  # every definition, every round
            assert 0 < figures["median_ms"] <= figures["p95_ms"]
