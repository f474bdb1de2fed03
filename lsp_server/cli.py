"""The `nearcode` command line: a thin adapter over the engine (and the servers' entry point).

Each command is offered only the options it uses. Input is checked by the engine's shared
validation (`engine.validation`), so a bad glob reads the same here as in the editor; a bad
input exits 2 with one line, an engine error exits 1 with one line, and anything unexpected
is one line plus the path of the log that holds the details.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .engine.embedder import EncoderUnavailable, ModelLoadError
from .engine.errors import EngineError, NotIndexed
from .engine.locations import (
    CACHE_ENV,
    cache_root,
    enclosing_index,
    ensure_private_dir,
)
from .engine.privacy import enforce_offline_environment
from .engine.remote_encoder import destination
from .engine.reports import Freshness, Progress
from .engine.results import SearchResponse
from .engine.settings import (
    PROVIDER_LOCAL,
    PROVIDERS,
    EmbeddingsProvider,
    EngineSettings,
    built_settings,
    scope_options,
)
from .engine.storage import holder_text
from .engine.validation import (
    InputError,
    SearchFilters,
    adapter_setting,
    embeddings_provider,
    existing_folder,
    globs,
    max_file_size,
    model_reference,
    search_filters,
    tcp_address,
    writable_folder,
)
from .engine.workspace import WorkspaceIndex, clean_index

BACKENDS = ("onnx", "onnx-int8", "torch")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


# What str.splitlines() breaks a line at: an error that echoes the user's input (argparse's
# "unrecognized arguments: ...") shows these escaped, and stays one line.
_LINE_BREAKS = {ord(char): ascii(char)[1:-1] for char in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def _one_line(message: object) -> str:
    return f"nearcode: {message}".translate(_LINE_BREAKS)


class ProgressBar:
    """One self-rewriting line on a terminal; a line per 10% step in logs (CI)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._started: dict[str, float] = {}
        self._last_step: dict[str, int] = {}
        self._phase_began = time.monotonic()  # a phase starts when the previous one ended

    def __call__(self, event: Progress) -> None:
        if event.phase in ("model", "scan"):
            self._step(event)
            return
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

    def _step(self, event: Progress) -> None:
        """A phase without a count (scanning, preparing the model): a line when it starts."""
        if event.done == 0:
            self._started[event.phase] = time.monotonic()
            self.stream.write(f"{event.phase:>5} {event.message}...\n")
        else:
            took = time.monotonic() - self._started.get(event.phase, time.monotonic())
            self.stream.write(f"{event.phase:>5} {event.message} ({took:.1f} s)\n")
        self.stream.flush()
        self._phase_began = time.monotonic()


def _bar(pct: int, width: int = 24) -> str:
    filled = width * pct // 100
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- argument parsing -----------------------------------------------------------------------------


def _add_encoder_options(parser: argparse.ArgumentParser, *, reading: bool) -> None:
    default = "the one the index was built with" if reading else "the bundled all-MiniLM-L6-v2"
    parser.add_argument(
        "--model",
        default=os.environ.get("NEARCODE_MODEL"),
        help=f"sentence-transformers model name or local path (default: {default})",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("NEARCODE_BACKEND"),
        help="encoder backend (default: "
        + ("the index's" if reading else "onnx")
        + "; see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--adapter",
        default=os.environ.get("NEARCODE_ADAPTER"),
        metavar="default|none|FILE",
        help="code adaptation of the bundled model: the shipped one (default), none, or a "
        ".npz from `nearcode train` (default: "
        + ("the index's" if reading else "default")
        + ")",
    )
    _add_provider_options(parser)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _add_provider_options(parser: argparse.ArgumentParser) -> None:
    """Where embeddings come from (also NEARCODE_PROVIDER, NEARCODE_EMBEDDINGS_URL...).

    Unset, a command uses what the index was built with (a new index: the bundled model).
    """
    defaults = EmbeddingsProvider()
    group = parser.add_argument_group("embedding server (sends the code text of every chunk)")
    group.add_argument(
        "--provider",
        choices=PROVIDERS,
        default=os.environ.get("NEARCODE_PROVIDER"),
        help="local (the bundled model) or an OpenAI-compatible server (default: the index's)",
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


def _add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exclude",
        action="append",
        default=None,
        metavar="GLOB",
        help="gitignore-style pattern to leave out of the index (repeatable; replaces those "
        "the index was built with, which hold otherwise; '' for none)",
    )
    parser.add_argument(
        "--max-file-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="skip files larger than this (default: what the index was built with, else 1 MiB)",
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=10, help="number of results (default 10)")
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only results whose path matches (repeatable; {a,b} braces allowed)",
    )
    parser.add_argument(
        "--exclude",
        "--exclude-results",
        dest="exclude_results",
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
        help="only results in this language (repeatable; e.g. python, ts, go)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (exit 2) rather than usage plus a message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nearcode", description="Local semantic code search.")
    parser.add_argument("--version", action="version", version=f"nearcode {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = sub.add_parser("index", help="build or update the index of a folder")
    index.add_argument("path", nargs="?", default=".")
    _add_encoder_options(index, reading=False)
    _add_index_options(index)

    # One query per call: the usage says so (argparse would render `[PATH] QUERY [[PATH]
    # QUERY ...]` for these positionals, as if several could follow).
    search = sub.add_parser(
        "search", help="search an indexed folder", usage="%(prog)s [options] [PATH] QUERY"
    )
    search.add_argument(
        "args", nargs="+", metavar="[PATH] QUERY", help="PATH defaults to .; QUERY - reads stdin"
    )
    search.add_argument(
        "--selection",
        action="store_true",
        help="QUERY is pasted text (code, an error message, a stack trace), searched as the "
        "editor's Search by Selection: the places a trace names first, only code answers",
    )
    _add_encoder_options(search, reading=True)
    _add_filter_options(search)

    similar = sub.add_parser("similar", help="code similar to the code at FILE:LINE[:COL]")
    similar.add_argument("location", metavar="FILE:LINE[:COL]")
    _add_encoder_options(similar, reading=True)
    _add_filter_options(similar)

    status = sub.add_parser("status", help="what the index of a folder holds")
    status.add_argument("path", nargs="?", default=".")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    clean = sub.add_parser("clean", help="delete the index of a folder")
    clean.add_argument("path", nargs="?", default=".")

    serve = sub.add_parser("serve", help="run the language server (stdio)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead (debugging)")
    serve.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )

    mcp = sub.add_parser("mcp", help="run the MCP server for coding agents (stdio)")
    mcp.add_argument(
        "paths", nargs="*", metavar="PATH", help="folders to serve (default: the client's roots)"
    )
    _add_encoder_options(mcp, reading=True)
    _add_index_options(mcp)
    mcp.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    # No option prefix: every argument, --help included, goes through to lsp_server.bench.
    bench = sub.add_parser("bench", help="quality and speed benchmarks", prefix_chars="\0")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)  # parsed by lsp_server.bench

    train = sub.add_parser(
        "train", help="mine training pairs and train an adapter of the model", prefix_chars="\0"
    )
    train.add_argument("train_args", nargs=argparse.REMAINDER)  # parsed by lsp_server.train
    return parser


# -- where the index is ---------------------------------------------------------------------------


def _provider(args: argparse.Namespace) -> EmbeddingsProvider | None:
    """The provider the user asked for; None when they did not say (the index's then)."""
    if args.provider is None:
        return None
    if args.provider == PROVIDER_LOCAL:
        return EmbeddingsProvider()
    # The same checks as the editors' "embeddings" setting (engine.validation).
    options = {
        "provider": args.provider,
        "url": args.url,
        "model": args.remote_model,
        "dimensions": args.dimensions,
        "batchSize": args.batch_size,
        "maxConcurrency": args.max_concurrency,
        "timeoutMs": args.timeout_ms,
        "apiKeyEnv": args.api_key_env,
    }
    try:
        return embeddings_provider(options)
    except InputError as exc:
        raise UsageError(str(exc)) from None


def _where_embeddings_go(settings: EngineSettings) -> str:
    target = destination(settings)
    if target["url"] is None:
        return f"local ({target['model']}; nothing leaves this machine)"
    return f"{target['provider']} {target['url']} model {target['model']} (code text is sent there)"


def _folder(path: str) -> Path:
    try:
        return existing_folder(path)
    except InputError as exc:
        raise UsageError(str(exc)) from exc


def _indexed_root(folder: Path) -> tuple[Path, str]:
    """The indexed folder at or above `folder`, and `folder` relative to it ("" if the same)."""
    root = enclosing_index(folder)
    if root is None:
        raise NotIndexed(f"{folder} is not indexed yet: run `nearcode index {folder}` first")
    return root, "" if root == folder else folder.relative_to(root).as_posix()


def _index_settings(
    root: Path,
    args: argparse.Namespace,
    exclude: tuple[str, ...] | None = None,
    largest: int | None = None,
) -> EngineSettings:
    """The encoder asked for on the command line, else the one the index was built with;
    and the files it holds (`exclude`, `largest`; None: as it was built)."""
    return built_settings(
        root,
        model_reference(args.model),
        args.backend,
        _provider(args),
        adapter_setting(args.adapter) if args.adapter else None,
        exclude,
        largest,
    )


def _exclude_option(values: list[str] | None) -> tuple[str, ...] | None:
    """`--exclude` as given (None: not given; `--exclude ''` alone: no patterns)."""
    if values is None:
        return None
    return () if values == [""] else globs(values, "--exclude")


def _print_recorded_scope(root: Path, args: argparse.Namespace, settings: EngineSettings) -> None:
    """Says which of the index's recorded choices of files hold, not being given again."""
    kept = scope_options(settings, args.exclude is None, args.max_file_size is None)
    if kept:
        print(
            f"nearcode: as the index of {root} was built: {kept} (give them again to change "
            "them; --exclude '' for no patterns)",
            file=sys.stderr,
        )


def _open_reader(root: Path, args: argparse.Namespace) -> WorkspaceIndex:
    return WorkspaceIndex(root, _index_settings(root, args), mode="read", refresh=True)


def _check_cache_writable() -> None:
    where = f"the index ({CACHE_ENV})" if os.environ.get(CACHE_ENV) else "the index"
    try:
        writable_folder(cache_root(), where)
    except InputError as exc:
        raise UsageError(f"{exc}; set {CACHE_ENV} to a writable folder") from exc


# -- commands -----------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace) -> int:
    folder = _folder(args.path)
    root = enclosing_index(folder) or folder
    settings = _index_settings(
        root,
        args,
        _exclude_option(args.exclude),
        None if args.max_file_size is None else max_file_size(args.max_file_size),
    )
    _print_recorded_scope(root, args, settings)
    if root != folder:
        print(f"nearcode: {folder} is inside the indexed folder {root}: updating that index",
              file=sys.stderr)
    _check_cache_writable()
    started = time.monotonic()
    embedded_before = 0
    with WorkspaceIndex(root, settings) as index:
        _print_notices(index.notices)
        if index.read_only:
            holder = holder_text(index.storage.lock.holder())
            raise EngineError(
                f"{holder} is updating the index of {root} (an editor's nearcode server keeps "
                "it up to date); run again once it has finished"
            )
        embedded_before = index.status().embedded
        try:
            synced, embedded = index.index(progress=ProgressBar())
        except KeyboardInterrupt:
            done = index.status().embedded - embedded_before
            print(
                f"\nnearcode: interrupted; the work done is kept ({_plural(done, 'chunk')} "
                f"embedded), run `nearcode index {root}` to continue",
                file=sys.stderr,
            )
            return 130
        status = index.status()
    for skipped in synced.skipped[:20]:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    if len(synced.skipped) > 20:
        print(f"... and {len(synced.skipped) - 20} more skipped", file=sys.stderr)
    cached = embedded.cached + synced.chunks_from_cache
    print(
        f"indexed {_plural(status.files, 'file')}, {_plural(status.chunks, 'chunk')} "
        f"({synced.added} added, {synced.changed} changed, {synced.removed} removed files; "
        f"{_plural(embedded.encoded, 'chunk')} embedded, {cached} from cache) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


def _split_search_args(values: Sequence[str]) -> tuple[str, str]:
    if len(values) == 1:
        return ".", values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise UsageError('expected [PATH] "QUERY" (quote a query of several words)')


def _filters(args: argparse.Namespace, subfolder: str = "") -> SearchFilters:
    filters = search_filters(args.limit, args.include, args.exclude_results, args.language)
    if not subfolder:
        return filters
    # A search from inside the indexed folder answers for that part of it.
    include = tuple(f"{subfolder}/{g.lstrip('/')}" for g in filters.include) or (
        f"{subfolder}/**",
    )
    return SearchFilters(filters.limit, include, filters.exclude, filters.languages)


def cmd_search(args: argparse.Namespace) -> int:
    path, query = _split_search_args(args.args)
    if query == "-":  # a stack trace piped in: `pbpaste | nearcode search --selection -`
        query = sys.stdin.read()
    if not query.strip():
        raise UsageError("the query is empty")
    folder = _folder(path)
    _filters(args)  # every option is checked before any work
    root, subfolder = _indexed_root(folder)
    notices = [f"using the index of {root} (results limited to {subfolder}/)"] if subfolder else []
    with _open_reader(root, args) as index:
        freshness = index.refresh()
        ask = index.search_text if args.selection else index.search
        response = ask(query, **_filters(args, subfolder).as_kwargs())
        _print_results(response, args.json, notices + _answer_notices(index, response, freshness))
    return 0


def _parse_location(location: str) -> tuple[Path, int, int | None]:
    parts = location.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit():
        numbers.insert(0, int(parts.pop()))
    if not numbers:
        raise UsageError(f"expected FILE:LINE[:COL], got {location!r}")
    path = Path(":".join(parts)).expanduser()
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    line = numbers[0]
    column = numbers[1] if len(numbers) > 1 else None
    if line < 1 or (column is not None and column < 1):
        raise UsageError("LINE and COL count from 1")
    return path.resolve(), line - 1, None if column is None else column - 1


def cmd_similar(args: argparse.Namespace) -> int:
    path, line, column = _parse_location(args.location)
    filters = _filters(args)
    root, _ = _indexed_root(path.parent)
    with _open_reader(root, args) as index:
        freshness = index.refresh()
        # Without a column, the code of the line is meant (its indentation is skipped).
        response = index.similar(path, line, column or 0, **filters.as_kwargs())
        _print_results(response, args.json, _answer_notices(index, response, freshness))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    folder = _folder(args.path)
    root, _ = _indexed_root(folder)
    settings = built_settings(root)
    with WorkspaceIndex(root, settings, mode="read") as index:
        status = index.status()
        freshness = index.changes()
        reason = index.pending_reason()
        holder = index.storage.lock.holder()
    if args.json:
        data = status.to_json()
        del data["readOnly"]  # always true here; who writes is what matters
        data["updatingPid"] = holder
        data["changedFiles"] = freshness.changed
        data["complete"] = freshness.complete
        data["embeddings"] = destination(settings)
        data["exclude"] = list(settings.exclude)
        data["maxFileSize"] = settings.max_file_size
        data["scopeSetInEditor"] = _editor_setting_names(settings)
        print(json.dumps(data))
        return 0
    changed = (
        f"{freshness.changed} changed on disk since indexing"
        if freshness.complete
        else "too many to check quickly"
    )
    lines = [
        f"workspace  {status.root}",
        f"index      {status.index_dir}",
        f"embeddings {_where_embeddings_go(settings)}",
        f"model      {status.built_with or status.encoder}",
        f"files      {status.files} ({changed})",
        f"chunks     {status.chunks} ({status.embedded} embedded, {status.pending} pending)",
    ]
    scope = scope_options(settings)
    if scope:  # the files held, where `nearcode index` was told otherwise than the default
        chosen = _editor_setting_names(settings)
        said = " and ".join(chosen) + (" settings" if len(chosen) > 1 else " setting")
        lines.append(f"scope      {scope}" + (f" (an editor's {said})" if chosen else ""))
    print("\n".join(lines))
    _print_notices([reason] if reason else [])
    return 0


def _editor_setting_names(settings: EngineSettings) -> list[str]:
    """The editors' names of the scope settings an editor chose for this index."""
    names = {"exclude": "exclude", "max_file_size": "maxFileSize"}
    return [names[field] for field in sorted(settings.scope_from_editor)]


def cmd_clean(args: argparse.Namespace) -> int:
    folder = _folder(args.path)
    deleted = clean_index(folder)
    if deleted is not None:
        print(f"deleted {deleted}")
        return 0
    parent = enclosing_index(folder)
    if parent is not None:
        print(f"no index for {folder}; it is part of the index of {parent} "
              f"(`nearcode clean {parent}` deletes that one)")
    else:
        print(f"no index for {folder}")
    return 0


def _end_server_process(code: int) -> int:
    """Ends a server's process once the server has stopped its folders. A background thread
    may still be inside ONNX Runtime (loading the model, embedding a batch for a query):
    the interpreter's teardown would destroy the runtime under it, and C++ aborts the
    process ("terminate called without an active exception", exit 134 and a core dump)
    whenever an editor or agent closed the server less than a second or two after starting
    it, or while a batch ran. Nothing is left to write, so the process leaves without
    that teardown."""
    if threading.active_count() == 1:
        return code
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a pipe the client closed
            stream.flush()
    os._exit(code)


def cmd_serve(args: argparse.Namespace) -> int:
    from .server.main import run_server

    address = tcp_address(args.tcp) if args.tcp else None
    return _end_server_process(run_server(tcp=address, log_level=args.log_level))


def cmd_mcp(args: argparse.Namespace) -> int:
    roots = [_folder(path) for path in args.paths]
    try:
        from .mcp.server import run_mcp_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("lsp_server"):
            raise
        missing = (exc.name or "mcp").split(".")[0]
        raise EngineError(
            f"`nearcode mcp` needs the MCP SDK ({missing} is not installed): "
            "pip install 'nearcode[mcp]'"
        ) from exc
    from .mcp.folders import FolderOptions

    options = FolderOptions(
        args.model or None,
        args.backend or None,
        adapter_setting(args.adapter) if args.adapter else None,
        _exclude_option(args.exclude),
        None if args.max_file_size is None else max_file_size(args.max_file_size),
        _provider(args),
    )
    _check_cache_writable()
    return _end_server_process(run_mcp_server(roots, options, args.log_level))


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench.cli import main as bench_main

    return bench_main(args.bench_args)


def cmd_train(args: argparse.Namespace) -> int:
    from .train.cli import main as train_main

    return train_main(args.train_args)


# -- output -------------------------------------------------------------------------------------


def _answer_notices(
    index: WorkspaceIndex, response: SearchResponse, freshness: Freshness
) -> list[str]:
    """What the user must know about an answer: stale, partial (and why), built with
    another model."""
    notices = list(index.notices) + response.notices
    stale = freshness.describe()
    if stale:
        notices.append(stale)
    if freshness.unembedded:
        notices.append(
            f"{_plural(freshness.unembedded, 'chunk')} of changed files are not embedded yet: "
            f"run `nearcode index {index.root}`"
        )
    if response.partial and not index.built_with:  # that case has its notice already
        reason = index.pending_reason()
        if reason:
            notices.append(reason)
    response.stale = freshness.stale
    return notices


def _print_notices(notices: Sequence[str]) -> None:
    for notice in dict.fromkeys(notices):  # each once, in order
        print(f"nearcode: {notice}", file=sys.stderr)


def _print_results(response: SearchResponse, as_json: bool, notices: Sequence[str]) -> None:
    if as_json:
        data = response.to_json()
        data["notices"] = list(dict.fromkeys(notices))
        print(json.dumps(data))
        return
    _print_notices(notices)
    if not response.results:
        print("no results")
    for result in response.results:
        name = f" {result.symbol}" if result.symbol else ""
        mark = " [duplicate]" if result.duplicate else ""
        print(
            f"{result.path}:{result.cursor[0] + 1}{name} ({result.kind}, "
            f"{result.score:.3f}){mark}\n    {result.preview}"
        )


COMMANDS = {
    "index": cmd_index,
    "search": cmd_search,
    "similar": cmd_similar,
    "status": cmd_status,
    "clean": cmd_clean,
    "serve": cmd_serve,
    "mcp": cmd_mcp,
    "bench": cmd_bench,
    "train": cmd_train,
}


def _log_unexpected(exc: BaseException) -> str:
    """Writes the traceback to the CLI log; returns where (or why it could not)."""
    log_file = cache_root() / "logs" / "cli.log"
    try:
        ensure_private_dir(log_file.parent)
        with open(log_file, "a", encoding="utf-8") as handle:
            os.chmod(log_file, 0o600)
            handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} nearcode {__version__}\n")
            handle.write("".join(traceback.format_exception(exc)))
    except OSError as error:
        return f"the log {log_file} could not be written: {error.strerror}"
    return f"details in {log_file}"


def parse_command_line(argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line. A search's QUERY may follow its options, as grep's pattern
    may (`nearcode search ~/src --limit 5 "query"`, `nearcode search . --selection -`):
    argparse alone reads the positionals before the first option and calls the rest
    unrecognized."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    unknown = [word for word in rest if word != "-" and word.startswith("-")]
    if args.command == "search" and not unknown:
        args.args += rest
    elif args.command == "similar" and rest and all(word.isdigit() for word in rest):
        location = ":".join([args.location, *rest])
        parser.error(f"expected FILE:LINE[:COL] as one word: `nearcode similar {location}`")
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(unknown or rest)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    enforce_offline_environment()  # before any model library is imported
    logging.basicConfig(level=logging.ERROR, format="nearcode: %(message)s")
    try:
        args = parse_command_line(argv)
        return COMMANDS[args.command](args)
    except (UsageError, InputError) as exc:
        print(_one_line(exc), file=sys.stderr)
        return 2
    except (EngineError, ModelLoadError) as exc:
        print(_one_line(exc), file=sys.stderr)
        return 1
    except EncoderUnavailable as exc:  # index: what is done is kept; run it again to resume
        print(
            _one_line(
                f"{exc}; the index is searchable lexically, run the command again when the "
                "server is back to finish embedding"
            ),
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("nearcode: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise: one line, never a traceback
        print(_one_line(f"unexpected error: {exc!r} ({_log_unexpected(exc)})"), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
