"""One workspace folder's index: the engine's public face (used by the CLI, server, benchmarks).

Build order follows from the cost of embedding (~30 chunks/s on two cores): `sync()` makes the
whole tree lexically searchable within seconds, then `embed_pending()` fills in vectors,
prioritised files (open, saved) first, then the most recently modified.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .chunker import chunk_text, slice_lines, split_lines
from .chunks import Chunk
from .embedder import Encoder, EncoderUnavailable, ModelLoadError, encode_query, make_encoder
from .frames import Frame, parse_frames
from .languages import detect_language
from .locations import FORMAT_VERSION, Manifest, ensure_private_dir, index_dir_for
from .ranking import GlobFilter, Hit, merge_overlapping, reciprocal_rank_fusion
from .results import SearchResponse, SearchResult, file_uri, preview_of
from .scanner import ScannedFile, Scanner, SkippedFile, SourceError, read_source
from .settings import EngineSettings
from .store import Store, StoreError
from .tokens import looks_like_code, query_terms
from .vectors import VectorIndex

log = logging.getLogger(__name__)

PRIORITY_OPEN = 1  # files open or saved in the editor are embedded before the rest
_COMMIT_EVERY_FILES = 200
_EMBED_ROUND = 64  # chunks per encoder call: small enough to re-check priorities often
# A whole-tree build has no priorities to re-check: bigger rounds let the encoder sort more
# texts by length, so its batches carry less padding.
_BULK_EMBED_ROUND = 1024  # measured: cold index at 1.00x raw encoder speed (256: 0.88x)
_TEXT_AFTER_FRAMES = 0.9  # search_text(): score factor for results that no frame named
_FRAME_STEP = 0.005  # score step between frames, so 20 frames stay above any text result


class IndexError_(RuntimeError):
    """A user-facing engine error (bad path, file outside the workspace, read-only index)."""


@dataclass(frozen=True)
class Progress:
    phase: str  # "scan" | "index" | "embed"
    done: int
    total: int
    message: str = ""


ProgressFn = Callable[[Progress], None]


@dataclass
class SyncReport:
    files: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class EmbedReport:
    encoded: int = 0  # chunks sent to the model
    cached: int = 0  # chunks whose vector came from the cache
    seconds: float = 0.0
    cancelled: bool = False


@dataclass(frozen=True)
class FileUpdate:
    path: str
    status: str  # "updated" | "unchanged" | "removed" | "skipped" | "ignored"
    reason: str = ""
    chunks_added: int = 0
    chunks_removed: int = 0


@dataclass(frozen=True)
class IndexStatus:
    root: str
    index_dir: str
    encoder: str
    files: int
    chunks: int
    embedded: int
    read_only: bool
    notices: tuple[str, ...]

    @property
    def pending(self) -> int:
        return self.chunks - self.embedded

    def to_json(self) -> dict[str, object]:
        """The shape `nearcode status --json` prints and nearcode.status extends."""
        return {
            "root": self.root,
            "indexPath": self.index_dir,
            "model": self.encoder,
            "files": self.files,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "pending": self.pending,
            "readOnly": self.read_only,
            "notices": list(self.notices),
        }


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class WorkspaceIndex:
    """Scan -> chunk -> embed -> store -> search for one workspace folder."""

    def __init__(
        self,
        root: Path,
        settings: EngineSettings | None = None,
        *,
        encoder: Encoder | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise IndexError_(f"not a folder: {root}")
        self.settings = settings or EngineSettings()
        self.encoder: Encoder = encoder or make_encoder(self.settings)
        self.index_dir = index_dir or index_dir_for(self.root)
        self.scanner = Scanner(
            self.root, exclude=self.settings.exclude, max_file_size=self.settings.max_file_size
        )
        # When False, searches never wait for the model to load: they answer lexically.
        self.wait_for_encoder = True
        self.notices: list[str] = []
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()
        # HNSW changes wait for the SQLite commit, so a rollback never leaves them applied.
        self._queued_adds: list[tuple[list[int], np.ndarray]] = []
        self._queued_removes: list[int] = []
        self._writing = threading.RLock()
        self._lock_file: int | None = None
        self.read_only = False
        self.session_encoded = 0  # chunks sent to the model since this index was opened
        self._closed = False
        self._open()

    # -- opening -------------------------------------------------------------------------------

    def _open(self) -> None:
        ensure_private_dir(self.index_dir)
        self.read_only = not self._take_writer_lock()
        if self.read_only:
            self.notices.append("another nearcode process is updating this index: read-only")
        rebuild_reason = self._manifest_problem()
        self.store = self._open_store()
        if rebuild_reason and not self.read_only:
            self.notices.append(f"{rebuild_reason}: rebuilding the index")
            log.warning("%s: rebuilding the index", rebuild_reason)
            self.store.clear()
            self._discard_vector_files()
        if not self.read_only:
            Manifest(str(self.root), self.encoder.identity).write(self.index_dir)
        self._load_vectors()

    def _take_writer_lock(self) -> bool:
        fd = os.open(self.index_dir / "writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_file = fd
        return True

    def _manifest_problem(self) -> str | None:
        manifest = Manifest.read(self.index_dir)
        if manifest is None:
            has_db = (self.index_dir / "index.sqlite").exists()
            return "index manifest missing or unreadable" if has_db else None
        if manifest.format > FORMAT_VERSION:
            return f"index was written by a newer nearcode (format {manifest.format})"
        if manifest.format < FORMAT_VERSION:
            return f"index format changed ({manifest.format} -> {FORMAT_VERSION})"
        if manifest.encoder != self.encoder.identity:
            return f"embedding model changed ({manifest.encoder} -> {self.encoder.identity})"
        return None

    def _open_store(self) -> Store:
        path = self.index_dir / "index.sqlite"
        try:
            store = Store(path, read_only=self.read_only)
            if store.integrity_ok():
                return store
            store.close()
            problem = "integrity check failed"
        except StoreError as exc:
            problem = str(exc)
        if self.read_only:
            raise IndexError_(f"the index database is corrupt ({problem}) and read-only here")
        self.notices.append(f"index database was corrupt ({problem}): rebuilding the index")
        log.warning("index database corrupt (%s); moving it aside", problem)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                old.rename(old.with_name(f"{old.name}.corrupt-{stamp}"))
        self._discard_vector_files()
        return Store(path)

    def _discard_vector_files(self) -> None:
        for name in ("vectors.hnsw", "vectors.json"):
            (self.index_dir / name).unlink(missing_ok=True)
        self._vectors = None

    def _load_vectors(self) -> None:
        dim = self.store.get_meta("dim")
        if dim is None:
            return  # nothing embedded yet; created on the first embedding
        vectors = VectorIndex(self.index_dir / "vectors.hnsw", int(dim))
        expected = self.store.embedded_ids()
        problem = vectors.load()
        if problem is None and not vectors.needs_compaction():
            added, removed = vectors.reconcile(
                expected, lambda ids: self.store.live_vectors(self.encoder.identity, ids)
            )
            if added or removed:
                log.info("vector index reconciled with the database: +%d -%d", added, removed)
        else:
            log.info("rebuilding vector index: %s", problem or "too many deleted entries")
            vectors.rebuild(self.store.live_vectors(self.encoder.identity), len(expected))
        self._vectors = vectors
        try:
            self.save()
        except OSError as exc:  # a full disk: searchable anyway, saved again later
            log.warning("could not save the vector index: %s", exc)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A SQLite write transaction; queued HNSW changes are applied once it commits.

        The lock spans commit and apply, so concurrent writers (the background indexer and
        a save) never see each other's queue.
        """
        with self._writing:
            self._queued_adds, self._queued_removes = [], []
            try:
                with self.store.transaction() as conn:
                    yield conn
                if self._queued_removes and self._vectors is not None:
                    self._vectors.remove(self._queued_removes)
                for ids, matrix in self._queued_adds:
                    self._ensure_vectors(matrix.shape[1]).add(ids, matrix)
            finally:
                self._queued_adds, self._queued_removes = [], []

    def _ensure_vectors(self, dim: int) -> VectorIndex:
        with self._vectors_lock:
            if self._vectors is None:
                self._vectors = VectorIndex(self.index_dir / "vectors.hnsw", dim)
                if not self.read_only:
                    with self.store.transaction() as conn:
                        self.store.set_meta(conn, "dim", str(dim))
            return self._vectors

    # -- lifecycle -----------------------------------------------------------------------------

    def save(self) -> None:
        """Persists the vector index (SQLite is always durable)."""
        if self._vectors is not None and not self.read_only:
            self._vectors.save()

    def close(self) -> None:
        """Saves and releases the index; calling it twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            self.save()
        except OSError as exc:  # e.g. a full disk: the next open rebuilds from SQLite
            log.warning("could not save the vector index: %s", exc)
        finally:
            self.store.close()
            if self._lock_file is not None:
                os.close(self._lock_file)
                self._lock_file = None

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def destroy(self) -> None:
        """Deletes the index folder (nearcode clean)."""
        self.close()
        shutil.rmtree(self.index_dir, ignore_errors=True)

    def status(self) -> IndexStatus:
        files, chunks, embedded = self.store.counts()
        return IndexStatus(
            str(self.root),
            str(self.index_dir),
            self.encoder.identity,
            files,
            chunks,
            embedded,
            self.read_only,
            tuple(self.notices),
        )

    def check_consistency(self) -> list[str]:
        """Problems that break the index's invariants (empty when healthy).

        SQLite is the truth; the HNSW labels must be exactly the chunks marked as embedded,
        each of which must have its vector in the cache (so HNSW can always be rebuilt).
        """
        problems = self.store.consistency_problems(self.encoder.identity)
        embedded = self.store.embedded_ids()
        live = self._vectors.live_labels() if self._vectors is not None else set()
        if live != embedded:
            problems.append(
                f"vector index disagrees with the database: {len(live - embedded)} extra, "
                f"{len(embedded - live)} missing labels"
            )
        return problems

    # -- paths ---------------------------------------------------------------------------------

    def relative(self, path: str | Path) -> str:
        """Workspace-relative '/' path; raises for paths outside the workspace."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        resolved = Path(os.path.normpath(candidate))
        try:
            rel = resolved.relative_to(self.root)
        except ValueError:
            try:
                rel = resolved.resolve().relative_to(self.root)
            except ValueError:
                raise IndexError_(f"{path} is outside the workspace {self.root}") from None
        if not rel.parts:
            raise IndexError_(f"{path} is the workspace folder, not a file")
        return rel.as_posix()

    # -- building ------------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.read_only:
            raise IndexError_("this index is read-only: another nearcode process owns it")

    def sync(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Brings the lexical index and chunk table up to date with the files on disk."""
        self._require_writable()
        started = time.monotonic()
        report = SyncReport()
        known = self.store.files()
        seen: set[str] = set()
        candidates: list[ScannedFile] = []
        for item in self.scanner.scan():
            if isinstance(item, SkippedFile):
                report.skipped.append(item)
                continue
            seen.add(item.path)
            record = known.get(item.path)
            if record and record.size == item.size and record.mtime_ns == item.mtime_ns:
                report.unchanged += 1
            else:
                candidates.append(item)
        report.files = len(seen)
        gone = [path for path in known if path not in seen]
        self._sync_files(candidates, gone, known, report, progress, cancel)
        report.seconds = time.monotonic() - started
        return report

    def _sync_files(
        self,
        candidates: list[ScannedFile],
        gone: list[str],
        known: dict,
        report: SyncReport,
        progress: ProgressFn | None,
        cancel: threading.Event | None,
    ) -> None:
        total = len(candidates)
        for start in range(0, total, _COMMIT_EVERY_FILES):
            if cancel is not None and cancel.is_set():
                return
            batch = candidates[start : start + _COMMIT_EVERY_FILES]
            with self._write() as conn:
                for item in batch:
                    self._index_file(conn, item, known.get(item.path) is not None, report)
            if progress:
                done = min(start + len(batch), total)
                progress(Progress("index", done, total, f"{done}/{total} files"))
        with self._write() as conn:
            for path in gone:
                record = known[path]
                report.chunks_removed += len(self._drop_file(conn, record.id))
                report.removed += 1

    def _index_file(self, conn, item: ScannedFile, existed: bool, report: SyncReport) -> None:
        try:
            text = read_source(item.abs_path, self.settings.max_file_size)
        except SourceError as exc:
            report.skipped.append(SkippedFile(item.path, str(exc)))
            return
        added, removed, changed = self._store_file(conn, item, text)
        report.chunks_added += added
        report.chunks_removed += removed
        if not changed:
            report.unchanged += 1
        elif existed:
            report.changed += 1
        else:
            report.added += 1

    def _store_file(
        self, conn, item: ScannedFile, text: str, priority: int = 0
    ) -> tuple[int, int, bool]:
        """Stores one file's chunks, touching only those whose text changed.

        Returns (chunks added, chunks removed, whether the content changed).
        """
        digest = content_hash(text)
        record = self.store.file(item.path)
        if record is not None and record.hash == digest:
            self.store.touch_file(conn, record.id, item.size, item.mtime_ns)
            return 0, 0, False
        file_id = self.store.upsert_file(
            conn, item.path, item.size, item.mtime_ns, digest, item.language, priority
        )
        chunks = [
            chunk
            for chunk in chunk_text(
                item.path, text, item.language, max_chars=self.settings.chunk_chars
            )
            if _says_something(chunk.text)
        ]
        return (*self._replace_chunks(conn, file_id, chunks), True)

    def _replace_chunks(self, conn, file_id: int, chunks: list[Chunk]) -> tuple[int, int]:
        old: dict[str, list[int]] = {}
        for chunk_id, embed_hash, _line in self.store.chunk_rows(conn, file_id):
            old.setdefault(embed_hash, []).append(chunk_id)
        new_rows: list[tuple[Chunk, str]] = []
        for chunk in chunks:
            embed_hash = content_hash(self.embed_text(chunk))
            reusable = old.get(embed_hash)
            if reusable:
                self.store.move_chunk(conn, reusable.pop(0), chunk)
            else:
                new_rows.append((chunk, embed_hash))
        removed = [chunk_id for ids in old.values() for chunk_id in ids]
        self.store.delete_chunks(conn, removed)
        self._queued_removes.extend(removed)
        self._insert_chunks(conn, file_id, new_rows)
        return len(new_rows), len(removed)

    def _insert_chunks(self, conn, file_id: int, rows: list[tuple[Chunk, str]]) -> None:
        model = self.encoder.identity
        cached = self.store.cached_vectors(model, [h for _, h in rows]) if rows else {}
        ids: list[int] = []
        vectors: list[np.ndarray] = []
        for chunk, embed_hash in rows:
            vector = cached.get(embed_hash)
            chunk_id = self.store.insert_chunk(
                conn, file_id, chunk, embed_hash, has_vector=vector is not None
            )
            if vector is not None:
                ids.append(chunk_id)
                vectors.append(vector)
        if ids:
            # Cache hits (moved, copied, reverted code) are searchable without the model.
            self._queued_adds.append((ids, np.stack(vectors)))

    def _drop_file(self, conn, file_id: int) -> list[int]:
        removed = self.store.delete_file(conn, file_id)
        self._queued_removes.extend(removed)
        return removed

    def embed_text(self, chunk: Chunk) -> str:
        """What the model sees for a chunk: a short context header, then the code.

        The header carries no path, so a moved or copied file reuses its cached vectors;
        paths are matched lexically instead.
        """
        if not self.settings.context_header or not chunk.symbol:
            return chunk.text
        header = f"{chunk.language} {chunk.kind} {chunk.symbol}"
        if chunk.part > 1 and chunk.signature:
            header += f"\n{chunk.signature}"
        return f"{header}\n{chunk.text}"

    # -- single files --------------------------------------------------------------------------

    def update_file(self, path: str | Path, *, priority: int = PRIORITY_OPEN) -> FileUpdate:
        """Re-indexes one file after a save or an outside change (or drops it if gone)."""
        self._require_writable()
        rel = self.relative(path)
        if not (self.root / rel).is_file():
            return FileUpdate(
                rel, "removed", "file does not exist", chunks_removed=self.remove_file(rel)
            )
        checked = self.scanner.check_file(self.root / rel)
        if checked is None or isinstance(checked, SkippedFile):
            reason = checked.reason if checked is not None else "excluded or not source code"
            status = "skipped" if checked is not None else "ignored"
            return FileUpdate(rel, status, reason, chunks_removed=self.remove_file(rel))
        try:
            text = read_source(checked.abs_path, self.settings.max_file_size)
        except SourceError as exc:
            return FileUpdate(rel, "skipped", str(exc), chunks_removed=self.remove_file(rel))
        with self._write() as conn:
            added, removed, changed = self._store_file(conn, checked, text, priority)
        return FileUpdate(rel, "updated" if changed else "unchanged", "", added, removed)

    def remove_file(self, path: str | Path) -> int:
        """Drops a file from the index; returns how many chunks went with it."""
        self._require_writable()
        rel = self.relative(path)
        record = self.store.file(rel)
        if record is None:
            return 0
        with self._write() as conn:
            return len(self._drop_file(conn, record.id))

    def prioritize(self, paths: Sequence[str | Path]) -> None:
        """Embeds these files (e.g. open in the editor) before the rest of the queue."""
        if not self.read_only:
            self.store.set_priority([self.relative(p) for p in paths], PRIORITY_OPEN)

    # -- embedding -----------------------------------------------------------------------------

    def embed_pending(
        self,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        *,
        path: str | None = None,
        max_chunks: int | None = None,
        round_size: int = _EMBED_ROUND,
    ) -> EmbedReport:
        """Gives vectors to chunks that have none: from the cache, else from the model."""
        self._require_writable()
        started = time.monotonic()
        report = EmbedReport()
        only = self.relative(path) if path is not None else None
        total = self.status().pending if only is None else 0
        while max_chunks is None or report.encoded + report.cached < max_chunks:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            rows = self.store.pending_chunks(round_size, path=only)
            if not rows:
                break
            self._embed_round(rows, report)
            if progress:
                done = report.encoded + report.cached
                progress(
                    Progress("embed", done, max(total, done), f"{done}/{max(total, done)} chunks")
                )
        report.seconds = time.monotonic() - started
        self.session_encoded += report.encoded
        return report

    def _embed_round(self, rows: list[tuple[int, str, str]], report: EmbedReport) -> None:
        model = self.encoder.identity
        hashes = list(dict.fromkeys(embed_hash for _, embed_hash, _ in rows))
        vectors = self.store.cached_vectors(model, hashes)
        missing = [h for h in hashes if h not in vectors]
        if missing:
            texts = self._texts_for(rows, set(missing))
            encoded = self.encoder.encode([texts[h] for h in missing])
            self._check_dimension(encoded.shape[1])
            vectors.update(zip(missing, encoded, strict=True))
        report.encoded += sum(1 for _, h, _ in rows if h in set(missing))
        report.cached += sum(1 for _, h, _ in rows if h not in set(missing))
        by_id = {chunk_id: embed_hash for chunk_id, embed_hash, _ in rows}
        with self._write() as conn:
            self.store.put_vectors(conn, model, ((h, vectors[h]) for h in missing))
            alive = self.store.mark_embedded(conn, list(by_id))
            if alive:
                self._queued_adds.append(
                    (alive, np.stack([vectors[by_id[chunk_id]] for chunk_id in alive]))
                )

    def _check_dimension(self, found: int) -> None:
        """Refuses vectors that do not fit the index (a server's model changed under its name)
        before anything is written."""
        if self._vectors is not None and found != self._vectors.dim:
            raise ModelLoadError(
                f"the encoder returned {found}-dimensional vectors, but this index holds "
                f"{self._vectors.dim}-dimensional ones: run `nearcode clean` and index again"
            )

    def _texts_for(self, rows: list[tuple[int, str, str]], wanted: set[str]) -> dict[str, str]:
        ids = [chunk_id for chunk_id, embed_hash, _ in rows if embed_hash in wanted]
        stored = self.store.chunks_by_id(ids)
        return {item.embed_hash: self.embed_text(item.chunk) for item in stored.values()}

    def index(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> tuple[SyncReport, EmbedReport]:
        """sync() then embed everything: what `nearcode index` does."""
        synced = self.sync(progress, cancel)
        embedded = self.embed_pending(progress, cancel, round_size=_BULK_EMBED_ROUND)
        self.store.prune_embeddings(self.encoder.identity, keep_unused=self._cache_slack())
        self.save()
        return synced, embedded

    def _cache_slack(self) -> int:
        return max(10_000, self.store.counts()[1])

    # -- searching -----------------------------------------------------------------------------

    def _dense_ready(self) -> bool:
        if self._vectors is None or len(self._vectors) == 0:
            return False
        return self.wait_for_encoder or bool(getattr(self.encoder, "loaded", True))

    def _query_vector(self, text: str) -> np.ndarray:
        return encode_query(self.encoder, text)

    def _dense_query(self, vector_of: Callable[[], np.ndarray]) -> tuple[np.ndarray | None, str]:
        """The query's vector, or None and why not. An encoder that cannot answer right now
        (an embedding server that is down) makes the search lexical and partial, not an error.
        """
        if not self._dense_ready():
            return None, ""
        try:
            return vector_of(), ""
        except EncoderUnavailable as exc:
            return None, f"{exc}: lexical results only"

    def _rank(
        self,
        terms: list[str],
        vector: np.ndarray | None,
        filters: GlobFilter,
        exclude_ids: set[int],
        limit: int,
        code: bool,
    ) -> list[Hit]:
        pool = self.settings.candidates * (4 if filters.active else 1) + len(exclude_ids)
        lexical = [i for i, _ in self.store.lexical_search(terms, pool)]
        dense: list[int] = []
        if vector is not None and self._vectors is not None:
            dense = [i for i, _ in self._vectors.query(vector, pool)]
        lexical_weight = (
            self.settings.lexical_weight if code else self.settings.prose_lexical_weight
        )
        fused = reciprocal_rank_fusion(
            [(dense, self.settings.dense_weight), (lexical, lexical_weight)], self.settings.rrf_k
        )
        fused = [(i, s) for i, s in fused if i not in exclude_ids]
        stored = self.store.chunks_by_id([i for i, _ in fused[:pool]])
        hits = [
            Hit(i, stored[i].chunk, s)
            for i, s in fused
            if i in stored and filters.accepts(stored[i].path, stored[i].chunk.language)
        ]
        return merge_overlapping(hits)[:limit]

    def _partial(self, used_dense: bool) -> bool:
        # On the query path: an indexed EXISTS, not the full count status() makes.
        return not used_dense or self.store.has_pending()

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> SearchResponse:
        """Natural-language or code query: dense and BM25 rankings fused."""
        filters = GlobFilter(include, exclude, languages)
        vector, notice = self._dense_query(lambda: self._query_vector(query))
        hits = self._rank(
            query_terms(query), vector, filters, set(), limit, code=looks_like_code(query)
        )
        results = [self._result(h) for h in hits]
        return SearchResponse(results, self._partial(vector is not None), notice)

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
        rel = self.relative(path)
        text = source if source is not None else self._read_for_query(rel)
        target = self._query_chunk(rel, text, (line, character), end)
        filters = GlobFilter(include, exclude, languages)
        own = {c.id for c in self.store.chunks_of_file(rel) if _overlaps(c.chunk, target)}
        vector, notice = self._dense_query(lambda: self._chunk_vector(target))
        hits = self._rank(query_terms(target.text), vector, filters, own, limit, code=True)
        wanted = _normalized(target.text)
        for hit in hits:
            hit.duplicate = _normalized(hit.chunk.text) == wanted
        results = [self._result(h) for h in hits]
        return SearchResponse(results, self._partial(vector is not None), notice)

    def _read_for_query(self, rel: str) -> str:
        # A symlink out of the workspace is not indexed, so it is not read for a query either.
        if not (self.root / rel).resolve().is_relative_to(self.root):
            raise IndexError_(f"{rel} links outside the workspace {self.root}")
        try:
            return read_source(self.root / rel, self.settings.max_file_size)
        except SourceError as exc:
            raise IndexError_(str(exc)) from exc

    def _query_chunk(
        self, rel: str, text: str, start: tuple[int, int], end: tuple[int, int] | None
    ) -> Chunk:
        lines = split_lines(text)
        if start[0] < 0 or start[0] >= max(len(lines), 1) or start[1] < 0:
            raise IndexError_(
                f"position {start[0]}:{start[1]} is outside {rel} ({len(lines)} lines)"
            )
        language = detect_language(rel) or "text"
        if end is not None and end != start:
            return _slice_chunk(rel, language, lines, start, end)
        chunks = chunk_text(rel, text, language, max_chars=self.settings.chunk_chars)
        around = [
            c for c in chunks if (c.start_line, c.start_col) <= start <= (c.end_line, c.end_col)
        ]
        if not around:
            raise IndexError_(f"no code at {rel}:{start[0] + 1}")
        target = min(around, key=lambda c: c.end_line - c.start_line)
        return _with_members(target, chunks, lines) if target.kind == "class" else target

    def _chunk_vector(self, chunk: Chunk) -> np.ndarray:
        text = self.embed_text(chunk)
        cached = self.store.cached_vectors(self.encoder.identity, [content_hash(text)])
        return next(iter(cached.values())) if cached else self._query_vector(text)

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
        located = self._frame_hits(parse_frames(snippet))
        response = self.search(
            snippet, limit=limit, include=include, exclude=exclude, languages=languages
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

    def _frame_hits(self, frames: list[Frame]) -> list[SearchResult]:
        results: list[SearchResult] = []
        paths = self.store.file_paths() if frames else []
        for rank, frame in enumerate(frames):
            rel = self._resolve_frame_path(frame.path, paths)
            if rel is None:
                continue
            chunk = self._chunk_at(rel, frame.line - 1)
            if chunk is not None:
                results.append(self._result(Hit(0, chunk, 1.0 - rank * _FRAME_STEP)))
        return results

    def _resolve_frame_path(self, written: str, paths: list[str]) -> str | None:
        try:
            rel = self.relative(written)
            if rel in paths:
                return rel
        except IndexError_:
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

    def _result(self, hit: Hit) -> SearchResult:
        chunk = hit.chunk
        return SearchResult(
            path=chunk.path,
            uri=file_uri(self.root, chunk.path),
            start_line=chunk.start_line,
            start_col=chunk.start_col,
            end_line=chunk.end_line,
            end_col=chunk.end_col,
            score=hit.score,
            symbol=chunk.symbol,
            kind=chunk.kind,
            language=chunk.language,
            preview=preview_of(chunk.text),
            duplicate=hit.duplicate,
        )


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.start_line <= b.end_line and b.start_line <= a.end_line


def _says_something(text: str) -> bool:
    """False for chunks of bare punctuation (a lone closing brace between definitions)."""
    return any(char.isalnum() for char in text)


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _with_members(target: Chunk, chunks: list[Chunk], lines: list[str]) -> Chunk:
    """A class as a query means the whole class, not only its header and fields."""
    members = [
        c
        for c in chunks
        if c.container == target.symbol or c.container.startswith(target.symbol + ".")
    ]
    if not members:
        return target
    end = max((c.end_line, c.end_col) for c in [target, *members])
    whole = _slice_chunk(
        target.path, target.language, lines, (target.start_line, target.start_col), end
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
