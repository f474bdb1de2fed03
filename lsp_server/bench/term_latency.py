"""Find Similar and Search by Selection latency with BM25 asked by a query's first 64 terms
(`code_query_terms=0`, the engine before 2026-12-05), by its most telling ones
(2026-12-05), and by those less its file's own words (`similar_file_words`, since
2026-12-07), side by side in one process on one index (BENCHMARKS.md, "Find Similar at
100,000 chunks", "Find Similar leaves out its file's own words").

    nearcode bench term-latency WORKSPACE --index-dir DIR [--definitions N] [--rounds N]

Definitions are drawn at random (seed 0) from the index's real files; each round asks all
of them as Find Similar and their text as a selection under each setting, the settings'
order turning between rounds so that load on the machine hits each alike. Query
vectors are memoised after a first pass, so the figures are ranking and reading, not the
model. An index made by `nearcode bench speed --work W` (W/scale-100000-index over
W/sdist/<name>/tree) gives the 100,000-chunk figures.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import islice
from pathlib import Path

from ..engine.chunks import Chunk
from ..engine.embedder import make_encoder
from ..engine.settings import EngineSettings
from ..engine.workspace import WorkspaceIndex
from .speed import BenchEncoder, latency, real_chunk_draws, timed_ms


def measure(workspace: Path, index_dir: Path, definitions: int, rounds: int) -> dict:
    shipped = EngineSettings()
    telling = replace(shipped, similar_file_words=0.0)
    settings = {
        "first_64_terms": replace(telling, code_query_terms=0),
        "telling": telling,
        "telling_less_file_words": shipped,
    }
    encoder = BenchEncoder(make_encoder(shipped))
    encoder.load()
    with WorkspaceIndex(workspace, shipped, encoder=encoder, index_dir=index_dir) as index:
        asked = _definitions(index, definitions)
        for chunk in asked:  # the query vectors, once, for both settings
            index.similar(chunk.path, chunk.start_line, chunk.start_col)
            index.search_text(chunk.text)
        runs: dict[str, dict[str, list[float]]] = {
            name: {"similar": [], "selection": []} for name in settings
        }
        for round_number in range(rounds):
            order = list(settings)[round_number % 3 :] + list(settings)[: round_number % 3]
            for name in order:
                index.searcher.settings = settings[name]
                for chunk in asked:
                    runs[name]["similar"].append(
                        timed_ms(lambda c=chunk: index.similar(c.path, c.start_line, c.start_col))
                    )
                    runs[name]["selection"].append(
                        timed_ms(lambda c=chunk: index.search_text(c.text))
                    )
        index.searcher.settings = shipped
        chunks = index.status().chunks
    return {
        "workspace": str(workspace),
        "chunks": chunks,
        "definitions": len(asked),
        "rounds": rounds,
        **{name: {kind: latency(ms) for kind, ms in kinds.items()} for name, kinds in runs.items()},
    }


def _definitions(index: WorkspaceIndex, count: int) -> list[Chunk]:
    draws = islice(real_chunk_draws(index), count * 20)
    return list(islice((chunk for chunk in draws if chunk is not None), count))
