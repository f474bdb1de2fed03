"""Speed with and without an adapter, side by side in one process (`nearcode train` adapters).

    nearcode bench adapter-speed WORKSPACE [--adapter FILE|default] [--rounds N]

- Indexing throughput: the same chunk texts embedded by the document-side encoder of each
  setting (a query adapter leaves it as it is; a LoRA adapter is merged into the weights),
  rounds alternating between the two, chunks per second (median of the rounds).
- Query latency: `search()` end to end on one index per setting, queries alternating between
  the two settings so that load on the machine hits both alike (median and p95).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from ..engine.embedder import make_encoder
from ..engine.locations import index_dir_for
from ..engine.settings import EngineSettings
from ..engine.workspace import WorkspaceIndex
from .speed import percentile

QUERIES = (
    "where do we retry failed requests",
    "parse the configuration file",
    "how to read a file in chunks python",
    "check if a path is a folder",
    "def split_words(text):\n    return text.split()",
    "convert a date to a timestamp",
    "load json from disk",
    "self.store.cached_vectors(model, hashes)",
)


def measure(workspace: Path, adapter: str, rounds: int, sample: int) -> dict:
    settings = {name: EngineSettings(adapter=name) for name in ("none", adapter)}
    indexes = {}
    for name, engine_settings in settings.items():
        encoder = make_encoder(engine_settings)
        base_dir = index_dir_for(workspace)
        suffix = "" if name == "none" else "-adapter"
        index = WorkspaceIndex(
            workspace,
            engine_settings,
            encoder=encoder,
            index_dir=base_dir.with_name(base_dir.name + suffix),
        )
        index.index()
        indexes[name] = index
    texts = [
        index.embed_text(stored.chunk)
        for stored in indexes["none"].store.chunks_by_id(
            sorted(indexes["none"].store.embedded_ids())[:sample]
        ).values()
    ]
    throughput: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(rounds):
        for name, index in indexes.items():
            started = time.perf_counter()
            index.encoder.encode(texts)
            throughput[name].append(len(texts) / (time.perf_counter() - started))
    latency: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(rounds):
        for query in QUERIES:
            for name, index in indexes.items():
                started = time.perf_counter()
                index.search(query, limit=20)
                latency[name].append((time.perf_counter() - started) * 1000)
    for index in indexes.values():
        index.close()
    result = {
        "workspace": str(workspace),
        "chunks_timed": len(texts),
        "rounds": rounds,
        "encoders": {name: indexes[name].encoder.identity for name in settings},
    }
    for name in settings:
        result[name] = {
            "index_chunks_per_s": round(statistics.median(throughput[name]), 1),
            "search_ms_median": round(statistics.median(latency[name]), 2),
            "search_ms_p95": round(percentile(latency[name], 0.95), 2),
        }
    base, other = result["none"], result[adapter]
    result["ratios"] = {
        "index_throughput": round(other["index_chunks_per_s"] / base["index_chunks_per_s"], 3),
        "search_median": round(other["search_ms_median"] / base["search_ms_median"], 3),
        "search_p95": round(other["search_ms_p95"] / base["search_ms_p95"], 3),
    }
    return result
