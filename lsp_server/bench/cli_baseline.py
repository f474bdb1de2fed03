"""An older engine beside this one when it cannot run under this benchmark package (its engine
lacks what today's benchmarks import): each typed question of an in-place set is asked through
that revision's own command line, `nearcode index TREE` then `nearcode search TREE QUESTION
--json`, and judged by the same rule as the run's own pipelines (a result whose lines overlap
a target's; parts of one definition counted once).

One process per question (a revision's CLI may take one query a call), so it suits sets of
tens or hundreds of questions, not thousands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .baseline import revision_tree
from .metrics import mean_scores, score_query
from .quality import ranked_keys, relevant_targets
from .treeset import ASK_SEARCH, Question, TreeSet

PIPELINE = "cli"  # named `<label>/cli` in the results, beside the run's own pipelines
_LIMIT = 100  # what command lines of every revision accept (the benchmark ranks MAX_RANK)


def run_cli_baseline(
    revision: str,
    sets: Sequence[TreeSet],
    work: Path,
    cache: Path | None = None,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, dict], dict[str, list[float]]]:
    """Scores each set's typed questions with `revision`'s command line: (results per set in
    the run's shape, each question's reciprocal rank per set). Sets that also hold selection
    or Find Similar questions are left out (the command lines of old revisions differ there)."""
    package = revision_tree(revision, work / "package")
    # Run from the package folder: `python -m` puts the working directory first on the path,
    # so a checkout's own lsp_server/ there would shadow the revision's.
    env = {
        **os.environ,
        "PYTHONPATH": str(package),
        "NEARCODE_CACHE_DIR": str(cache or work / "cache"),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    results: dict[str, dict] = {}
    ranks: dict[str, list[float]] = {}
    for tree_set in sets:
        if any(q.ask != ASK_SEARCH for q in tree_set.questions):
            log(f"{tree_set.name}: left out of the {revision} command-line run (not typed only)")
            continue
        log(f"{tree_set.name}: indexing with {revision}'s command line")
        _cli(package, env, "index", str(tree_set.tree))
        questions = tree_set.questions
        per_query = [score_query(*_judge(package, env, tree_set.tree, q)) for q in questions]
        scores = mean_scores(per_query)
        log(f"{tree_set.name}: {revision} {PIPELINE:<25} MRR {scores['mrr']:.4f}")
        results[tree_set.name] = {"pipelines": {PIPELINE: scores}}
        ranks[tree_set.name] = [row["mrr"] for row in per_query]
    return results, ranks


def _judge(
    package: Path, env: dict[str, str], tree: Path, question: Question
) -> tuple[list[str], dict]:
    limit = str(_LIMIT)
    found = json.loads(
        _cli(package, env, "search", str(tree), question.query, "--json", "--limit", limit)
    )
    rows = found["results"] if isinstance(found, dict) else found
    results = ((row["path"], *_lines(row), row.get("score", 1.0)) for row in rows)
    return ranked_keys(results, question.targets), relevant_targets(question)


def _lines(row: dict) -> tuple[int, int, int]:
    """A result's 0-based (start line, end line, end column), in either JSON shape that
    nearcode's command line has printed (an LSP range, or flat fields)."""
    if "range" in row:
        start, end = row["range"]["start"], row["range"]["end"]
        return start["line"], end["line"], end["character"]
    return row["start_line"], row["end_line"], row.get("end_col", 1)


def _cli(package: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lsp_server.cli", *args],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ValueError(f"the baseline command line failed on `{' '.join(args[:2])}`: {detail}")
    return done.stdout
