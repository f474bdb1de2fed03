"""One workspace folder's index, kept fresh by background threads.

Two threads per folder, so that a save is never stuck behind the bulk of the work:
- the *indexer* opens the index, runs sync() and then embeds the backlog in small rounds;
- the *updater* applies debounced, coalesced file changes (saves, watched-file events) and
  embeds those files at once, ahead of the backlog.
The engine serialises their writes; searches read concurrently (SQLite WAL, locked HNSW).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .embedder import Encoder, EncoderUnavailable, ModelLoadError
from .errors import DamagedIndex, IndexClosed
from .reports import Freshness
from .results import SearchResponse, SearchResult
from .settings import EngineSettings
from .workspace import EngineError, Progress, WorkspaceIndex

log = logging.getLogger(__name__)

_BACKLOG_ROUND = 32  # chunks per background encoder call (~1 s): keeps the queue responsive
_SAVE_EVERY_S = 30.0  # persist the HNSW file this often while it changes
_MAX_DEFER_S = 2.0  # the longest a change waits for its burst to end
_RESYNC_AFTER_EVENTS = 200  # a burst this large (branch switch) is cheaper as one sync()
_PAUSED = "paused, retrying: "  # status message while the encoder is unavailable
_TAKE_OVER_EVERY_S = 2.0  # a read-only folder tries the writer lock this often (one flock)
OPEN_WAIT_S = 5.0  # a search sent right after start waits this long for the index to open
_OWNER_CATCH_UP_S = 1.0  # refresh(): how long a reader waits for the owner to apply changes
SKIPPED_SHOWN = 20  # files not indexed that the status and the log list by name (all are counted)


class ProgressHandle(Protocol):
    cancelled: threading.Event

    def report(self, percentage: int | None, message: str) -> None: ...

    def end(self, message: str) -> None: ...


class FolderEvents(Protocol):
    """What a folder tells the editor; implemented by the server."""

    def begin_progress(
        self, title: str, message: str, percentage: int | None = 0
    ) -> ProgressHandle: ...

    def show_error(self, message: str) -> None: ...

    def show_info(self, message: str) -> None: ...


@dataclass
class FolderState:
    state: str = "starting"  # starting | indexing | embedding | ready | error | paused
    message: str = ""


class FolderIndexer:
    def __init__(
        self,
        uri: str,
        root: Path,
        settings: EngineSettings,
        encoder: Encoder,
        events: FolderEvents,
        *,
        debounce_s: float = 0.05,
        encoder_failed: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.uri = uri
        self.root = root
        self.settings = settings
        self.encoder = encoder
        self.events = events
        self.debounce_s = debounce_s
        self._encoder_failed = encoder_failed
        self.index: WorkspaceIndex | None = None
        self.status = FolderState()
        self.ready = threading.Event()  # set once the index is open (searchable)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reindex = threading.Event()
        self._reopen = threading.Event()
        self._changes: dict[str, float] = {}  # path -> time of its first event not yet applied
        self._last_change = 0.0  # time of the newest event, for any path
        self._priorities: set[str] = set()  # files opened in the editor
        self._changes_lock = threading.Lock()
        self._changed = threading.Event()
        self._resync = False
        self._cannot_own = False  # the model this index needs cannot load: stay read-only
        # Embedding, catching up, saving, taking over, reopening and refresh() take turns: two
        # threads never embed the same pending chunks nor add the same vectors, and nothing
        # reads a database being reopened. sync() and file updates need no turn: the engine
        # serialises their writes, and applying a change twice is harmless.
        self._work = threading.RLock()
        self.scanned = threading.Event()  # set once the first sync() ended (or cannot run)
        self._threads = [
            threading.Thread(target=self._run_indexer, name=f"indexer:{root.name}", daemon=True),
            threading.Thread(target=self._run_updater, name=f"updater:{root.name}", daemon=True),
        ]
        self.counters = {"updates": 0, "syncs": 0}
        # Files a user would expect indexed, and why they are not (the last sync's, then each
        # update's): replaced, never changed in place, as describe() reads it from another
        # thread.
        self.skipped: dict[str, str] = {}

    # -- control (called from the server's threads) --------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._changed.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        if self.index is not None:
            self.index.close()

    def request_reindex(self) -> None:
        self._reindex.set()
        self._wake.set()

    def repair(self, problem: str) -> None:
        """The database failed under a query: reopen it (the owner checks and repairs it)."""
        if self._reopen.is_set():
            return
        if self._stop.is_set():  # closed under the query by stop(): nothing is damaged
            log.info("%s: %s while stopping", self.root, problem)
            return
        log.error("%s: %s", self.root, problem)
        self.status = FolderState("error", f"{problem}; repairing")
        self.events.show_error(f"nearcode ({self.root.name}): {problem}; repairing the index")
        self._reopen.set()
        self._wake.set()

    def file_changed(self, path: str) -> None:
        """A save or an outside change: coalesced per path, applied once the burst it belongs
        to has been quiet for the debounce."""
        with self._changes_lock:
            now = time.monotonic()
            self._changes.setdefault(path, now)
            self._last_change = now
            if len(self._changes) > _RESYNC_AFTER_EVENTS:
                self._changes.clear()
                self._resync = True
        self._changed.set()

    def prioritize(self, path: str) -> None:
        """A file opened in the editor: embed it before the backlog (applied off the loop)."""
        with self._changes_lock:
            self._priorities.add(path)
        self._changed.set()

    # -- the indexer thread --------------------------------------------------------------------

    def _run_indexer(self) -> None:
        self.index = self._open()
        if self.index is None:
            return
        self.index.wait_for_encoder = False
        self.ready.set()
        for notice in self.index.notices:
            self.events.show_info(f"nearcode ({self.root.name}): {notice}")
        if self.index.read_only:
            self.scanned.set()  # nothing of ours to scan: the owner keeps the index
        else:
            self._sync()
        last_save = time.monotonic()
        while not self._stop.is_set():
            if self._reopen.is_set() and not self._reopen_index():
                return
            if self.index.read_only:
                if not self._take_over():
                    self._catch_up()
                    self._wake.wait(timeout=_TAKE_OVER_EVERY_S)
                    self._wake.clear()
                    continue
                self._reindex.set()
            if self._reindex.is_set():
                self._reindex.clear()
                self._sync()
            elif not self._embed_backlog():
                self._wake.wait(timeout=1.0)
                self._wake.clear()
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                self._save()
                last_save = time.monotonic()

    def refresh(self, wait_s: float = 30.0) -> Freshness | None:
        """Before answering a client that does not report file changes (an agent editing files
        on disk): bring the index up to date with the disk, cheaply when nothing changed.

        The owner re-indexes and embeds the changed files now, taking its turn with the
        background threads. A reader picks up the owner's work and waits briefly for the owner
        to apply changes (an editor's server sees them through its file watcher); what is
        still different is reported, not hidden. None when the index could not be compared
        within `wait_s` (still opening, or the first scan still running) or failed to: treat
        the answer as stale.
        """
        if not self.ready.wait(wait_s) or not self.scanned.wait(wait_s):
            return None
        if not self._work.acquire(timeout=wait_s):
            return None
        try:
            index = self.index
            if index is None:
                return None
            if index.read_only:
                return self._reader_freshness(index)
            freshness = index.refresh()
            if freshness.skipped is not None:
                self.skipped = {item.path: item.reason for item in freshness.skipped}
            return freshness
        except sqlite3.DatabaseError as exc:
            self.repair(f"the index database failed ({exc})")
        except (EngineError, ModelLoadError, OSError) as exc:  # e.g. a full disk
            log.warning("could not bring the index of %s up to date: %s", self.root, exc)
        finally:
            self._work.release()
        return None

    def _reader_freshness(self, index: WorkspaceIndex) -> Freshness:
        deadline = time.monotonic() + _OWNER_CATCH_UP_S
        while True:
            self._catch_up()
            freshness = index.changes()
            if not freshness.stale or time.monotonic() >= deadline:
                return freshness
            time.sleep(0.1)

    def describe(self) -> dict[str, object]:
        """The folder's state and its index's counts: the shape of the servers' status."""
        entry: dict[str, object] = {
            "uri": self.uri,
            "state": self.status.state,
            "message": self.status.message,
        }
        if self.index is not None:
            entry.update(self.index.status().to_json())
            skipped = self.skipped
            entry.update(
                encodedThisSession=self.index.session_encoded,
                updates=self.counters["updates"],
                syncs=self.counters["syncs"],
                skipped=len(skipped),
                skippedFiles=[
                    {"path": path, "reason": reason}
                    for path, reason in sorted(skipped.items())[:SKIPPED_SHOWN]
                ],
                # Files left out by choice, which no scan lists: the folder's scope, as
                # `nearcode status --json` gives it (maybe the one its index was built with).
                exclude=list(self.settings.exclude),
                maxFileSize=self.settings.max_file_size,
            )
        return entry

    def _open(self) -> WorkspaceIndex | None:
        """Opens the index as its owner, else read-only (another process owns it, or the
        model it needs cannot load: the existing index still answers by words)."""
        try:
            return WorkspaceIndex(self.root, self.settings, encoder=self.encoder)
        except ModelLoadError as exc:
            self.events.show_error(
                f"nearcode ({self.root.name}): {exc}. Searching the existing index by words."
            )
            self._cannot_own = True
            try:
                index = WorkspaceIndex(self.root, self.settings, encoder=self.encoder, mode="read")
            except Exception as inner:  # noqa: BLE001 - reported, the server keeps running
                self._fail(f"cannot open the index for {self.root}: {inner}")
                return None
            self.status = FolderState("ready", f"lexical search only: {exc}")
            return index
        except Exception as exc:  # a corrupt or unwritable cache must not kill the server
            self._fail(f"cannot open the index for {self.root}: {exc}")
            return None

    def _reopen_index(self) -> bool:
        """Closes and opens the index again (a damaged database is set aside and rebuilt)."""
        assert self.index is not None
        self.ready.clear()
        with self._work:  # not under a refresh() of the old index
            self.index.close()
            self.index = self._open()
        self._reopen.clear()
        if self.index is None:
            return False
        self.index.wait_for_encoder = False
        self.ready.set()
        for notice in self.index.notices:
            self.events.show_info(f"nearcode ({self.root.name}): {notice}")
        self._reindex.set()
        return True

    def _catch_up(self) -> None:
        """While another process owns the index, its new vectors join ours (O(new work))."""
        assert self.index is not None
        try:
            with self._work:
                self.index.catch_up()
        except Exception as exc:  # noqa: BLE001 - the owner may be rewriting; next round
            log.info("catching up with the index of %s: %s", self.root, exc)

    def _take_over(self) -> bool:
        """A read-only folder becomes the owner once the other process lets go of the index."""
        assert self.index is not None
        if self._cannot_own:
            return False
        try:
            with self._work:  # reopens the database: not under a refresh()
                taken = self.index.try_take_over()
        except (EngineError, ModelLoadError, EncoderUnavailable) as exc:
            self._cannot_own = True
            log.warning("cannot take over the index of %s: %s", self.root, exc)
            return False
        if taken:
            log.info("the index of %s is ours now: updating it", self.root)
            self.status = FolderState("indexing", "took over the index")
        else:
            self.status = FolderState("ready", "read-only: another nearcode process owns it")
        return taken

    def _save(self) -> None:
        """Persists the vectors; a full disk must not end the indexer (SQLite is the truth)."""
        assert self.index is not None
        try:
            with self._work:
                self.index.save()
        except OSError as exc:
            log.warning(
                "could not save the vector index of %s (rebuilt on restart): %s", self.root, exc
            )

    def _fail(self, message: str) -> None:
        log.error(message)
        self.status = FolderState("error", message)
        self.ready.set()
        self.scanned.set()
        self.events.show_error(message)

    def _sync(self) -> None:
        assert self.index is not None
        self.status = FolderState("indexing", "scanning files")
        # No percentage while scanning: clients that merge progresses (vim.lsp.status() shows
        # the highest) would show a finished scan's 100% next to 0 chunks embedded.
        progress = self.events.begin_progress(
            f"Indexing {self.root.name}", "scanning files", percentage=None
        )
        try:
            report = self.index.sync(self._reporter(progress), progress.cancelled)
        except Exception as exc:
            progress.end("failed")
            self._fail(f"indexing {self.root} failed: {exc}")
            return
        self.counters["syncs"] += 1
        self.scanned.set()  # lexically searchable now; the embedding follows
        cancelled = progress.cancelled.is_set()
        progress.end("cancelled" if cancelled else f"{report.files} files")
        self.status = FolderState(
            "paused" if cancelled else "embedding", "cancelled by the user" if cancelled else ""
        )
        self.skipped = {item.path: item.reason for item in report.skipped}
        if cancelled:
            return
        if report.skipped:
            log.info(
                "%s: %d files not indexed:\n%s",
                self.root,
                len(report.skipped),
                "\n".join(f"  {i.path}: {i.reason}" for i in report.skipped[:SKIPPED_SHOWN]),
            )
        self._embed_all()

    def _embed_all(self) -> None:
        """Embeds the backlog with a progress bar; stops early when a change arrives.

        The bar is the whole index's embedded/chunks, the numbers nearcode.status reports."""
        assert self.index is not None
        status = self.index.status()
        if status.pending == 0:
            self.status = FolderState("ready")
            return
        percentage, message = _embedded_progress(status.embedded, status.chunks)
        progress = self.events.begin_progress(f"Embedding {self.root.name}", message, percentage)
        while not self._stop.is_set() and not progress.cancelled.is_set():
            if self._reindex.is_set():
                break
            if not self._embed_backlog():
                break
            status = self.index.status()
            progress.report(*_embedded_progress(status.embedded, status.chunks))
        if progress.cancelled.is_set():
            progress.end("paused")
            self.status = FolderState("paused", "embedding cancelled by the user")
        else:  # a server that is down leaves the bar with its reason; the backlog goes on
            progress.end(self.status.message or "done")

    def _embed_backlog(self) -> int:
        """One round of background embedding; returns how many chunks got vectors."""
        assert self.index is not None
        failed = self._encoder_failed()
        if failed and self.status.state == "embedding":  # settled: nothing will embed
            self.status = FolderState("ready", f"lexical search only: {failed}")
        if self.status.state in ("paused", "error") or failed:
            return 0
        try:
            # Checked first with an indexed EXISTS: embed_pending() counts every chunk, and an
            # idle server runs this every second (1% CPU on 100k chunks before this check).
            done = 0
            if self.index.store.has_pending():
                with self._work:
                    report = self.index.embed_pending(max_chunks=_BACKLOG_ROUND)
                done = report.encoded + report.cached
        except ModelLoadError as exc:
            self.status = FolderState("ready", f"lexical search only: {exc}")
            return 0
        except EncoderUnavailable as exc:
            # Nothing was written: the chunks stay pending, and the indexer loop calls again
            # (the encoder itself spaces its tries out while the server is down).
            if not self.status.message.startswith(_PAUSED):
                log.warning("%s: embedding paused: %s", self.root.name, exc)
            self.status = FolderState("embedding", f"{_PAUSED}{exc}")
            return 0
        except Exception as exc:
            self._fail(f"embedding in {self.root} failed: {exc}")
            return 0
        if done and self.status.message.startswith(_PAUSED):
            log.info("%s: embedding resumed", self.root.name)
            self.status = FolderState("embedding")
        if done == 0 and self.status.state == "embedding":
            self.status = FolderState("ready")
        return done

    def _reporter(self, progress: ProgressHandle) -> Callable[[Progress], None]:
        def report(event: Progress) -> None:
            progress.report(None, event.message)

        return report

    # -- the updater thread --------------------------------------------------------------------

    def _run_updater(self) -> None:
        self.ready.wait()
        while not self._stop.is_set():
            self._changed.wait(timeout=1.0)
            if self._stop.is_set() or self.index is None or self.index.read_only:
                continue
            self._apply_priorities()
            batch, resync = self._take_settled_changes()
            if resync:
                self.request_reindex()
            for path in batch:
                self._apply_change(path)

    def _apply_priorities(self) -> None:
        assert self.index is not None
        with self._changes_lock:
            paths, self._priorities = list(self._priorities), set()
        for path in paths:
            try:
                self.index.prioritize([path])
            except EngineError as exc:
                log.info("not prioritised: %s", exc)

    def _take_settled_changes(self) -> tuple[list[str], bool]:
        """Changes of a burst that has ended: no event for any path within the debounce.

        Settling the whole burst, not each path, is what coalesces "save all", a formatter or
        a script saving many files in turn: a path's own saves may be further apart than the
        debounce while the burst goes on. A path waits at most _MAX_DEFER_S, so files
        written without pause (a generator, a log) cannot hold back the others for ever.
        """
        time.sleep(min(self.debounce_s / 3, 0.01))
        now = time.monotonic()
        with self._changes_lock:
            quiet = now - self._last_change >= self.debounce_s
            settled = [p for p, at in self._changes.items() if quiet or now - at >= _MAX_DEFER_S]
            for path in settled:
                del self._changes[path]
            resync, self._resync = self._resync, False
            if not self._changes and not self._priorities:
                self._changed.clear()
        return settled, resync

    def _apply_change(self, path: str) -> None:
        assert self.index is not None
        try:
            update = self.index.update_file(path)
            self.counters["updates"] += 1
            if update.status == "removed" and not update.chunks_removed:
                self.request_reindex()  # a deleted folder: let sync() find what went with it
            if update.status == "updated" and not self._encoder_failed():
                with self._work:
                    self.index.embed_pending(path=update.path)
            if update.status == "skipped":
                log.info("not indexed: %s (%s)", update.path, update.reason)
                self.skipped = {**self.skipped, update.path: update.reason}
            elif update.path in self.skipped:
                self.skipped = {p: r for p, r in self.skipped.items() if p != update.path}
        except (EngineError, ModelLoadError) as exc:
            log.info("update of %s: %s", path, exc)
        except Exception:
            log.exception("update of %s failed", path)


# -- several folders ------------------------------------------------------------------------------


def search_folders(
    folders: Sequence[FolderIndexer],
    run: Callable[[WorkspaceIndex], SearchResponse],
    limit: int,
) -> SearchResponse:
    """Runs a search in each folder and merges the results by score (scores are comparable:
    each folder's are relative to its own best, 1.0).

    A folder that is not open, or whose database just failed (its repair starts here), makes
    the answer partial rather than failing it. Input and engine errors are the caller's to
    show: they say what the user asked wrong.
    """
    merged: list[SearchResult] = []
    partial = stale = False
    notices: list[str] = []
    for folder in folders:
        # Opening takes well under a second: a search sent right after start waits for it
        # rather than answering "nothing" (callers run this off their event loop).
        folder.ready.wait(timeout=OPEN_WAIT_S)
        index = folder.index
        if index is None:
            partial = True
            continue
        try:
            response = run(index)
        except IndexClosed:  # the folder is leaving: answer without it
            partial = True
            continue
        except DamagedIndex as exc:
            folder.repair(str(exc))  # answers resume once the owner has repaired it
            partial = True
            continue
        merged.extend(response.results)
        partial = partial or response.partial or folder.status.state != "ready"
        stale = stale or response.stale
        notices += response.notices
        problem = getattr(folder.encoder, "problem", "")  # an embedding server not used now
        if response.partial and problem and not response.notices:
            notices.append(f"{problem}: lexical results only")
    merged.sort(key=lambda r: r.score, reverse=True)
    return SearchResponse(merged[:limit], partial, stale, notices=list(dict.fromkeys(notices)))


def owning_folder(folders: Iterable[FolderIndexer], real_path: Path) -> FolderIndexer | None:
    """The innermost folder that holds `real_path` (a resolved path: a symlink that points out
    of every folder belongs to none)."""
    owners = [f for f in folders if real_path.is_relative_to(f.root)]
    return max(owners, key=lambda f: len(f.root.parts)) if owners else None


def _embedded_progress(embedded: int, chunks: int) -> tuple[int, str]:
    """The embedding bar: the same numbers as nearcode.status, rounded down."""
    return 100 * embedded // max(chunks, 1), f"{embedded}/{chunks} chunks embedded"
