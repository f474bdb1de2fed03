"""SQLite: the durable truth of an index (files, chunks, embedding cache, lexical index).

Everything else (the HNSW file) can be rebuilt from here. WAL mode lets searches read while
the indexer writes. Chunk ids are AUTOINCREMENT and never reused, so an id names one immutable
chunk and doubles as its HNSW label.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .chunker import CONTENT_ROLES
from .chunks import Chunk
from .tokens import LEXICAL_TOKENS, fts_match_expression, index_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    language TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    -- A copy that keeps size and mtime (cp -p, rsync -a, tar x) still gets a new inode and
    -- ctime: sync() hashes such files instead of trusting size + mtime.
    ino INTEGER NOT NULL DEFAULT 0,
    ctime_ns INTEGER NOT NULL DEFAULT 0,
    role TEXT NOT NULL DEFAULT ''  -- by its content ('generated', 'test'); '': by its path
);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    start_line INTEGER NOT NULL, start_col INTEGER NOT NULL,
    end_line INTEGER NOT NULL, end_col INTEGER NOT NULL,
    symbol TEXT NOT NULL, kind TEXT NOT NULL, language TEXT NOT NULL,
    container TEXT NOT NULL, signature TEXT NOT NULL, part INTEGER NOT NULL,
    -- lines of the whole definition a part belongs to (its own lines for whole chunks)
    unit_start_line INTEGER NOT NULL, unit_end_line INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_hash TEXT NOT NULL,
    has_vector INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_by_hash ON chunks(embed_hash);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(has_vector) WHERE has_vector = 0;
CREATE TABLE IF NOT EXISTS embeddings(
    model TEXT NOT NULL,
    hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY(model, hash)
) WITHOUT ROWID;
"""
_FTS_SCHEMA = """CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    symbol, body, path, tokenize = 'porter unicode61 remove_diacritics 2'
)"""

# BM25 column weights: a match in the symbol name says more than one in the body.
_BM25_WEIGHTS = (4.0, 1.0, 2.0)
# Terms whose statistics a thread keeps (lexical_ceiling, document_frequencies), and how
# long at least once the index has changed.
_TERM_CACHE_SIZE = 20_000
_TERM_CACHE_SECONDS = 1.0


@dataclass
class _TermStats:
    """One thread's statistics per term, valid for one `data_version` (Store._term_stats)."""

    version: int
    read_at: float
    bests: dict[str, float] = field(default_factory=dict)  # best BM25 score of the term alone
    frequencies: dict[str, int] = field(default_factory=dict)  # chunks holding the term
    # (id, path) of chunks whose names hold the term, at most a limit (name_holders)
    names: dict[tuple[str, int], list[tuple[int, str]]] = field(default_factory=dict)
    chunks: int = -1  # chunks in the index (-1: not read yet)


# A minified file's stored hash ends with one of these (indexer): left out of the index
# (stored without chunks, so that a scan finds it unchanged; not counted as indexed), or
# indexed because a "!" rule names it.
LEFT_OUT_MARK = "+minified"
FORCED_MARK = "+forced"


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str
    language: str
    ino: int = 0
    ctime_ns: int = 0


class FileStat(Protocol):
    """What the store records of a file's state on disk (a ScannedFile has it)."""

    path: str
    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    path: str
    chunk: Chunk
    embed_hash: str
    has_vector: bool
    role: str = ""  # the file's role by its content ('generated', 'test'; '': by its path)


def _fts_row(chunk_id: int, container: str, symbol: str, text: str, path: str) -> tuple:
    """A chunk as the lexical index stores it: identifiers split into words."""
    return (chunk_id, index_text(f"{container} {symbol}"), index_text(text), index_text(path))


_FTS_INSERT = "INSERT INTO chunks_fts(rowid, symbol, body, path) VALUES (?, ?, ?, ?)"


class StoreError(RuntimeError):
    """The SQLite file is unusable (corrupt, not a database, unwritable)."""


# Errors that mean the file itself is damaged (as opposed to locked, full or read-only).
_DAMAGE_WORDS = ("malformed", "corrupt", "not a database", "disk i/o error", "no such table")


def is_damage(exc: BaseException) -> bool:
    """Whether a SQLite error says the database file is damaged."""
    return isinstance(exc, sqlite3.DatabaseError) and any(
        word in str(exc).lower() for word in _DAMAGE_WORDS
    )


def _create_private(path: Path) -> None:
    """Creates the database file 0600 before SQLite does (it would use the umask's mode).

    SQLite gives the -wal and -shm files the database file's mode, so they follow.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if not read_only and not path.exists():
        _create_private(path)
    if read_only and not path.is_file():
        raise sqlite3.OperationalError(f"no database file at {path}")
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    if read_only and not os.access(path.parent, os.W_OK):
        # SQLite cannot create the WAL index beside a database in a read-only folder; with
        # nobody able to write there, reading it as immutable is safe.
        uri = f"file:{path}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if not read_only:
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives a process crash; only an OS crash may lose the last commit.
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Store:
    """One index's SQLite database; thread-safe through one writer lock and per-thread readers."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self.closed = False
        try:
            self._writer = _connect(path, read_only)
            if not read_only:
                self._writer.executescript(_SCHEMA + ";\n" + _FTS_SCHEMA + ";")
                self._add_role_column()
            self._writer.execute("SELECT count(*) FROM files").fetchone()
            # An index written before files had a role, read by a process that may not
            # write it: every file's role is its path's.
            self._role_column = "f.role" if self._has_role_column() else "''"
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"index database {path} is unusable: {exc}") from exc

    def _has_role_column(self) -> bool:
        columns = self._writer.execute("PRAGMA table_info(files)").fetchall()
        return any(column[1] == "role" for column in columns)

    def _add_role_column(self) -> None:
        """files.role for an index written before it (its owner opens it: a write). Its
        files are read again on the next sync (content_roles_outdated), which fills it."""
        if not self._has_role_column():
            with self.transaction() as conn:
                conn.execute("ALTER TABLE files ADD COLUMN role TEXT NOT NULL DEFAULT ''")

    # -- connections ---------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.closed:  # a query that outlived close(): no new connection to leak
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            conn = _connect(self.path, read_only=True)
            self._local.conn = conn
            with self._write_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def close(self) -> None:
        """Closes every connection (readers of other threads too: no file stays open)."""
        with self._write_lock:
            self.closed = True
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._writer.close()

    def health_problems(self) -> list[str]:
        """Damage in the file (pages, indexes) and in the FTS5 index; empty when healthy.

        Costs a read of the whole file, so only the owner of an index runs it, on open.
        """
        try:
            rows = self._writer.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return [f"quick_check failed: {exc}"]
        problems = [str(row[0]) for row in rows if row[0] != "ok"][:5]
        if problems:
            return problems
        try:
            with self.transaction() as conn:  # FTS5's own check is a write statement
                conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            return [f"lexical index damaged: {exc}"]
        return []

    def lexical_healthy(self) -> bool:
        """FTS5's check of its own structures; pages are assumed sound (see health_problems)."""
        try:
            with self.transaction() as conn:
                conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError:
            return False
        return True

    def rebuild_lexical(self) -> None:
        """Re-creates the FTS5 table from the chunks (the truth it is derived from), with
        this version's tokens."""
        with self.transaction() as conn:
            conn.execute("DROP TABLE IF EXISTS chunks_fts")
            conn.execute(_FTS_SCHEMA)
            rows = conn.execute(
                """SELECT c.id, c.container, c.symbol, c.text, f.path
                   FROM chunks c JOIN files f ON f.id = c.file_id"""
            )
            conn.executemany(_FTS_INSERT, (_fts_row(*row) for row in rows))
            self.set_meta(conn, "lexical_tokens", LEXICAL_TOKENS)

    def content_roles_outdated(self) -> bool:
        """Whether the files' roles were judged by other rules than this version's
        (chunker.CONTENT_ROLES), or not at all: its files must be read again."""
        return self.get_meta("content_roles") != CONTENT_ROLES

    def lexical_tokens_outdated(self) -> bool:
        """Whether the lexical table was written with other tokens than this version's
        (tokens.LEXICAL_TOKENS): questions would then be split unlike the code they ask for."""
        return self.get_meta("lexical_tokens") != LEXICAL_TOKENS

    def copy_embeddings_from(self, other: Path) -> int:
        """Carries the vector cache over from another (older or damaged) database file.

        Whatever can still be read is kept, so a rebuild does not embed everything again.
        """
        copied = 0
        try:
            source = sqlite3.connect(f"file:{other}?mode=ro", uri=True, timeout=5.0)
        except sqlite3.DatabaseError:
            return 0
        try:
            cursor = source.execute("SELECT model, hash, vector, created FROM embeddings")
            while rows := cursor.fetchmany(2048):
                with self.transaction() as conn:
                    conn.executemany(
                        "INSERT OR IGNORE INTO embeddings(model, hash, vector, created) "
                        "VALUES (?, ?, ?, ?)",
                        rows,
                    )
                copied += len(rows)
        except sqlite3.DatabaseError:
            pass  # damaged past this point: keep what came across
        finally:
            source.close()
        return copied

    # -- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        """Drops files, chunks and lexical rows; keeps the embedding cache (other models too)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM chunks")
            conn.execute("DELETE FROM files")
            conn.execute("DELETE FROM chunks_fts")

    # -- files ---------------------------------------------------------------------------------

    _FILE_COLUMNS = "id, path, size, mtime_ns, hash, language, ino, ctime_ns"

    def files(self) -> dict[str, FileRecord]:
        rows = self._reader().execute(f"SELECT {self._FILE_COLUMNS} FROM files")
        return {row[1]: FileRecord(*row) for row in rows}

    def file(self, path: str) -> FileRecord | None:
        row = (
            self._reader()
            .execute(f"SELECT {self._FILE_COLUMNS} FROM files WHERE path = ?", (path,))
            .fetchone()
        )
        return FileRecord(*row) if row else None

    def file_paths(self) -> list[str]:
        return [row[0] for row in self._reader().execute("SELECT path FROM files")]

    def upsert_file(
        self,
        conn: sqlite3.Connection,
        stat: FileStat,
        content_hash: str,
        language: str,
        priority: int = 0,
        role: str = "",
    ) -> int:
        conn.execute(
            """INSERT INTO files(path, size, mtime_ns, hash, language, priority, ino, ctime_ns,
                 role)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(path) DO UPDATE SET size = excluded.size,
                 mtime_ns = excluded.mtime_ns, hash = excluded.hash,
                 language = excluded.language,
                 priority = max(files.priority, excluded.priority),
                 ino = excluded.ino, ctime_ns = excluded.ctime_ns, role = excluded.role""",
            (stat.path, stat.size, stat.mtime_ns, content_hash, language, priority, stat.ino,
             stat.ctime_ns, role),
        )
        return conn.execute("SELECT id FROM files WHERE path = ?", (stat.path,)).fetchone()[0]

    def touch_file(self, conn: sqlite3.Connection, file_id: int, stat: FileStat) -> None:
        conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, ino = ?, ctime_ns = ? WHERE id = ?",
            (stat.size, stat.mtime_ns, stat.ino, stat.ctime_ns, file_id),
        )

    def delete_file(self, conn: sqlite3.Connection, file_id: int) -> list[int]:
        """Deletes a file and its chunks; returns the removed chunk ids."""
        removed = [
            r[0] for r in conn.execute("SELECT id FROM chunks WHERE file_id = ?", (file_id,))
        ]
        self.delete_chunks(conn, removed)
        conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        return removed

    def forget_file_states(self) -> None:
        """Makes the next sync read and re-chunk every file (chunks unchanged in text keep
        their vectors), and judge its role again by this version's rules."""
        with self.transaction() as conn:
            conn.execute("UPDATE files SET hash = '', size = -1")
            self.set_meta(conn, "content_roles", CONTENT_ROLES)

    def set_priority(self, paths: Iterable[str], priority: int) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET priority = ? WHERE path = ?", [(priority, p) for p in paths]
            )

    # -- chunks --------------------------------------------------------------------------------

    def chunk_rows(
        self, conn: sqlite3.Connection, file_id: int
    ) -> list[tuple[int, str, str, str]]:
        """(id, embed_hash, symbol, container) of a file's chunks, used to diff a re-chunked
        file (a kept chunk's name and container say whether its lexical row is stale)."""
        return conn.execute(
            "SELECT id, embed_hash, symbol, container FROM chunks WHERE file_id = ?", (file_id,)
        ).fetchall()

    def insert_chunk(
        self,
        conn: sqlite3.Connection,
        file_id: int,
        chunk: Chunk,
        embed_hash: str,
        has_vector: bool,
    ) -> int:
        cur = conn.execute(
            """INSERT INTO chunks(file_id, start_line, start_col, end_line, end_col, symbol,
                 kind, language, container, signature, part, unit_start_line, unit_end_line,
                 text, embed_hash, has_vector)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                file_id,
                chunk.start_line,
                chunk.start_col,
                chunk.end_line,
                chunk.end_col,
                chunk.symbol,
                chunk.kind,
                chunk.language,
                chunk.container,
                chunk.signature,
                chunk.part,
                chunk.unit_start_line,
                chunk.unit_end_line,
                chunk.text,
                embed_hash,
                int(has_vector),
            ),
        )
        chunk_id = int(cur.lastrowid or 0)
        conn.execute(
            _FTS_INSERT, _fts_row(chunk_id, chunk.container, chunk.symbol, chunk.text, chunk.path)
        )
        return chunk_id

    def update_chunk(
        self, conn: sqlite3.Connection, chunk_id: int, chunk: Chunk, named: tuple[str, str]
    ) -> None:
        """A chunk whose embedded text is unchanged (its vector stays): its position may have
        moved (lines added above it), and what the embedded text does not hold may differ
        (a new chunker's name, kind, signature, container or part number): all of it is
        rewritten, and the lexical index's row too when the (symbol, container) it was
        ``named`` by changed."""
        conn.execute(
            """UPDATE chunks SET start_line = ?, start_col = ?, end_line = ?, end_col = ?,
                 unit_start_line = ?, unit_end_line = ?, signature = ?, container = ?, part = ?,
                 symbol = ?, kind = ?, language = ?
               WHERE id = ?""",
            (
                chunk.start_line,
                chunk.start_col,
                chunk.end_line,
                chunk.end_col,
                chunk.unit_start_line,
                chunk.unit_end_line,
                chunk.signature,
                chunk.container,
                chunk.part,
                chunk.symbol,
                chunk.kind,
                chunk.language,
                chunk_id,
            ),
        )
        if named != (chunk.symbol, chunk.container):
            conn.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
            conn.execute(
                _FTS_INSERT,
                _fts_row(chunk_id, chunk.container, chunk.symbol, chunk.text, chunk.path),
            )

    def delete_chunks(self, conn: sqlite3.Connection, chunk_ids: Sequence[int]) -> None:
        conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in chunk_ids])
        conn.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in chunk_ids])

    @property
    def _chunk_columns(self) -> str:
        return f"""c.id, f.path, c.language, c.kind, c.symbol, c.start_line, c.start_col,
        c.end_line, c.end_col, c.text, c.signature, c.container, c.part, c.embed_hash,
        c.has_vector, c.unit_start_line, c.unit_end_line, {self._role_column}"""

    @staticmethod
    def _stored(row: Sequence) -> StoredChunk:
        chunk = Chunk(
            path=row[1],
            language=row[2],
            kind=row[3],
            symbol=row[4],
            start_line=row[5],
            start_col=row[6],
            end_line=row[7],
            end_col=row[8],
            text=row[9],
            signature=row[10],
            container=row[11],
            part=row[12],
            unit_start_line=row[15],
            unit_end_line=row[16],
        )
        return StoredChunk(
            id=row[0],
            path=row[1],
            chunk=chunk,
            embed_hash=row[13],
            has_vector=bool(row[14]),
            role=row[17],
        )

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._reader().execute(
            f"""SELECT {self._chunk_columns} FROM chunks c JOIN files f ON f.id = c.file_id
                WHERE c.id IN ({marks})""",
            list(ids),
        )
        return {row[0]: self._stored(row) for row in rows}

    def chunks_of_file(self, path: str) -> list[StoredChunk]:
        rows = self._reader().execute(
            f"""SELECT {self._chunk_columns} FROM chunks c JOIN files f ON f.id = c.file_id
                WHERE f.path = ? ORDER BY c.start_line, c.start_col""",
            (path,),
        )
        return [self._stored(row) for row in rows]

    def unit_parts(self, path: str, unit_start: int, unit_end: int) -> list[tuple[int, ...]]:
        """(id, start_line, start_col, end_line, end_col) of the parts of one definition."""
        return self._reader().execute(
            """SELECT c.id, c.start_line, c.start_col, c.end_line, c.end_col
               FROM chunks c JOIN files f ON f.id = c.file_id
               WHERE f.path = ? AND c.unit_start_line = ? AND c.unit_end_line = ?
               ORDER BY c.start_line, c.start_col""",
            (path, unit_start, unit_end),
        ).fetchall()

    def parts_of_units(
        self, units: Collection[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], list[Chunk]]:
        """The parts of each split definition, by (path, unit start, unit end), in order: one
        query for a result list, whose parts land on the signature that one of them holds."""
        if not units:
            return {}
        wanted = ",".join("(?, ?, ?)" for _ in units)
        rows = self._reader().execute(
            f"""WITH wanted(path, unit_start, unit_end) AS (VALUES {wanted})
                SELECT {self._chunk_columns} FROM wanted w
                JOIN files f ON f.path = w.path
                JOIN chunks c ON c.file_id = f.id AND c.unit_start_line = w.unit_start
                  AND c.unit_end_line = w.unit_end AND c.part >= 1
                ORDER BY f.path, c.start_line, c.start_col""",
            [value for unit in units for value in unit],
        )
        parts: dict[tuple[str, int, int], list[Chunk]] = {}
        for row in rows:
            chunk = self._stored(row).chunk
            unit = (chunk.path, chunk.unit_start_line, chunk.unit_end_line)
            parts.setdefault(unit, []).append(chunk)
        return parts

    def pending_chunks(self, limit: int, path: str | None = None) -> list[tuple[int, str, str]]:
        """(id, embed_hash, path) of chunks without a vector: prioritised files, then newest."""
        where = "c.has_vector = 0" + (" AND f.path = ?" if path is not None else "")
        params: tuple = (path, limit) if path is not None else (limit,)
        return (
            self._reader()
            .execute(
                f"""SELECT c.id, c.embed_hash, f.path FROM chunks c JOIN files f ON f.id = c.file_id
                WHERE {where} ORDER BY f.priority DESC, f.mtime_ns DESC, c.id LIMIT ?""",
                params,
            )
            .fetchall()
        )

    def mark_embedded(self, conn: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
        """Marks chunks as having a vector; returns the ids that still exist."""
        alive: list[int] = []
        for chunk_id in ids:
            cur = conn.execute("UPDATE chunks SET has_vector = 1 WHERE id = ?", (chunk_id,))
            if cur.rowcount:
                alive.append(chunk_id)
        return alive

    def mark_vectors_for(self, model: str, dim: int) -> int:
        """Makes `has_vector` mean "has a valid cached vector of `model`" for every chunk.

        Used when the index switches encoders (vectors of either one stay in the cache, so
        switching back embeds nothing) and to repair vector blobs cut short. Returns how
        many chunks now have a vector.
        """
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM embeddings WHERE model = ? AND length(vector) != ?", (model, dim * 4)
            )
            conn.execute(
                """UPDATE chunks SET has_vector = EXISTS (SELECT 1 FROM embeddings e
                     WHERE e.model = ? AND e.hash = chunks.embed_hash)""",
                (model,),
            )
            return conn.execute("SELECT count(*) FROM chunks WHERE has_vector = 1").fetchone()[0]

    def bad_vector_count(self, model: str, dim: int) -> int:
        """Cached vectors of `model` whose blob is not `dim` floats (cut short, or garbage)."""
        row = self._reader().execute(
            "SELECT count(*) FROM embeddings WHERE model = ? AND length(vector) != ?",
            (model, dim * 4),
        )
        return int(row.fetchone()[0])

    def pending_ids(self) -> set[int]:
        """Chunks without a vector (the partial index makes this cost O(pending))."""
        rows = self._reader().execute("SELECT id FROM chunks WHERE has_vector = 0")
        return {r[0] for r in rows}

    def chunk_ids_after(self, last_id: int) -> list[tuple[int, bool]]:
        """(id, has a vector) of chunks added after `last_id` (ids only grow)."""
        rows = self._reader().execute(
            "SELECT id, has_vector FROM chunks WHERE id > ? ORDER BY id", (last_id,)
        )
        return [(r[0], bool(r[1])) for r in rows]

    def embedded_ids(self) -> set[int]:
        return {r[0] for r in self._reader().execute("SELECT id FROM chunks WHERE has_vector = 1")}

    def has_pending(self) -> bool:
        """Whether any chunk still waits for its vector (uses the partial index)."""
        row = (
            self._reader()
            .execute("SELECT EXISTS (SELECT 1 FROM chunks WHERE has_vector = 0)")
            .fetchone()
        )
        return bool(row[0])

    def counts(self) -> tuple[int, int, int]:
        """(files indexed, chunks, chunks with a vector)."""
        conn = self._reader()
        files = conn.execute(
            "SELECT count(*) FROM files WHERE hash NOT LIKE ?", (f"%{LEFT_OUT_MARK}",)
        ).fetchone()[0]
        chunks, embedded = conn.execute(
            "SELECT count(*), coalesce(sum(has_vector), 0) FROM chunks"
        ).fetchone()
        return files, chunks, embedded

    def consistency_problems(self, model: str) -> list[str]:
        """Invariants of the tables: lexical rows match chunks, embedded chunks have vectors."""
        conn = self._reader()
        problems: list[str] = []
        chunk_ids = {r[0] for r in conn.execute("SELECT id FROM chunks")}
        fts_ids = {r[0] for r in conn.execute("SELECT rowid FROM chunks_fts")}
        if chunk_ids != fts_ids:
            problems.append(
                f"lexical index disagrees with the chunks: {len(fts_ids - chunk_ids)} extra, "
                f"{len(chunk_ids - fts_ids)} missing rows"
            )
        (no_vector,) = conn.execute(
            """SELECT count(*) FROM chunks c WHERE c.has_vector = 1 AND NOT EXISTS (
                 SELECT 1 FROM embeddings e WHERE e.model = ? AND e.hash = c.embed_hash)""",
            (model,),
        ).fetchone()
        if no_vector:
            problems.append(f"{no_vector} chunks marked embedded have no cached vector")
        (orphans,) = conn.execute(
            "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM files f "
            "WHERE f.id = c.file_id)"
        ).fetchone()
        if orphans:
            problems.append(f"{orphans} chunks belong to no file")
        return problems

    # -- embedding cache -----------------------------------------------------------------------

    def cached_vectors(
        self, model: str, hashes: Sequence[str], dim: int | None = None
    ) -> dict[str, np.ndarray]:
        """Cached vectors by text hash; a blob of the wrong size counts as not cached."""
        found: dict[str, np.ndarray] = {}
        conn = self._reader()
        for start in range(0, len(hashes), 500):
            part = list(hashes[start : start + 500])
            marks = ",".join("?" * len(part))
            for digest, blob in conn.execute(
                f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({marks})",
                [model, *part],
            ):
                if len(blob) % 4 == 0 and len(blob) and (dim is None or len(blob) == dim * 4):
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_vectors(
        self, conn: sqlite3.Connection, model: str, items: Iterable[tuple[str, np.ndarray]]
    ) -> None:
        now = int(time.time())
        conn.executemany(
            "INSERT OR REPLACE INTO embeddings(model, hash, vector, created) VALUES (?, ?, ?, ?)",
            [
                (model, digest, np.asarray(vec, dtype=np.float32).tobytes(), now)
                for digest, vec in items
            ],
        )

    def live_vectors(
        self,
        model: str,
        dim: int,
        ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Batches of (chunk ids, vectors) for chunks with a vector: what HNSW must hold.

        Blobs that are not `dim` floats (cut short, garbage) are skipped; the owner repairs
        them with mark_vectors_for().
        """
        # CROSS JOIN pins the order (chunks first, then a primary-key lookup per chunk); with a
        # plain JOIN SQLite scanned every cached vector of the model for each batch of ids.
        sql = """SELECT c.id, e.vector FROM chunks c
                 CROSS JOIN embeddings e ON e.model = ? AND e.hash = c.embed_hash
                 WHERE c.has_vector = 1"""
        if ids is None:
            yield from self._vector_batches(sql, [model], dim)
            return
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            yield from self._vector_batches(f"{sql} AND c.id IN ({marks})", [model, *part], dim)

    def _vector_batches(
        self, sql: str, params: list, dim: int
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        cur = self._reader().execute(sql, params)
        while rows := cur.fetchmany(4096):
            good = [r for r in rows if len(r[1]) == dim * 4]
            if good:
                matrix = np.frombuffer(b"".join(r[1] for r in good), dtype=np.float32)
                yield [r[0] for r in good], matrix.reshape(len(good), dim)

    def prune_embeddings(self, model: str, keep_unused: int) -> int:
        """Drops the oldest cached vectors no chunk uses, beyond `keep_unused` of them.

        Unused vectors are kept up to a bound so a branch switch back costs no embedding.
        """
        with self.transaction() as conn:
            cur = conn.execute(
                """DELETE FROM embeddings WHERE (model, hash) IN (
                     SELECT e.model, e.hash FROM embeddings e
                     WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.embed_hash = e.hash)
                     ORDER BY e.created DESC LIMIT -1 OFFSET ?)""",
                (keep_unused,),
            )
            return cur.rowcount

    # -- lexical search ------------------------------------------------------------------------

    def lexical_search(self, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score: higher is better) for chunks matching any term."""
        if not terms:
            return []
        weights = ", ".join(str(w) for w in _BM25_WEIGHTS)
        rows = self._reader().execute(
            f"""SELECT rowid, bm25(chunks_fts, {weights}) AS rank FROM chunks_fts
                WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?""",
            (fts_match_expression(terms), limit),
        )
        return [(int(r[0]), -float(r[1])) for r in rows]

    def lexical_ceiling(self, terms: Sequence[str]) -> float:
        """The sum of each term's best BM25 score alone. BM25 adds up over terms, so no
        chunk scores above it for the same terms: it is what a chunk would score that held
        every term as well as the best chunk for that term does."""
        best = self._term_stats().bests
        for term in terms:
            if term not in best:
                top = self.lexical_search([term], 1)
                best[term] = top[0][1] if top else 0.0
        return sum(best[term] for term in terms)

    def document_frequencies(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many chunks there are, and how many hold each term as BM25 reads it (stemmed,
        in any column): what picks the terms a long code query is searched by."""
        stats = self._term_stats()
        reader = self._reader()
        if stats.chunks < 0:
            stats.chunks = reader.execute("SELECT count(*) FROM chunks").fetchone()[0]
        counts = stats.frequencies
        for term in terms:
            if term not in counts:
                counts[term] = reader.execute(
                    "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                    (fts_match_expression([term]),),
                ).fetchone()[0]
        return stats.chunks, {term: counts[term] for term in terms}

    def name_holders(self, term: str, limit: int) -> list[tuple[int, str]]:
        """(id, path) of the chunks whose name (their own or their container's) holds `term`
        as BM25 reads it (stemmed: `FixtureDef` and `fixtures` hold "fixture"), at most
        `limit`. Kept with the term statistics: every question that holds the word asks."""
        names = self._term_stats().names
        if (term, limit) not in names:
            names[term, limit] = self._reader().execute(
                """SELECT c.id, f.path FROM chunks_fts
                   JOIN chunks c ON c.id = chunks_fts.rowid JOIN files f ON f.id = c.file_id
                   WHERE chunks_fts MATCH ? LIMIT ?""",
                (f"symbol : {fts_match_expression([term])}", limit),
            ).fetchall()
        return names[term, limit]

    def term_holders(self, terms: Sequence[str], chunk_ids: Collection[int]) -> dict[str, int]:
        """How many of `chunk_ids` hold each term in their text, as BM25 reads it (stemmed).

        One file's chunks (Find Similar's neighbours) are read in their id range, which FTS5
        seeks to, rather than tokenized again: for the 2,363 chunks of Catch2's one-file
        header, 5-24 ms for 24 terms against 150-270 ms (a loaded 2-core machine)."""
        if not chunk_ids:
            return dict.fromkeys(terms, 0)
        wanted = set(chunk_ids)
        low, high = min(wanted), max(wanted)
        reader = self._reader()
        holders = {}
        for term in terms:
            rows = reader.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid BETWEEN ? AND ?",
                (f"body : {fts_match_expression([term])}", low, high),
            )
            holders[term] = sum(1 for (rowid,) in rows if rowid in wanted)
        return holders

    def _term_stats(self) -> _TermStats:
        """This thread's cache of statistics per term (best BM25 score, chunks holding it),
        read again once the index has changed and the cache is `_TERM_CACHE_SECONDS` old.

        Common words are the costly lookups (SQLite reads every chunk holding them) and the
        ones most queries share. `data_version` changes when another connection (this
        process's writer, or another process's) commits, which changes BM25's statistics;
        while a first index or a stream of saves commits many times a second, the figures of
        a second ago still serve (coverage is capped at 1; term choice is a ranking of words).
        """
        version = self._reader().execute("PRAGMA data_version").fetchone()[0]
        now = time.monotonic()
        cached: _TermStats | None = getattr(self._local, "term_stats", None)
        if (
            cached is None
            or len(cached.bests) + len(cached.frequencies) + len(cached.names) > _TERM_CACHE_SIZE
            or (cached.version != version and now - cached.read_at >= _TERM_CACHE_SECONDS)
        ):
            cached = _TermStats(version, now)
            self._local.term_stats = cached
        return cached
