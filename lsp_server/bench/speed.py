"""Speed and memory of the engine on a real package (Django by default).

The main process measures what needs the real model on real code: encoder throughput against
cold indexing, warm re-sync, save-to-searchable, query latency while indexing runs and
server start-up. Each corpus scale runs in a worker process of its own, so that peak RSS is
that scale's alone; beyond the real corpus, scales are filled with synthetic rows and random
unit vectors through the store API (embedding 100k chunks would take an hour here).
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..engine.chunks import Chunk
from ..engine.embedder import Encoder, make_encoder
from ..engine.indexer import _BULK_EMBED_ROUND, content_hash
from ..engine.locations import CACHE_ENV, index_dir_for
from ..engine.settings import PROVIDER_OPENAI, EmbeddingsProvider, EngineSettings
from ..engine.workspace import WorkspaceIndex
from .quality import SharedEncoder
from .report import line_plot, machine, write_json

# Questions a Django developer might ask; a fixed list keeps runs comparable.
QUERIES = [
    "validate an email address",
    "parse the http accept language header",
    "hash a password with a salt",
    "send mail to site admins",
    "paginate a queryset",
    "render a template with a context",
    "compress the response with gzip",
    "escape html special characters",
    "cache a value with a timeout",
    "generate a csrf token",
    "convert a naive datetime to aware",
    "serialize a model instance to json",
    "add a column in a schema migration",
    "resolve a url pattern to a view",
    "check user permissions",
    "format a number with thousand separators",
    "signed cookie value",
    "slugify a string",
    "database connection pool close",
    "upload file to storage",
]
_EMBED_ROUND = 64  # the engine's chunks per encoder call
SYNTHETIC = "synthetic/"  # where the rows that fill a scale live: no file behind them


# -- small helpers ----------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


def latency(runs_ms: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(runs_ms), 2) if runs_ms else 0.0,
        "p95_ms": round(percentile(runs_ms, 0.95), 2),
        "runs": len(runs_ms),
    }


def timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def rss_mb() -> dict[str, float]:
    """Current (VmRSS) and peak (ru_maxrss) resident memory of this process, in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rss_mb": round(current, 1), "peak_rss_mb": round(peak, 1)}


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


class BenchEncoder(SharedEncoder):
    """The real model, switchable to random unit vectors (for the bulk of large indexes).

    Same identity as the model, so the index accepts both; `memo` off makes every query pay
    for its embedding (end-to-end latency).
    """

    def __init__(self, inner: Encoder, seed: int = 0) -> None:
        super().__init__(inner)
        self.synthetic = False
        self.memo = True
        self._rng = np.random.default_rng(seed)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.synthetic:
            return random_unit_vectors(self._rng, len(texts), self.inner.dim)
        if not self.memo:
            return self.inner.encode(texts)
        return super().encode(texts)


def random_unit_vectors(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    matrix = rng.standard_normal((count, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# -- the corpus -------------------------------------------------------------------------------


def corpus_folder(args: argparse.Namespace, work: Path) -> Path:
    """--corpus as given, else the pinned sdist, downloaded once into the work folder."""
    if args.corpus is not None:
        return args.corpus.resolve()
    from .sources import download_sdist

    target = work / "sdist" / args.from_pypi.replace("==", "-")
    done = target / ".unpacked"
    if not done.is_file():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        source = download_sdist(args.from_pypi, target / "download")
        shutil.move(str(source), str(target / "tree"))
        shutil.rmtree(target / "download", ignore_errors=True)
        done.write_text(args.from_pypi)
    return (target / "tree").resolve()


def subset_workspace(index: WorkspaceIndex, chunks: int, target: Path) -> Path:
    """A copy of the first files (sorted paths) holding about `chunks` chunks."""
    if target.exists():
        shutil.rmtree(target)
    total = 0
    for path in sorted(index.store.file_paths()):
        if total >= chunks:
            break
        total += len(index.store.chunks_of_file(path))
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(index.root / path, destination)
    return target


def add_synthetic_rows(index: WorkspaceIndex, count: int, seed: int = 1) -> None:
    """Copies real chunks under synthetic paths with random vectors: store rows only.

    The vectors go to the store's vector cache and the chunks are marked embedded, so the
    engine's own consistency check puts them into HNSW when the index is next opened.
    """
    rng = np.random.default_rng(seed)
    sources = [index.store.chunks_of_file(p) for p in sorted(index.store.file_paths())]
    sources = [chunks for chunks in sources if chunks]
    model = index.encoder.identity
    made, copy = 0, 0
    while made < count:
        copy += 1
        with index.store.transaction() as conn:
            for chunks in sources:
                if made >= count:
                    break
                path = f"{SYNTHETIC}{copy}/{chunks[0].path}"
                stat = SimpleNamespace(path=path, size=0, mtime_ns=0, ino=0, ctime_ns=0)
                file_id = index.store.upsert_file(
                    conn, stat, content_hash(path), chunks[0].chunk.language, 0
                )
                picked = chunks[: count - made]
                hashes = [content_hash(f"{path}#{c.id}") for c in picked]
                vectors = random_unit_vectors(rng, len(picked), index.encoder.dim)
                index.store.put_vectors(conn, model, zip(hashes, vectors, strict=True))
                for stored, embed_hash in zip(picked, hashes, strict=True):
                    chunk = _moved(stored.chunk, path)
                    index.store.insert_chunk(conn, file_id, chunk, embed_hash, has_vector=True)
                made += len(picked)


def _moved(chunk: Chunk, path: str) -> Chunk:
    from dataclasses import replace

    return replace(chunk, path=path)


# -- measurements on the real corpus -----------------------------------------------------------


def _embedded_texts(index: WorkspaceIndex) -> list[str]:
    """The texts the engine embedded (with their context headers), in chunk id order."""
    embedded = sorted(index.store.embedded_ids())
    stored = index.store.chunks_by_id(embedded)
    return [index.embed_text(stored[i].chunk) for i in embedded if i in stored]


def encoder_limit(index: WorkspaceIndex, encoder: BenchEncoder, sample: int) -> dict:
    """Cold embedding through the engine vs raw encode() of exactly the same texts."""
    started = time.monotonic()
    report = index.embed_pending(max_chunks=sample)
    engine_seconds = time.monotonic() - started
    texts = _embedded_texts(index)
    started = time.monotonic()
    for start in range(0, len(texts), _EMBED_ROUND):
        encoder.inner.encode(texts[start : start + _EMBED_ROUND])
    raw_seconds = time.monotonic() - started
    engine_rate = (report.encoded + report.cached) / max(engine_seconds, 1e-9)
    raw_rate = len(texts) / max(raw_seconds, 1e-9)
    return {
        "sample_chunks": len(texts),
        "raw_encode_chunks_per_s": round(raw_rate, 1),
        "engine_embed_chunks_per_s": round(engine_rate, 1),
    }


def remote_throughput(
    corpus: Path, settings: EngineSettings, sample: int, work: Path, repeats: int
) -> dict:
    """Chunks/s through an embedding server, two ways, alternating `repeats` times:
    - pipeline: a cold index embedding `sample` chunks through the engine, in the rounds
      `nearcode index` uses (HTTP client, batching, concurrency, SQLite and HNSW writes);
    - raw: the same texts posted straight at the server in one call of the same client (same
      batch size and concurrency), nothing else: what the server can do for this client.
    """
    from ..engine.remote_encoder import RemoteEncoder, public_url

    base = work / "remote-index-base"
    shutil.rmtree(base, ignore_errors=True)
    with WorkspaceIndex(corpus, settings, index_dir=base) as index:
        index.sync()  # once: each run embeds a fresh copy of this lexical-only index
    runs: list[dict] = []
    texts: list[str] = []
    for repeat in range(repeats):
        copy = work / f"remote-index-{repeat}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(base, copy)
        with WorkspaceIndex(corpus, settings, index_dir=copy) as index:
            index.encoder.load()  # the connection check is not part of the throughput
            started = time.monotonic()
            rounds = min(sample, _BULK_EMBED_ROUND)  # as `nearcode index`, within the sample
            report = index.embed_pending(max_chunks=sample, round_size=rounds)
            pipeline_s = time.monotonic() - started
            if not texts:
                texts = _embedded_texts(index)
        raw = RemoteEncoder(settings.embeddings)
        raw.load()
        started = time.monotonic()
        raw.encode(texts)
        raw_s = time.monotonic() - started
        pipeline_rate = report.encoded / max(pipeline_s, 1e-9)
        raw_rate = len(texts) / max(raw_s, 1e-9)
        runs.append(
            {
                "pipeline_chunks_per_s": round(pipeline_rate, 1),
                "raw_server_chunks_per_s": round(raw_rate, 1),
                "ratio": round(pipeline_rate / raw_rate, 3),
            }
        )
        shutil.rmtree(copy, ignore_errors=True)
    provider = settings.embeddings
    return {
        "url": public_url(provider.url),
        "model": provider.model,
        "batch_size": provider.batch_size,
        "max_concurrency": provider.max_concurrency,
        "sample_chunks": len(texts),
        "pipeline_chunks_per_s": statistics.median(r["pipeline_chunks_per_s"] for r in runs),
        "raw_server_chunks_per_s": statistics.median(r["raw_server_chunks_per_s"] for r in runs),
        # Each run pairs the two side by side: the median of the paired ratios.
        "ratio": statistics.median(r["ratio"] for r in runs),
        "runs": runs,
    }


def warm_resync(index: WorkspaceIndex, repeats: int = 5) -> dict:
    runs = [index.sync().seconds for _ in range(repeats)]
    files = index.status().files
    median = statistics.median(runs)
    return {
        "files": files,
        "median_s": round(median, 3),
        "per_5000_files_s": round(median * 5000 / max(files, 1), 3),
    }


def _edit_target(index: WorkspaceIndex) -> tuple[str, int, str]:
    """A Python file of about 300 lines and the line of a function statement to edit before."""
    best: tuple[int, str] | None = None
    for path in index.store.file_paths():
        if path.endswith(".py"):
            lines = (index.root / path).read_text(encoding="utf-8").count("\n")
            if best is None or abs(lines - 300) < abs(best[0] - 300):
                best = (lines, path)
    assert best is not None, "no Python file in the corpus"
    text = (index.root / best[1]).read_text(encoding="utf-8")
    functions = [
        n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef) and len(n.body) > 1
    ]
    last = functions[len(functions) // 2].body[-1]
    return best[1], last.lineno - 1, " " * last.col_offset


def save_to_searchable(index: WorkspaceIndex, runs: int = 20) -> dict:
    """Edit one function, save, update_file + embed_pending(path) until search finds it."""
    rel, line, indent = _edit_target(index)
    path = index.root / rel
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    timings: list[float] = []
    rng = random.Random(0)
    try:
        for run in range(runs):
            # One lower-case word found nowhere else, so only the edited file can match it.
            marker = "zqbench" + "".join(rng.choices(string.ascii_lowercase, k=12))
            edited = [*lines[:line], f"{indent}{marker} = {run}\n", *lines[line:]]
            path.write_text("".join(edited), encoding="utf-8")
            started = time.perf_counter()
            index.update_file(rel)
            index.embed_pending(path=rel)
            if _found(index, marker, rel, started):
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        path.write_text(original, encoding="utf-8")
        index.update_file(rel)
        index.embed_pending(path=rel)
    return {"file": rel, "lines": len(lines), "missed": runs - len(timings), **latency(timings)}


def _found(index: WorkspaceIndex, marker: str, rel: str, started: float) -> bool:
    """Searches until the edited file comes back (gives up after 10 s: reported as missed)."""
    while time.perf_counter() - started < 10:
        if any(r.path == rel for r in index.search(marker, limit=5).results):
            return True
    return False


def query_while_indexing(
    index: WorkspaceIndex, encoder: BenchEncoder, side: WorkspaceIndex, seconds: float
) -> dict:
    """search() latency (with query embedding) while another thread embeds a workspace."""
    encoder.memo = False
    idle = [timed_ms(lambda q=q: index.search(q)) for q in QUERIES]
    stop = threading.Event()
    worker = threading.Thread(target=side.embed_pending, kwargs={"cancel": stop}, daemon=True)
    worker.start()
    busy: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.is_alive():
        busy.extend(timed_ms(lambda q=q: index.search(q)) for q in QUERIES[:5])
    stop.set()
    worker.join()
    encoder.memo = True
    return {"idle": latency(idle), "while_indexing": latency(busy)}


# -- one scale, in a worker process ----------------------------------------------------------


def scale_worker(argv: Sequence[str]) -> int:
    """python -m lsp_server.bench.speed WORKSPACE INDEX_DIR EXTRA REPEATS MODEL: prints JSON."""
    workspace, index_dir, extra, repeats, model = argv
    settings = EngineSettings(model=model or None)
    encoder = BenchEncoder(make_encoder(settings))
    encoder.load()
    encoder.inner.encode(["warm up"])  # the model's memory counts, as in the editor
    shutil.rmtree(index_dir, ignore_errors=True)
    result: dict = {}
    index = WorkspaceIndex(Path(workspace), settings, encoder=encoder, index_dir=Path(index_dir))
    result["sync_s"] = round(index.sync().seconds, 2)
    index.embed_pending(max_chunks=_EMBED_ROUND)  # real vectors for a round: model peak
    encoder.synthetic = True
    index.embed_pending()
    encoder.synthetic = False
    if int(extra):
        add_synthetic_rows(index, int(extra))
        index.close()  # reopening puts the synthetic vectors into HNSW (consistency check)
        index = WorkspaceIndex(
            Path(workspace), settings, encoder=encoder, index_dir=Path(index_dir)
        )
    index.save()
    result["chunks"] = index.status().chunks
    result["after_indexing"] = rss_mb()
    result.update(scale_latencies(index, encoder, int(repeats)))
    index.close()
    gc.collect()
    result["steady"] = rss_mb()
    result["index_mb"] = folder_mb(Path(index_dir))
    print(json.dumps(result))
    return 0


def scale_latencies(index: WorkspaceIndex, encoder: BenchEncoder, repeats: int) -> dict:
    queries = [QUERIES[i % len(QUERIES)] for i in range(repeats)]
    for query in QUERIES:  # warm up caches and the model; fills the query memo
        index.search(query)
    no_embedding = [timed_ms(lambda q=q: index.search(q)) for q in queries]
    encoder.memo = False
    end_to_end = [timed_ms(lambda q=q: index.search(q)) for q in queries]
    encoder.memo = True
    draws = real_chunk_draws(index)
    similar: list[float] = []
    for _ in range(repeats):
        chunk = next(draws)
        if chunk is not None:
            similar.append(
                timed_ms(lambda c=chunk: index.similar(c.path, c.start_line, c.start_col))
            )
    return {
        "search": latency(end_to_end),
        "search_without_embedding": latency(no_embedding),
        "similar": latency(similar),
    }


def real_chunk_draws(index: WorkspaceIndex, seed: int = 0) -> Iterator[Chunk | None]:
    """Endless draws of a chunk of a random real file (not the synthetic rows that fill a
    scale), seeded; None where the file drawn holds no chunk."""
    rng = random.Random(seed)
    paths = [p for p in index.store.file_paths() if not p.startswith(SYNTHETIC)]
    while paths:
        chunks = index.store.chunks_of_file(rng.choice(paths))
        yield rng.choice(chunks).chunk if chunks else None


def run_scale(workspace: Path, index_dir: Path, extra: int, repeats: int, model: str) -> dict:
    command = [
        sys.executable, "-m", "lsp_server.bench.speed",
        str(workspace), str(index_dir), str(extra), str(repeats), model,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"scale worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the whole run ------------------------------------------------------------------------------


def run_speed(args: argparse.Namespace) -> int:
    work = (args.work or args.out.parent / "speed-work").resolve()
    os.environ.setdefault(CACHE_ENV, str(work / "cache"))
    corpus = corpus_folder(args, work)
    if args.throughput_only:
        return run_throughput(args, corpus, work)
    settings = EngineSettings(model=args.model or None)
    encoder = BenchEncoder(make_encoder(settings))
    started = time.monotonic()
    encoder.load()
    encoder.inner.encode(["warm up"])
    results: dict = {
        "machine": machine(),
        "corpus": str(corpus),
        "load_average_start": os.getloadavg(),
        "model_load_s": round(time.monotonic() - started, 2),
    }
    log = _logger()
    main_dir = index_dir_for(corpus)
    shutil.rmtree(main_dir, ignore_errors=True)  # cold: no cached vectors
    index = WorkspaceIndex(corpus, settings, encoder=encoder)
    try:
        _measure_main(index, encoder, args, work, results, log)
    finally:
        index.close()
    log("start-up of the language server on the persisted index")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    results["startup"] = _startup(corpus, env)
    # Scales take long on a busy machine: keep what is measured so far.
    write_json(args.out.with_suffix(".partial.json"), results)
    _measure_scales(index, args, work, results, log)
    return _finish(args, results)


def _finish(args: argparse.Namespace, results: dict) -> int:
    results["load_average_end"] = os.getloadavg()
    results["targets"] = targets(results)
    write_speed(args.out, results)
    return 0


def run_throughput(args: argparse.Namespace, corpus: Path, work: Path) -> int:
    """Cold sync and embedding throughput only: the local encoder, then the server if asked."""
    log = _logger()
    settings = EngineSettings(model=args.model or None)
    encoder = BenchEncoder(make_encoder(settings))
    encoder.load()
    encoder.inner.encode(["warm up"])
    results: dict = {"machine": machine(), "corpus": str(corpus)}
    results["load_average_start"] = os.getloadavg()
    index_dir = work / "local-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    with WorkspaceIndex(corpus, settings, encoder=encoder, index_dir=index_dir) as index:
        log(f"cold sync of {corpus}")
        results["cold_sync_s"] = round(index.sync().seconds, 2)
        results["corpus_chunks"] = index.store.counts()[1]
        log(f"local encoder on {args.embed_sample} chunks")
        results["encoder_limit"] = encoder_limit(index, encoder, args.embed_sample)
    _measure_remote(args, corpus, work, results, log)
    return _finish(args, results)


def _remote_settings(args: argparse.Namespace, url: str, model: str) -> EngineSettings:
    provider = EmbeddingsProvider(
        provider=PROVIDER_OPENAI,
        url=url,
        model=model,
        batch_size=args.remote_batch_size,
        max_concurrency=args.remote_concurrency,
        timeout_ms=args.remote_timeout_ms,
        api_key_env=args.remote_api_key_env,
    )
    return EngineSettings(model=args.model or None, embeddings=provider)


def _measure_remote(
    args: argparse.Namespace, corpus: Path, work: Path, results: dict, log: Callable[[str], None]
) -> None:
    """The same sample through an embedding server (--remote-url, or --remote-start)."""
    if not (args.remote_url or args.remote_start):
        return
    sample = args.embed_sample or results["corpus_chunks"]
    if args.remote_url:
        if not args.remote_model:
            raise ValueError("--remote-url needs --remote-model (the model name on the server)")
        settings = _remote_settings(args, args.remote_url, args.remote_model)
        log(f"embedding server {args.remote_url}: {sample} chunks")
        results["remote"] = remote_throughput(corpus, settings, sample, work, args.remote_repeats)
        return
    from .embedding_server import SERVED_MODEL, InfinityServer, infinity_environment

    log("starting the test embedding server (infinity-emb on loopback)")
    with InfinityServer(infinity_environment(), log_file=work / "infinity.log") as server:
        settings = _remote_settings(args, server.url, SERVED_MODEL)
        log(f"embedding server {server.url}: {sample} chunks")
        results["remote"] = remote_throughput(corpus, settings, sample, work, args.remote_repeats)
        results["remote"]["server"] = "infinity-emb 0.0.78, torch CPU, started by the bench"


def _logger() -> Callable[[str], None]:
    return lambda line: print(f"[speed] {line}", file=sys.stderr, flush=True)


def _startup(corpus: Path, env: dict[str, str]) -> dict:
    from .lspclient import time_startup

    return time_startup(corpus, env, QUERIES[0])


def _measure_main(
    index: WorkspaceIndex,
    encoder: BenchEncoder,
    args: argparse.Namespace,
    work: Path,
    results: dict,
    log: Callable[[str], None],
) -> None:
    log(f"cold sync of {index.root}")
    synced = index.sync()
    files, chunks, _ = index.store.counts()
    results["corpus_files"], results["corpus_chunks"] = files, chunks
    results["cold_sync_s"] = round(synced.seconds, 2)
    sample = args.embed_sample or chunks
    log(f"encoder limit on {sample} of {chunks} chunks")
    limit = encoder_limit(index, encoder, sample)
    embed_rate = limit["engine_embed_chunks_per_s"]
    index_seconds = synced.seconds + chunks / embed_rate
    limit["cold_index_s"] = round(index_seconds, 1)
    limit["cold_index_chunks_per_s"] = round(chunks / index_seconds, 1)
    limit["ratio"] = round(limit["cold_index_chunks_per_s"] / limit["raw_encode_chunks_per_s"], 3)
    limit["extrapolated"] = sample < chunks
    limit["note"] = (
        f"cold index() = measured cold sync + {chunks} chunks at the engine's embedding rate "
        f"measured over {sample} chunks" + (" (extrapolated)" if sample < chunks else "")
    )
    results["encoder_limit"] = limit
    _measure_remote(args, index.root, work, results, log)
    log("filling the remaining vectors with random unit vectors")
    encoder.synthetic = True
    index.embed_pending()
    encoder.synthetic = False
    index.save()
    log("warm re-sync")
    results["warm_resync"] = warm_resync(index)
    log("save-to-searchable")
    results["save_to_searchable"] = save_to_searchable(index)
    log("query latency while indexing")
    side_root = subset_workspace(index, 2000, work / "side-workspace")
    side_dir = work / "side-index"
    shutil.rmtree(side_dir, ignore_errors=True)
    with WorkspaceIndex(side_root, index.settings, encoder=encoder, index_dir=side_dir) as side:
        side.sync()
        results["query_while_indexing"] = query_while_indexing(index, encoder, side, 20.0)


def _measure_scales(
    index: WorkspaceIndex,
    args: argparse.Namespace,
    work: Path,
    results: dict,
    log: Callable[[str], None],
) -> None:
    real = results["corpus_chunks"]
    rate = results["encoder_limit"]["engine_embed_chunks_per_s"]
    scales: dict[str, dict] = {}
    reopened = WorkspaceIndex(index.root, index.settings, encoder=index.encoder)
    try:
        for size in (int(s) for s in args.scales.split(",") if s.strip()):
            log(f"scale {size} chunks (worker process)")
            if size < real:
                folder = subset_workspace(reopened, size, work / f"scale-{size}")
                extra = 0
            else:
                folder, extra = index.root, size - real
            entry = run_scale(
                folder, work / f"scale-{size}-index", extra, args.repeats, args.model or ""
            )
            # Index time: measured sync + embedding every chunk at the measured engine rate.
            real_chunks = entry["chunks"] - extra
            entry["index_s_extrapolated"] = round(entry["sync_s"] + real_chunks / rate, 1)
            scales[str(size)] = entry
            results["scales"] = scales
            write_json(args.out.with_suffix(".partial.json"), results)
    finally:
        reopened.close()
    results["scales"] = scales


# -- targets and output -----------------------------------------------------------------------


def _scale(results: dict, size: int) -> dict | None:
    found = [v for k, v in results.get("scales", {}).items() if int(k) == size]
    return found[0] if found else None


def targets(results: dict) -> list[dict]:
    """Each target with the measured value and whether it is met."""
    found: list[dict] = []

    def add(name: str, value: float | None, limit: float, below: bool = True) -> None:
        met = value is not None and (value < limit if below else value >= limit)
        op = "<" if below else ">="
        found.append({"target": f"{name} {op} {limit:g}", "value": value, "met": met})

    if "ratio" in results["encoder_limit"]:
        add("cold index / raw encoder throughput", results["encoder_limit"]["ratio"], 0.9, False)
    if "remote" in results:
        ratio = results["remote"]["ratio"]
        add("remote pipeline / raw server throughput", ratio, 0.9, False)
    if "warm_resync" in results:
        add("warm re-sync s per 5,000 files", results["warm_resync"]["per_5000_files_s"], 2.0)
    if "save_to_searchable" in results:
        add("save-to-searchable p95 ms", results["save_to_searchable"]["p95_ms"], 300)
    big = _scale(results, 100_000)
    if big:
        add("search p95 ms at 100k chunks", big["search"]["p95_ms"], 50)
        add(
            "search without embedding p95 ms at 100k", big["search_without_embedding"]["p95_ms"], 10
        )
        add("similar p95 ms at 100k chunks", big["similar"]["p95_ms"], 50)
        peak = max(big["after_indexing"]["peak_rss_mb"], big["steady"]["peak_rss_mb"])
        add("peak RSS MB at 100k chunks (model included)", peak, 700)
    return found


def throughput_table(results: dict) -> list[str]:
    """Embedding chunks/s: the local encoder and the server, side by side (one run)."""
    local = results["encoder_limit"]
    lines = [
        "| encoder | raw chunks/s | nearcode pipeline chunks/s | pipeline / raw |",
        "|---|---:|---:|---:|",
        f"| local ({local['sample_chunks']} chunks) | {local['raw_encode_chunks_per_s']} "
        f"| {local['engine_embed_chunks_per_s']} "
        f"| {local['engine_embed_chunks_per_s'] / local['raw_encode_chunks_per_s']:.3f} |",
    ]
    remote = results.get("remote")
    if remote:
        lines.append(
            f"| {remote['url']} {remote['model']} (batch {remote['batch_size']}, "
            f"concurrency {remote['max_concurrency']}, {remote['sample_chunks']} chunks) "
            f"| {remote['raw_server_chunks_per_s']} | {remote['pipeline_chunks_per_s']} "
            f"| {remote['ratio']} |"
        )
    return lines


def speed_tables(results: dict) -> str:
    lines = ["| target | measured | met |", "|---|---:|:---:|"]
    for item in results["targets"]:
        lines.append(
            f"| {item['target']} | {item['value']} | {'met' if item['met'] else 'MISSED'} |"
        )
    if "raw_encode_chunks_per_s" in results["encoder_limit"]:
        lines += ["", *throughput_table(results)]
    if not results.get("scales"):
        return "\n".join(lines)
    lines += [
        "",
        "| chunks | sync s | index s (extrapolated) | search p50/p95 ms | no-embedding p50/p95 ms "
        "| similar p50/p95 ms | peak RSS MB | steady RSS MB | index MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results.get("scales", {}).values():
        s, n, m = entry["search"], entry["search_without_embedding"], entry["similar"]
        lines.append(
            f"| {entry['chunks']} | {entry['sync_s']} | {entry['index_s_extrapolated']} "
            f"| {s['median_ms']}/{s['p95_ms']} | {n['median_ms']}/{n['p95_ms']} "
            f"| {m['median_ms']}/{m['p95_ms']} | {entry['after_indexing']['peak_rss_mb']} "
            f"| {entry['steady']['rss_mb']} | {entry['index_mb']} |"
        )
    return "\n".join(lines)


def write_speed(out: Path, results: dict) -> None:
    write_json(out, results)
    table = speed_tables(results)
    details = {k: v for k, v in results.items() if k not in ("scales", "targets")}
    out.with_suffix(".md").write_text(
        table + "\n\n```json\n" + json.dumps(details, indent=2) + "\n```\n"
    )
    scales = list(results.get("scales", {}).values())
    if scales:
        line_plot(
            out.with_suffix(".png"),
            [e["chunks"] for e in scales],
            {
                "index time s (extrapolated)": [e["index_s_extrapolated"] for e in scales],
                "search p95 ms": [e["search"]["p95_ms"] for e in scales],
                "search p95 ms, no embedding": [
                    e["search_without_embedding"]["p95_ms"] for e in scales
                ],
            },
            "chunks",
            "nearcode scaling",
        )
    print(table)


if __name__ == "__main__":
    sys.exit(scale_worker(sys.argv[1:]))
