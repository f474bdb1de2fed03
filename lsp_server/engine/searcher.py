"""The read side of one index: natural-language, code and selection queries.

Dense (HNSW) and lexical (FTS5/BM25) rankings are fused with reciprocal rank fusion; filters
apply after fusion, over a deeper pool when they are active.
"""

from __future__ import annotations

import posixpath
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from .adapter import query_adapter
from .chunker import chunk_text, language_at, slice_lines, split_lines
from .chunks import Chunk
from .embedder import Encoder, EncoderUnavailable, ModelLoadError, encode_query
from .errors import DamagedIndex, IndexClosed, QueryError
from .frames import Frame, parse_frames
from .indexer import content_hash, embed_text
from .language_specs import SPECS
from .languages import detect_language
from .paths import PathError, workspace_relative
from .ranking import (
    LONE_STATEMENT,
    QUESTION_KINDS,
    GlobFilter,
    Hit,
    Intent,
    RankedUnit,
    RankTrace,
    agreed_first,
    cached_file_role,
    convex_fusion,
    convex_total,
    declares_asked,
    dense_among_neighbours,
    documented,
    is_bare_header,
    is_marked_test,
    merge_overlapping,
    named_as,
    named_first,
    naming_tier,
    raise_declared_blocks,
    reciprocal_rank_fusion,
    role_weight,
    text_kind,
)
from .results import (
    SearchResponse,
    SearchResult,
    Selection,
    context_of,
    file_uri,
    matching_line,
    preview_at,
    selection_of,
)
from .scanner import IgnoreRules, LinguistAttributes, SourceError, read_source
from .settings import EngineSettings
from .storage import IndexStorage
from .store import Store, StoredChunk
from .supertypes import supertypes
from .tokens import (
    FILE_WORDS_LEAST,
    MAX_CANDIDATE_TERMS,
    code_tokens,
    file_words,
    looks_like_code,
    most_telling,
    query_phrases,
    query_terms,
)

_MAX_POOLED = 64  # definitions of a selection whose vectors make its query vector
_MAX_EMBEDDED_PARTS = 8  # model calls a query may make for parts not indexed as they are
_TEXT_AFTER_FRAMES = 0.9  # search_text(): score factor for results that no frame named
_FRAME_STEP = 0.005  # score step between frames, so 20 frames stay above any text result
# Chunks named with a question's role word that are looked at to tell whether the project's
# own code is named so (Searcher._names_own_code): this many of the index's by path, and
# of those in code files, this many read whole.
_NAMES_READ = 5000
_NAMES_READ_CODE = 200


class Searcher:
    def __init__(
        self,
        root: Path,
        settings: EngineSettings,
        storage: IndexStorage,
        encoder: Encoder,
        dense_ready: Callable[[], bool],
    ) -> None:
        self.root = root
        self.settings = settings
        self.storage = storage
        self.encoder = encoder
        self._dense_ready = dense_ready
        # A query-linear adapter maps query vectors only (None for LoRA: in the encoder).
        self.query_adapter = query_adapter(settings.adapter, encoder.identity)
        self._role_weights = dict(settings.role_weights)
        self._kind_weights = dict(settings.kind_weights)
        self._kind_weights[LONE_STATEMENT] = settings.lone_statement_weight
        # What the workspace's .gitattributes say its files are (read when searched, so an
        # edit to them counts at once, nothing indexed again).
        self._attributes = LinguistAttributes(IgnoreRules(root, use_defaults=False))
        # Called with each query's fusion inputs when set (benchmarks); costs nothing unset.
        self.rank_observer: Callable[[RankTrace], None] | None = None

    @property
    def store(self) -> Store:
        assert self.storage.store is not None
        return self.storage.store

    # -- queries -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
        selected: bool = False,
    ) -> SearchResponse:
        """Natural-language or code query: dense and BM25 rankings fused.

        `selected`: the query is text the user selected or pasted (Search by Selection), code
        by definition; a typed query is judged from its text.
        """
        filters = GlobFilter(include, exclude, languages)
        notices: list[str] = []
        code = selected or looks_like_code(query, self.settings.sentences_are_prose)
        kind = "code" if code else "prose"
        vector = self._dense_or_none(lambda: self._query_vector(query, kind), notices)
        intent = Intent.of(query, code, include, selected=selected)
        if intent.asked_words and self.settings.own_vocabulary_names:
            intent = self._guarded(lambda: intent.asking_only_by(self._names_own_code))
        if not self.settings.exact_names:
            intent = replace(intent, name="")
        terms = query_terms(query, joined=not intent.code)
        phrases = _phrases(self.settings, query, intent)
        # Typed queries are asked as typed: a sentence holding a URL can read as code.
        asked_terms = self._guarded(lambda: self._telling(query, 1)) if selected else terms
        hits = self._guarded(
            lambda: self._rank(asked_terms, vector, filters, set(), limit, intent, phrases)
        )
        partial = self._partial(vector is not None)
        return SearchResponse(self._results(hits, terms), partial, notices=notices)

    def similar(
        self,
        path: str | Path,
        line: int,
        character: int = 0,
        *,
        end: tuple[int, int] | None = None,
        source: str | None = None,
        limit: int = 20,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> SearchResponse:
        """Code like the chunk at (line, character), or like the text of a selected range.

        `source` is the file's current text (an editor buffer may differ from the disk).
        """
        rel = self._relative(path)
        text = source if source is not None else self._read_for_query(rel)
        target, parts = self._query_target(rel, text, (line, character), end)
        filters = GlobFilter(include, exclude, languages)
        file_chunks = self._guarded(lambda: self.store.chunks_of_file(rel))
        own = self._guarded(lambda: self._own_chunks(rel, file_chunks, target, content_hash(text)))
        notices: list[str] = []
        vector = self._dense_or_none(lambda: self._parts_vector(parts, target), notices)
        classes = self.settings.class_results and target.kind == "class"
        bases = supertypes(target.signature, target.language) if classes else ()
        kind = text_kind(rel, target)
        intent = Intent.similar_to_code(include, classes=classes, bases=bases, text_kind=kind)
        asked = target if classes else None
        terms = query_terms(target.text)
        phrases = _phrases(self.settings, target.text, intent)
        # Terms only the definition itself holds find nothing else. A class keeps its first
        # words: the names of the members that classes of its kind share (the methods they
        # override) are common words, which the most telling leave out (BENCHMARKS.md).
        asked_terms = self._guarded(lambda: self._telling(target.text, 2, first_words=classes))
        if not classes:
            neighbours = [c.id for c in file_chunks if c.id not in own]
            asked_terms, phrases = self._guarded(
                lambda: self._beyond_file(asked_terms, phrases, neighbours)
            )
        hits = self._guarded(
            lambda: self._rank(asked_terms, vector, filters, own, limit, intent, phrases, asked)
        )
        wanted = _normalized(target.text)
        for hit in hits:
            hit.duplicate = _normalized(hit.chunk.text) == wanted
        partial = self._partial(vector is not None)
        return SearchResponse(self._results(hits, terms), partial, notices=notices)

    def search_text(
        self,
        snippet: str,
        *,
        limit: int = 20,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> SearchResponse:
        """A selected snippet as the query; stack-trace frames in it are ranked first."""
        located = self._guarded(lambda: self._frame_hits(parse_frames(snippet)))
        response = self.search(
            snippet,
            limit=limit,
            include=include,
            exclude=exclude,
            languages=languages,
            selected=True,
        )
        seen = {(r.path, r.start_line) for r in located}
        # Named locations are certain; similar text ranks below them, here and when the
        # server merges several folders' results by score.
        rest = [
            replace(r, score=r.score * _TEXT_AFTER_FRAMES)
            for r in response.results
            if (r.path, r.start_line) not in seen
        ]
        response.results = (located + rest)[:limit]
        return response

    # -- ranking -------------------------------------------------------------------------------

    def _telling(self, text: str, least: int, first_words: bool = False) -> list[str]:
        """The terms BM25 searches a code query by: its most telling ones, at most
        settings.code_query_terms (tokens.most_telling); with `first_words`, its first 64
        terms less those that change no score (held by no chunk but the query's own, or by
        more than half of them).

        Its word pairs stay as they are: a pair is one rare phrase, and the pairs a clone
        shares in order are what BM25 finds it by (keeping only the pairs that hold a kept
        term saved another 10 ms at 100,000 chunks and moved Find Similar by up to 0.024 on
        a set, either way; BENCHMARKS.md)."""
        limit = self.settings.code_query_terms
        if not limit:
            return query_terms(text)
        terms = query_terms(text) if first_words else query_terms(text, limit=MAX_CANDIDATE_TERMS)
        limit = len(terms) if first_words else limit
        chunks, frequencies = self.store.document_frequencies(terms)
        return most_telling(terms, Counter(code_tokens(text)), frequencies, chunks, limit, least)

    def _guarded(self, work: Callable):
        """Runs a query step; a failing database becomes one message that says what to do."""
        try:
            return work()
        except sqlite3.DatabaseError as exc:
            if self.store.closed:  # closed under the query (folder removed, shutdown)
                raise IndexClosed("the index was closed during the search") from exc
            raise DamagedIndex(
                f"the index database failed ({exc}); run `nearcode index {self.root}` to repair it"
            ) from exc

    def _rank(
        self,
        terms: list[str],
        vector: np.ndarray | None,
        filters: GlobFilter,
        exclude_ids: set[int],
        limit: int,
        intent: Intent,
        phrases: Sequence[str] = (),
        asked: Chunk | None = None,
    ) -> list[Hit]:
        """Fused dense and lexical rankings, one entry per definition, weighted by intent
        (`asked`: the class asked about, which no class result may be or hold)."""
        settings = self.settings
        pool = settings.candidates * (4 if filters.active else 1) + len(exclude_ids)
        lexical_terms = [*terms, *phrases]
        bm25 = {
            i: s for i, s in self.store.lexical_search(lexical_terms, pool) if i not in exclude_ids
        }
        cosines: dict[int, float] = {}
        vectors = self.storage.vectors
        if vector is not None and vectors is not None:
            cosines = {i: c for i, c in vectors.query(vector, pool) if i not in exclude_ids}
        stored = self.store.chunks_by_id(list(dict.fromkeys([*cosines, *bm25])))
        cosines = {i: c for i, c in cosines.items() if i in stored}
        bm25 = {i: s for i, s in bm25.items() if i in stored}
        keys = {i: _unit_key(stored[i], settings.unit_results) for i in stored}
        if vector is not None and settings.unit_results and settings.part_pooling == "mean":
            cosines = self._pooled(cosines, stored, vector)
        dense_units = _collapse(cosines, keys)[0]
        lexical_units = _collapse(bm25, keys)[0]
        kind, kind_weight = _query_kind(settings, intent), _lexical_weight(settings, intent)
        coverage = self._coverage(lexical_terms, bm25, kind_weight, kind)
        scale = 1.0 if coverage is None else coverage**settings.prose_lexical_coverage
        weight = kind_weight * scale
        rankings = [(dense_units, settings.dense_weight), (lexical_units, weight)]
        fused = _fuse(settings, rankings)
        # The part a result shows and lands on: the one that scores best under the same
        # fusion (a pasted message's own lines, not the part the model liked best). Every
        # fused unit has one: a unit's best score in a ranking is its best part's.
        part_scores = dict(_fuse(settings, [(cosines, settings.dense_weight), (bm25, weight)]))
        best_part = _collapse(part_scores, keys)[1]
        hits: list[Hit] = []
        traced: list[RankedUnit] = []
        # Only where the model is in the fusion (not BM25 alone, a benchmark's baseline).
        in_fusion = kind in QUESTION_KINDS and settings.dense_weight > 0 and vector is not None
        depth = settings.neighbour_depth if in_fusion else 0
        factors = {key: self._prior(stored[best_part[key]], filters, intent) for key, _ in fused}
        declared, block_depth = set(), 0
        if in_fusion and kind_weight > 0 and settings.fusion == "convex":
            fused, declared, block_depth = self._raise_declared(
                fused, rankings, kind_weight, stored, best_part, terms, factors
            )
        for key, score in fused:
            best = best_part[key]
            factor = factors[key]
            if self.rank_observer is not None:
                scores = (dense_units.get(key), lexical_units.get(key))
                named = naming_tier(stored[best].chunk, intent.name)
                own = documented(stored[best].chunk)
                traced.append(
                    self._traced(best, stored[best], scores, factor, named, own, key in declared)
                )
            if factor is not None:
                hits.append(Hit(best, stored[best].chunk, score * factor, demoted=factor < 1))
        if self.rank_observer is not None:
            self.rank_observer(
                RankTrace(
                    kind, settings.dense_weight, kind_weight, traced, coverage, scale, depth,
                    block_depth,
                    settings.agreed_first_kept,
                )
            )
        hits.sort(key=lambda hit: -hit.score)
        if depth:
            _lift_undocumented(hits, keys, dense_units, depth)
        if intent.name:  # a name typed alone: what is named so first, in the order above
            _named_first(hits, intent.name)
            hits.sort(key=lambda hit: -hit.score)
        merged = merge_overlapping(hits)
        units = self._as_classes(merged, limit, asked) if intent.classes else merged[:limit]
        return [self._as_unit(hit) for hit in units]

    def _raise_declared(
        self,
        fused: list[tuple[Any, float]],
        rankings: list[tuple[dict[Any, float], float]],
        kind_weight: float,
        stored: dict[int, StoredChunk],
        best_part: dict[object, int],
        terms: Sequence[str],
        factors: dict[object, float | None],
    ) -> tuple[list[tuple[Any, float]], set[object], int]:
        """ranking.raise_declared_blocks for a question: (the fused list, the declaring
        blocks found, the depth it ran to; 0 where none was found). Only BM25's first few can
        be raised, never above a unit both rankings put first (`factors`: each unit's prior;
        settings.agreed_first_kept); a rank trace marks them all (bench replay)."""
        depth = self.settings.declared_block_depth
        lexical_units, weight = rankings[1]
        every = self.rank_observer is not None
        declared = _declared_blocks(
            lexical_units, None if every else depth, stored, best_part, terms
        )
        if not declared or not depth:
            return fused, declared, 0
        taken = kind_weight - weight  # what the coverage took from BM25's weight
        first = (
            agreed_first([scores for scores, _ in rankings], factors)
            if self.settings.agreed_first_kept
            else None
        )
        kept = (first, factors) if first is not None else None
        raised = raise_declared_blocks(
            fused, lexical_units, declared, taken, convex_total(rankings), depth, kept
        )
        return raised, declared, depth

    def _coverage(
        self, terms: list[str], bm25: dict[int, float], weight: float, kind: str
    ) -> float | None:
        """How much of a question BM25's best unit holds (0..1; settings.prose_lexical_coverage),
        or None where BM25's weight is not scaled by it (other kinds of query, no BM25)."""
        exponent = self.settings.prose_lexical_coverage
        if not (exponent and weight and bm25) or kind != "prose":
            return None
        ceiling = self.store.lexical_ceiling(terms)
        return min(1.0, max(bm25.values()) / ceiling) if ceiling > 0 else 0.0

    def _prior(self, item: StoredChunk, filters: GlobFilter, intent: Intent) -> float | None:
        """The factor a candidate's fused score is multiplied by; None leaves it out."""
        if not filters.accepts(item.path, item.chunk.language):
            return None
        factor = (
            role_weight(
                item.path,
                item.chunk,
                intent,
                self._role_weights,
                self.settings.code_answers_code,
                self._kind_weights,
                self._file_role(item),
            )
            if self.settings.role_priors
            else 1.0
        )
        if factor is not None and intent.classes and _outside_classes(item.chunk):
            # Find Similar on a class: functions and module code that use a class are more
            # often found than classes like it; ranked after them, not dropped (a tree may
            # hold no other class).
            factor *= self.settings.outside_class_weight
            return factor or None
        if factor is not None and intent.names_as_base(item.chunk):
            # Its own supertypes: the kind it is, named in its header, not another of it.
            factor *= self.settings.asked_supertype_weight
        return factor

    def _names_own_code(self, word: str) -> bool:
        """Whether the project names its own code with `word`: settings.own_vocabulary_names
        definitions or more of code (not tests, examples or docs) hold it in their names."""
        least = self.settings.own_vocabulary_names
        holders = self.store.name_holders(word, _NAMES_READ)
        # Tests named so are most of them in a test runner: left out by path before reading.
        code = [i for i, path in holders if cached_file_role(path) == "code"]
        named = 0
        for item in self.store.chunks_by_id(code[:_NAMES_READ_CODE]).values():
            if self._file_role(item) == "code" and not is_marked_test(item.chunk):
                named += 1
                if named >= least:
                    return True
        return False

    def _file_role(self, item: StoredChunk) -> str:
        """The role of a result's file: its content's (code a tool wrote, a test module) or
        its path's, as the workspace's .gitattributes leave it (languages.file_role,
        LinguistAttributes)."""
        by_content = item.role if self.settings.content_roles else ""
        return self._attributes.role(item.path, by_content or cached_file_role(item.path))

    def _traced(
        self,
        chunk_id: int,
        item: StoredChunk,
        scores: tuple[float | None, float | None],
        factor: float | None,
        named: int,
        own_words: bool | None,
        declared: bool = False,
    ) -> RankedUnit:
        """A rank trace's row: the unit where its result would point, and its scores."""
        chunk = item.chunk
        start, _, end, end_col = self._as_unit(Hit(chunk_id, chunk, 0.0)).extent
        own = (chunk.start_line, chunk.start_col, chunk.end_line, chunk.end_col)
        return RankedUnit(
            item.path, start, end, end_col, *scores, factor, chunk.part, own, named, own_words,
            declared,
        )

    def _pooled(
        self, cosines: dict[int, float], stored: dict[int, StoredChunk], vector: np.ndarray
    ) -> dict[int, float]:
        """Dense scores with each split definition scored by the mean of its parts' vectors
        (Split-Encode-Aggregate pooling); whole definitions keep their own cosine."""
        model, dim = self.encoder.identity, len(vector)
        scores = dict(cosines)
        for chunk_id in cosines:
            chunk = stored[chunk_id].chunk
            if chunk.part == 0:
                continue
            parts = self.store.unit_parts(chunk.path, chunk.unit_start_line, chunk.unit_end_line)
            matrices = [m for _, m in self.store.live_vectors(model, dim, [p[0] for p in parts])]
            if matrices:
                mean = np.concatenate(matrices).mean(axis=0)
                scores[chunk_id] = float(mean @ vector / max(np.linalg.norm(mean), 1e-12))
        return scores

    def _as_unit(self, hit: Hit) -> Hit:
        """A part of a split definition stands for the whole definition: the result's range
        is the definition's, the part stays as what matched (preview, context, match)."""
        chunk = hit.chunk
        if chunk.part == 0 or not self.settings.unit_results or hit.span is not None:
            return hit  # whole already (a class stands for its members: _as_classes)
        parts = self.store.unit_parts(chunk.path, chunk.unit_start_line, chunk.unit_end_line)
        if parts:
            _, start_line, start_col, _, _ = parts[0]
            end_line, end_col = max((p[3], p[4]) for p in parts)
            hit.span = (start_line, start_col, end_line, end_col)
        return hit

    def _as_classes(self, hits: list[Hit], limit: int, asked: Chunk | None) -> list[Hit]:
        """Find Similar on a class answers with classes: a member that matched stands for its
        class (one result per class, scored by its best member, ranged over the whole class
        and previewed by its header). Members whose class is not in their file (Go methods,
        Rust impls elsewhere) and code outside classes stay as they are (the latter ranked
        down by `_prior`). A Go or Rust type is listed once however many files hold its
        methods, and the asked type's code in other files is no answer, as its own lines
        are not; nor is a class that holds the asked one (its outer class)."""
        asked_key = _type_key(asked, asked.symbol) if asked is not None else None
        files: dict[str, tuple[dict[str, StoredChunk], list[Chunk]]] = {}
        seen: set[tuple[str, ...]] = set()
        kept: list[Hit] = []
        for hit in hits:
            chunk = hit.chunk
            owner = chunk.symbol if chunk.kind == "class" else chunk.container
            key = _type_key(chunk, owner) if owner else None
            if key is not None and key == asked_key:
                continue
            if owner and chunk.path not in files:
                files[chunk.path] = _classes_of(self.store.chunks_of_file(chunk.path))
            headers, chunks = files.get(chunk.path, ({}, []))
            header = headers.get(owner) if owner else None
            if key is not None and (header is not None or _open_type(chunk.language)):
                if key in seen:
                    continue
                seen.add(key)
            if header is not None:
                span = _class_result_span(header.chunk, chunks)
                if asked is not None and _holds(chunk.path, span, asked):
                    continue
                matched = (chunk.start_line, chunk.end_line)
                hit = Hit(header.id, header.chunk, hit.score, hit.duplicate, span, matched)
            kept.append(hit)
            if len(kept) == limit:
                break
        return kept

    def _dense_or_none(
        self, embed: Callable[[], np.ndarray], notices: list[str]
    ) -> np.ndarray | None:
        """The query's vector, or None (lexical only) when vectors or the model are not
        there; a model that fails to load is said once in the answer, not raised."""
        if not self._dense_ready():
            return None
        try:
            return embed()
        except EncoderUnavailable as exc:  # an embedding server that is down: try again later
            notices.append(f"{exc}: lexical results only")
            return None
        except ModelLoadError as exc:
            notices.append(f"searched by words only: {exc}")
            return None

    def _partial(self, used_dense: bool) -> bool:
        # On the query path: an indexed EXISTS, not the full count status() makes.
        return not used_dense or self._guarded(self.store.has_pending)

    def _query_vector(self, text: str, kind: str) -> np.ndarray:
        return self._adapted(encode_query(self.encoder, text), kind)

    def _adapted(self, vector: np.ndarray, kind: str) -> np.ndarray:
        """A query vector after the query adapter's matrix for its kind ("prose"/"code")."""
        return vector if self.query_adapter is None else self.query_adapter.apply(vector, kind)

    def _cached_vectors(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Document-side vectors already computed for these text hashes."""
        dim = self.storage.vectors.dim if self.storage.vectors is not None else None
        return self.store.cached_vectors(self.encoder.identity, hashes, dim)

    # -- the code under the cursor -------------------------------------------------------------

    def _relative(self, path: str | Path) -> str:
        try:
            return workspace_relative(self.root, path)
        except PathError as exc:
            raise QueryError(str(exc)) from exc

    def _read_for_query(self, rel: str) -> str:
        # A symlink out of the workspace is not indexed, so it is not read for a query either.
        if not (self.root / rel).resolve().is_relative_to(self.root):
            raise QueryError(f"{rel} links outside the workspace {self.root}")
        try:
            return read_source(self.root / rel, self.settings.max_file_size)
        except SourceError as exc:
            raise QueryError(f"cannot read {rel}: {exc}") from exc

    def _query_target(
        self, rel: str, text: str, start: tuple[int, int], end: tuple[int, int] | None
    ) -> tuple[Chunk, list[Chunk]]:
        """The code a find-similar query means, and the chunks its vector is pooled from.

        A part of a split definition means the whole definition: its vector is the mean of
        the parts' vectors (cached, so no model call), its text all of the parts'. A
        selection or a class that holds several definitions is pooled the same way from
        them (the model would see only its first 256 tokens).
        """
        selection = end is not None and end != start
        target, chunks = self._query_chunks(rel, text, start, end)
        if self.settings.query_pooling and (selection or target.kind == "class"):
            held = _definitions_within(target, chunks or self._file_chunks(rel, text))
            if len(held) > 1:
                return target, held
        if target.part == 0 or not self.settings.unit_results:
            return target, [target]
        unit = (target.unit_start_line, target.unit_end_line)
        parts = [c for c in chunks if (c.unit_start_line, c.unit_end_line) == unit]
        lines = split_lines(text)
        whole = _slice_chunk(
            rel,
            target.language,
            lines,
            (parts[0].start_line, parts[0].start_col),
            (parts[-1].end_line, parts[-1].end_col),
        )
        whole = replace(
            whole,
            kind=target.kind,
            symbol=target.symbol,
            container=target.container,
            signature=target.signature,
        )
        return whole, parts

    def _parts_vector(self, parts: list[Chunk], whole: Chunk) -> np.ndarray:
        """The query vector of a definition (the mean of its parts' vectors), or of the
        definitions a selection holds (the first _MAX_POOLED: enough to say what it is).

        Parts are usually indexed, their vectors cached; an edited buffer's are embedded
        now, and when too many are new the whole text is embedded once instead.
        """
        texts = [embed_text(part, self.settings) for part in parts[:_MAX_POOLED]]
        hashes = [content_hash(text) for text in texts]
        cached = self._cached_vectors(hashes)
        if sum(digest not in cached for digest in hashes) > _MAX_EMBEDDED_PARTS:
            texts = [embed_text(whole, self.settings)]
            hashes = [content_hash(texts[0])]
            cached = self._cached_vectors(hashes)
        vectors = [
            cached[digest] if digest in cached else encode_query(self.encoder, text)
            for digest, text in zip(hashes, texts, strict=True)
        ]
        mean = vectors[0] if len(vectors) == 1 else np.mean(vectors, axis=0)
        mean = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        return self._adapted(mean, "code")

    def _query_chunk(
        self, rel: str, text: str, start: tuple[int, int], end: tuple[int, int] | None
    ) -> Chunk:
        return self._query_chunks(rel, text, start, end)[0]

    def _query_chunks(
        self, rel: str, text: str, start: tuple[int, int], end: tuple[int, int] | None
    ) -> tuple[Chunk, list[Chunk]]:
        """The chunk a position (or a selection) means, and the file's chunks (none for a
        selection), so that the parts of a split definition need no second parse."""
        lines = split_lines(text)
        if start[0] < 0 or start[0] >= max(len(lines), 1) or start[1] < 0:
            raise QueryError(
                f"line {start[0] + 1} is past the end of {rel} ({len(lines)} lines)"
                if start[0] >= 0
                else f"position {start[0]}:{start[1]} is outside {rel}"
            )
        language = detect_language(rel) or "text"
        if end is not None and end != start:
            language = language_at(text, language, start)
            return _slice_chunk(rel, language, lines, start, end), []
        chunks = self._file_chunks(rel, text)
        # On a line's indentation the code of that line is meant, not the gap before it.
        column = max(start[1], len(lines[start[0]]) - len(lines[start[0]].lstrip()))
        at = (start[0], min(column, len(lines[start[0]])))
        around = [c for c in chunks if (c.start_line, c.start_col) <= at <= (c.end_line, c.end_col)]
        if not around:
            raise QueryError(f"no code at {rel}:{start[0] + 1}")
        target = min(around, key=lambda c: c.end_line - c.start_line)
        if target.kind == "class":
            target = _with_members(target, chunks, lines)
        return target, chunks

    def _file_chunks(self, rel: str, text: str) -> list[Chunk]:
        language = detect_language(rel) or "text"
        return chunk_text(rel, text, language, max_chars=self.settings.chunk_chars)

    def _beyond_file(
        self, terms: list[str], phrases: list[str], neighbours: list[int]
    ) -> tuple[list[str], list[str]]:
        """Find Similar's terms and word pairs less its file's own words (tokens.file_words),
        unless no term would remain. A class's name, its fields and a header's namespace find
        the definition's neighbours first, whose words they are; other implementations share
        what the code does (BENCHMARKS.md, "Find Similar leaves out its file's own words")."""
        share = self.settings.similar_file_words
        if not share or len(neighbours) < FILE_WORDS_LEAST:  # no word can be the file's
            return terms, phrases
        holders = self.store.term_holders(terms, neighbours)
        shared = file_words(holders, len(neighbours), share)
        kept = [term for term in terms if term not in shared]
        if not kept:
            return terms, phrases
        return kept, [pair for pair in phrases if not set(pair.split()) <= shared]

    def _own_chunks(
        self, rel: str, file_chunks: list[StoredChunk], target: Chunk, text_hash: str
    ) -> set[int]:
        """The query's own chunks: where it is now and, when the file changed since it was
        indexed, its stale copy (same definition name), so a result is never the query."""
        record = self.store.file(rel)
        # A minified file's stored hash carries a mark after the text's (store.FORCED_MARK).
        stale = record is not None and not record.hash.startswith(text_hash)
        return {
            c.id
            for c in file_chunks
            if c.chunk.overlaps(target)
            or (stale and target.symbol and c.chunk.symbol == target.symbol)
        }

    # -- stack traces --------------------------------------------------------------------------

    def _frame_hits(self, frames: list[Frame]) -> list[SearchResult]:
        results: list[SearchResult] = []
        paths = self.store.file_paths() if frames else []
        for rank, frame in enumerate(frames):
            rel = self._resolve_frame_path(frame.path, paths)
            if rel is None:
                continue
            chunk = self._chunk_at(rel, frame.line - 1)
            if chunk is not None:
                hit = Hit(0, chunk, 1.0 - rank * _FRAME_STEP)
                results.append(self._result(hit, focus_line=frame.line - 1))
        return results

    def _resolve_frame_path(self, written: str, paths: list[str]) -> str | None:
        try:
            rel = workspace_relative(self.root, written)
            if rel in paths:
                return rel
        except PathError:
            pass
        # A trace from another machine, a container or a bare file name: longest suffix match.
        parts = Path(written.replace("\\", "/")).parts
        for size in range(len(parts), 0, -1):
            suffix = "/".join(parts[-size:])
            matches = [p for p in paths if p == suffix or p.endswith("/" + suffix)]
            if len(matches) == 1:
                return matches[0]
        return None

    def _chunk_at(self, rel: str, line: int) -> Chunk | None:
        around = [
            c.chunk
            for c in self.store.chunks_of_file(rel)
            if c.chunk.start_line <= line <= c.chunk.end_line
        ]
        return min(around, key=lambda c: c.end_line - c.start_line) if around else None

    def _results(self, hits: list[Hit], terms: Sequence[str]) -> list[SearchResult]:
        if not self.settings.result_context:
            return [self._result(h, terms) for h in hits]
        # Code between definitions lands on its line that matches the query best, and its
        # context shows the lines around that one: the preview shows where opening it leads.
        landings = [matching_line(h.chunk, terms) for h in hits]
        selections = [selection_of(h.chunk, line) for h, line in zip(hits, landings, strict=True)]
        # A part that does not hold its definition's signature lands where another part does.
        elsewhere = {
            _unit_of(h.chunk)
            for h, s in zip(hits, selections, strict=True)
            if s is None and h.chunk.part
        }
        signatures = self._signature_selections(elsewhere)
        return [
            self._result(h, terms, line, selection=s or signatures.get(_unit_of(h.chunk)))
            for h, s, line in zip(hits, selections, landings, strict=True)
        ]

    def _signature_selections(
        self, units: set[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], Selection]:
        found: dict[tuple[str, int, int], Selection] = {}
        for unit, parts in self.store.parts_of_units(units).items():
            selection = next((s for p in parts if (s := selection_of(p)) is not None), None)
            if selection is not None:
                found[unit] = selection
        return found

    def _result(
        self,
        hit: Hit,
        terms: Sequence[str] = (),
        focus_line: int | None = None,
        selection: Selection | None = None,
    ) -> SearchResult:
        chunk = hit.chunk
        shown = self.settings.result_context
        if selection is None and focus_line is not None and shown:
            selection = selection_of(chunk, focus_line)
        start_line, start_col, end_line, end_col = hit.extent
        return SearchResult(
            path=chunk.path,
            uri=file_uri(self.root, chunk.path),
            start_line=start_line,
            start_col=start_col,
            end_line=end_line,
            end_col=end_col,
            score=hit.score,
            symbol=chunk.shown_symbol,
            kind=chunk.kind,
            language=chunk.language,
            preview=preview_at(chunk, focus_line),
            duplicate=hit.duplicate,
            match_lines=hit.matched or ((chunk.start_line, chunk.end_line) if hit.span else None),
            context=context_of(chunk, terms, focus_line) if shown else (),
            selection=selection,
        )


def _lift_undocumented(
    hits: list[Hit], keys: dict[int, object], dense_units: dict[object, float], depth: int
) -> None:
    """dense_among_neighbours over the first `depth` hits, with their units' dense scores."""
    first = [(hit.chunk_id, keys[hit.chunk_id], hit.chunk) for hit in hits[:depth]]
    dense = {i: dense_units[key] for i, key, _ in first if key in dense_units}
    own_words = {i: documented(chunk) for i, _, chunk in first}
    dense_among_neighbours(hits, dense, own_words, depth)


def _unit_of(chunk: Chunk) -> tuple[str, int, int]:
    return chunk.path, chunk.unit_start_line, chunk.unit_end_line


def _unit_key(item: StoredChunk, units: bool) -> object:
    """What one result stands for: a whole definition (all its parts), else the chunk."""
    chunk = item.chunk
    if units and chunk.part:
        return (item.path, chunk.unit_start_line, chunk.unit_end_line)
    return item.id


def _fuse(
    settings: EngineSettings, rankings: Sequence[tuple[dict[Any, float], float]]
) -> list[tuple[Any, float]]:
    """The engine's fusion of weighted rankings, best first."""
    if settings.fusion == "convex":
        return convex_fusion(rankings)
    return reciprocal_rank_fusion([(list(r), w) for r, w in rankings], settings.rrf_k)


def _declared_blocks(
    lexical_units: dict[object, float],
    depth: int | None,
    stored: dict[int, StoredChunk],
    best_part: dict[object, int],
    terms: Sequence[str],
) -> set[object]:
    """Of BM25's first `depth` units (None: all), those that are code between definitions
    declaring a name that holds a word of the question (ranking.declares_asked)."""
    asked = frozenset(terms)
    return {
        key
        for key in islice(lexical_units, depth)
        if key in best_part and declares_asked(stored[best_part[key]].chunk, asked)
    }


def _collapse(
    scores: dict[int, float], keys: dict[int, object]
) -> tuple[dict[object, float], dict[object, int]]:
    """Chunk scores as unit scores, best first (a unit scores as its best part), and the best
    part of each unit."""
    best: dict[object, int] = {}
    units: dict[object, float] = {}
    for chunk_id in sorted(scores, key=lambda i: -scores[i]):
        key = keys[chunk_id]
        if key not in best:
            best[key] = chunk_id
            units[key] = scores[chunk_id]
    return units, best


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _definitions_within(target: Chunk, chunks: list[Chunk]) -> list[Chunk]:
    """The chunks of code that a selection or class holds whole: what its vector is pooled
    from. Blocks of imports and bare headers are left out, as they are from the answers."""
    first, last = (target.start_line, target.start_col), (target.end_line, target.end_col)
    return [
        c
        for c in chunks
        if first <= (c.start_line, c.start_col)
        and (c.end_line, c.end_col) <= last
        and c.kind != "imports"
        and not is_bare_header(c)
    ]


def _open_type(language: str) -> str:
    """Where the language writes a type's methods apart from it (LanguageSpec.open_types)."""
    spec = SPECS.get(language)
    return spec.open_types if spec is not None else ""


def _type_key(chunk: Chunk, owner: str) -> tuple[str, ...]:
    """What names one class: its file and name, or where a language writes a type's methods
    apart from it, its package's folder (Go) or only its name (Rust) and its name."""
    scope = _open_type(chunk.language)
    if scope == "crate":
        return (chunk.language, owner)
    if scope == "package":
        return (chunk.language, posixpath.dirname(chunk.path), owner)
    return (chunk.path, owner)


def _holds(path: str, span: tuple[int, int, int, int], inner: Chunk) -> bool:
    """Whether a span of `path` holds the chunk's lines (an outer class, its inner one)."""
    return path == inner.path and span[0] <= inner.start_line and inner.end_line <= span[2]


def _outside_classes(chunk: Chunk) -> bool:
    """Code that is neither a class nor in one: a function (one that a larger function holds
    too: a function in a class is a method), a module's statements."""
    return chunk.kind != "class" and (not chunk.container or chunk.kind == "function")


def _classes_of(items: list[StoredChunk]) -> tuple[dict[str, StoredChunk], list[Chunk]]:
    """A file's class headers by name (the first part of a split one) and its chunks."""
    headers: dict[str, StoredChunk] = {}
    for item in items:
        if item.chunk.kind == "class":
            headers.setdefault(item.chunk.symbol, item)
    return headers, [item.chunk for item in items]


def _class_span(header: Chunk, chunks: list[Chunk]) -> tuple[int, int, int, int]:
    """A class's whole range: its header to the end of its last member."""
    members = [c for c in chunks if c.is_member_of(header.symbol)]
    end = max((c.end_line, c.end_col) for c in [header, *members])
    return (header.start_line, header.start_col, *end)


def _class_result_span(header: Chunk, chunks: list[Chunk]) -> tuple[int, int, int, int]:
    """Where a class result points: the whole class, or its header's own lines when other
    top-level code lies between it and its members (Go methods, Rust impls): a range over
    other definitions would say they belong to the class."""
    span = _class_span(header, chunks)
    first, last = span[:2], span[2:]
    scattered = any(
        not c.container
        and c.symbol != header.symbol
        and first <= (c.start_line, c.start_col)
        and (c.end_line, c.end_col) <= last
        for c in chunks
    )
    if scattered:
        return (header.start_line, header.start_col, header.end_line, header.end_col)
    return span


def _with_members(target: Chunk, chunks: list[Chunk], lines: list[str]) -> Chunk:
    """A class as a query means the whole class, not only its header and fields."""
    if not any(c.is_member_of(target.symbol) for c in chunks):
        return target
    _, _, end_line, end_col = _class_span(target, chunks)
    whole = _slice_chunk(
        target.path,
        target.language,
        lines,
        (target.start_line, target.start_col),
        (end_line, end_col),
    )
    return replace(
        whole,
        kind=target.kind,
        symbol=target.symbol,
        container=target.container,
        signature=target.signature,
    )


def _slice_chunk(
    rel: str, language: str, lines: list[str], start: tuple[int, int], end: tuple[int, int]
) -> Chunk:
    """A selected range of the file as a chunk of its own (the query for similar code)."""
    end_line = min(end[0], len(lines) - 1)
    picked = slice_lines(lines, start, end)
    return Chunk(
        path=rel,
        language=language,
        kind="block",
        symbol="",
        start_line=start[0],
        start_col=start[1],
        end_line=end_line,
        end_col=len(picked[-1]),
        text="\n".join(picked),
    )


def _named_first(hits: list[Hit], name: str) -> None:
    """Puts the hits named ``name`` above every other, by naming tier, each tier's
    implementation code first, then in fused order; a hit named so by a definition it holds
    (a closure) lands on that definition."""
    for hit in hits:
        tier, hit.chunk = named_as(hit.chunk, name)
        hit.score = named_first(hit.score, tier, hit.demoted)


def _query_kind(settings: EngineSettings, intent: Intent) -> str:
    """What BM25's weight depends on: find similar (on a class, or on other code), other
    code queries, questions naming an identifier (when that weight is set), the rest."""
    if intent.finds_similar:
        return "class" if intent.classes else "similar"
    if intent.code:
        return "code"
    if intent.names_identifier and settings.named_lexical_weight is not None:
        return "named"
    return "prose"


def _lexical_weight(settings: EngineSettings, intent: Intent) -> float:
    """BM25's weight in the fusion for the query's kind."""
    weights = {
        "similar": settings.similar_lexical_weight,
        "class": settings.class_lexical_weight,
        "code": settings.lexical_weight,
        "named": settings.named_lexical_weight,
        "prose": settings.prose_lexical_weight,
    }
    weight = weights[_query_kind(settings, intent)]
    return settings.prose_lexical_weight if weight is None else weight


def _phrases(settings: EngineSettings, text: str, intent: Intent) -> list[str]:
    """The word pairs BM25 also matches as phrases, for the queries the settings name."""
    matched = {
        "all": True,
        "code": intent.selected or intent.finds_similar,
        "selections": intent.selected,
    }
    return query_phrases(text) if matched.get(settings.lexical_phrases, False) else []
