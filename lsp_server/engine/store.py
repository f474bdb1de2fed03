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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunks import Chunk
from .tokens import fts_match_expression, index_text

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    language TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    start_line INTEGER NOT NULL, start_col INTEGER NOT NULL,
    end_line INTEGER NOT NULL, end_col INTEGER NOT NULL,
    symbol TEXT NOT NULL, kind TEXT NOT NULL, language TEXT NOT NULL,
    container TEXT NOT NULL, signature TEXT NOT NULL, part INTEGER NOT NULL,
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
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    symbol, body, path, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""

# BM25 column weights: a match in the symbol name says more than one in the body.
_BM25_WEIGHTS = (4.0, 1.0, 2.0)


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str
    language: str


@dataclass(frozen=True)
class StoredChunk:
    id: int
    path: str
    chunk: Chunk
    embed_hash: str
    has_vector: bool


class StoreError(RuntimeError):
    """The SQLite file is unusable (corrupt, not a database, unwritable)."""


def _create_private(path: Path) -> None:
    """Creates the database file 0600 before SQLite does (it would use the umask's mode).

    SQLite gives the -wal and -shm files the database file's mode, so they follow.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if not read_only and not path.exists():
        _create_private(path)
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
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
        try:
            self._writer = _connect(path, read_only)
            if not read_only:
                self._writer.executescript(_SCHEMA)
            self._writer.execute("SELECT count(*) FROM files").fetchone()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"index database {path} is unusable: {exc}") from exc

    # -- connections ---------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, read_only=True)
            self._local.conn = conn
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
        with self._write_lock:
            self._writer.close()

    def integrity_ok(self) -> bool:
        return self._writer.execute("PRAGMA quick_check").fetchone()[0] == "ok"

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

    def files(self) -> dict[str, FileRecord]:
        rows = self._reader().execute("SELECT id, path, size, mtime_ns, hash, language FROM files")
        return {row[1]: FileRecord(*row) for row in rows}

    def file(self, path: str) -> FileRecord | None:
        row = (
            self._reader()
            .execute(
                "SELECT id, path, size, mtime_ns, hash, language FROM files WHERE path = ?", (path,)
            )
            .fetchone()
        )
        return FileRecord(*row) if row else None

    def file_paths(self) -> list[str]:
        return [row[0] for row in self._reader().execute("SELECT path FROM files")]

    def upsert_file(
        self,
        conn: sqlite3.Connection,
        path: str,
        size: int,
        mtime_ns: int,
        content_hash: str,
        language: str,
        priority: int = 0,
    ) -> int:
        conn.execute(
            """INSERT INTO files(path, size, mtime_ns, hash, language, priority)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(path) DO UPDATE SET size = excluded.size,
                 mtime_ns = excluded.mtime_ns, hash = excluded.hash,
                 language = excluded.language,
                 priority = max(files.priority, excluded.priority)""",
            (path, size, mtime_ns, content_hash, language, priority),
        )
        return conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0]

    def touch_file(self, conn: sqlite3.Connection, file_id: int, size: int, mtime_ns: int) -> None:
        conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
        )

    def delete_file(self, conn: sqlite3.Connection, file_id: int) -> list[int]:
        """Deletes a file and its chunks; returns the removed chunk ids."""
        removed = [
            r[0] for r in conn.execute("SELECT id FROM chunks WHERE file_id = ?", (file_id,))
        ]
        self.delete_chunks(conn, removed)
        conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        return removed

    def set_priority(self, paths: Iterable[str], priority: int) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET priority = ? WHERE path = ?", [(priority, p) for p in paths]
            )

    # -- chunks --------------------------------------------------------------------------------

    def chunk_rows(self, conn: sqlite3.Connection, file_id: int) -> list[tuple[int, str, int]]:
        """(id, embed_hash, start_line) of a file's chunks, used to diff a re-chunked file."""
        return conn.execute(
            "SELECT id, embed_hash, start_line FROM chunks WHERE file_id = ?", (file_id,)
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
                 kind, language, container, signature, part, text, embed_hash, has_vector)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                chunk.text,
                embed_hash,
                int(has_vector),
            ),
        )
        chunk_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO chunks_fts(rowid, symbol, body, path) VALUES (?, ?, ?, ?)",
            (
                chunk_id,
                index_text(f"{chunk.container} {chunk.symbol}"),
                index_text(chunk.text),
                index_text(chunk.path),
            ),
        )
        return chunk_id

    def move_chunk(self, conn: sqlite3.Connection, chunk_id: int, chunk: Chunk) -> None:
        """An unchanged chunk whose position moved (lines added above it)."""
        conn.execute(
            """UPDATE chunks SET start_line = ?, start_col = ?, end_line = ?, end_col = ?
               WHERE id = ?""",
            (chunk.start_line, chunk.start_col, chunk.end_line, chunk.end_col, chunk_id),
        )

    def delete_chunks(self, conn: sqlite3.Connection, chunk_ids: Sequence[int]) -> None:
        conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in chunk_ids])
        conn.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in chunk_ids])

    _CHUNK_COLUMNS = """c.id, f.path, c.language, c.kind, c.symbol, c.start_line, c.start_col,
        c.end_line, c.end_col, c.text, c.signature, c.container, c.part, c.embed_hash,
        c.has_vector"""

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
        )
        return StoredChunk(
            id=row[0], path=row[1], chunk=chunk, embed_hash=row[13], has_vector=bool(row[14])
        )

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._reader().execute(
            f"""SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id
                WHERE c.id IN ({marks})""",
            list(ids),
        )
        return {row[0]: self._stored(row) for row in rows}

    def chunks_of_file(self, path: str) -> list[StoredChunk]:
        rows = self._reader().execute(
            f"""SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id
                WHERE f.path = ? ORDER BY c.start_line, c.start_col""",
            (path,),
        )
        return [self._stored(row) for row in rows]

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
        """(files, chunks, chunks with a vector)."""
        conn = self._reader()
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
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

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        conn = self._reader()
        for start in range(0, len(hashes), 500):
            part = list(hashes[start : start + 500])
            marks = ",".join("?" * len(part))
            for digest, blob in conn.execute(
                f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({marks})",
                [model, *part],
            ):
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_vectors(
        self, conn: sqlite3.Connection, model: str, items: Iterable[tuple[str, np.ndarray]]
    ) -> None:
        now = int(time.time())
        conn.executemany(
            "INSERT OR IGNORE INTO embeddings(model, hash, vector, created) VALUES (?, ?, ?, ?)",
            [
                (model, digest, np.asarray(vec, dtype=np.float32).tobytes(), now)
                for digest, vec in items
            ],
        )

    def live_vectors(
        self,
        model: str,
        ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Batches of (chunk ids, vectors) for chunks with a vector: what HNSW must hold."""
        # CROSS JOIN pins the order (chunks first, then a primary-key lookup per chunk); with a
        # plain JOIN SQLite scanned every cached vector of the model for each batch of ids.
        sql = """SELECT c.id, e.vector FROM chunks c
                 CROSS JOIN embeddings e ON e.model = ? AND e.hash = c.embed_hash
                 WHERE c.has_vector = 1"""
        if ids is None:
            yield from self._vector_batches(sql, [model])
            return
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            yield from self._vector_batches(f"{sql} AND c.id IN ({marks})", [model, *part])

    def _vector_batches(self, sql: str, params: list) -> Iterator[tuple[list[int], np.ndarray]]:
        cur = self._reader().execute(sql, params)
        while rows := cur.fetchmany(4096):
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            yield [r[0] for r in rows], matrix.reshape(len(rows), -1)

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
