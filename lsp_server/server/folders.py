"""One workspace folder's index, kept fresh by background threads.

Two threads per folder, so that a save is never stuck behind the bulk of the work:
- the *indexer* opens the index, runs sync() and then embeds the backlog in small rounds;
- the *updater* applies debounced, coalesced file changes (saves, watched-file events) and
  embeds those files at once, ahead of the backlog.
The engine serialises their writes; searches read concurrently (SQLite WAL, locked HNSW).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..engine.embedder import Encoder, EncoderUnavailable, ModelLoadError
from ..engine.settings import EngineSettings
from ..engine.workspace import IndexError_, Progress, WorkspaceIndex

log = logging.getLogger(__name__)

_BACKLOG_ROUND = 32  # chunks per background encoder call (~1 s): keeps the queue responsive
_SAVE_EVERY_S = 30.0  # persist the HNSW file this often while it changes
_RESYNC_AFTER_EVENTS = 200  # a burst this large (branch switch) is cheaper as one sync()
_PAUSED = "paused, retrying: "  # status message while the encoder is unavailable


class ProgressHandle(Protocol):
    cancelled: threading.Event

    def report(self, percentage: int, message: str) -> None: ...

    def end(self, message: str) -> None: ...


class FolderEvents(Protocol):
    """What a folder tells the editor; implemented by the server."""

    def begin_progress(self, title: str, message: str) -> ProgressHandle: ...

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
        self._changes: dict[str, float] = {}  # path -> time of the last event
        self._priorities: set[str] = set()  # files opened in the editor
        self._changes_lock = threading.Lock()
        self._changed = threading.Event()
        self._resync = False
        self._threads = [
            threading.Thread(target=self._run_indexer, name=f"indexer:{root.name}", daemon=True),
            threading.Thread(target=self._run_updater, name=f"updater:{root.name}", daemon=True),
        ]
        self.counters = {"updates": 0, "syncs": 0}

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

    def file_changed(self, path: str) -> None:
        """A save or an outside change: coalesced per path, applied after the debounce."""
        with self._changes_lock:
            self._changes[path] = time.monotonic()
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
        try:
            self.index = WorkspaceIndex(self.root, self.settings, encoder=self.encoder)
        except Exception as exc:  # a corrupt or unwritable cache must not kill the server
            self._fail(f"cannot open the index for {self.root}: {exc}")
            return
        self.index.wait_for_encoder = False
        self.ready.set()
        for notice in self.index.notices:
            self.events.show_info(f"nearcode ({self.root.name}): {notice}")
        if self.index.read_only:
            self.status = FolderState("ready", "read-only: another nearcode process owns it")
            return
        self._sync()
        last_save = time.monotonic()
        while not self._stop.is_set():
            if self._reindex.is_set():
                self._reindex.clear()
                self._sync()
            elif not self._embed_backlog():
                self._wake.wait(timeout=1.0)
                self._wake.clear()
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                self._save()
                last_save = time.monotonic()

    def _save(self) -> None:
        """Persists the vectors; a full disk must not end the indexer (SQLite is the truth)."""
        assert self.index is not None
        try:
            self.index.save()
        except OSError as exc:
            log.warning(
                "could not save the vector index of %s (rebuilt on restart): %s", self.root, exc
            )

    def _fail(self, message: str) -> None:
        log.error(message)
        self.status = FolderState("error", message)
        self.ready.set()
        self.events.show_error(message)

    def _sync(self) -> None:
        assert self.index is not None
        self.status = FolderState("indexing", "scanning files")
        progress = self.events.begin_progress(f"Indexing {self.root.name}", "scanning files")
        try:
            report = self.index.sync(self._reporter(progress), progress.cancelled)
        except Exception as exc:
            progress.end("failed")
            self._fail(f"indexing {self.root} failed: {exc}")
            return
        self.counters["syncs"] += 1
        cancelled = progress.cancelled.is_set()
        progress.end("cancelled" if cancelled else f"{report.files} files")
        self.status = FolderState(
            "paused" if cancelled else "embedding", "cancelled by the user" if cancelled else ""
        )
        if cancelled:
            return
        if report.skipped:
            log.info(
                "%s: skipped %d files, e.g. %s: %s",
                self.root,
                len(report.skipped),
                report.skipped[0].path,
                report.skipped[0].reason,
            )
        self._embed_all()

    def _embed_all(self) -> None:
        """Embeds the backlog with a progress bar; stops early when a change arrives."""
        assert self.index is not None
        pending = self.index.status().pending
        if pending == 0:
            self.status = FolderState("ready")
            return
        progress = self.events.begin_progress(f"Embedding {self.root.name}", f"0/{pending} chunks")
        done = 0
        while not self._stop.is_set() and not progress.cancelled.is_set():
            if self._reindex.is_set():
                break
            round_done = self._embed_backlog()
            if not round_done:
                break
            done += round_done
            total = max(done + self.index.status().pending, 1)
            progress.report(100 * done // total, f"{done}/{total} chunks")
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
            report = self.index.embed_pending(max_chunks=_BACKLOG_ROUND)
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
        done = report.encoded + report.cached
        if done and self.status.message.startswith(_PAUSED):
            log.info("%s: embedding resumed", self.root.name)
            self.status = FolderState("embedding")
        if done == 0 and self.status.state == "embedding":
            self.status = FolderState("ready")
        return done

    def _reporter(self, progress: ProgressHandle) -> Callable[[Progress], None]:
        def report(event: Progress) -> None:
            percentage = 100 * event.done // max(event.total, 1)
            progress.report(percentage, event.message)

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
            except IndexError_ as exc:
                log.info("not prioritised: %s", exc)

    def _take_settled_changes(self) -> tuple[list[str], bool]:
        """Changes whose last event is older than the debounce (a burst becomes one update)."""
        time.sleep(min(self.debounce_s / 3, 0.01))
        now = time.monotonic()
        with self._changes_lock:
            settled = [p for p, at in self._changes.items() if now - at >= self.debounce_s]
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
                self.index.embed_pending(path=update.path)
            if update.status == "skipped":
                log.info("not indexed: %s (%s)", update.path, update.reason)
        except (IndexError_, ModelLoadError, EncoderUnavailable) as exc:
            log.info("update of %s: %s", path, exc)  # still pending: the backlog embeds it
        except Exception:
            log.exception("update of %s failed", path)
