"""Encoder backends side by side: throughput, query latency, agreement with torch, cold start.

    python -m lsp_server.bench.encoders [--chunks 1000] [--repeats 3] [--out FILE]

Every configuration runs in this one process over the same chunks, interleaved per repeat
(so drift in machine load hits all of them alike); figures are medians over the repeats.
The chunks are what the engine embeds: stdlib files cut by the engine's chunker, with the
context header `WorkspaceIndex.embed_text` adds. Cold start runs a fresh interpreter per
backend with the ONNX export already cached. Results go to bench-results/encoders.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..engine.chunker import chunk_text
from ..engine.embedder import Encoder, make_encoder
from ..engine.indexer import says_something
from ..engine.settings import EngineSettings
from ..engine.workspace import WorkspaceIndex

BACKENDS = ("torch", "onnx", "onnx-int8")
QUERY = "parse a date string into a datetime object"
DEFAULT_OUT = Path("bench-results/encoders.json")


def stdlib_chunks(count: int, seed: int = 0, folder: Path | None = None) -> list[str]:
    """``count`` embed texts, sampled (seeded) from the chunks of the stdlib's top-level files."""
    settings = EngineSettings()
    shim = SimpleNamespace(settings=settings)  # embed_text reads only .settings
    texts: list[str] = []
    for path in sorted((folder or Path(sysconfig.get_paths()["stdlib"])).glob("*.py")):
        source = path.read_text(encoding="utf-8", errors="replace")
        for chunk in chunk_text(path.name, source, "python", max_chars=settings.chunk_chars):
            if says_something(chunk.text):
                texts.append(WorkspaceIndex.embed_text(shim, chunk))  # type: ignore[arg-type]
    if len(texts) < count:
        return texts
    return random.Random(seed).sample(texts, count)


def _encoder(backend: str, max_len: int, batch: int) -> Encoder:
    encoder = make_encoder(
        EngineSettings(backend=backend, max_seq_length=max_len, batch_size=batch)
    )
    encoder.load()
    wanted = "sentence-transformers" if backend == "torch" else backend
    if wanted not in encoder.identity:  # make_encoder fell back: the figures would lie
        raise RuntimeError(f"{backend} unavailable, got {encoder.identity}")
    return encoder


def _configs(max_lens: Sequence[int], batches: Sequence[int]) -> list[tuple[str, int, int]]:
    """Every backend at every length with batch 32, plus the batch sweep at the first length."""
    found = [(b, n, 32) for n in max_lens for b in BACKENDS]
    found += [(b, max_lens[0], s) for s in batches if s != 32 for b in BACKENDS]
    return found


def _agreement(vectors: np.ndarray, reference: np.ndarray, k: int = 10) -> dict[str, float]:
    """Cosine to the reference row by row, and overlap of each row's top-k neighbours."""
    cosine = (vectors * reference).sum(axis=1)

    def neighbours(matrix: np.ndarray) -> np.ndarray:
        scores = matrix @ matrix.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :k]

    ours, theirs = neighbours(vectors), neighbours(reference)
    overlap = [len(set(a) & set(b)) / k for a, b in zip(ours, theirs, strict=True)]
    return {
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "top10_overlap": round(float(np.mean(overlap)), 3),
    }


def _throughput(
    texts: list[str], configs: list[tuple[str, int, int]], repeats: int
) -> tuple[dict[tuple, float], dict[tuple, np.ndarray]]:
    encoders = {config: _encoder(*config) for config in configs}
    for encoder in encoders.values():
        encoder.encode(texts[:8])  # warm-up: first runs allocate and tune
    seconds: dict[tuple, list[float]] = {config: [] for config in configs}
    vectors: dict[tuple, np.ndarray] = {}
    for repeat in range(repeats):
        for config, encoder in encoders.items():
            started = time.perf_counter()
            vectors[config] = encoder.encode(texts)
            seconds[config].append(time.perf_counter() - started)
            rate = len(texts) / seconds[config][-1]
            print(f"repeat {repeat + 1}: {config} {rate:.1f} chunks/s", file=sys.stderr)
    rates = {c: len(texts) / statistics.median(s) for c, s in seconds.items()}
    return rates, vectors


def _latency(backend: str, max_len: int, runs: int) -> dict[str, float]:
    encoder = _encoder(backend, max_len, 32)
    for _ in range(5):
        encoder.encode([QUERY])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        encoder.encode([QUERY])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
    }


_COLD = """
import sys, time
from lsp_server.engine.embedder import make_encoder
from lsp_server.engine.settings import EngineSettings
encoder = make_encoder(EngineSettings(backend=sys.argv[1]))
encoder.encode(["def first(): pass"])
print(encoder.identity, "torch" in sys.modules)
"""


def _cold_start(backend: str, repeats: int) -> dict:
    """Process start to first vector, in a fresh interpreter (export already cached)."""
    times, torch_loaded = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _COLD, backend], capture_output=True, text=True, check=True
        )
        times.append(time.perf_counter() - started)
        torch_loaded = done.stdout.split()[-1] == "True"
    return {"seconds": round(statistics.median(times), 2), "torch_imported": torch_loaded}


def run_encoder_benchmark(
    chunks: int = 1000,
    repeats: int = 3,
    max_lens: Sequence[int] = (256, 128),
    batches: Sequence[int] = (16, 32, 64),
    latency_runs: int = 50,
) -> dict:
    """Every measurement above, as one JSON-ready dict."""
    texts = stdlib_chunks(chunks)
    configs = _configs(max_lens, batches)
    for backend in BACKENDS:  # export (once, cached) before anything is timed
        _encoder(backend, max_lens[0], 32)
    rates, vectors = _throughput(texts, configs, repeats)
    rows = []
    for backend, max_len, batch in configs:
        row = {"backend": backend, "max_len": max_len, "batch": batch}
        row["chunks_per_s"] = round(rates[(backend, max_len, batch)], 1)
        reference = vectors[("torch", max_len, 32)]
        row.update(_agreement(vectors[(backend, max_len, batch)], reference))
        rows.append(row)
    latency = {b: _latency(b, max_lens[0], latency_runs) for b in BACKENDS}
    cold = {b: _cold_start(b, repeats) for b in BACKENDS}
    return {
        "chunks": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "repeats": repeats,
        "machine": _machine(),
        "throughput": rows,
        "query_latency": latency,
        "cold_start": cold,
    }


def dense_mrr(
    folders: Sequence[Path], max_queries: int = 300, max_corpus: int = 2000, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Dense-only MRR per set and backend: each document one vector, the whole (sampled)
    corpus ranked by cosine, a code query's own document left out. Compares encoders, not
    pipelines: chunking, headers and fusion are the quality benchmark's business."""
    from .beir import load_set, subsample

    found: dict[str, dict[str, float]] = {}
    for folder in folders:
        data = subsample(load_set(folder), max_queries, max_corpus, seed)
        ids = list(data.corpus)
        found[data.name] = {}
        for backend in BACKENDS:
            encoder = _encoder(backend, 256, 32)
            docs = encoder.encode([data.corpus[d] for d in ids])
            queries = encoder.encode([q.text for q in data.queries])
            ranks = []
            for query, scores in zip(data.queries, queries @ docs.T, strict=True):
                order = [ids[i] for i in np.argsort(-scores) if ids[i] != query.self_id]
                relevant = data.qrels[query.id]
                first = next((r for r, d in enumerate(order, 1) if d in relevant), None)
                ranks.append(1.0 / first if first else 0.0)
            found[data.name][backend] = round(float(np.mean(ranks)), 4)
            print(f"{data.name}: {backend} dense MRR {found[data.name][backend]}", file=sys.stderr)
    return found


def _machine() -> dict:
    import os
    import platform

    import onnxruntime
    import torch

    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def table(result: dict) -> str:
    """The throughput rows as a Markdown table."""
    lines = [
        "| backend | max len | batch | chunks/s | cosine to torch (mean/min) | top-10 overlap |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["throughput"]:
        lines.append(
            f"| {r['backend']} | {r['max_len']} | {r['batch']} | {r['chunks_per_s']} "
            f"| {r['cosine_mean']} / {r['cosine_min']} | {r['top10_overlap']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--mrr-data",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="BEIR set for a dense-only MRR per backend (repeatable)",
    )
    parser.add_argument("--mrr-only", action="store_true", help="skip the speed figures")
    args = parser.parse_args(argv)
    result = {} if args.mrr_only else run_encoder_benchmark(args.chunks, args.repeats)
    if args.mrr_data:
        result["dense_mrr"] = dense_mrr(args.mrr_data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if "throughput" in result:
        print(table(result))
    extra = ("query_latency", "cold_start", "dense_mrr")
    print(json.dumps({k: result[k] for k in extra if k in result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
