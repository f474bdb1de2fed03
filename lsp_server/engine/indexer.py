"""Keeping an index in step with the files: scan, chunk, store, embed.

Build order follows from the cost of embedding (~60 chunks/s on two cores): `sync()` makes the
whole tree lexically searchable within seconds, then `embed_pending()` fills in vectors,
prioritised files (open, saved) first, then the most recently modified. Vectors are committed
in small transactions, so an interrupted build loses at most a few seconds of work.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunker import chunk_text, content_role, says_something
from .chunks import Chunk
from .embedder import Encoder, ModelLoadError
from .languages import file_role
from .reports import EmbedReport, FileUpdate, Progress, ProgressFn, SyncReport
from .scanner import (
    ScannedFile,
    Scanner,
    SkippedFile,
    SourceError,
    minified_reason,
    read_source,
)
from .settings import EngineSettings
from .storage import IndexStorage
from .store import FORCED_MARK, LEFT_OUT_MARK, FileRecord, Store
from .vectors import VectorIndex

PRIORITY_OPEN = 1  # files open or saved in the editor are embedded before the rest
_COMMIT_EVERY_FILES = 200
_EMBED_ROUND = 64  # pending chunks fetched per round: priorities are re-checked this often
# A whole-tree build has no priorities to re-check: bigger rounds let the encoder sort more
# texts by length, so its batches carry less padding.
_BULK_EMBED_ROUND = 1024  # measured: cold index at 1.00x raw encoder speed (256: 0.88x)
# Vectors are committed per slice of a round: a kill or Ctrl-C loses at most one slice
# (about a second of encoding), and progress moves at least this often.
_COMMIT_CHUNKS = 64


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def embed_text(chunk: Chunk, settings: EngineSettings) -> str:
    """What the model sees for a chunk: a short context header, then the code.

    The header carries no path, so a moved or copied file reuses its cached vectors; paths are
    matched lexically instead.
    """
    if not settings.context_header or not chunk.symbol:
        return chunk.text
    header = f"{chunk.language} {chunk.kind} {chunk.shown_symbol}"
    if chunk.part > 1 and chunk.signature:
        header += f"\n{chunk.signature}"
    return f"{header}\n{chunk.text}"


@dataclass
class Changes:
    """Files that differ from what the index holds."""

    candidates: list[ScannedFile] = field(default_factory=list)  # new or possibly changed
    gone: list[str] = field(default_factory=list)
    seen: int = 0
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    complete: bool = True  # False when the time budget ran out before the scan finished

    @property
    def count(self) -> int:
        return len(self.candidates) + len(self.gone)


class Indexer:
    """The write side of one index: every change to files, chunks and vectors goes here."""

    def __init__(
        self,
        root: Path,
        settings: EngineSettings,
        storage: IndexStorage,
        encoder: Encoder,
        scanner: Scanner,
    ) -> None:
        self.root = root
        self.settings = settings
        self.storage = storage
        self.encoder = encoder
        self.scanner = scanner
        self.session_encoded = 0  # chunks sent to the model since the index was opened
        # HNSW changes wait for the SQLite commit, so a rollback never leaves them applied.
        self._queued_adds: list[tuple[list[int], np.ndarray]] = []
        self._queued_removes: list[int] = []
        self._writing = threading.RLock()
        self._vectors_lock = threading.Lock()

    @property
    def store(self) -> Store:
        assert self.storage.store is not None
        return self.storage.store

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator:
        """A SQLite write transaction; queued HNSW changes are applied once it commits.

        The lock spans commit and apply, so concurrent writers (the background indexer and a
        save) never see each other's queue.
        """
        with self._writing:
            self._queued_adds, self._queued_removes = [], []
            try:
                with self.store.transaction() as conn:
                    yield conn
                    if self._queued_adds and self.storage.vectors is None:
                        # With the first vectors, not after them: killed in between, the
                        # index would hold vectors that no one loads (no dimension known).
                        dim = self._queued_adds[0][1].shape[1]
                        self.store.set_meta(conn, "dim", str(dim))
                vectors = self.storage.vectors
                if self._queued_removes and vectors is not None:
                    vectors.remove(self._queued_removes)
                for ids, matrix in self._queued_adds:
                    self._ensure_vectors(matrix.shape[1]).add(ids, matrix)
            finally:
                self._queued_adds, self._queued_removes = [], []

    def _ensure_vectors(self, dim: int) -> VectorIndex:
        with self._vectors_lock:
            if self.storage.vectors is None:
                self.storage.new_vectors(dim)  # "dim" is stored with the vectors (_write)
            assert self.storage.vectors is not None
            return self.storage.vectors

    # -- comparing with the disk ---------------------------------------------------------------

    def changes(self, budget_s: float | None = None) -> Changes:
        """Scans the tree and compares it with the index (nothing is written).

        Size and mtime decide, except for a file whose inode or ctime moved while both stayed
        (a copy that preserved mtime): that one is read and hashed by the caller.
        """
        started = time.monotonic()
        known = self.store.files()
        found = Changes()
        seen: set[str] = set()
        for item in self.scanner.scan():
            if budget_s is not None and time.monotonic() - started > budget_s:
                found.complete = False
                return found
            if isinstance(item, SkippedFile):
                found.skipped.append(item)
                continue
            seen.add(item.path)
            record = known.get(item.path)
            if record is not None and _same_file(record, item) and not _named_otherwise(
                record, item
            ):
                found.unchanged += 1
                if record.hash.endswith(LEFT_OUT_MARK):  # listed at every sync, as binary files are
                    found.skipped.append(SkippedFile(item.path, _left_out_again(item.path)))
            else:
                found.candidates.append(item)
        found.seen = len(seen)
        found.gone = [path for path in known if path not in seen]
        return found

    # -- building ------------------------------------------------------------------------------

    def sync(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Brings the lexical index and chunk table up to date with the files on disk."""
        started = time.monotonic()
        if progress:
            progress(Progress("scan", 0, 0, "scanning files"))
        changes = self.changes()
        if progress:
            message = f"{changes.seen} files, {changes.count} to update"
            progress(Progress("scan", 1, 1, message))
        report = SyncReport(files=changes.seen, unchanged=changes.unchanged)
        report.skipped = changes.skipped
        self.apply(changes, report, progress, cancel)
        report.seconds = time.monotonic() - started
        return report

    def apply(
        self,
        changes: Changes,
        report: SyncReport,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Indexes the changed files and drops the gone ones, in commits of a few hundred."""
        known = self.store.files()
        total = len(changes.candidates)
        for start in range(0, total, _COMMIT_EVERY_FILES):
            if cancel is not None and cancel.is_set():
                return
            batch = changes.candidates[start : start + _COMMIT_EVERY_FILES]
            with self._write() as conn:
                for item in batch:
                    self._index_file(conn, item, known.get(item.path) is not None, report)
            if progress:
                done = min(start + len(batch), total)
                progress(Progress("index", done, total, f"{done}/{total} files"))
        with self._write() as conn:
            for path in changes.gone:
                record = known.get(path)
                if record is not None:
                    report.chunks_removed += len(self._drop_file(conn, record.id))
                    report.removed += 1

    def _index_file(self, conn, item: ScannedFile, existed: bool, report: SyncReport) -> None:
        try:
            text = read_source(item.abs_path, self.settings.max_file_size)
        except SourceError as exc:
            report.skipped.append(SkippedFile(item.path, str(exc)))
            return
        minified = minified_reason(item.path, text)
        if minified is not None and not item.forced:
            report.skipped.append(SkippedFile(item.path, minified))
        added, removed, changed, cached = self._store_file(
            conn, item, text, minified=minified is not None
        )
        report.chunks_added += added
        report.chunks_removed += removed
        report.chunks_from_cache += cached
        if not changed:
            report.unchanged += 1
        elif existed:
            report.changed += 1
        else:
            report.added += 1

    def _store_file(
        self, conn, item: ScannedFile, text: str, priority: int = 0, *, minified: bool
    ) -> tuple[int, int, bool, int]:
        """Stores one file's chunks, touching only those whose text changed; a `minified`
        one (scanner.minified_reason) is stored without chunks, unless a "!" rule names it.

        Returns (chunks added, chunks removed, whether the content changed, chunks added
        with a cached vector).
        """
        digest = content_hash(text) + _minified_mark(minified, item.forced)
        record = self.store.file(item.path)
        if record is not None and record.hash == digest:
            self.store.touch_file(conn, record.id, item)
            return 0, 0, False, 0
        # A minified file left out is still stored, without chunks: the next scan finds it
        # unchanged and reads it no more (unless a "!" rule names it by then: changes()).
        chunks = (
            []
            if minified and not item.forced
            else [
                chunk
                for chunk in chunk_text(
                    item.path, text, item.language, max_chars=self.settings.chunk_chars
                )
                if says_something(chunk.text)
            ]
        )
        role = content_role(file_role(item.path), text, item.language, chunks)
        file_id = self.store.upsert_file(conn, item, digest, item.language, priority, role)
        added, removed, cached = self._replace_chunks(conn, file_id, chunks)
        return added, removed, True, cached

    def _replace_chunks(self, conn, file_id: int, chunks: list[Chunk]) -> tuple[int, int, int]:
        """Keeps chunks whose text is unchanged (moved if needed); returns (added, removed,
        added with a cached vector)."""
        old: dict[str, list[int]] = {}
        named: dict[int, tuple[str, str]] = {}
        for chunk_id, embed_hash, symbol, container in self.store.chunk_rows(conn, file_id):
            old.setdefault(embed_hash, []).append(chunk_id)
            named[chunk_id] = (symbol, container)
        new_rows: list[tuple[Chunk, str]] = []
        for chunk in chunks:
            embed_hash = content_hash(embed_text(chunk, self.settings))
            reusable = old.get(embed_hash)
            if reusable:
                kept = reusable.pop(0)
                self.store.update_chunk(conn, kept, chunk, named[kept])
            else:
                new_rows.append((chunk, embed_hash))
        removed = [chunk_id for ids in old.values() for chunk_id in ids]
        self.store.delete_chunks(conn, removed)
        self._queued_removes.extend(removed)
        cached = self._insert_chunks(conn, file_id, new_rows)
        return len(new_rows), len(removed), cached

    def _insert_chunks(self, conn, file_id: int, rows: list[tuple[Chunk, str]]) -> int:
        """Inserts chunks; those whose vector is cached are searchable without the model.

        Returns how many came with a cached vector.
        """
        model = self.encoder.identity
        dim = self._known_dim()
        cached = self.store.cached_vectors(model, [h for _, h in rows], dim) if rows else {}
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
            self._queued_adds.append((ids, np.stack(vectors)))
        return len(ids)

    def _known_dim(self) -> int | None:
        if self.storage.vectors is not None:
            return self.storage.vectors.dim
        dim = self.store.get_meta("dim")
        return int(dim) if dim else None

    def _drop_file(self, conn, file_id: int) -> list[int]:
        removed = self.store.delete_file(conn, file_id)
        self._queued_removes.extend(removed)
        return removed

    # -- single files --------------------------------------------------------------------------

    def update_file(self, rel: str, priority: int = PRIORITY_OPEN) -> FileUpdate:
        """Re-indexes one file after a save or an outside change (or drops it if gone)."""
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
        minified = minified_reason(checked.path, text)
        with self._write() as conn:
            added, removed, changed, _ = self._store_file(
                conn, checked, text, priority, minified=minified is not None
            )
        if minified is not None and not checked.forced:
            return FileUpdate(checked.path, "skipped", minified, chunks_removed=removed)
        return FileUpdate(checked.path, "updated" if changed else "unchanged", "", added, removed)

    def remove_file(self, rel: str) -> int:
        """Drops a file from the index; returns how many chunks went with it."""
        record = self.store.file(rel)
        if record is None:
            return 0
        with self._write() as conn:
            return len(self._drop_file(conn, record.id))

    def prioritize(self, paths: Sequence[str]) -> None:
        self.store.set_priority(paths, PRIORITY_OPEN)

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
        started = time.monotonic()
        report = EmbedReport()
        total = self._pending_count(path) if progress else 0
        while max_chunks is None or report.encoded + report.cached < max_chunks:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            limit = round_size if max_chunks is None else min(round_size, max_chunks)
            rows = self.store.pending_chunks(limit, path=path)
            if not rows:
                break
            self._embed_round(rows, report, progress, cancel, total)
            if report.cancelled:
                break
        report.seconds = time.monotonic() - started
        return report

    def _pending_count(self, path: str | None) -> int:
        if path is not None:
            return len(self.store.pending_chunks(10**9, path=path))
        _, chunks, embedded = self.store.counts()
        return chunks - embedded

    def _embed_round(
        self,
        rows: list[tuple[int, str, str]],
        report: EmbedReport,
        progress: ProgressFn | None,
        cancel: threading.Event | None,
        total: int,
    ) -> None:
        model = self.encoder.identity
        ids_by_hash: dict[str, list[int]] = {}
        for chunk_id, embed_hash, _ in rows:
            ids_by_hash.setdefault(embed_hash, []).append(chunk_id)
        vectors = self.store.cached_vectors(model, list(ids_by_hash), self._known_dim())
        if vectors:
            self._commit_vectors(model, vectors, ids_by_hash, new=False)
            report.cached += sum(len(ids_by_hash[h]) for h in vectors)
        missing = [h for h in ids_by_hash if h not in vectors]
        texts = self._texts_for(rows, set(missing))
        # Longest first, then encoded and committed a slice at a time: batches of similar
        # length (little padding), and a kill loses one slice at most.
        missing.sort(key=lambda h: -len(texts[h]))
        for start in range(0, len(missing), _COMMIT_CHUNKS):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return
            part = missing[start : start + _COMMIT_CHUNKS]
            encoded = self.encoder.encode([texts[h] for h in part])
            self._check_dimension(encoded.shape[1])
            count = sum(len(ids_by_hash[h]) for h in part)
            # Counted before the commit: a status read once the last vector is stored (nothing
            # pending) must not see the session's count still behind.
            self.session_encoded += count
            self._commit_vectors(model, dict(zip(part, encoded, strict=True)), ids_by_hash)
            report.encoded += count
            if progress:
                done = report.encoded + report.cached
                shown = max(total, done)
                progress(Progress("embed", done, shown, f"{done}/{shown} chunks"))

    def _check_dimension(self, found: int) -> None:
        """Refuses vectors that do not fit the index (a server's model changed under its
        name) before anything is written."""
        dim = self._known_dim()
        if dim is not None and found != dim:
            raise ModelLoadError(
                f"the encoder returned {found}-dimensional vectors, but this index holds "
                f"{dim}-dimensional ones: run `nearcode clean` and index again"
            )

    def _commit_vectors(
        self,
        model: str,
        vectors: dict[str, np.ndarray],
        ids_by_hash: dict[str, list[int]],
        *,
        new: bool = True,
    ) -> None:
        with self._write() as conn:
            if new:
                self.store.put_vectors(conn, model, vectors.items())
            wanted = [chunk_id for h in vectors for chunk_id in ids_by_hash[h]]
            alive = self.store.mark_embedded(conn, wanted)
            if alive:
                by_id = {chunk_id: h for h in vectors for chunk_id in ids_by_hash[h]}
                matrix = np.stack([vectors[by_id[chunk_id]] for chunk_id in alive])
                self._queued_adds.append((alive, matrix))

    def _texts_for(self, rows: list[tuple[int, str, str]], wanted: set[str]) -> dict[str, str]:
        ids = [chunk_id for chunk_id, embed_hash, _ in rows if embed_hash in wanted]
        stored = self.store.chunks_by_id(ids)
        return {item.embed_hash: embed_text(item.chunk, self.settings) for item in stored.values()}


def _same_file(record: FileRecord, item: ScannedFile) -> bool:
    if record.size != item.size or record.mtime_ns != item.mtime_ns:
        return False
    # A copy that kept size and mtime still has a new inode or ctime: hash it to be sure.
    return not (record.ino and item.ino) or (record.ino, record.ctime_ns) == (
        item.ino,
        item.ctime_ns,
    )


def _minified_mark(minified: bool, forced: bool) -> str:
    """The mark on a minified file's stored hash (store.LEFT_OUT_MARK, FORCED_MARK): a file
    stored under one and named otherwise by the rules now is read again, though unchanged
    (_named_otherwise)."""
    if not minified:
        return ""
    return FORCED_MARK if forced else LEFT_OUT_MARK


def _left_out_again(path: str) -> str:
    """Why a minified file found unchanged is still not indexed (its text is not read)."""
    return f"minified (as when it was read); an exclude pattern !{path} indexes it"


def _named_otherwise(record: FileRecord, item: ScannedFile) -> bool:
    """Whether a minified file was left out and a "!" rule names it now, or the reverse."""
    return record.hash.endswith((LEFT_OUT_MARK, FORCED_MARK)) and (
        record.hash.endswith(FORCED_MARK) != item.forced
    )
