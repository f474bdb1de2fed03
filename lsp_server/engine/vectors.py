"""The HNSW index (hnswlib, cosine) over chunk vectors: fast, in memory, rebuildable.

Labels are chunk ids. The file on disk is a cache of SQLite's vectors: it is saved atomically
with a sidecar that records its checksum and deleted labels, and on open it is reconciled
with SQLite (or rebuilt when missing, stale beyond repair, or corrupt).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import hnswlib
import numpy as np

log = logging.getLogger(__name__)

FORMAT = 3  # 2: the sidecar names the index generation; 3: equal vectors held once (copies)
_M = 16
_EF_CONSTRUCTION = 200
_EF_SEARCH = 128
_INITIAL_CAPACITY = 1024
# Rebuild when this share of the graph is deleted elements (they still cost search time).
_MAX_DELETED_SHARE = 0.3
# Cosine distance at or below which two vectors are one (a copy): equal texts embed equal.
_EQUAL_DISTANCE = 1e-6
# Search breadth when looking for an equal vector: an equal one is the nearest, found early.
# A miss costs only a vector held twice, as before copies existed.
_EF_EQUAL = 32


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_TMP_MARK = ".tmp-"


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Writes through a temporary file, fsyncs, then renames: readers never see a torn file."""
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")
    try:
        write(tmp)
        os.chmod(tmp, 0o600)  # hnswlib and write_text create files with the umask's mode
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def sweep_temp_files(folder: Path) -> list[Path]:
    """Deletes temporary files that a killed process left behind; returns what it removed.

    A save in progress in a live process keeps its file (the name carries the writer's pid).
    """
    removed: list[Path] = []
    for tmp in folder.glob(f".*{_TMP_MARK}*"):
        pid_text = tmp.name.rsplit(_TMP_MARK, 1)[1]
        if pid_text.isdigit() and _process_alive(int(pid_text)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from before this open: no save of ours is running yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


def _valid_sidecar(meta: object) -> bool:
    """A sidecar of the right shape: anything else is treated as missing."""
    if not isinstance(meta, dict):
        return False
    numbers = ("format", "dim", "capacity", "size")
    if not all(type(meta.get(key)) is int for key in numbers):
        return False
    deleted = meta.get("deleted", [])
    copies = meta.get("copies", [])
    return (
        isinstance(meta.get("digest"), str)
        and isinstance(meta.get("generation"), str)
        and isinstance(deleted, list)
        and all(type(label) is int for label in deleted)
        and isinstance(copies, list)
        and all(
            isinstance(pair, list) and len(pair) == 2 and all(type(x) is int for x in pair)
            for pair in copies
        )
    )


class VectorIndex:
    """A thread-safe wrapper over one hnswlib index.

    `generation` names the database the vectors belong to: a file saved for another
    generation (an index deleted and built again while an old process still ran) is never
    loaded.

    A vector equal to one already in the graph is not added again: its label is kept as a
    copy of that one (its representative) and returned beside it. Many equal vectors in an
    HNSW graph (890 files of `class Solution(object):`, copied helpers, vendored files) link
    mostly to each other, and a search that enters them cannot get out: it found 2 to 96 of
    the 1,000 neighbours asked for, and missed the nearest.
    """

    def __init__(self, path: Path, dim: int, generation: str = "") -> None:
        self.path = path
        self.sidecar = path.with_suffix(".json")
        self.dim = dim
        self.generation = generation
        self._lock = threading.RLock()
        self._deleted: set[int] = set()
        self._labels: set[int] = set()  # in the graph (live or marked deleted)
        self._copies: dict[int, int] = {}  # label -> the graph label holding its vector
        self._members: dict[int, set[int]] = {}  # graph label -> its copies
        self._index = self._new_index(_INITIAL_CAPACITY)
        self.dirty = False

    def _new_index(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=self.dim)
        index.init_index(max_elements=capacity, M=_M, ef_construction=_EF_CONSTRUCTION)
        index.set_ef(_EF_SEARCH)
        index.set_num_threads(os.cpu_count() or 1)
        return index

    # -- state ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._in_graph() + len(self._copies)

    def _in_graph(self) -> int:
        return len(self._labels) - len(self._deleted)

    def live_labels(self) -> set[int]:
        with self._lock:
            return (self._labels - self._deleted) | set(self._copies)

    def _is_live(self, label: int) -> bool:
        return label in self._copies or (label in self._labels and label not in self._deleted)

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> str | None:
        """Loads the saved index; returns why it could not be used, or None on success."""
        if not self.path.exists() or not self.sidecar.exists():
            return "no saved vector index"
        try:
            meta = json.loads(self.sidecar.read_text())
            if not _valid_sidecar(meta):
                return "vector index sidecar is malformed"
            if meta["format"] != FORMAT or meta["dim"] != self.dim:
                return "vector index format or dimension changed"
            if meta["generation"] != self.generation:
                return "vector index belongs to another build of this index"
            if meta.get("size") != self.path.stat().st_size:
                return "vector index file has the wrong size (truncated?)"
            if meta.get("digest") != _file_digest(self.path):
                return "vector index file is corrupt (checksum mismatch)"
            index = hnswlib.Index(space="cosine", dim=self.dim)
            index.load_index(str(self.path), max_elements=int(meta["capacity"]))
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            return f"vector index unreadable: {exc}"
        index.set_ef(_EF_SEARCH)
        index.set_num_threads(os.cpu_count() or 1)
        with self._lock:
            self._index = index
            self._labels = {int(x) for x in index.get_ids_list()}
            self._deleted = {int(x) for x in meta.get("deleted", [])} & self._labels
            self._copies, self._members = {}, {}
            for copy, holder in meta.get("copies", []):
                # A copy of a vector no longer in the graph is left out: reconcile re-adds it.
                if holder in self._labels and holder not in self._deleted:
                    self._link(copy, holder)
            self.dirty = False
        return None

    def _link(self, copy: int, holder: int) -> None:
        self._copies[copy] = holder
        self._members.setdefault(holder, set()).add(copy)

    def reconcile(
        self,
        expected: set[int],
        vectors_for: Callable[[list[int]], Iterable[tuple[list[int], np.ndarray]]],
    ) -> tuple[int, int]:
        """Makes the live labels equal `expected`; returns (added, removed)."""
        live = self.live_labels()
        extra = live - expected
        missing = sorted(expected - live)
        self.remove(extra)
        for ids, vectors in vectors_for(missing) if missing else ():
            self.add(ids, vectors)
        return len(missing), len(extra)

    def sample_mismatches(
        self,
        vectors_for: Callable[[list[int]], Iterable[tuple[list[int], np.ndarray]]],
        sample: int = 32,
        seed: int = 0,
    ) -> int:
        """How many of a sample of live labels hold another vector than the database's.

        Labels alone cannot show that a file of another build was put in place: the same
        chunk ids can exist in both. A few vectors compared catch it.
        """
        live = sorted(self.live_labels())
        if not live:
            return 0
        rng = np.random.default_rng(seed)
        picked = [int(x) for x in rng.choice(live, size=min(sample, len(live)), replace=False)]
        mismatches = 0
        for ids, expected in vectors_for(picked):
            with self._lock:
                holders = [self._copies.get(label, label) for label in ids]
                stored = np.asarray(self._index.get_items(holders), dtype=np.float32)
            cosine = np.sum(_unit(expected) * _unit(stored), axis=1)
            mismatches += int(np.sum(cosine < 0.999))
        return mismatches

    def rebuild(self, batches: Iterable[tuple[list[int], np.ndarray]], total: int) -> None:
        # Built apart and swapped in whole: queries meanwhile see the old graph.
        fresh = VectorIndex(self.path, self.dim, self.generation)
        fresh._index = self._new_index(max(_INITIAL_CAPACITY, int(total * 1.25)))
        for ids, vectors in batches:
            fresh.add(ids, vectors)
        with self._lock:
            self._index, self._labels, self._deleted = fresh._index, fresh._labels, set()
            self._copies, self._members = fresh._copies, fresh._members
            self.dirty = True

    def needs_compaction(self) -> bool:
        return len(self._deleted) > max(1000, _MAX_DELETED_SHARE * len(self._labels))

    # -- updates -------------------------------------------------------------------------------

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            # A label added again takes its new vector (ids are never reused, but be safe
            # after a partial crash).
            self.remove([label for label in ids if self._is_live(label)])
            holders = self._equal_in_graph(vectors)
            first_of: dict[bytes, int] = {}  # equal vectors within this batch
            graph_ids: list[int] = []
            graph_rows: list[int] = []
            for row, label in enumerate(ids):
                key = vectors[row].tobytes()
                holder = holders[row] if holders[row] is not None else first_of.get(key)
                if holder is not None:
                    self._link(label, holder)
                    continue
                first_of[key] = label
                graph_ids.append(label)
                graph_rows.append(row)
            if graph_ids:
                self._into_graph(graph_ids, vectors[graph_rows])
            self.dirty = True

    def _equal_in_graph(self, vectors: np.ndarray) -> list[int | None]:
        """For each vector, the live graph label holding an equal one, else None."""
        if self._in_graph() == 0:
            return [None] * len(vectors)
        self._index.set_ef(_EF_EQUAL)  # one neighbour wanted (a query may have left ef at 1,000)
        try:
            labels, distances = self._index.knn_query(vectors, k=1)
        except RuntimeError:  # nothing reachable: add them all
            return [None] * len(vectors)
        return [
            int(label) if distance <= _EQUAL_DISTANCE else None
            for label, distance in zip(labels[:, 0], distances[:, 0], strict=True)
        ]

    def _into_graph(self, ids: list[int], vectors: np.ndarray) -> None:
        for label in ids:
            if label in self._deleted:
                self._index.unmark_deleted(label)
                self._deleted.discard(label)
        # Counting, not a set union: a union copies every label on each (small) add.
        needed = len(self._labels) + sum(1 for label in ids if label not in self._labels)
        capacity = self._index.get_max_elements()
        if needed > capacity:
            self._index.resize_index(max(needed, capacity * 2))
        self._index.add_items(vectors, ids)
        self._labels.update(ids)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for label in ids:
                if label in self._copies:
                    holder = self._copies.pop(label)
                    self._members[holder].discard(label)
                    if not self._members[holder]:
                        del self._members[holder]
                    self.dirty = True
                elif label in self._labels and label not in self._deleted:
                    copies = self._members.pop(label, set())
                    vector = self._index.get_items([label]) if copies else None
                    self._index.mark_deleted(label)
                    self._deleted.add(label)
                    self.dirty = True
                    if copies:  # one copy takes the vector's place in the graph
                        heir = min(copies)
                        for copy in copies:
                            del self._copies[copy]
                        self._into_graph([heir], np.asarray(vector, dtype=np.float32))
                        for copy in copies - {heir}:
                            self._link(copy, heir)

    # -- queries -------------------------------------------------------------------------------

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(label, cosine similarity) of the k nearest distinct live vectors, best first,
        each followed by the labels that hold a copy of it."""
        with self._lock:
            k = min(k, self._in_graph())
            if k <= 0:
                return []
            return [
                (label, cosine)
                for holder, cosine in self._nearest(vector, k)
                for label in (holder, *sorted(self._members.get(holder, ())))
            ]

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self._index.set_ef(max(_EF_SEARCH, k))
        try:
            labels, distances = self._index.knn_query(vector.reshape(1, -1), k=k)
        except RuntimeError:
            # Heavy deletion can leave fewer than k reachable neighbours.
            return self._nearest(vector, k // 2) if k > 1 else []
        return [
            (int(label), 1.0 - float(dist))
            for label, dist in zip(labels[0], distances[0], strict=True)
        ]

    # -- saving --------------------------------------------------------------------------------

    def save(self) -> None:
        with self._lock:
            if not self.dirty:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, lambda tmp: self._index.save_index(str(tmp)))
            meta = {
                "format": FORMAT,
                "dim": self.dim,
                "capacity": self._index.get_max_elements(),
                "size": self.path.stat().st_size,
                "digest": _file_digest(self.path),
                "deleted": sorted(self._deleted),
                "copies": sorted([copy, holder] for copy, holder in self._copies.items()),
                "generation": self.generation,
            }
            write_atomically(self.sidecar, lambda tmp: tmp.write_text(json.dumps(meta)))
            self.dirty = False
