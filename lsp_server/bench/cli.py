"""`nearcode bench quality | build-set | speed`: argument parsing and result files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..engine.settings import EngineSettings
from .report import machine, quality_plot, quality_table, write_json

DEFAULT_RESULTS = Path("bench-results")


def _quality_parser(sub) -> None:
    parser = sub.add_parser("quality", help="retrieval quality on BEIR-layout sets")
    parser.add_argument("--data", action="append", required=True, type=Path, metavar="DIR")
    parser.add_argument("--model", default=os.environ.get("NEARCODE_MODEL"))
    parser.add_argument(
        "--backend",
        default=EngineSettings().backend,
        help="encoder backend: onnx, onnx-int8 or torch",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS / "quality.json")
    parser.add_argument("--max-queries", type=int, metavar="N", help="seeded sample of queries")
    parser.add_argument(
        "--max-corpus", type=int, metavar="N", help="seeded sample of distractors (keeps relevant)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--code-mode",
        choices=("similar", "selection", "text"),
        default="similar",
        help="engine call for code-to-code queries (default: similar at the first line)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="where the sets become workspaces (default: RESULTS/work next to --out); "
        "keep it to reuse the embedding cache",
    )


def _build_set_parser(sub) -> None:
    parser = sub.add_parser("build-set", help="a CodeSearchNet-style set from Python source")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-folder", type=Path, metavar="DIR")
    source.add_argument("--from-pypi", metavar="NAME==VERSION")
    parser.add_argument("--out", type=Path, required=True, metavar="SETDIR")


def _speed_parser(sub) -> None:
    parser = sub.add_parser("speed", help="indexing, update and query speed; memory")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=Path, metavar="DIR")
    source.add_argument("--from-pypi", metavar="NAME==VERSION", default="django==5.1.4")
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS / "speed.json")
    parser.add_argument("--model", default=os.environ.get("NEARCODE_MODEL"))
    parser.add_argument(
        "--embed-sample",
        type=int,
        default=2000,
        metavar="N",
        help="time the cold embedding over N chunks and extrapolate (0: embed everything)",
    )
    parser.add_argument(
        "--scales",
        default="1000,5000,20000,100000",
        help="chunk counts for query latency, memory and the scaling plot",
    )
    parser.add_argument("--repeats", type=int, default=50, help="queries per latency figure")
    parser.add_argument("--work", type=Path, help="scratch folder (default: next to --out)")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="measure only cold sync and embedding throughput (local, and remote if asked)",
    )
    remote = parser.add_argument_group("embedding server (chunks/s next to the local encoder)")
    target = remote.add_mutually_exclusive_group()
    target.add_argument(
        "--remote-url", metavar="URL", help="an OpenAI-compatible server to measure"
    )
    target.add_argument(
        "--remote-start",
        action="store_true",
        help="start the test server (infinity-emb, bundled weights, CPU) on loopback",
    )
    remote.add_argument("--remote-model", metavar="NAME", help="model name on the server")
    remote.add_argument("--remote-batch-size", type=int, default=64, metavar="N")
    remote.add_argument("--remote-concurrency", type=int, default=2, metavar="N")
    remote.add_argument("--remote-api-key-env", default="", metavar="VAR")
    remote.add_argument(
        "--remote-timeout-ms",
        type=int,
        default=120_000,
        metavar="MS",
        help="per request (default 120000: a CPU server on a busy machine is slow)",
    )
    remote.add_argument(
        "--remote-repeats", type=int, default=3, metavar="N", help="runs of each (median)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nearcode bench", description=__doc__)
    sub = parser.add_subparsers(dest="bench", required=True)
    _quality_parser(sub)
    _build_set_parser(sub)
    _speed_parser(sub)
    return parser


def cmd_quality(args: argparse.Namespace) -> int:
    from ..cli import ProgressBar
    from .beir import load_set, subsample
    from .quality import QualityRun

    work = args.work or args.out.parent / "work"
    runner = QualityRun(
        work,
        EngineSettings(model=args.model or None, backend=args.backend),
        code_mode=args.code_mode,
        progress=ProgressBar(),
    )
    sets: dict[str, dict] = {}
    details: dict[str, dict] = {}
    for folder in args.data:
        data = subsample(load_set(folder), args.max_queries, args.max_corpus, args.seed)
        result = runner.run(data)
        sets[result.name] = result.to_json()
        details[result.name] = {
            "chunks": result.chunks,
            "index_seconds": result.index_seconds,
            "query_seconds": result.query_seconds,
            "code_mode": result.code_mode,
        }
    write_json(args.out, {"sets": sets})
    table = quality_table(sets)
    print(table)
    notes = [
        f"machine: {machine()}",
        f"model: {runner.encoder.identity}",
        f"date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"options: max_queries={args.max_queries} max_corpus={args.max_corpus} seed={args.seed}",
        *(f"{name}: {info}" for name, info in details.items()),
    ]
    args.out.with_suffix(".md").write_text(
        table + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    )
    quality_plot(args.out.with_suffix(".png"), sets)
    print("\n".join(notes), file=sys.stderr)
    return 0


def cmd_build_set(args: argparse.Namespace) -> int:
    from .buildset import build_from_folder, build_from_pypi

    if args.from_folder is not None:
        data = build_from_folder(args.from_folder, args.out.resolve().name)
    else:
        data = build_from_pypi(args.from_pypi, args.out.resolve().name)
    from .beir import write_set

    write_set(args.out, data)
    print(f"wrote {args.out}: {len(data.corpus)} functions, {len(data.queries)} queries")
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    from .speed import run_speed

    return run_speed(args)


COMMANDS = {"quality": cmd_quality, "build-set": cmd_build_set, "speed": cmd_speed}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.bench](args)
    except (ValueError, OSError) as exc:
        print(f"nearcode bench: {exc}", file=sys.stderr)
        return 1
