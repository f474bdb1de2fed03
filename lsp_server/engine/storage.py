"""The files of one index folder, and who may change them.

An index folder holds `manifest.json`, `index.sqlite` (the truth) and `vectors.hnsw` with its
sidecar (a cache rebuilt from the truth when in doubt). One process at a time holds
`writer.lock`:

- the *owner* (`nearcode index`, the language server, the MCP server) may write: it checks the
  database on open, sets a damaged one aside and starts over, switches encoders, sweeps what
  killed processes left behind and writes the manifest;
- a *reader* (search, similar, status) changes nothing on open. It may take the lock for a
  quick refresh of changed files, but never drops, rebuilds or sets aside anything.

Every database gets a generation id (in its meta table, the manifest and the HNSW sidecar):
vectors saved for another generation, e.g. by a process that outlived a `nearcode clean`, are
never loaded.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from .locations import FORMAT_VERSION, Manifest, ensure_private_dir
from .store import Store, StoreError
from .vectors import VectorIndex, sweep_temp_files

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite"
VECTOR_NAME = "vectors.hnsw"
LOCK_NAME = "writer.lock"
ASIDE_MARK = ".corrupt-"  # index.sqlite.corrupt-<time>: a damaged database kept for a look


class StorageError(RuntimeError):
    """The index folder cannot be used as asked; the message says why and what to do."""


class WriterLock:
    """An advisory lock on writer.lock; the holder writes its pid there for messages."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Takes the lock if nobody holds it; never waits."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            return False  # a read-only folder: nobody can write here, us included
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """The pid of the process holding the lock, None when free (or unknown)."""
        if self._fd is not None:
            return os.getpid()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                text = os.read(fd, 32).decode(errors="replace").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def holder_text(pid: int | None) -> str:
    return "another nearcode process" + (f" (pid {pid})" if pid and pid > 0 else "")


class IndexStorage:
    """Manifest, lock, SQLite store and HNSW vectors of one index folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_path = folder / DB_NAME
        self.lock = WriterLock(folder)
        self.store: Store | None = None
        self.vectors: VectorIndex | None = None
        self.manifest: Manifest | None = None
        self._db_identity: tuple[int, int] | None = None  # (device, inode) of the file we opened

    # -- state ---------------------------------------------------------------------------------

    @property
    def owner(self) -> bool:
        return self.lock.held

    @property
    def generation(self) -> str:
        assert self.store is not None
        return self.store.get_meta("generation") or ""

    def still_ours(self) -> bool:
        """Whether the database file in the folder is still the one this process opened.

        False after `nearcode clean` (or a manual delete) while we ran: saving then would
        write our vectors into somebody else's index.
        """
        try:
            st = os.stat(self.db_path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._db_identity

    # -- opening -------------------------------------------------------------------------------

    def prepare_folder(self) -> None:
        try:
            ensure_private_dir(self.folder)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StorageError(
                f"cannot create the index folder {self.folder}: {reason} "
                "(set NEARCODE_CACHE_DIR to a writable folder)"
            ) from exc

    def open_owner(self, notices: list[str]) -> None:
        """Opens for writing (the lock must be held): checked, repaired, swept."""
        assert self.owner
        self.sweep_leftovers()
        self.manifest = Manifest.read(self.folder)
        restart = self._format_problem()
        moved = None
        if restart is not None:
            notices.append(f"{restart}: rebuilding the index (cached vectors are kept)")
            log.warning("%s: rebuilding the index", restart)
            moved = self._start_over(set_aside=False)
        self.store = self._open_checked(notices)
        self._carry_vectors_over(self.store, moved)

    def open_reader(self, writable: bool) -> None:
        """Opens without changing anything; `writable` asks for the lock (to refresh files)."""
        self.manifest = Manifest.read(self.folder)
        if self.manifest is None or not self.db_path.is_file():
            raise StorageError("the index is missing or incomplete")
        if self.manifest.format != FORMAT_VERSION:
            raise StorageError(
                f"the index was written by another nearcode version (format "
                f"{self.manifest.format}, this one reads {FORMAT_VERSION})"
            )
        if writable:
            self.lock.try_acquire()
        try:
            self.store = Store(self.db_path, read_only=not self.owner)
        except StoreError as exc:
            raise StorageError(f"the index database is damaged or unreadable ({exc})") from exc
        self._remember_db()

    def _remember_db(self) -> None:
        st = os.stat(self.db_path)
        self._db_identity = (st.st_dev, st.st_ino)

    def _format_problem(self) -> str | None:
        manifest = self.manifest
        if manifest is None:
            return "index manifest missing or unreadable" if self.db_path.exists() else None
        if manifest.format > FORMAT_VERSION:
            return f"index was written by a newer nearcode (format {manifest.format})"
        if manifest.format < FORMAT_VERSION:
            return f"index format changed ({manifest.format} -> {FORMAT_VERSION})"
        return None

    def _open_checked(self, notices: list[str]) -> Store:
        """The database, checked; a damaged one is set aside and a new one started."""
        problems: list[str]
        try:
            store = Store(self.db_path)
            problems = store.health_problems()
        except StoreError as exc:
            store, problems = None, [str(exc)]
        if store is not None and problems and all("lexical index" in p for p in problems):
            log.warning("lexical index damaged (%s): rebuilding it from the chunks", problems)
            notices.append("the lexical index was damaged: rebuilt it from the stored chunks")
            store.rebuild_lexical()
            problems = store.health_problems()
        if store is not None and not problems:
            self._ensure_generation(store)
            _refresh_lexical(store, notices)
            self._remember_db()
            return store
        if store is not None:
            store.close()
        detail = "; ".join(problems)[:300]
        notices.append(
            f"index database was corrupt ({detail}): set it aside and rebuilding the index "
            "from the source files"
        )
        log.warning("index database corrupt (%s); moving it aside", detail)
        moved = self._start_over(set_aside=True)
        store = Store(self.db_path)
        self._ensure_generation(store)
        _refresh_lexical(store, notices)
        self._carry_vectors_over(store, moved)
        self._remember_db()
        return store

    def _ensure_generation(self, store: Store) -> None:
        if not store.get_meta("generation"):
            with store.transaction() as conn:
                store.set_meta(conn, "generation", uuid.uuid4().hex)

    def _start_over(self, *, set_aside: bool) -> Path | None:
        """Moves the database out of the way; returns where it went (None if there was none).

        A damaged one is kept aside for a look (one copy, not one per incident); one of an old
        format only until its cached vectors are carried over.
        """
        self.discard_vector_files()
        if not self.db_path.exists():
            return None
        if set_aside:
            for aside in self.folder.glob(f"{DB_NAME}{ASIDE_MARK}*"):
                aside.unlink(missing_ok=True)
            moved = self.folder / f"{DB_NAME}{ASIDE_MARK}{time.strftime('%Y%m%d-%H%M%S')}"
        else:
            moved = self.folder / f"{DB_NAME}.old-{os.getpid()}"
        for suffix in ("", "-wal", "-shm"):  # the WAL keeps its name's link to its database
            old = self.folder / f"{DB_NAME}{suffix}"
            if old.exists():
                old.rename(f"{moved}{suffix}")
        return moved

    def _carry_vectors_over(self, store: Store, moved: Path | None) -> None:
        """Cached vectors of the replaced database that can still be read are kept."""
        if moved is None:
            return
        copied = store.copy_embeddings_from(moved)
        if copied:
            log.info("kept %d cached vectors from %s", copied, moved.name)
        if ASIDE_MARK not in moved.name:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{moved}{suffix}").unlink(missing_ok=True)

    def sweep_leftovers(self) -> None:
        """Temp files of saves that a kill interrupted; databases replaced by a format change."""
        removed = sweep_temp_files(self.folder)
        if removed:
            log.info("removed %d leftover temporary files", len(removed))

    # -- vectors -------------------------------------------------------------------------------

    def discard_vector_files(self) -> None:
        for name in (VECTOR_NAME, "vectors.json"):
            (self.folder / name).unlink(missing_ok=True)
        self.vectors = None

    def load_vectors(
        self, model: str, dim: int, verify: Callable[[VectorIndex], str | None]
    ) -> VectorIndex:
        """The saved HNSW graph if it belongs to this database and holds the right vectors,
        else one rebuilt from the vector cache."""
        assert self.store is not None
        vectors = VectorIndex(self.folder / VECTOR_NAME, dim, self.generation)
        problem = vectors.load() or verify(vectors)
        if problem is not None:
            log.info("rebuilding the vector index: %s", problem)
            vectors.rebuild(self.store.live_vectors(model, dim), len(self.store.embedded_ids()))
        self.vectors = vectors
        return vectors

    def new_vectors(self, dim: int) -> VectorIndex:
        self.vectors = VectorIndex(self.folder / VECTOR_NAME, dim, self.generation)
        return self.vectors

    def save_vectors(self) -> None:
        """Persists the HNSW graph (owner only; never into a folder that is not ours now)."""
        if self.vectors is None or not self.owner or not self.vectors.dirty:
            return
        if not self.still_ours():
            log.warning("the index folder %s was replaced or deleted: not saving", self.folder)
            return
        self.vectors.save()

    # -- manifest ------------------------------------------------------------------------------

    def write_manifest(self, manifest: Manifest) -> None:
        """Writes the manifest only when it changed: opening an index must not rewrite it."""
        if manifest != self.manifest:
            manifest.write(self.folder)
            self.manifest = manifest

    def new_generation(self) -> str:
        assert self.store is not None
        generation = uuid.uuid4().hex
        with self.store.transaction() as conn:
            self.store.set_meta(conn, "generation", generation)
        return generation

    # -- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            if self.store is not None:
                self.store.close()
        finally:
            self.lock.release()


def delete_index(folder: Path) -> None:
    """`nearcode clean`: takes the writer lock first, so no running process loses its index
    from under it (or writes its old vectors into the next one)."""
    lock = WriterLock(folder)
    if not lock.try_acquire():
        if not os.access(folder, os.W_OK):
            raise StorageError(f"cannot delete {folder}: permission denied")
        pid = lock.holder()
        raise StorageError(
            f"the index is in use by {holder_text(pid)}; stop it (close the editor or the "
            "nearcode server) and run clean again"
        )
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise StorageError(f"cannot delete {folder}: {exc.strerror or exc}") from exc
    finally:
        lock.release()


def database_error_text(exc: sqlite3.Error) -> str:
    return str(exc) or type(exc).__name__


def _refresh_lexical(store: Store, notices: list[str]) -> None:
    """The owner re-makes a lexical table that another version's tokens wrote, from the
    stored chunks (seconds for tens of thousands of chunks; nothing is embedded again)."""
    if not store.lexical_tokens_outdated():
        return
    if store.counts()[0]:
        notices.append("the lexical index was made with other tokens: rebuilt it from the chunks")
        log.warning("%s: lexical index rebuilt with this version's tokens", store.path)
    store.rebuild_lexical()
