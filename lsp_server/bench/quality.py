"""Retrieval quality through the real engine: BEIR sets as workspaces, pipelines side by side.

BEIR sets: each corpus document becomes one file of a workspace. In-place sets: the set's
tree is the workspace, and a result is a hit when its lines overlap a target's. Either way
`WorkspaceIndex` indexes it exactly as the editor would (scanner, chunker, embedder,
SQLite/FTS5 and HNSW stores). Pipelines that differ only in ranking settings share one index
(opened read-only with other settings); settings that change what is indexed (the context
header) get an index of their own.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..engine.embedder import Encoder, make_encoder
from ..engine.languages import detect_language
from ..engine.locations import index_dir_for
from ..engine.ranking import RankTrace
from ..engine.results import SearchResponse
from ..engine.settings import EngineSettings
from ..engine.workspace import ProgressFn, WorkspaceIndex
from .beir import BeirSet, Query
from .metrics import LANDING, MAX_RANK, mean_scores, score_query
from .replay import CAPTURE_VERSION
from .treeset import ASK_SELECTION, ASK_SIMILAR, Question, Target, TreeSet

CODE_MODES = ("similar", "selection", "text")

# The single rankings and the shipped fusion; ablations are applied on top of one of them.
BASES: dict[str, dict] = {
    "bm25": {"dense_weight": 0.0},
    "dense": {
        "lexical_weight": 0.0,
        "prose_lexical_weight": 0.0,
        "named_lexical_weight": 0.0,
        "similar_lexical_weight": 0.0,
        "class_lexical_weight": 0.0,
    },
    "hybrid": {},
}


def _base(name: str, defaults: EngineSettings) -> dict:
    """A base pipeline's overrides that the engine has (a baseline revision's may lack some
    weights: it then has no such ranking to switch off)."""
    return {k: v for k, v in BASES[name].items() if hasattr(defaults, k)}


@dataclass(frozen=True)
class Pipeline:
    name: str
    overrides: dict = field(default_factory=dict)  # ranking settings: pipelines share an index
    # Settings that change what is chunked or embedded: an index of their own.
    index_overrides: dict = field(default_factory=dict)
    code_mode: str | None = None  # None: the run's mode for code-to-code queries
    # Ranking settings applied where the engine has them: one that a baseline revision's
    # engine lacks is what it did anyway (a later setting, off).
    where_known: dict = field(default_factory=dict)

    def expand(self, defaults: EngineSettings) -> list[Pipeline]:
        known = all(hasattr(defaults, k) for k in (*self.overrides, *self.index_overrides))
        if not known:
            return []  # a baseline revision's engine may lack a setting
        found = {k: v for k, v in self.where_known.items() if hasattr(defaults, k)}
        return [replace(self, overrides={**self.overrides, **found}, where_known={})]


def _label(value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):  # a table of (name, weight) pairs
        return ",".join(f"{k}:{_label(v)}" for k, v in value) or "none"
    if isinstance(value, str) and "/" in value:  # a file (an adapter): its name
        return Path(value).stem
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Ablation:
    """One EngineSettings field tried at other values than the run's, on top of `bases`.

    Each value that differs from the run's setting becomes a pipeline named
    `<base>/<setting>=<value>`; `reindex` marks settings that change the index itself.
    """

    setting: str
    values: tuple
    bases: tuple[str, ...] = ("hybrid",)
    reindex: bool = False

    def expand(self, defaults: EngineSettings) -> list[Pipeline]:
        if not hasattr(defaults, self.setting):
            return []  # an engine without this setting (a baseline revision's)
        found = []
        for base in self.bases:
            for value in self.values:
                if value == getattr(defaults, self.setting):
                    continue
                name = f"{base}/{self.setting}={_label(value)}"
                change = {self.setting: value}
                if self.reindex:
                    found.append(Pipeline(name, _base(base, defaults), change))
                else:
                    found.append(Pipeline(name, {**_base(base, defaults), **change}))
        return found


def _with_role_weight(role: str, weight: float) -> tuple[tuple[str, float], ...]:
    """The shipped role weights with one role's weight set (1: the role not weighed)."""
    others = tuple((r, w) for r, w in EngineSettings().role_weights if r != role)
    return others if weight == 1 else (*others, (role, weight))


# Reciprocal ranks, as in earlier releases, weigh BM25 the same for every question.
_CONSTANT: dict = {"where_known": {"prose_lexical_coverage": 0.0}}

# Every run scores each entry side by side with bm25/dense/hybrid. Add an entry to measure a
# new engine setting (an Ablation per field, or a Pipeline for a named set of overrides).
ABLATIONS: tuple[Ablation | Pipeline, ...] = (
    Ablation("candidates", (100,)),  # what the editor ranked until 2026-12-05 (benchmarks: 1000)
    Ablation("lexical_weight", (1.0, 3.0)),
    Ablation("prose_lexical_weight", (0.1, 0.3, 0.5, 1.0)),
    Ablation("context_header", (True, False), bases=("dense", "hybrid"), reindex=True),
    Ablation("named_lexical_weight", (None, 0.5, 1.0, 2.0)),
    Ablation("exact_names", (True, False)),
    Ablation("unit_results", (True, False)),
    Ablation("part_pooling", ("best", "mean")),
    Ablation("query_pooling", (True, False)),
    Ablation("class_results", (True, False)),
    Ablation("outside_class_weight", (0.0, 0.25, 0.5, 1.0)),
    Ablation("asked_supertype_weight", (0.25, 0.5, 1.0)),
    Ablation("role_priors", (True, False)),
    Ablation(
        "kind_weights",
        (*((("imports", 0.3), ("script", w)) for w in (1.0, 0.8, 0.5)), (("imports", 0.3),), ()),
    ),
    Ablation("code_answers_code", (True, False)),
    Ablation("similar_lexical_weight", (0.25, 1.0, 2.0)),
    Ablation("class_lexical_weight", (0.5, 1.0, 2.0, 4.0)),
    Ablation("sentences_are_prose", (True, False)),
    Ablation("lexical_phrases", ("none", "selections", "code", "all"), bases=("bm25", "hybrid")),
    # The fusion of earlier releases (reciprocal ranks, BM25 weight 0.1 for questions), and
    # reciprocal ranks at other weights.
    Pipeline("hybrid/fusion=rrf", {"fusion": "rrf", "prose_lexical_weight": 0.1}, **_CONSTANT),
    *(
        Pipeline(f"hybrid/fusion=rrf/prose_lexical_weight={w:g}", {
            "fusion": "rrf", "prose_lexical_weight": w
        }, **_CONSTANT)
        for w in (0.3, 1.0)
    ),
    Pipeline("hybrid/fusion=rrf/rrf_k=60", {"fusion": "rrf", "prose_lexical_weight": 0.1,
                                            "rrf_k": 60}, **_CONSTANT),
    Ablation("prose_lexical_coverage", (0.0, 1.0, 2.0, 3.0)),
    # The fusion before BM25's weight followed its coverage: a constant 0.2 for questions.
    Pipeline(
        "hybrid/prose_lexical_weight=0.2/prose_lexical_coverage=0",
        {"prose_lexical_weight": 0.2, "prose_lexical_coverage": 0.0},
    ),
    # The editor ranks 200 since 2026-12-05 (300 tried). An entry apart from the first one,
    # so that the pipeline names published for BEIR sets keep their order.
    Ablation("candidates", (200, 300)),
    # Undocumented results the model prefers moving above their documented neighbours in a
    # question's first results (since 2026-12-05; 0: the ranking before).
    Ablation("neighbour_depth", (0, 10)),
    # Blocks that declare a question's word keep BM25's whole weight among its first K
    # (since 2026-12-05; 0: the ranking before).
    Ablation("declared_block_depth", (0, 1, 2, 3, 5)),
    Ablation("agreed_first_kept", (True, False)),
    # A long code query searched by its K most telling terms (since 2026-12-05; 0: its
    # first 64 terms, the ranking before).
    Ablation("code_query_terms", (0, 12, 16, 24, 32), bases=("bm25", "hybrid")),
    # A typed question's weight for a nameless block of one statement (since 2026-12-06; 1:
    # the ranking before).
    Ablation("lone_statement_weight", (1.0, 0.3, 0.8)),
    # Find Similar's BM25 without its file's own words (since 2026-12-07; 0: the ranking
    # before).
    Ablation("similar_file_words", (0.0, 0.25, 0.5), bases=("bm25", "hybrid")),
    # A question's weight for stylesheets (since 2026-12-07; 1: the ranking before), and
    # for generated code (0.5 since the first file roles).
    Ablation(
        "role_weights",
        (
            *(_with_role_weight("style", w) for w in (1.0, 0.8, 0.5, 0.3)),
            *(_with_role_weight("markup", w) for w in (1.0, 0.8, 0.6, 0.4)),
            *(_with_role_weight("generated", w) for w in (1.0, 0.8)),
        ),
    ),
    # Code whose opening comments say a tool wrote it ranks as generated (since 2026-12-07;
    # False: by its path alone, the ranking before).
    Ablation("content_roles", (True, False), bases=("bm25", "dense", "hybrid")),
    # A role word that names the project's own code asks for no role (since 2026-12-07; 0:
    # every such word asks, the ranking before).
    Ablation("own_vocabulary_names", (0, 5, 10, 20)),
)


def adapter_pipelines(defaults: EngineSettings, adapters: Sequence[str]) -> list[Pipeline]:
    """dense and hybrid with each other adapter setting ("none", the shipped one, a file).

    The index is the one of the document encoder the setting gives: a query-side adapter
    queries the bare model's index (its own when the shipped adapter is LoRA), a LoRA one
    gets an index of its own.
    """
    if not adapters or not hasattr(defaults, "adapter"):
        return []  # none asked for, or an engine from before adapters (a baseline's)
    # Imported here: a baseline revision's engine (bench/baseline.py) may predate adapters.
    from ..engine.adapter import LORA_KIND, load_adapter
    from ..engine.settings import NO_ADAPTER

    shipped = make_encoder(defaults).identity
    found = []
    for adapter in adapters:
        if adapter == defaults.adapter:
            continue
        loaded = load_adapter(adapter)
        documents = adapter if loaded is None or loaded.kind == LORA_KIND else NO_ADAPTER
        ranking = {"adapter": adapter}
        if make_encoder(replace(defaults, adapter=documents)).identity == shipped:
            index = {}
        else:
            index, ranking = {"adapter": documents}, ({} if documents == adapter else ranking)
        for base in ("dense", "hybrid"):
            name = f"{base}/adapter={_label(adapter)}"
            found.append(Pipeline(name, {**_base(base, defaults), **ranking}, index))
    return found


def pipelines(
    defaults: EngineSettings, code_mode: str | None = None, adapters: Sequence[str] = ()
) -> list[Pipeline]:
    """bm25, dense, hybrid (the shipped defaults), then every entry of ABLATIONS, then the
    adapters asked for (bench quality --adapter).

    With a code_mode (sets of code-to-code queries), the other ways of asking are added too.
    """
    found = [Pipeline(name, _base(name, defaults)) for name in BASES]
    for entry in (*ABLATIONS, *adapter_pipelines(defaults, adapters)):
        found += entry.expand(defaults)
    for mode in CODE_MODES if code_mode else ():
        if mode != code_mode:
            found.append(Pipeline(f"hybrid/code_query={mode}", code_mode=mode))
    return found


def select(found: list[Pipeline], patterns: Sequence[str]) -> list[Pipeline]:
    """The pipelines whose names match one of the glob patterns (all without patterns)."""
    if not patterns:
        return found
    chosen = [p for p in found if any(fnmatch.fnmatchcase(p.name, pat) for pat in patterns)]
    if not chosen:
        names = ", ".join(p.name for p in found)
        raise ValueError(f"no pipeline matches {', '.join(patterns)}; there are: {names}")
    return chosen


def unmatched(found: list[Pipeline], patterns: Sequence[str]) -> list[str]:
    """What to tell of each pattern that matches no pipeline (a misspelt value, such as
    `=false` for a setting whose pipelines are named `=off`): the names it may have meant."""
    notes = []
    for pattern in patterns:
        if any(fnmatch.fnmatchcase(p.name, pattern) for p in found):
            continue
        stem = pattern.split("=", 1)[0]
        near = [p.name for p in found if p.name.split("=", 1)[0] == stem]
        hint = f"; there are: {', '.join(near)}" if near else ""
        notes.append(f"no pipeline matches {pattern!r}{hint}")
    return notes


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


# The folder the documents of a BEIR set are written to. Not "docs/": the engine reads that
# as documentation, and its priors would rank every document as prose.
CORPUS_FOLDER = "corpus"


def file_safe(name: str) -> str:
    """A set's or document's name as a file name: anything but letters, digits, _ . -
    becomes _."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def doc_filename(doc_id: str, text: str) -> str:
    """A readable, collision-free file name; the extension tells the scanner the language."""
    safe = file_safe(doc_id)[:60]
    digest = hashlib.blake2b(doc_id.encode(), digest_size=4).hexdigest()
    return f"{CORPUS_FOLDER}/{safe}-{digest}{_extension(text)}"


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
    for stale in (folder / CORPUS_FOLDER).iterdir():  # a different sample: drop the rest
        if f"{CORPUS_FOLDER}/{stale.name}" not in paths:
            stale.unlink()
    shutil.rmtree(folder / "docs", ignore_errors=True)  # where older runs wrote them
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


def ranked_targets(response: SearchResponse, targets: Sequence[Target]) -> list[str]:
    """Result keys in order: a result overlapping target i is "t<i>" (every part of a split
    definition is the definition: counted once, at its best rank); others are their range.

    Results scored 0 are dropped, as in `ranked_docs`.
    """
    rows = ((r.path, r.start_line, r.end_line, r.end_col, r.score) for r in response.results)
    return ranked_keys(rows, targets)


def ranked_landings(response: SearchResponse, targets: Sequence[Target]) -> list[str]:
    """`ranked_targets` by where opening each result puts the cursor (its selection, as
    clangd's selectionRange; its first line for an engine without one): a function's result
    that only holds the definition asked for lands on its own name, not in the target."""
    rows = []
    for r in response.results:
        selection = getattr(r, "selection", None)
        line = selection[0] if selection else r.start_line
        rows.append((r.path, line, line, 1, r.score))  # that line alone
    return ranked_keys(rows, targets)


def ranked_keys(
    rows: Iterable[tuple[str, int, int, int, float]], targets: Sequence[Target]
) -> list[str]:
    """`ranked_targets` for results given as (path, start line, end line, end column, score),
    0-based as the engine's (an older engine's command line prints them so too)."""
    ranked: list[str] = []
    seen: set[str] = set()
    for path, start_line, end_line, end_col, score in rows:
        if score <= 0:
            continue
        key = target_key(path, start_line, end_line, end_col, targets)
        if key not in seen:
            seen.add(key)
            ranked.append(key)
    return ranked


def target_key(
    path: str, start_line: int, end_line: int, end_col: int, targets: Sequence[Target]
) -> str:
    """A result's key (0-based lines, as results): "t<i>" when it overlaps target i."""
    first = start_line + 1  # 1-based, inclusive, like the targets
    ends_at_line_start = end_col == 0 and end_line > start_line
    last = end_line if ends_at_line_start else end_line + 1
    return next(
        (f"t{i}" for i, t in enumerate(targets) if t.overlaps(path, first, last)),
        f"{path}:{first}-{last}",
    )


def answer_language(question: Question) -> str:
    """The language of the file that holds a question's (first) answer."""
    return detect_language(question.targets[0].path) or "other"


def relevant_targets(question: Question) -> dict[str, int]:
    return {f"t{i}": 1 for i in range(len(question.targets))}


@dataclass
class SetResult:
    name: str
    corpus: int
    queries: int
    pipelines: dict[str, dict[str, float]]
    chunks: int = 0
    files: int = 0
    index_seconds: float = 0.0
    query_seconds: float = 0.0
    code_mode: str = ""
    layout: str = "beir"
    # Each pipeline's reciprocal rank per query, in query order (for paired intervals).
    per_query: dict[str, list[float]] = field(default_factory=dict)
    # The same by where each result lands (in-place sets: metrics.LANDING).
    per_query_landing: dict[str, list[float]] = field(default_factory=dict)
    # In-place sets: the language of each question's answer (its first target's file), in
    # query order, so that a tree of several languages is scored per language too.
    answer_languages: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        data = {"corpus": self.corpus, "queries": self.queries, "pipelines": self.pipelines}
        if self.layout != "beir":  # the BEIR shape stays as external tools know it
            data |= {"layout": self.layout, "files": self.files}
        return data


# A question's engine call and judgement: (index, query, code mode) -> (ranked keys, relevant)
# or, for in-place sets, (ranked keys, relevant, keys ranked by where results land).
Judge = Callable[[WorkspaceIndex, object, str], tuple]


@dataclass
class _Task:
    name: str
    folder: Path  # the workspace to index
    index_name: str  # "" for the folder's own index dir, else a suffix of it
    queries: list
    judge: Judge
    code_mode: str = ""
    # What a capture keeps to judge a query again offline (bench/replay.py), and the set's
    # own part of it (BEIR: which file holds which document).
    truth: Callable[[object], dict] = lambda query: {}
    header: dict = field(default_factory=dict)
    # Results say where opening them puts the cursor (in-place sets' landing metric): their
    # context is worked out, which the benchmark otherwise skips for speed.
    lands: bool = False


class QualityRun:
    """Indexes each set once per index variant and scores every pipeline on it."""

    def __init__(
        self,
        work: Path,
        settings: EngineSettings,
        *,
        code_mode: str = "similar",
        progress: ProgressFn | None = None,
        encoder: Encoder | None = None,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
        patterns: Sequence[str] = (),
        adapters: Sequence[str] = (),
        capture: Path | None = None,
    ) -> None:
        self.work = work
        # Where the shipped hybrid's rank traces go, a file per set (bench/replay.py).
        self.capture = capture
        self.settings = replace(settings, candidates=max(settings.candidates, MAX_RANK))
        if hasattr(settings, "result_context"):  # a baseline revision's engine may lack it
            self.settings = replace(self.settings, result_context=False)
        self.code_mode = code_mode
        self.progress = progress
        self.encoder = SharedEncoder(encoder or make_encoder(settings))
        # One per document encoder (adapter settings may change it), by identity.
        self._encoders: dict[str, SharedEncoder] = {self.encoder.identity: self.encoder}
        self.log = log
        self.patterns = tuple(patterns)
        self.adapters = tuple(adapters)

    def _encoder_for(self, settings: EngineSettings) -> SharedEncoder:
        # getattr: a baseline revision's engine (bench/baseline.py) may predate adapters.
        if getattr(settings, "adapter", None) == getattr(self.settings, "adapter", None):
            return self.encoder  # also when the caller gave the encoder
        encoder = make_encoder(settings)  # cheap: the model loads on first use
        return self._encoders.setdefault(encoder.identity, SharedEncoder(encoder))

    def _index_dir(self, folder: Path, index_name: str, index_overrides: dict) -> Path | None:
        parts = [index_name] if index_name else []
        parts += [f"{k}-{_label(v)}" for k, v in sorted(index_overrides.items())]
        if not parts:
            return None  # the folder's own index dir
        base = index_dir_for(folder)
        return base.with_name("-".join([base.name, *parts]))

    def _open(self, task: _Task, index_overrides: dict, **overrides) -> WorkspaceIndex:
        settings = replace(self.settings, **{**index_overrides, **overrides})
        if task.lands and hasattr(settings, "result_context"):
            settings = replace(settings, result_context=True)
        index_dir = self._index_dir(task.folder, task.index_name, index_overrides)
        encoder = self._encoder_for(settings)
        return WorkspaceIndex(task.folder, settings, encoder=encoder, index_dir=index_dir)

    def run(self, data: BeirSet | TreeSet) -> SetResult:
        if isinstance(data, TreeSet):
            return self._run_tree(data)
        folder = self.work / file_safe(data.name)
        ids = materialise(data, folder)
        paths = {doc: path for path, doc in ids.items()}

        def judge(index: WorkspaceIndex, query: object, mode: str):
            assert isinstance(query, Query)
            response = ask(index, query, paths.get(query.self_id or ""), mode)
            return ranked_docs(response, ids, query.self_id), data.qrels[query.id]

        def truth(query: object) -> dict:
            assert isinstance(query, Query)
            return {"relevant": data.qrels[query.id], "self": query.self_id}

        code_mode = self.code_mode if any(q.self_id for q in data.queries) else ""
        task = _Task(data.name, folder, "", data.queries, judge, code_mode, truth, {"docs": ids})
        result = self._measure(task)
        result.corpus = len(data.corpus)
        return result

    def _run_tree(self, data: TreeSet) -> SetResult:
        def judge(index: WorkspaceIndex, question: object, mode: str):
            assert isinstance(question, Question)
            if question.ask == ASK_SELECTION:
                response = index.search_text(question.query, limit=MAX_RANK)
            elif question.ask == ASK_SIMILAR:
                at = question.at  # 1-based; the engine's lines are 0-based, as LSP's
                response = index.similar(data.tree / at.path, at.start - 1, limit=MAX_RANK)
            else:
                response = index.search(question.query, limit=MAX_RANK)
            relevant = relevant_targets(question)
            return (
                ranked_targets(response, question.targets),
                relevant,
                ranked_landings(response, question.targets),
            )

        # A private index dir: a tree may be the user's own repository, whose editor index
        # must not be touched (nor its writer lock taken).
        def truth(question: object) -> dict:
            assert isinstance(question, Question)
            targets = [[t.path, t.start, t.end] for t in question.targets]
            return {"relevant": relevant_targets(question), "targets": targets}

        task = _Task(data.name, data.tree, "bench", data.questions, judge, truth=truth, lands=True)
        result = self._measure(task)
        result.layout = "in-place"
        result.corpus = result.chunks
        result.answer_languages = [answer_language(q) for q in data.questions]
        return result

    def _measure(self, task: _Task) -> SetResult:
        found = pipelines(self.settings, task.code_mode or None, self.adapters)
        chosen = select(found, self.patterns)
        for note in unmatched(found, self.patterns):
            self.log(f"{task.name}: {note}")
        if self.capture is not None and CAPTURED_PIPELINE not in {p.name for p in chosen}:
            self.log(f"{task.name}: nothing captured: {CAPTURED_PIPELINE} is not scored")
        variants: dict[str, dict] = {}
        for pipeline in chosen:
            variants.setdefault(_key(pipeline.index_overrides), pipeline.index_overrides)
        started = time.monotonic()
        writers = {key: self._open(task, overrides) for key, overrides in variants.items()}
        result = SetResult(task.name, 0, len(task.queries), {}, code_mode=task.code_mode)
        try:
            for key, writer in writers.items():
                self.log(f"{task.name}: indexing {task.folder} ({key or 'shipped settings'})")
                writer.index(progress=self.progress)
                status = writer.status()
                result.chunks, result.files = result.chunks or status.chunks, status.files
            result.index_seconds = round(time.monotonic() - started, 1)
            started = time.monotonic()
            for pipeline in chosen:
                scores, per_query = self._score(task, pipeline)
                result.pipelines[pipeline.name] = scores
                result.per_query[pipeline.name] = [round(q["mrr"], 6) for q in per_query]
                if LANDING in scores:
                    landed = [round(q[LANDING], 6) for q in per_query]
                    result.per_query_landing[pipeline.name] = landed
            result.query_seconds = round(time.monotonic() - started, 1)
            return result
        finally:
            for writer in writers.values():
                writer.close()

    def _score(
        self, task: _Task, pipeline: Pipeline
    ) -> tuple[dict[str, float], list[dict[str, float]]]:
        """Mean scores, and each query's (captured for the shipped hybrid when the run has a
        capture folder)."""
        rows: list[dict] = []
        # Read-only: the writer of this index dir is still open, holding its lock.
        mode = pipeline.code_mode or self.code_mode
        captured = self.capture is not None and pipeline.name == CAPTURED_PIPELINE
        traces: list[RankTrace] = []
        with self._open(task, pipeline.index_overrides, **pipeline.overrides) as index:
            if captured:
                index.searcher.rank_observer = traces.append
            per_query = []
            for query in task.queries:
                traces.clear()
                per_query.append(score_query(*task.judge(index, query, mode)))
                if captured:
                    rows.append(_capture_row(task, query, traces, per_query[-1]["mrr"]))
        if captured:
            assert self.capture is not None
            write_capture(self.capture, task.name, task.header, rows)
        scores = mean_scores(per_query)
        self.log(f"{task.name}: {pipeline.name:<32} MRR {scores['mrr']:.4f}")
        return scores, per_query


def _key(index_overrides: dict) -> str:
    return ",".join(f"{k}={_label(v)}" for k, v in sorted(index_overrides.items()))


CAPTURED_PIPELINE = "hybrid"


def _capture_row(task: _Task, query: object, traces: list[RankTrace], rank: float) -> dict:
    """One query of a capture: how to judge it, its fusion inputs, the engine's rank."""
    # search_text() ranks once; a query that made no ranking (an error) has no trace.
    trace = traces[-1] if traces else None
    row = task.truth(query) | {"rr": rank}
    if trace is not None:
        row |= {
            "kind": trace.kind,
            "weights": [trace.dense_weight, trace.lexical_weight],
            # Read with a default: an older engine (a baseline run) has no coverage.
            "coverage": getattr(trace, "coverage", None),
            "lexical_scale": getattr(trace, "lexical_scale", 1.0),
            "neighbours": getattr(trace, "neighbours", 0),
            "block_depth": getattr(trace, "block_depth", 0),
            "kept_first": getattr(trace, "kept_first", False),
            "units": [astuple(unit) for unit in trace.units],
        }
    return row


def write_capture(folder: Path, name: str, header: dict, rows: list[dict]) -> Path:
    """`<folder>/<set>.jsonl.gz`: a header line, then one line per query."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_safe(name)}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"set": name, "version": CAPTURE_VERSION} | header) + "\n")
        for row in rows:
            out.write(json.dumps(row) + "\n")
    return path
