"""One workspace folder's index: the engine's public face (used by the CLI, servers, benchmarks).

It opens the index folder in one of two modes and hands the work to the pieces that do it:

- ``mode="write"`` (`nearcode index`, the language and MCP servers): takes the writer lock,
  checks and repairs the database, switches encoders (after loading the new one), keeps the
  index in step with the files. Without the lock it falls back to reading.
- ``mode="read"`` (search, similar, status): changes nothing on open. With ``refresh=True`` it
  may take the lock for a moment to re-index files changed on disk (`refresh()`), never to
  drop or rebuild anything.

The work itself lives in `Indexer` (files, chunks, vectors), `Searcher` (queries) and
`IndexStorage` (the folder's files and their health).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from .chunker import CHUNKER_CODE, CHUNKER_VERSION
from .chunks import Chunk
from .embedder import Encoder, EncoderUnavailable, ModelLoadError, make_encoder
from .errors import EngineError, NotIndexed, ReadOnlyIndex
from .indexer import _BULK_EMBED_ROUND, PRIORITY_OPEN, Indexer, embed_text
from .locations import FORMAT_VERSION, Manifest, index_dir_for
from .paths import workspace_relative
from .reports import (
    EmbedReport,
    FileUpdate,
    Freshness,
    IndexStatus,
    Progress,
    ProgressFn,
    SyncReport,
)
from .results import SearchResponse
from .scanner import Scanner
from .searcher import Searcher
from .settings import EngineSettings
from .storage import IndexStorage, StorageError, delete_index, holder_text
from .store import Store, StoreError
from .vectors import VectorIndex

log = logging.getLogger(__name__)

# The engine's public names, for the adapters (CLI, servers, benchmarks).
__all__ = [
    "PRIORITY_OPEN",
    "EmbedReport",
    "EngineError",
    "FileUpdate",
    "Freshness",
    "IndexStatus",
    "Progress",
    "ProgressFn",
    "SyncReport",
    "WorkspaceIndex",
]

REFRESH_BUDGET_S = 2.0  # a reader compares the tree with the index for at most this long
REFRESH_EMBED_LIMIT = 256  # ... and embeds at most this many chunks of changed files
_PROBE_TEXT = "def probe(value):\n    return value"


class WorkspaceIndex:
    """Scan -> chunk -> embed -> store -> search for one workspace folder."""

    def __init__(
        self,
        root: Path,
        settings: EngineSettings | None = None,
        *,
        encoder: Encoder | None = None,
        index_dir: Path | None = None,
        mode: str = "write",
        refresh: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise EngineError(f"not a folder: {root}")
        self.settings = settings or EngineSettings()
        self.encoder: Encoder = encoder or make_encoder(self.settings)
        self.index_dir = index_dir or index_dir_for(self.root)
        self.scanner = Scanner(
            self.root, exclude=self.settings.exclude, max_file_size=self.settings.max_file_size
        )
        # When False, searches never wait for the model to load: they answer lexically.
        self.wait_for_encoder = True
        self.notices: list[str] = []
        self.built_with = ""  # the encoder of the stored vectors, when another than ours
        self.storage = IndexStorage(self.index_dir)
        self.mode = mode
        self._reader_pending: set[int] = set()  # what catch_up() knew to be waiting
        self._reader_last_id = 0
        self._closed = False
        self._open_lock = threading.RLock()
        try:
            if mode == "write":
                self._open_as_owner()
            else:
                self._open_as_reader(refresh)
        except BaseException:
            self.storage.close()
            raise
        self.indexer = Indexer(self.root, self.settings, self.storage, self.encoder, self.scanner)
        self.searcher = Searcher(
            self.root, self.settings, self.storage, self.encoder, self._dense_ready
        )

    # -- opening -------------------------------------------------------------------------------

    def _open_as_owner(self) -> None:
        try:
            self.storage.prepare_folder()
        except StorageError as exc:
            raise EngineError(str(exc)) from exc
        if not self.storage.lock.try_acquire():
            holder = holder_text(self.storage.lock.holder())
            self.notices.append(f"{holder} is updating this index: read-only")
            self._open_as_reader(refresh=False)
            return
        self._open_owned()

    def _open_owned(self) -> None:
        """The rest of opening once the writer lock is held."""
        try:
            self.storage.open_owner(self.notices)
            manifest = self.storage.manifest
            if manifest is not None and manifest.encoder != self.encoder.identity:
                if self.store.counts()[1]:
                    self._switch_encoder(manifest.encoder)
                else:
                    self.storage.new_generation()
            self._repair_vector_cache()
            self._rechunk_if_needed(manifest)
            self._write_manifest()
        except (StoreError, sqlite3.Error, OSError) as exc:
            raise EngineError(f"cannot open the index in {self.index_dir}: {_reason(exc)}") from exc
        self._load_vectors()
        try:
            self.save()
        except OSError as exc:  # a full disk: searchable anyway, saved again later
            log.warning("could not save the vector index: %s", exc)

    def _open_as_reader(self, refresh: bool) -> None:
        try:
            self.storage.open_reader(writable=refresh)
        except StorageError as exc:
            raise NotIndexed(f"{exc}: run `nearcode index {self.root}`") from exc
        manifest = self.storage.manifest
        assert manifest is not None
        if manifest.encoder != self.encoder.identity:
            self.built_with = manifest.encoder
            self.notices.append(
                f"this index was built with {manifest.encoder}, not {self.encoder.identity}: "
                f"searching by words only (run `nearcode index {self.root}` with the same "
                "options to re-embed, or search without them)"
            )
        self._load_vectors()

    def _switch_encoder(self, old: str) -> None:
        """Moves the index to this encoder, after proving it works (a failure changes nothing).

        Chunks stay; vectors of both encoders stay in the cache, so switching back embeds
        nothing again.
        """
        self.encoder.load()  # raises ModelLoadError: nothing has changed yet
        try:
            probe = self.encoder.encode([_PROBE_TEXT])
        except Exception as exc:  # a model that loads but cannot embed is no better
            name = self.encoder.identity
            raise ModelLoadError(f"the embedding model {name} failed: {exc}") from exc
        dim = int(probe.shape[1])
        self.storage.discard_vector_files()
        found = self.store.mark_vectors_for(self.encoder.identity, dim)
        with self.store.transaction() as conn:
            self.store.set_meta(conn, "dim", str(dim))
        self.storage.new_generation()
        chunks = self.store.counts()[1]
        self.notices.append(
            f"embedding model changed ({old} -> {self.encoder.identity}): {found} of {chunks} "
            "chunks found their vectors in the cache, the rest will be embedded"
        )
        log.warning("%s", self.notices[-1])

    def _rechunk_if_needed(self, manifest: Manifest | None) -> None:
        """Makes the next sync read every file again where this version would chunk it
        otherwise, or judge its role otherwise (a file a tool wrote, ranked as generated; a
        test module that its path does not name, ranked as tests)."""
        if manifest is None or not self.store.counts()[0]:
            if self.store.content_roles_outdated():  # no file to read again: the rules noted
                self.store.forget_file_states()
            return
        if (manifest.chunker, manifest.chunker_code) != (CHUNKER_VERSION, CHUNKER_CODE):
            self.store.forget_file_states()
            self.notices.append(
                "the chunker changed: every file will be chunked again on the next update "
                "(vectors of unchanged code are reused)"
            )
        elif self.store.content_roles_outdated():
            self.store.forget_file_states()
            self.notices.append(
                "the rules that judge a file by its content (generated code, a test module, "
                "a minified file left out) changed: every file will be read again on the "
                "next update (nothing is embedded again)"
            )

    def _repair_vector_cache(self) -> None:
        dim = self.store.get_meta("dim")
        if dim is None:
            return
        bad = self.store.bad_vector_count(self.encoder.identity, int(dim))
        if bad:
            self.store.mark_vectors_for(self.encoder.identity, int(dim))
            self.notices.append(f"{bad} damaged cached vectors were dropped and will be embedded")

    def _write_manifest(self) -> None:
        settings = {
            "model": self.settings.model,
            "backend": self.settings.backend,
            "adapter": self.settings.adapter,
            # Where vectors come from (a server: its URL and the NAME of its key variable).
            "embeddings": asdict(self.settings.embeddings),
        }
        manifest = Manifest(
            workspace=str(self.root),
            encoder=self.encoder.identity,
            format=FORMAT_VERSION,
            generation=self.storage.generation,
            encoder_settings=settings,
            chunker=CHUNKER_VERSION,
            chunker_code=CHUNKER_CODE,
            scope={
                "exclude": list(self.settings.exclude),
                "max_file_size": self.settings.max_file_size,
                "from_editor": sorted(self.settings.scope_from_editor),
            },
        )
        self.storage.write_manifest(manifest)

    def _load_vectors(self) -> None:
        dim = self.store.get_meta("dim")
        if dim is None or self.built_with:
            return  # nothing embedded yet, or vectors of another encoder: not ours to query
        model, size = self.encoder.identity, int(dim)

        def vectors_for(ids: list[int]):
            return self.store.live_vectors(model, size, ids)

        def verify(vectors: VectorIndex) -> str | None:
            if vectors.needs_compaction():
                return "too many deleted entries"
            added, removed = vectors.reconcile(self.store.embedded_ids(), vectors_for)
            if added or removed:
                log.info("vector index reconciled with the database: +%d -%d", added, removed)
            if vectors.sample_mismatches(vectors_for):
                return "the saved vectors do not match the database"
            return None

        vectors = self.storage.load_vectors(model, size, verify)
        if self.mode == "read":
            # A reader's repairs stay in memory: opening to read writes nothing.
            vectors.dirty = False
        self._reader_pending = self.store.pending_ids()
        self._reader_last_id = max(vectors.live_labels() | self._reader_pending, default=0)

    def catch_up(self) -> int:
        """A reader follows the owner's work: chunks embedded since it last looked join its
        in-memory vectors. Costs O(chunks pending + chunks added), not O(index).

        Deleted chunks need nothing: results are looked up in SQLite, which drops them.
        Returns how many vectors were added.
        """
        if not self.read_only or self.built_with:
            return 0
        dim = self.store.get_meta("dim")
        if dim is None:
            return 0
        pending_now = self.store.pending_ids()
        fresh = [i for i in self._reader_pending - pending_now]
        added_rows = self.store.chunk_ids_after(self._reader_last_id)
        fresh += [chunk_id for chunk_id, has_vector in added_rows if has_vector]
        if added_rows:
            self._reader_last_id = added_rows[-1][0]
        self._reader_pending = pending_now
        vectors = self.storage.vectors or self.storage.new_vectors(int(dim))
        count = 0
        for ids, matrix in self.store.live_vectors(self.encoder.identity, int(dim), fresh):
            vectors.add(ids, matrix)
            count += len(ids)
        vectors.dirty = False  # a reader's view is never saved
        return count

    def try_take_over(self) -> bool:
        """A read-only index becomes the writer when the writer lock is free (its holder
        exited or was killed). Returns whether this index may write now."""
        with self._open_lock:
            if self.storage.owner and not self.built_with:
                return True
            if not self.storage.lock.try_acquire():
                return False
            # The reader's store stays open until the owner's replaces it: a status or a
            # search asked meanwhile (other threads) reads one or the other, never a closed
            # database. A failed takeover leaves the reader as it was.
            reader, built_with, notices = self.storage.store, self.built_with, self.notices
            mode = self.mode
            self.built_with = ""
            self.mode = "write"
            self.notices = [n for n in self.notices if "read-only" not in n]
            try:
                self._open_owned()
            except (EngineError, ModelLoadError):
                self.storage.lock.release()
                if self.storage.store is not reader and self.storage.store is not None:
                    self.storage.store.close()
                self.storage.store, self.built_with, self.notices = reader, built_with, notices
                self.mode = mode
                raise
            # The reader's store is not closed here: a search that began on it may still be
            # reading it in another thread. Its connections close when the last such search
            # lets go of it (CPython frees a Store, and closes its connections, at once).
            return True

    # -- state ---------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        assert self.storage.store is not None
        return self.storage.store

    @property
    def _vectors(self) -> VectorIndex | None:
        return self.storage.vectors

    @property
    def read_only(self) -> bool:
        """True when this process may not change the index (another owns it, or it holds
        another encoder's vectors)."""
        return not self.storage.owner or bool(self.built_with)

    @property
    def session_encoded(self) -> int:
        return self.indexer.session_encoded

    def status(self) -> IndexStatus:
        files, chunks, embedded = self.store.counts()
        return IndexStatus(
            str(self.root),
            str(self.index_dir),
            self.encoder.identity,
            files,
            chunks,
            embedded if not self.built_with else 0,
            self.read_only,
            tuple(self.notices),
            built_with=self.built_with,
        )

    def pending_reason(self) -> str | None:
        """Why answers are partial right now, in words a user can act on (None if complete)."""
        if self.built_with:
            return "searched by words only: the index holds another model's vectors"
        if not self.store.has_pending():
            return None
        _, chunks, embedded = self.store.counts()
        missing = chunks - embedded
        if self.mode == "write" and self.storage.owner:  # this process is embedding them
            return f"{missing} of {chunks} chunks are not embedded yet: results may be incomplete"
        holder = None if self.storage.owner else self.storage.lock.holder()
        if holder is not None:
            return f"{missing} of {chunks} chunks are being embedded by {holder_text(holder)}"
        return (
            f"{missing} of {chunks} chunks have no vector yet and nothing is embedding them: "
            f"run `nearcode index {self.root}` to finish"
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

    # -- lifecycle -----------------------------------------------------------------------------

    def save(self) -> None:
        """Persists the vector index (SQLite is always durable)."""
        if not self.read_only:
            self.storage.save_vectors()

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
            self.storage.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def destroy(self) -> None:
        """Deletes the index folder (nearcode clean)."""
        self.close()
        try:
            delete_index(self.index_dir)
        except StorageError as exc:
            raise EngineError(str(exc)) from exc

    # -- paths ---------------------------------------------------------------------------------

    def relative(self, path: str | Path) -> str:
        """Workspace-relative '/' path; raises for paths outside the workspace."""
        return workspace_relative(self.root, path)

    # -- building ------------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.built_with:
            raise ReadOnlyIndex(
                f"this index holds vectors of {self.built_with}: run `nearcode index "
                f"{self.root}` to move it to {self.encoder.identity}"
            )
        if not self.storage.owner:
            raise ReadOnlyIndex("this index is read-only: another nearcode process owns it")

    def sync(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Brings the lexical index and chunk table up to date with the files on disk."""
        self._require_writable()
        return self.indexer.sync(progress, cancel)

    def update_file(self, path: str | Path, *, priority: int = PRIORITY_OPEN) -> FileUpdate:
        """Re-indexes one file after a save or an outside change (or drops it if gone)."""
        self._require_writable()
        return self.indexer.update_file(self.relative(path), priority)

    def remove_file(self, path: str | Path) -> int:
        """Drops a file from the index; returns how many chunks went with it."""
        self._require_writable()
        return self.indexer.remove_file(self.relative(path))

    def prioritize(self, paths: Sequence[str | Path]) -> None:
        """Embeds these files (e.g. open in the editor) before the rest of the queue."""
        if not self.read_only:
            self.indexer.prioritize([self.relative(p) for p in paths])

    def embed_pending(
        self,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        *,
        path: str | None = None,
        max_chunks: int | None = None,
        round_size: int | None = None,
    ) -> EmbedReport:
        """Gives vectors to chunks that have none: from the cache, else from the model."""
        self._require_writable()
        only = self.relative(path) if path is not None else None
        kwargs = {"round_size": round_size} if round_size else {}
        return self.indexer.embed_pending(
            progress, cancel, path=only, max_chunks=max_chunks, **kwargs
        )

    def index(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> tuple[SyncReport, EmbedReport]:
        """sync(), the model ready, then embed everything: what `nearcode index` does."""
        synced = self.sync(progress, cancel)
        self.prepare_model(progress)
        embedded = self.indexer.embed_pending(progress, cancel, round_size=_BULK_EMBED_ROUND)
        self.store.prune_embeddings(self.encoder.identity, keep_unused=self._cache_slack())
        self.save()
        return synced, embedded

    def prepare_model(self, progress: ProgressFn | None = None) -> None:
        """Loads the model with a progress step of its own (the first run exports it)."""
        if getattr(self.encoder, "loaded", True) or not self.store.has_pending():
            return
        note = getattr(self.encoder, "preparation_note", lambda: None)()
        message = f"preparing the embedding model{f' ({note})' if note else ''}"
        if progress:
            progress(Progress("model", 0, 1, message))
        self.encoder.load()
        if progress:
            progress(Progress("model", 1, 1, "model ready"))

    def _cache_slack(self) -> int:
        return max(10_000, self.store.counts()[1])

    def changes(self, budget_s: float | None = REFRESH_BUDGET_S) -> Freshness:
        """How many files differ from the index, without changing anything."""
        changes = self.indexer.changes(budget_s)
        return Freshness(changes.count, applied=changes.count == 0, complete=changes.complete)

    def refresh(
        self, budget_s: float = REFRESH_BUDGET_S, embed_limit: int = REFRESH_EMBED_LIMIT
    ) -> Freshness:
        """Before answering a reader: re-index files changed on disk, if this process may.

        Cheap when nothing changed (a stat per file: ~0.15 s for 5,000 files). A tree too large
        to compare within `budget_s` is answered as is and flagged; so are changes this process
        may not write (another process owns the index).
        """
        changes = self.indexer.changes(budget_s)
        if not changes.complete:
            return Freshness(changes.count, changes.count == 0, complete=False)
        if not changes.count:
            return Freshness(0, skipped=tuple(changes.skipped))
        if self.read_only:
            return Freshness(changes.count, applied=False)
        report = SyncReport()
        self.indexer.apply(changes, report)
        paths = [c.path for c in changes.candidates]
        self.indexer.prioritize(paths)
        unembedded = 0
        if not self.wait_for_encoder and not getattr(self.encoder, "loaded", True):
            unembedded = report.chunks_added
        else:
            try:
                embedded = self.indexer.embed_pending(max_chunks=embed_limit)
                unembedded = max(0, report.chunks_added - embedded.encoded - embedded.cached)
            except (ModelLoadError, EncoderUnavailable) as exc:
                # The files are re-indexed: the search answers (lexically for what is new),
                # and the chunks stay pending for the next sync.
                log.info("refresh: %s", exc)
                unembedded = report.chunks_added
        self.save()
        # The scan's skipped files and those left out once read (minified), each once.
        skipped = {item.path: item for item in (*changes.skipped, *report.skipped)}
        return Freshness(
            changes.count, applied=True, unembedded=unembedded, skipped=tuple(skipped.values())
        )

    def embed_text(self, chunk: Chunk) -> str:
        return embed_text(chunk, self.settings)

    # -- searching -----------------------------------------------------------------------------

    def _dense_ready(self) -> bool:
        vectors = self.storage.vectors
        if self.built_with or vectors is None or len(vectors) == 0:
            return False
        return self.wait_for_encoder or bool(getattr(self.encoder, "loaded", True))

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
        return self.searcher.search(
            query, limit=limit, include=include, exclude=exclude, languages=languages
        )

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
        """Code like the chunk at (line, character), or like the text of a selected range."""
        return self.searcher.similar(
            path,
            line,
            character,
            end=end,
            source=source,
            limit=limit,
            include=include,
            exclude=exclude,
            languages=languages,
        )

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
        return self.searcher.search_text(
            snippet, limit=limit, include=include, exclude=exclude, languages=languages
        )

    def _query_chunk(self, rel, text, start, end):  # noqa: ANN001, ANN202 - for tests
        return self.searcher._query_chunk(rel, text, start, end)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def clean_index(folder: Path) -> Path | None:
    """Deletes the index of `folder` (taking the writer lock); returns the deleted path."""
    target = index_dir_for(folder)
    if not target.exists():
        return None
    try:
        delete_index(target)
    except StorageError as exc:
        raise EngineError(str(exc)) from exc
    return target

