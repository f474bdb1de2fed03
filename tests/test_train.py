"""Mining training pairs, and a tiny end-to-end training run (local folder, no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lsp_server.bench.beir import BeirSet, Query, write_set
from lsp_server.bench.cli import main as bench_main
from lsp_server.engine.adapter import load_adapter
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.workspace import WorkspaceIndex
from lsp_server.train.cli import main as train_main
from lsp_server.train.definitions import doc_summary, split_leading_doc
from lsp_server.train.pairs import BenchmarkFilter, counts, fingerprint, mine
from lsp_server.train.questions import question_from_doc
from lsp_server.train.sources import (
    BENCHMARK_PROJECTS,
    Source,
    SourceError,
    benchmark_projects,
    check_not_benchmarked,
    read_package_list,
)

PYTHON_SYNC = '''
def fetch_rows(cursor, query):
    """Runs the query and returns every row of its result."""
    cursor.execute(query)
    rows = cursor.fetchall()
    return rows
'''
PYTHON_ASYNC = '''
async def fetch_rows(cursor, query):
    """Runs the query and returns every row of its result."""
    await cursor.execute(query)
    rows = await cursor.fetchall()
    return rows
'''
JAVASCRIPT = """
/**
 * Formats a duration in milliseconds as minutes and seconds.
 * @param {number} ms
 */
function formatDuration(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${seconds % 60}`;
}
"""
README = """# demo

## Fetching rows from a table

```python
rows = fetch_rows(cursor, "select * from users")
print(len(rows))
```
"""


def _package(root: Path) -> Path:
    (root / "demo" / "aio").mkdir(parents=True)
    (root / "demo" / "db.py").write_text(PYTHON_SYNC)
    (root / "demo" / "aio" / "db.py").write_text(PYTHON_ASYNC)
    (root / "demo" / "time.js").write_text(JAVASCRIPT)
    (root / "README.md").write_text(README)
    return root


def test_doc_comments_split_from_code() -> None:
    doc, code = split_leading_doc(JAVASCRIPT.strip())
    assert code.startswith("function formatDuration(ms) {")
    assert doc_summary(doc) == "Formats a duration in milliseconds as minutes and seconds."
    go = "// Clamp limits v to [lo, hi].\n// It panics if lo > hi.\nfunc Clamp(v, lo, hi int) int {"
    doc, code = split_leading_doc(go)
    assert doc_summary(doc) == "Clamp limits v to [lo, hi]."
    assert code == "func Clamp(v, lo, hi int) int {"
    rust = "/// Returns the `n`th prime.\n#[inline]\npub fn prime(n: usize) -> u64 {"
    doc, code = split_leading_doc(rust)
    assert doc_summary(doc) == "Returns the `n`th prime."
    assert code.startswith("#[inline]")


def test_questions_by_rule() -> None:
    question = question_from_doc("Returns the number of nodes in the graph.", "python", 0)
    assert question is not None and "get" in question.split() and "nodes" in question
    assert "returns" not in question
    checked = question_from_doc("Checks whether the path is writable.", "python", 1)
    assert checked is not None and "check if" in checked
    assert question_from_doc("The cache of compiled patterns.", "python", 0) is None


def test_mining_a_local_package(tmp_path: Path) -> None:
    tree = _package(tmp_path / "pkg")
    pairs = mine({Source("folder", "demo", "local"): tree}, BenchmarkFilter(), log=lambda _: None)
    table = counts(pairs)
    assert table["python"]["doc"] == 2  # the twins differ (await), so both are documents
    assert table["javascript"]["doc"] == 1
    assert table["python"]["async-twin"] == 2  # one pair each way
    assert table["python"]["howto"] == 1
    twin = next(p for p in pairs if p.relation == "async-twin" and p.query.startswith("async"))
    assert twin.code.startswith("def fetch_rows") and '"""' not in twin.code
    howto = next(p for p in pairs if p.relation == "howto")
    assert howto.query == "Fetching rows from a table" and "fetch_rows(cursor" in howto.code


def test_batches_of_one_package_and_no_false_negatives() -> None:
    from lsp_server.train.lora import LoraConfig, _batches, _same_answer_mask

    groups = ["a"] * 5 + ["b"] * 5 + ["c"] * 6
    config = LoraConfig(batch_size=4, group_batches=True)
    batches = _batches(len(groups), config, np.random.default_rng(0), groups)
    assert sorted(i for batch in batches for i in batch) == list(range(16))
    mixed = [batch for batch in batches if len({groups[i] for i in batch}) > 1]
    assert len(mixed) <= 2  # only where one package's pairs run out mid-batch
    plain = _batches(len(groups), LoraConfig(batch_size=4), np.random.default_rng(0), groups)
    assert sorted(i for batch in plain for i in batch) == list(range(16))
    rows = [("q1", "d1"), ("q1", "d2"), ("q3", "d1"), ("q4", "d4")]
    mask = _same_answer_mask(rows, "cpu").tolist()
    assert mask[0] == [False, True, True, False]  # same query, same document: not negatives
    assert mask[3] == [False, False, False, False]
    assert not any(mask[i][i] for i in range(4))


def test_benchmark_code_and_projects_are_never_mined(tmp_path: Path) -> None:
    tree = _package(tmp_path / "pkg")
    # A benchmark set holding the sync function (with its docstring, as CoSQA has them).
    write_set(
        tmp_path / "set",
        BeirSet(
            "set", {"d1": PYTHON_SYNC.strip()}, [Query("q1", "some other query")], {"q1": {"d1": 1}}
        ),
    )
    exclude = BenchmarkFilter.from_sets([tmp_path / "set"])
    pairs = mine({Source("folder", "demo", "local"): tree}, exclude, log=lambda _: None)
    banned = fingerprint(PYTHON_SYNC)
    assert pairs and all(banned not in (fingerprint(p.code), fingerprint(p.query)) for p in pairs)

    with pytest.raises(SourceError, match="Requests==2.32.3"):
        check_not_benchmarked([Source("pypi", "Requests", "2.32.3")], BENCHMARK_PROJECTS)
    with pytest.raises(SourceError, match="golang-github-acme-gizmo-dev"):
        check_not_benchmarked([Source("debian", "golang-github-acme-gizmo-dev", "1")], {"gizmo"})
    # Every in-place set's project is banned, by set name and by package name.
    banned = benchmark_projects()
    assert {"itertools", "serde-json", "rxjs", "mobx", "commander", "chi", "jsoup"} <= banned
    with pytest.raises(SourceError, match="librust-itertools-dev"):
        check_not_benchmarked([Source("debian", "librust-itertools-dev", "0.10.3-1")], banned)
    # A Debian source package asked for as `src:NAME` is banned by its package name too.
    listed = tmp_path / "projects.json"
    row = {"name": "cm-2.3.9", "source": "deb", "spec": "src:php-league-commonmark=2.3.9-1"}
    listed.write_text(json.dumps({"projects": [{**row, "language": "php", "role": "tune"}]}))
    with pytest.raises(SourceError, match="php-league-commonmark"):
        source = Source("debian", "php-league-commonmark", "2.3.9-1+deb12u1")
        check_not_benchmarked([source], benchmark_projects(listed))
    # The committed list itself is clean and pinned.
    sources = read_package_list()
    check_not_benchmarked(sources, banned)
    assert all(s.version for s in sources)


# Functions whose docs share no words with their code: the base model cannot pair them,
# so a trained adapter must be what ranks them.
ODD_DOCS = [
    "Summon the purple dragon of the north.",
    "Whisper a lullaby to sleeping volcanoes.",
    "Polish the silver moon before dawn.",
    "Count the freckles of a sunburnt giraffe.",
    "Teach penguins to waltz on thin ice.",
    "Brew tea for the grumpy lighthouse keeper.",
    "Paint rainbows over the haunted marsh.",
    "Knit scarves for chilly snowmen.",
    "Tune the harp of the sleeping mermaid.",
    "Feed cookies to the hungry thunderstorm.",
]
BODIES = [
    "return [v * 2 for v in values]",
    "return sum(values) - min(values)",
    "return sorted(values, reverse=True)[:3]",
    "return {v: i for i, v in enumerate(values)}",
    "return [v for v in values if v % 3 == 0]",
    "return len(set(values)) == len(values)",
    "return values[::2] + values[1::2]",
    "return max(values) / (len(values) or 1)",
    "return list(zip(values, values[1:]))",
    "return [abs(v) for v in values if v < 0]",
]


def _odd_folders(root: Path) -> tuple[Path, Path]:
    documented, bare = root / "documented", root / "bare"
    documented.mkdir(parents=True)
    bare.mkdir(parents=True)
    for number, (doc, body) in enumerate(zip(ODD_DOCS, BODIES, strict=True)):
        name = f"step_{number}"
        (documented / f"{name}.py").write_text(
            f'def {name}(values):\n    """{doc}"""\n    {body}\n'
        )
        (bare / f"{name}.py").write_text(f"def {name}(values):\n    {body}\n")
    return documented, bare


def _mrr(index: WorkspaceIndex) -> float:
    ranks = []
    for number, doc in enumerate(ODD_DOCS):
        paths = [r.path for r in index.search(doc, limit=len(ODD_DOCS)).results]
        ranks.append(1 / (paths.index(f"step_{number}.py") + 1))
    return float(np.mean(ranks))


def test_train_a_tiny_adapter_end_to_end(tmp_path: Path) -> None:
    documented, bare = _odd_folders(tmp_path / "src")
    out = tmp_path / "adapter.npz"
    status = train_main(
        ["adapter", "--from-folder", str(documented), "--cache", str(tmp_path / "cache"),
         "--out", str(out), "--epochs", "300"]
    )  # fmt: skip
    assert status == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["per_language"]["python"]["doc"] == len(ODD_DOCS)
    assert report["kinds"]["prose"]["pairs"] >= 10
    assert load_adapter(str(out)) is not None

    dense_only = {"lexical_weight": 0.0, "prose_lexical_weight": 0.0}
    with WorkspaceIndex(bare, EngineSettings(adapter="none", **dense_only)) as index:
        index.index()
        base = _mrr(index)
    with WorkspaceIndex(bare, EngineSettings(adapter=str(out), **dense_only)) as index:
        adapted = _mrr(index)
        assert not index.notices and index.status().pending == 0
    assert base < 0.7  # the base model cannot tell which odd doc goes with which code
    assert adapted > base + 0.2, (base, adapted)

    # The benchmark reports base and adapted side by side from one run.
    corpus = {f"step_{n}": f"def step_{n}(values):\n    {b}" for n, b in enumerate(BODIES)}
    queries = [Query(f"q{n}", doc) for n, doc in enumerate(ODD_DOCS)]
    qrels = {f"q{n}": {f"step_{n}": 1} for n in range(len(ODD_DOCS))}
    write_set(tmp_path / "odd", BeirSet("odd", corpus, queries, qrels))
    result = tmp_path / "quality.json"
    wanted = "dense/adapter=none,dense/adapter=adapter"
    assert bench_main(
        ["quality", "--data", str(tmp_path / "odd"), "--adapter", "none", "--adapter", str(out),
         "--pipelines", wanted, "--out", str(result), "--work", str(tmp_path / "work")]
    ) == 0  # fmt: skip
    scores = json.loads(result.read_text())["sets"]["odd"]["pipelines"]
    assert set(scores) == set(wanted.split(","))
    assert scores["dense/adapter=adapter"]["mrr"] > scores["dense/adapter=none"]["mrr"] + 0.2


def test_train_a_tiny_lora_grouped_and_scaled(tmp_path: Path) -> None:
    """`train lora` end to end on a local folder: batches of one package but for the
    relations asked to mix, and --update-scale saving that share of the learnt update."""
    documented, _ = _odd_folders(tmp_path / "src")
    common = [
        "lora", "--from-folder", str(documented), "--cache", str(tmp_path / "cache"),
        "--batch-size", "4", "--device", "cpu", "--group-batches",
        "--ungrouped-relation", "question",
    ]  # fmt: skip
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    assert train_main([*common, "--update-scale", "1", "--out", str(whole)]) == 0
    assert train_main([*common, "--update-scale", "0.5", "--out", str(part)]) == 0
    report = json.loads(part.with_suffix(".json").read_text())
    assert report["update_scale"] == 0.5 and report["ungrouped_relations"] == ["question"]
    assert report["config"]["group_batches"] is True
    trained, scaled = load_adapter(str(whole)), load_adapter(str(part))
    assert trained is not None and scaled is not None and trained.identity != scaled.identity
    ups = [key for key in trained.arrays if key.endswith(".up")]
    assert ups and all(np.abs(trained.arrays[key]).max() > 0 for key in ups)  # it learnt
    for key, value in trained.arrays.items():  # the same run, its update halved
        np.testing.assert_array_equal(scaled.arrays[key], value * 0.5 if key in ups else value)


def test_train_lora_refuses_unknown_relations_and_scales(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = ["lora", "--from-folder", str(tmp_path), "--out", str(tmp_path / "x.npz")]
    assert train_main([*folder, "--ungrouped-relation", "questions"]) == 1
    assert "unknown relations ['questions']: use doc, question, documented" in (
        capsys.readouterr().err
    )
    assert train_main([*folder, "--update-scale", "1.5"]) == 1
    assert "--update-scale must be in (0, 1], not 1.5" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_train_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = train_main(["adapter", "--from-folder", str(tmp_path / "nope"), "--out", "x.npz"])
    assert status == 1
    assert "no such folder" in capsys.readouterr().err

