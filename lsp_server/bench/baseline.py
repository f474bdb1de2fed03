"""Today's engine beside the changed one, in one run: the same sets and scorer, run against the
engine of another git revision in a child process.

The child gets the revision's `lsp_server/engine` (from `git archive`) with this checkout's
benchmark package on top, so both columns come from one scorer and differ only in the engine.
It keeps its indexes in a cache of its own: index formats differ between revisions.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # lsp_server/
REPOSITORY = PACKAGE.parent
BASELINE_PIPELINES = ("bm25", "dense", "hybrid")


def engine_tree(revision: str, into: Path) -> Path:
    """A package folder: the revision's engine, this checkout's benchmarks and entry points."""
    revision_tree(revision, into)
    bench = into / "lsp_server" / "bench"
    shutil.rmtree(bench, ignore_errors=True)
    shutil.copytree(PACKAGE / "bench", bench, ignore=shutil.ignore_patterns("__pycache__"))
    return into


def revision_tree(revision: str, into: Path) -> Path:
    """A package folder holding the revision's whole `lsp_server`, as committed."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPOSITORY), "archive", "--format=tar", revision, "lsp_server"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise ValueError(
            f"cannot read revision {revision!r} from {REPOSITORY} (needs git and the "
            f"repository's history): {detail.decode(errors='replace').strip() or exc}"
        ) from exc
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_baseline(revision: str, argv: list[str], work: Path, cache: Path | None = None) -> dict:
    """Scores the sets of `argv` (a `bench quality` command line) with `revision`'s engine;
    returns the `sets` of its result file, with bm25/dense/hybrid only. `cache` may hold that
    engine's indexes from an earlier run."""
    tree = engine_tree(revision, work / "engine")
    out = work / "result.json"
    pipelines = [arg for name in BASELINE_PIPELINES for arg in ("--pipelines", name)]
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "NEARCODE_CACHE_DIR": str(cache or work / "cache"),
    }
    script = "import sys; from lsp_server.bench.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", script, *argv, *pipelines, "--out", str(out)]
    command += ["--work", str(work / "sets")]
    done = subprocess.run(command, cwd=work, env=env, check=False)
    if done.returncode != 0:
        raise ValueError(f"the baseline run with {revision} failed (exit {done.returncode})")
    return json.loads(out.read_text())["sets"]


def merge(sets: dict, baseline: dict, label: str) -> None:
    """Puts the baseline's pipelines beside the run's, named `<label>/<pipeline>`."""
    for name, result in baseline.items():
        if name in sets:
            for pipeline, scores in result["pipelines"].items():
                sets[name]["pipelines"][f"{label}/{pipeline}"] = scores
