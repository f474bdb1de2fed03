"""Retrieval quality through the real engine: BEIR sets as workspaces, pipelines side by side.

Each corpus document becomes one file of a workspace that `WorkspaceIndex` indexes exactly as
the editor would (scanner, chunker, embedder, SQLite/FTS5 and HNSW stores). Pipelines differ
only in ranking settings, so they share one index (opened read-only with other settings);
the context-header ablation changes what is embedded and so gets a second index.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..engine.embedder import Encoder, make_encoder
from ..engine.locations import index_dir_for
from ..engine.results import SearchResponse
from ..engine.settings import EngineSettings
from ..engine.workspace import ProgressFn, WorkspaceIndex
from .beir import BeirSet, Query
from .metrics import MAX_RANK, mean_scores, score_query

CODE_MODES = ("similar", "selection", "text")
HEADER_OFF = "noheader"  # suffix of the second index (embedded without context headers)


@dataclass(frozen=True)
class Pipeline:
    name: str
    overrides: dict = field(default_factory=dict)
    header_off: bool = False  # needs the second index
    code_mode: str | None = None  # None: the run's mode for code-to-code queries


def pipelines(defaults: EngineSettings, code_mode: str | None = None) -> list[Pipeline]:
    """bm25, dense, hybrid (the shipped defaults), then one ablation per setting.

    With a code_mode (sets of code-to-code queries), the other ways of asking are added too.
    """
    found = [
        Pipeline("bm25", {"dense_weight": 0.0}),
        Pipeline("dense", {"lexical_weight": 0.0, "prose_lexical_weight": 0.0}),
        Pipeline("hybrid"),
        # What the editor literally ranks (benchmarks widen the pools to rank 1000).
        Pipeline("hybrid/candidates=100", {"candidates": 100}),
    ]
    for weight in (1.0, 3.0):
        if weight != defaults.lexical_weight:
            name = f"hybrid/lexical_weight={weight:g}"
            found.append(Pipeline(name, {"lexical_weight": weight}))
    for weight in (0.1, 0.3, 1.0):
        if weight != defaults.prose_lexical_weight:
            name = f"hybrid/prose_lexical_weight={weight:g}"
            found.append(Pipeline(name, {"prose_lexical_weight": weight}))
    for k in (10, 60):
        if k != defaults.rrf_k:
            found.append(Pipeline(f"hybrid/rrf_k={k}", {"rrf_k": k}))
    header = "off" if defaults.context_header else "on"
    no_lexical = {"lexical_weight": 0.0, "prose_lexical_weight": 0.0}
    found.append(Pipeline(f"dense/context_header={header}", no_lexical, True))
    found.append(Pipeline(f"hybrid/context_header={header}", {}, True))
    for mode in CODE_MODES if code_mode else ():
        if mode != code_mode:
            found.append(Pipeline(f"hybrid/code_query={mode}", code_mode=mode))
    return found


class SharedEncoder:
    """One model for every pipeline's index; a query's vector is computed once, not per pipeline."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self._memo: dict[str, np.ndarray] = {}

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def loaded(self) -> bool:
        return self.inner.loaded

    def load(self) -> None:
        self.inner.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.encode(texts)
        if texts[0] not in self._memo:
            if len(self._memo) > 50_000:
                self._memo.clear()
            self._memo[texts[0]] = self.inner.encode(texts)[0]
        return self._memo[texts[0]][None, :]


# -- the workspace --------------------------------------------------------------------------


def doc_filename(doc_id: str, text: str) -> str:
    """A readable, collision-free file name; the extension tells the scanner the language."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", doc_id)[:60]
    digest = hashlib.blake2b(doc_id.encode(), digest_size=4).hexdigest()
    return f"docs/{safe}-{digest}{_extension(text)}"


def _extension(text: str) -> str:
    # The shipped sets are Python; other languages would need their extension here.
    looks_python = re.search(r"^\s*(async\s+def|def|class|import|from|@)\b", text, re.M)
    return ".py" if looks_python else ".txt"


def materialise(data: BeirSet, folder: Path) -> dict[str, str]:
    """Writes one file per document (unchanged files keep their mtime); returns path -> id."""
    paths: dict[str, str] = {}
    for doc_id, text in data.corpus.items():
        rel = doc_filename(doc_id, text)
        paths[rel] = doc_id
        target = folder / rel
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for stale in (folder / "docs").iterdir():  # a different sample: drop the rest
        if f"docs/{stale.name}" not in paths:
            stale.unlink()
    return paths


# -- ranking --------------------------------------------------------------------------------


def ask(index: WorkspaceIndex, query: Query, doc_path: str | None, mode: str) -> SearchResponse:
    """The engine call the editor would make for this query."""
    if query.self_id is None or doc_path is None:
        return index.search(query.text, limit=MAX_RANK)
    if mode == "similar":  # "find similar" with the cursor on the document's first line
        return index.similar(doc_path, 0, 0, limit=MAX_RANK)
    if mode == "selection":  # the whole document selected
        lines = (index.root / doc_path).read_text(encoding="utf-8").splitlines()
        end = (len(lines) - 1, len(lines[-1]))
        return index.similar(doc_path, 0, 0, end=end, limit=MAX_RANK)
    return index.search_text(query.text, limit=MAX_RANK)


def ranked_docs(response: SearchResponse, ids: dict[str, str], self_id: str | None) -> list[str]:
    """Document ids in result order: a document's best chunk counts, its own is left out.

    Results scored 0 came only from a ranking weighted 0 (bm25/dense alone): dropped, so
    each single-ranking pipeline is exactly that ranking.
    """
    ranked: list[str] = []
    seen: set[str] = set()
    for result in response.results:
        doc = ids.get(result.path)
        if result.score <= 0 or doc is None or doc == self_id or doc in seen:
            continue
        seen.add(doc)
        ranked.append(doc)
    return ranked


@dataclass
class SetResult:
    name: str
    corpus: int
    queries: int
    pipelines: dict[str, dict[str, float]]
    chunks: int = 0
    index_seconds: float = 0.0
    query_seconds: float = 0.0
    code_mode: str = ""

    def to_json(self) -> dict:
        return {"corpus": self.corpus, "queries": self.queries, "pipelines": self.pipelines}


class QualityRun:
    """Indexes each set once per embedding variant and scores every pipeline on it."""

    def __init__(
        self,
        work: Path,
        settings: EngineSettings,
        *,
        code_mode: str = "similar",
        progress: ProgressFn | None = None,
        encoder: Encoder | None = None,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    ) -> None:
        self.work = work
        self.settings = replace(settings, candidates=max(settings.candidates, MAX_RANK))
        self.code_mode = code_mode
        self.progress = progress
        self.encoder = SharedEncoder(encoder or make_encoder(settings))
        self.log = log

    def _open(self, folder: Path, header_off: bool, **overrides) -> WorkspaceIndex:
        settings = replace(self.settings, **overrides)
        index_dir = None
        if header_off:
            base = index_dir_for(folder)
            index_dir = base.with_name(f"{base.name}-{HEADER_OFF}")
            settings = replace(settings, context_header=not settings.context_header)
        return WorkspaceIndex(folder, settings, encoder=self.encoder, index_dir=index_dir)

    def run(self, data: BeirSet) -> SetResult:
        folder = self.work / re.sub(r"[^A-Za-z0-9_.-]", "_", data.name)
        ids = materialise(data, folder)
        paths = {doc: path for path, doc in ids.items()}
        started = time.monotonic()
        writers = {False: self._open(folder, False), True: self._open(folder, True)}
        try:
            chunks = 0
            for header_off, writer in writers.items():
                self.log(f"{data.name}: indexing {len(ids)} documents (header_off={header_off})")
                writer.index(progress=self.progress)
                chunks = chunks or writer.status().chunks
            indexed = time.monotonic() - started
            result = SetResult(data.name, len(data.corpus), len(data.queries), {}, chunks)
            result.index_seconds = round(indexed, 1)
            result.code_mode = self.code_mode if any(q.self_id for q in data.queries) else ""
            started = time.monotonic()
            for pipeline in pipelines(self.settings, result.code_mode or None):
                result.pipelines[pipeline.name] = self._score(data, folder, ids, paths, pipeline)
            result.query_seconds = round(time.monotonic() - started, 1)
            return result
        finally:
            for writer in writers.values():
                writer.close()

    def _score(
        self,
        data: BeirSet,
        folder: Path,
        ids: dict[str, str],
        paths: dict[str, str],
        pipeline: Pipeline,
    ) -> dict[str, float]:
        # Read-only: the writer of this index dir is still open, holding its lock.
        with self._open(folder, pipeline.header_off, **pipeline.overrides) as index:
            per_query = []
            for query in data.queries:
                mode = pipeline.code_mode or self.code_mode
                response = ask(index, query, paths.get(query.self_id or ""), mode)
                ranked = ranked_docs(response, ids, query.self_id)
                per_query.append(score_query(ranked, data.qrels[query.id]))
        scores = mean_scores(per_query)
        self.log(f"{data.name}: {pipeline.name:<32} MRR {scores['mrr']:.4f}")
        return scores
