"""`nearcode bench quality | build-set | speed`: argument parsing and result files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..engine.settings import EngineSettings
from .inplace import DEFAULT_SAMPLE
from .metrics import LANDING
from .projects import DEFAULT_PROJECTS, QUERY_SOURCES
from .report import (
    difference_table,
    language_table,
    machine,
    pooled_table,
    quality_plot,
    quality_table,
    replay_table,
    summary_table,
    write_json,
)
from .treeset import TreeSet

DEFAULT_RESULTS = Path("bench-results")


def _adapter(value: str) -> str:
    # Imported here: a baseline revision's engine (bench/baseline.py) may predate adapters.
    from ..engine.validation import InputError, adapter_setting

    try:
        return adapter_setting(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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
    parser.add_argument(
        "--pipelines",
        action="append",
        default=[],
        metavar="GLOB",
        help="score only the pipelines matching these patterns (e.g. 'hybrid*'); default: all",
    )
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        type=_adapter,
        metavar="none|FILE",
        help="also score dense and hybrid with this adapter setting (none: the bare model; "
        "FILE: a .npz from `nearcode train`), as pipelines '<base>/adapter=NAME'; repeatable",
    )
    parser.add_argument(
        "--baseline-rev",
        metavar="REV",
        help="also score bm25/dense/hybrid with the engine of this git revision (e.g. the "
        "last release), as pipelines 'today/...' beside this engine's",
    )
    parser.add_argument(
        "--baseline-cli",
        metavar="REV",
        help="also ask each in-place set's typed questions through the command line of this "
        "git revision (`nearcode index`, `nearcode search --json`), as pipeline 'today/cli': "
        "for revisions whose engine cannot run under this benchmark (--baseline-rev fails)",
    )
    parser.add_argument(
        "--baseline-cache",
        type=Path,
        metavar="DIR",
        help="NEARCODE_CACHE_DIR of the baseline's engine (reuse its indexes between runs)",
    )
    parser.add_argument(
        "--capture",
        type=Path,
        metavar="DIR",
        help="also write the shipped hybrid's fusion inputs per query (every candidate's "
        "dense and BM25 score and prior), a DIR/<set>.jsonl.gz per set, for `bench replay`",
    )


def _replay_parser(sub) -> None:
    parser = sub.add_parser(
        "replay",
        help="score other fusions offline on the traces of `bench quality --capture`",
    )
    parser.add_argument("captures", nargs="+", type=Path, metavar="CAPTURE")
    parser.add_argument(
        "--try",
        dest="fusions",
        action="append",
        default=[],
        metavar="SPEC",
        help="a fusion: a normalization (max, zscore[:DEPTH], minmax[:DEPTH]) and weights, "
        "e.g. 'zscore:50 prose=0.2 named=0.5' (BM25's weight per query kind: prose, named, "
        "code, similar, class; dense=W; coverage=G: a question's BM25 weight times its "
        "coverage to the power G, 0 for a constant weight; neighbours=K: how deep "
        "undocumented results move above documented neighbours, 0 for not; blocks=K: how "
        "deep in BM25's ranking a block declaring a question's word keeps BM25's whole "
        "weight, 0 for not; agreed=1|0: whether such a block stays below a unit both "
        "rankings put first); repeatable",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS / "replay.json")


def _build_set_parser(sub) -> None:
    parser = sub.add_parser(
        "build-set",
        help="a set from source: CodeSearchNet-style (BEIR) or, with --in-place, a whole tree",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-folder", type=Path, metavar="DIR")
    source.add_argument("--from-pypi", metavar="NAME==VERSION")
    source.add_argument("--from-npm", metavar="NAME@VERSION", help="with --in-place")
    source.add_argument(
        "--from-deb",
        metavar="PACKAGE[=VERSION]",
        help=(
            "with --in-place: golang-*-dev / librust-*-dev / ruby-* / php-* (the installed "
            "sources), a Debian source package, or src:PACKAGE (its source package)"
        ),
    )
    source.add_argument(
        "--projects",
        nargs="?",
        const=DEFAULT_PROJECTS,
        type=Path,
        metavar="FILE",
        help="with --in-place: build every project of FILE (default: the pinned list) "
        "into OUT/<name>",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="SETDIR")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="copy the whole tree, remove the docs of --sample definitions there, "
        "and ask their first sentences",
    )
    parser.add_argument(
        "--queries",
        choices=QUERY_SOURCES,
        default="docs",
        help="with --in-place: ask the first sentences of --sample removed docs (docs); "
        "--sample of the tree's error messages as selections (errors); or Find Similar on "
        "--sample definitions that share their name with others, the others to be found "
        "(similar), or on --sample classes that share a direct supertype with others, "
        "their siblings to be found (classes); or --sample definitions (names) or "
        "constants (constants) that one place defines and others use, asked by their bare "
        "name. All but docs leave the tree untouched",
    )
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--questions",
        type=Path,
        metavar="FILE",
        help="with --in-place: your own questions (JSON lines) against the untouched tree",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="PATH",
        help="with --in-place: leave this path of the fetched tree out (repeatable): a "
        "package's compiled copies of its sources (`lib`, `dist`), which its repository "
        "does not hold",
    )
    parser.add_argument("--force", action="store_true", help="rebuild sets already up to date")


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
    _adapter_speed_parser(sub)
    _term_latency_parser(sub)
    _replay_parser(sub)
    return parser


def set_folders(folders: Sequence[Path]) -> list[Path]:
    """Each --data folder, or the sets inside it when it is a folder of sets."""
    from .treeset import is_tree_set

    def is_set(folder: Path) -> bool:
        return is_tree_set(folder) or (folder / "corpus.jsonl").is_file()

    found: list[Path] = []
    for folder in folders:
        inside = sorted(p for p in folder.iterdir() if is_set(p)) if folder.is_dir() else []
        found += [folder] if is_set(folder) or not inside else inside
    return found


def load_any(folder: Path, max_queries: int | None, max_corpus: int | None, seed: int):
    """A BEIR set (corpus.jsonl) or an in-place set (questions.jsonl), sampled alike."""
    from .beir import load_set, subsample
    from .treeset import is_tree_set, load_tree_set, sample_questions

    if is_tree_set(folder):
        if max_corpus is not None:
            print(f"{folder}: --max-corpus applies to BEIR sets only", file=sys.stderr)
        return sample_questions(load_tree_set(folder), max_queries, seed)
    if not (folder / "corpus.jsonl").is_file():
        raise ValueError(
            f"{folder} is not a set: expected corpus.jsonl (BEIR layout), questions.jsonl "
            "(in-place layout) or a folder of such sets"
        )
    return subsample(load_set(folder), max_queries, max_corpus, seed)


def cmd_quality(args: argparse.Namespace) -> int:
    from ..cli import ProgressBar
    from .quality import QualityRun

    work = args.work or args.out.parent / "work"
    runner = QualityRun(
        work,
        EngineSettings(model=args.model or None, backend=args.backend),
        code_mode=args.code_mode,
        progress=ProgressBar(),
        patterns=[p for arg in args.pipelines for p in arg.split(",") if p],
        adapters=args.adapter,
        capture=args.capture,
    )
    sets: dict[str, dict] = {}
    details: dict[str, dict] = {}
    per_query: dict[str, dict[str, list[float]]] = {}
    landing: dict[str, dict[str, list[float]]] = {}  # in-place sets: metrics.LANDING
    languages: dict[str, list[str]] = {}  # in-place sets: each answer's language
    tree_sets: list[TreeSet] = []  # in-place sets, for --baseline-cli
    for folder in set_folders(args.data):
        data = load_any(folder, args.max_queries, args.max_corpus, args.seed)
        if isinstance(data, TreeSet):
            tree_sets.append(data)
        result = runner.run(data)
        sets[result.name] = result.to_json()
        per_query[result.name] = result.per_query
        if result.per_query_landing:
            landing[result.name] = result.per_query_landing
        if result.answer_languages:
            languages[result.name] = result.answer_languages
        details[result.name] = {
            "chunks": result.chunks,
            "index_seconds": result.index_seconds,
            "query_seconds": result.query_seconds,
            "code_mode": result.code_mode,
        }
        if result.layout != "beir":
            meta = getattr(data, "meta", {})
            details[result.name] |= {"files": result.files, "role": meta.get("role", "")}
            details[result.name] |= {"language": meta.get("language", "")}
    write_json(args.out, {"sets": sets})  # kept even if the baseline run fails
    # Beside the results, not in them: the results file keeps the shape tools know.
    per_query_file = {"mrr": per_query, LANDING: landing, "languages": languages}
    write_json(per_query_path(args.out), per_query_file)
    if args.baseline_rev:
        from .baseline import merge, run_baseline

        argv = _baseline_argv(args)
        baseline = run_baseline(args.baseline_rev, argv, work / "baseline", args.baseline_cache)
        merge(sets, baseline, "today")
        details["baseline"] = {"revision": args.baseline_rev}
        write_json(args.out, {"sets": sets})
    if args.baseline_cli:
        _cli_baseline(args, tree_sets, work / "baseline-cli", sets, per_query_file)
        details["baseline-cli"] = {"revision": args.baseline_cli}
    table = quality_table(sets) + "\n\n" + summary_table(sets)
    print(table)
    table += "\n\n" + pooled_table(per_query, "hybrid") + "\n\n" + difference_table(per_query)
    by_language = language_table(per_query, landing, languages)
    if by_language:
        print("\n" + by_language)
        table += "\n\n" + by_language
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


def _cli_baseline(
    args: argparse.Namespace,
    tree_sets: list[TreeSet],
    work: Path,
    sets: dict[str, dict],
    per_query_file: dict[str, dict],
) -> None:
    """--baseline-cli: the revision's command line on the in-place sets, merged into the
    run's results and per-query ranks (``per_query_file``'s "mrr") as 'today/cli' (files
    rewritten)."""
    from .baseline import merge
    from .cli_baseline import PIPELINE, run_cli_baseline

    results, ranks = run_cli_baseline(args.baseline_cli, tree_sets, work, args.baseline_cache)
    merge(sets, results, "today")
    for name, rows in ranks.items():
        per_query_file["mrr"][name][f"today/{PIPELINE}"] = rows
    write_json(args.out, {"sets": sets})
    write_json(per_query_path(args.out), per_query_file)


def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import (
        BM25_ALONE,
        DENSE_ALONE,
        SHIPPED,
        load_captures,
        parse_fusion,
        replay_ranks,
        unreproduced,
    )

    fusions = [SHIPPED, BM25_ALONE, DENSE_ALONE, *map(parse_fusion, args.fusions)]
    per_query: dict[str, dict[str, list[float]]] = {}
    for captured in load_captures(args.captures):
        runs = {f.label: replay_ranks(captured, f) for f in fusions}
        missed = unreproduced(captured, runs[SHIPPED.label])
        if missed:  # e.g. stack-trace frames, ranked above the fusion: said, not hidden
            print(
                f"{captured.name}: {missed} of {len(captured.queries)} queries replay to "
                "another rank than the engine gave",
                file=sys.stderr,
            )
        per_query[captured.name] = runs
    sets = {
        name: {label: round(sum(ranks) / max(len(ranks), 1), 4) for label, ranks in runs.items()}
        for name, runs in per_query.items()
    }
    table = "\n\n".join(
        (
            replay_table(sets),
            pooled_table(per_query, SHIPPED.label),
            difference_table(per_query, SHIPPED.label),
        )
    )
    write_json(args.out, {"sets": sets})
    write_json(per_query_path(args.out), {"mrr": per_query})
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    return 0


def per_query_path(out: Path) -> Path:
    """Where a quality run writes each query's reciprocal rank per pipeline."""
    return out.with_name(out.stem + ".per-query.json")


def _baseline_argv(args: argparse.Namespace) -> list[str]:
    """This run's set options, for the baseline's child process."""
    argv = ["quality", "--backend", args.backend, "--seed", str(args.seed)]
    argv += ["--code-mode", args.code_mode]
    for folder in args.data:
        argv += ["--data", str(folder.resolve())]
    for flag, value in (
        ("--model", args.model),
        ("--max-queries", args.max_queries),
        ("--max-corpus", args.max_corpus),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return argv


def _adapter_speed_parser(sub) -> None:
    parser = sub.add_parser(
        "adapter-speed", help="indexing throughput and query latency with and without an adapter"
    )
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--adapter", default="default", metavar="default|FILE")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sample", type=int, default=256, help="chunks per throughput round")
    parser.add_argument("--out", type=Path)


def _term_latency_parser(sub) -> None:
    parser = sub.add_parser(
        "term-latency",
        help="Find Similar and selection latency: BM25 by a query's first or most telling terms",
    )
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True, metavar="DIR")
    parser.add_argument("--definitions", type=int, default=30, metavar="N")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)


def cmd_term_latency(args: argparse.Namespace) -> int:
    import json

    from .term_latency import measure

    result = measure(
        args.workspace.resolve(), args.index_dir.resolve(), args.definitions, args.rounds
    )
    print(json.dumps(result, indent=2))
    if args.out:
        write_json(args.out, result)
    return 0


def cmd_adapter_speed(args: argparse.Namespace) -> int:
    import json

    from .adapter_speed import measure

    result = measure(args.workspace.resolve(), args.adapter, args.rounds, args.sample)
    print(json.dumps(result, indent=2))
    if args.out:
        write_json(args.out, result)
    return 0


def cmd_build_set(args: argparse.Namespace) -> int:
    if args.in_place:
        return _build_in_place(args)
    if args.from_npm or args.from_deb or args.projects or args.questions or args.without:
        raise ValueError(
            "--from-npm, --from-deb, --projects, --questions and --without need --in-place"
        )
    if args.queries != "docs":
        raise ValueError(
            f"--queries {args.queries} needs --in-place (the whole tree is the corpus)"
        )
    from .buildset import build_from_folder, build_from_pypi

    if args.from_folder is not None:
        data = build_from_folder(args.from_folder, args.out.resolve().name)
    else:
        data = build_from_pypi(args.from_pypi, args.out.resolve().name)
    from .beir import write_set

    write_set(args.out, data)
    print(f"wrote {args.out}: {len(data.corpus)} functions, {len(data.queries)} queries")
    return 0


def _build_in_place(args: argparse.Namespace) -> int:
    from .projects import build_projects, build_source
    from .sources import Source

    if args.projects is not None:
        if args.without:
            raise ValueError("--without is given per project, in the project list")
        return 1 if build_projects(args.projects, args.out, force=args.force) else 0
    kinds = {"folder": args.from_folder, "pypi": args.from_pypi}
    kinds |= {"npm": args.from_npm, "deb": args.from_deb}
    kind, spec = next((k, v) for k, v in kinds.items() if v is not None)
    line = build_source(
        Source(kind, str(spec)),
        args.out,
        sample=args.sample,
        seed=args.seed,
        questions=args.questions,
        extra={},
        queries=args.queries,
        without=tuple(args.without),
    )
    print(line)
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    from .speed import run_speed

    return run_speed(args)


COMMANDS = {
    "quality": cmd_quality,
    "build-set": cmd_build_set,
    "speed": cmd_speed,
    "adapter-speed": cmd_adapter_speed,
    "term-latency": cmd_term_latency,
    "replay": cmd_replay,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.bench](args)
    except (ValueError, OSError) as exc:
        print(f"nearcode bench: {exc}", file=sys.stderr)
        return 1
