"""Base-model vectors of training texts, computed once and cached on disk.

The query-side adapter trains on frozen base embeddings, so every text is encoded exactly
once by the project's own encoder (the same vectors the index stores); fitting then takes
seconds and can be repeated freely.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..engine.embedder import Encoder

_ROUND = 512  # texts per encoder call: the encoder sorts them by length, so padding stays low


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class VectorCache:
    """text -> float32 vector of one encoder, in a SQLite file."""

    def __init__(self, folder: Path, encoder_identity: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(encoder_identity.encode()).hexdigest()[:16]
        self.path = folder / f"vectors-{name}.sqlite"
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('encoder', ?)", (encoder_identity,))
        self._db.commit()

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            group = list(keys[start : start + 500])
            marks = ",".join("?" * len(group))
            rows = self._db.execute(f"SELECT key, v FROM vectors WHERE key IN ({marks})", group)
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put(self, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
            ((k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def embed(
    texts: Sequence[str],
    encoder: Encoder,
    cache: VectorCache,
    log: Callable[[str], None] = print,
) -> np.ndarray:
    """Vectors of ``texts`` (rows in order), encoding only those not cached yet."""
    keys = [_key(t) for t in texts]
    known = cache.get(list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, texts, strict=True))
    started = time.monotonic()
    for start in range(0, len(missing), _ROUND):
        group = missing[start : start + _ROUND]
        vectors = encoder.encode([text_of[k] for k in group])
        fresh = dict(zip(group, vectors, strict=True))
        cache.put(fresh)
        known.update(fresh)
        done = start + len(group)
        rate = done / max(time.monotonic() - started, 1e-6)
        log(f"embedded {done}/{len(missing)} new texts ({rate:.1f}/s)")
    if not keys:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.stack([known[k] for k in keys])
