"""The `nearcode` command line: a thin adapter over the engine (and the server's entry point)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .engine.embedder import EncoderUnavailable, ModelLoadError
from .engine.locations import Manifest, index_dir_for
from .engine.remote_encoder import destination
from .engine.results import SearchResponse
from .engine.settings import DEFAULT_MAX_FILE_SIZE, PROVIDERS, EmbeddingsProvider, EngineSettings
from .engine.workspace import IndexError_, Progress, WorkspaceIndex


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class ProgressBar:
    """One self-rewriting line on a terminal; a line per 10% step in logs (CI)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._started: dict[str, float] = {}
        self._last_step: dict[str, int] = {}
        self._phase_began = time.monotonic()  # a phase starts when the previous one ended

    def __call__(self, event: Progress) -> None:
        started = self._started.setdefault(event.phase, self._phase_began)
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = event.done / elapsed
        eta = (event.total - event.done) / rate if rate > 0 else 0.0
        unit = "chunks" if event.phase == "embed" else "files"
        pct = 100 * event.done // max(event.total, 1)
        line = (
            f"{event.phase:>5} {_bar(pct)} {pct:3d}% {event.done}/{event.total} {unit} "
            f"{rate:6.1f} {unit}/s ETA {_clock(eta)}"
        )
        if event.done >= event.total:
            self._phase_began = time.monotonic()
        if self.tty:
            self.stream.write("\r" + line + ("\n" if event.done >= event.total else ""))
            self.stream.flush()
        elif pct // 10 != self._last_step.get(event.phase, -1):
            self._last_step[event.phase] = pct // 10
            self.stream.write(line + "\n")


def _bar(pct: int, width: int = 24) -> str:
    filled = width * pct // 100
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


# -- argument parsing -----------------------------------------------------------------------------


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=os.environ.get("NEARCODE_MODEL"),
        help="sentence-transformers model name or local path "
        "(default: the bundled all-MiniLM-L6-v2)",
    )
    parser.add_argument(
        "--backend",
        choices=("onnx", "onnx-int8", "torch"),
        default=os.environ.get("NEARCODE_BACKEND", "onnx"),
        help="encoder backend (default onnx; see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="gitignore-style pattern to leave out (repeatable)",
    )
    parser.add_argument(
        "--max-file-size",
        type=int,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="BYTES",
        help="skip files larger than this (default 1 MiB)",
    )
    _add_provider_options(parser)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _add_provider_options(parser: argparse.ArgumentParser) -> None:
    """Where embeddings come from (also NEARCODE_PROVIDER, NEARCODE_EMBEDDINGS_URL...)."""
    defaults = EmbeddingsProvider()
    group = parser.add_argument_group("embedding server (sends the code text of every chunk)")
    group.add_argument(
        "--provider",
        choices=PROVIDERS,
        default=os.environ.get("NEARCODE_PROVIDER", defaults.provider),
        help="local (default: the bundled model) or an OpenAI-compatible server",
    )
    group.add_argument(
        "--url", default=os.environ.get("NEARCODE_EMBEDDINGS_URL", ""), help="server base URL"
    )
    group.add_argument(
        "--remote-model",
        default=os.environ.get("NEARCODE_EMBEDDINGS_MODEL", ""),
        metavar="NAME",
        help="model name on the server",
    )
    group.add_argument("--dimensions", type=int, default=_env_int("NEARCODE_EMBEDDINGS_DIMENSIONS"))
    for flag, variable, default in (
        ("--batch-size", "NEARCODE_EMBEDDINGS_BATCH_SIZE", defaults.batch_size),
        ("--max-concurrency", "NEARCODE_EMBEDDINGS_MAX_CONCURRENCY", defaults.max_concurrency),
        ("--timeout-ms", "NEARCODE_EMBEDDINGS_TIMEOUT_MS", defaults.timeout_ms),
    ):
        group.add_argument(flag, type=int, default=_env_int(variable) or default, metavar="N")
    group.add_argument(
        "--api-key-env",
        default=os.environ.get("NEARCODE_EMBEDDINGS_API_KEY_ENV", ""),
        metavar="VAR",
        help="NAME of the environment variable that holds the API key",
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=10, help="number of results (default 10)")
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only results whose path matches (repeatable)",
    )
    parser.add_argument(
        "--exclude-results",
        action="append",
        default=[],
        metavar="GLOB",
        help="drop results whose path matches (repeatable)",
    )
    parser.add_argument(
        "--language",
        action="append",
        default=[],
        metavar="LANG",
        help="only results in this language (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nearcode", description="Local semantic code search.")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", help="build or update the index of a folder")
    index.add_argument("path", nargs="?", default=".")
    _add_engine_options(index)

    search = sub.add_parser("search", help="search an indexed folder")
    search.add_argument("args", nargs="+", metavar="[PATH] QUERY")
    _add_engine_options(search)
    _add_filter_options(search)

    similar = sub.add_parser("similar", help="code similar to the code at FILE:LINE[:COL]")
    similar.add_argument("location", metavar="FILE:LINE[:COL]")
    _add_engine_options(similar)
    _add_filter_options(similar)

    status = sub.add_parser("status", help="what the index of a folder holds")
    status.add_argument("path", nargs="?", default=".")
    status.add_argument("--json", action="store_true")
    _add_engine_options(status)

    clean = sub.add_parser("clean", help="delete the index of a folder")
    clean.add_argument("path", nargs="?", default=".")

    serve = sub.add_parser("serve", help="run the language server (stdio)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead (debugging)")
    serve.add_argument("--log-level", default="INFO")

    # No option prefix: every argument, --help included, goes through to lsp_server.bench.
    bench = sub.add_parser("bench", help="quality and speed benchmarks", prefix_chars="\0")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)  # parsed by lsp_server.bench
    return parser


# -- commands -----------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> EngineSettings:
    return EngineSettings(
        model=args.model or None,
        backend=args.backend,
        exclude=tuple(args.exclude),
        max_file_size=args.max_file_size,
        embeddings=_provider(args),
    )


def _provider(args: argparse.Namespace) -> EmbeddingsProvider:
    from .engine.remote_encoder import config_problem

    provider = EmbeddingsProvider(
        provider=args.provider,
        url=args.url,
        model=args.remote_model,
        dimensions=args.dimensions or None,
        batch_size=max(args.batch_size, 1),
        max_concurrency=max(args.max_concurrency, 1),
        timeout_ms=max(args.timeout_ms, 1),
        api_key_env=args.api_key_env,
    )
    problem = config_problem(provider) if provider.remote else None
    if problem is not None:
        raise UsageError(problem)
    return provider


def _where_embeddings_go(settings: EngineSettings) -> str:
    target = destination(settings)
    if target["url"] is None:
        return f"local ({target['model']}; nothing leaves this machine)"
    return f"{target['provider']} {target['url']} model {target['model']} (code text is sent there)"


def _folder(path: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise UsageError(f"no such folder: {path}")
    if not folder.is_dir():
        raise UsageError(f"not a folder: {path}")
    return folder.resolve()


def _open_existing(folder: Path, args: argparse.Namespace) -> WorkspaceIndex:
    if Manifest.read(index_dir_for(folder)) is None:
        raise UsageError(f"{folder} is not indexed yet: run `nearcode index {folder}` first")
    return WorkspaceIndex(folder, _settings(args))


def cmd_index(args: argparse.Namespace) -> int:
    folder = _folder(args.path)
    started = time.monotonic()
    with WorkspaceIndex(folder, _settings(args)) as index:
        for notice in index.notices:
            print(f"nearcode: {notice}", file=sys.stderr)
        synced, embedded = index.index(progress=ProgressBar())
        status = index.status()
    for skipped in synced.skipped[:20]:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    if len(synced.skipped) > 20:
        print(f"... and {len(synced.skipped) - 20} more skipped", file=sys.stderr)
    print(
        f"indexed {status.files} files, {status.chunks} chunks "
        f"({synced.added} added, {synced.changed} changed, {synced.removed} removed files; "
        f"{embedded.encoded} chunks embedded, {embedded.cached} from cache) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


def _split_search_args(values: Sequence[str]) -> tuple[str, str]:
    if len(values) == 1:
        return ".", values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise UsageError('expected [PATH] "QUERY" (quote a query of several words)')


def _filters(args: argparse.Namespace) -> dict:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    return {
        "limit": args.limit,
        "include": args.include,
        "exclude": args.exclude_results,
        "languages": args.language,
    }


def cmd_search(args: argparse.Namespace) -> int:
    path, query = _split_search_args(args.args)
    if not query.strip():
        raise UsageError("the query is empty")
    with _open_existing(_folder(path), args) as index:
        response = index.search(query, **_filters(args))
    _print_results(response, args.json)
    return 0


def _parse_location(location: str) -> tuple[Path, int, int]:
    parts = location.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit():
        numbers.insert(0, int(parts.pop()))
    if not numbers:
        raise UsageError(f"expected FILE:LINE[:COL], got {location!r}")
    path = Path(":".join(parts)).expanduser()
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    line, col = numbers[0], numbers[1] if len(numbers) > 1 else 1
    if line < 1 or col < 1:
        raise UsageError("LINE and COL count from 1")
    return path.resolve(), line - 1, col - 1


def _workspace_of(path: Path) -> Path:
    for folder in path.parents:
        if Manifest.read(index_dir_for(folder)) is not None:
            return folder
    raise UsageError(f"no indexed folder contains {path}: run `nearcode index FOLDER` first")


def cmd_similar(args: argparse.Namespace) -> int:
    path, line, col = _parse_location(args.location)
    with _open_existing(_workspace_of(path), args) as index:
        response = index.similar(path, line, col, **_filters(args))
    _print_results(response, args.json)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _open_existing(_folder(args.path), args) as index:
        status = index.status()
    if args.json:
        print(json.dumps({**status.to_json(), "embeddings": destination(settings)}))
        return 0
    print(
        f"workspace  {status.root}\nindex      {status.index_dir}\n"
        f"embeddings {_where_embeddings_go(settings)}\n"
        f"model      {status.encoder}\nfiles      {status.files}\n"
        f"chunks     {status.chunks} ({status.embedded} embedded, {status.pending} pending)"
    )
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    folder = _folder(args.path)
    target = index_dir_for(folder)
    if not target.exists():
        print(f"no index for {folder}")
        return 0
    import shutil

    shutil.rmtree(target)
    print(f"deleted {target}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .server.main import run_server

    return run_server(tcp=args.tcp, log_level=args.log_level)


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench.cli import main as bench_main

    return bench_main(args.bench_args)


def _print_results(response: SearchResponse, as_json: bool) -> None:
    if response.notice:
        print(f"nearcode: {response.notice}", file=sys.stderr)
    elif response.partial:
        print(
            "nearcode: the index is still being built; results may be incomplete", file=sys.stderr
        )
    if as_json:
        print(json.dumps({"results": [r.to_json() for r in response.results]}))
        return
    if not response.results:
        print("no results")
    for result in response.results:
        name = f" {result.symbol}" if result.symbol else ""
        mark = " [duplicate]" if result.duplicate else ""
        print(
            f"{result.path}:{result.start_line + 1}{name} ({result.kind}, "
            f"{result.score:.3f}){mark}\n    {result.preview}"
        )


COMMANDS = {
    "index": cmd_index,
    "search": cmd_search,
    "similar": cmd_similar,
    "status": cmd_status,
    "clean": cmd_clean,
    "serve": cmd_serve,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"nearcode: {exc}", file=sys.stderr)
        return 2
    except (IndexError_, ModelLoadError, ValueError) as exc:
        print(f"nearcode: {exc}", file=sys.stderr)
        return 1
    except EncoderUnavailable as exc:  # index: what is done is kept; run it again to resume
        print(
            f"nearcode: {exc}; the index is searchable lexically, run the command again "
            "when the server is back to finish embedding",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("nearcode: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
