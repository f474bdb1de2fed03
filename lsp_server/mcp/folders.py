"""The MCP server's folders: one FolderIndexer per root, on the same index the editor uses.

When an editor's nearcode server already owns a folder's index, its FolderIndexer opens it
read-only and follows the owner's work (and takes over when the owner exits); otherwise this
server builds and keeps the index. Agents edit files without telling anyone, so every answer
first brings the index up to date with the disk (`FolderIndexer.refresh`), and says so when it
could not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.embedder import EncoderPool, ModelLoadError
from ..engine.folder_indexer import FolderIndexer, owning_folder, search_folders
from ..engine.reports import Freshness
from ..engine.results import SearchResponse
from ..engine.settings import EmbeddingsProvider, built_settings
from ..engine.validation import InputError
from ..engine.workspace import WorkspaceIndex

log = logging.getLogger(__name__)

ROOTS_WAIT_S = 10.0  # a tool called right after start waits this long for the client's roots
MODEL_WAIT_S = 30.0  # ... and for the model (the very first run exports it: about 8 s)
REFRESH_WAIT_S = 30.0  # ... and for a new folder's first scan (lexically searchable after it)

NO_ROOTS = (
    "no folder to search: the client shared no workspace roots; start the server with the "
    "folders as arguments, e.g. `nearcode mcp /path/to/project`"
)


@dataclass(frozen=True)
class FolderOptions:
    """Command-line choices; the encoder and the files held (exclude patterns, largest
    file) default to those each index was built with."""

    model: str | None = None
    backend: str | None = None
    adapter: str | None = None
    exclude: tuple[str, ...] | None = None
    max_file_size: int | None = None
    embeddings: EmbeddingsProvider | None = None  # None: each index's own provider


class _LoggedProgress:
    """An agent has no progress bar to show: progress goes to the log, once per phase."""

    def __init__(self, title: str) -> None:
        self.cancelled = threading.Event()
        self._title = title
        log.info("%s", title)

    def report(self, percentage: int | None, message: str) -> None:
        pass

    def end(self, message: str) -> None:
        log.info("%s: %s", self._title, message)


class LoggedEvents:
    """What a folder has to say, for a server without a user interface: the log."""

    def begin_progress(
        self, title: str, message: str, percentage: int | None = 0
    ) -> _LoggedProgress:
        return _LoggedProgress(title)

    def show_error(self, message: str) -> None:
        log.error("%s", message)

    def show_info(self, message: str) -> None:
        log.info("%s", message)


class McpFolders:
    """The roots this server answers for, each with its FolderIndexer."""

    def __init__(self, options: FolderOptions) -> None:
        self.options = options
        self.encoders = EncoderPool(lambda exc: log.error("semantic search is off: %s", exc))
        self.events = LoggedEvents()
        self._folders: dict[Path, FolderIndexer] = {}
        self._lock = threading.Lock()
        self._roots_known = threading.Event()
        self._no_roots_reason = NO_ROOTS

    # -- roots ---------------------------------------------------------------------------------

    def set_roots(self, roots: Iterable[Path]) -> list[str]:
        """Starts a FolderIndexer for each new root and stops those of roots no longer listed;
        returns the problems with roots that are not local folders."""
        wanted: list[Path] = []
        problems: list[str] = []
        for root in roots:
            real = root.resolve()
            if real.is_dir():
                wanted.append(real)
            else:
                problems.append(f"{root} is not a folder: not indexed")
        with self._lock:
            gone = [self._folders.pop(r) for r in list(self._folders) if r not in wanted]
            for root in wanted:
                if root not in self._folders:
                    folder = self._start(root)
                    if folder is not None:
                        self._folders[root] = folder
        for folder in gone:
            folder.stop()
        for problem in problems:
            log.warning("%s", problem)
        self._roots_known.set()
        return problems

    def no_client_roots(self, reason: str) -> None:
        """The client cannot tell its roots: tools say so (and how to pass folders instead)."""
        self._no_roots_reason = f"{NO_ROOTS} ({reason})"
        self._roots_known.set()

    def _start(self, root: Path) -> FolderIndexer | None:
        settings = built_settings(
            root,
            self.options.model,
            self.options.backend,
            self.options.embeddings,
            self.options.adapter,
            self.options.exclude,
            self.options.max_file_size,
        )
        try:
            encoder = self.encoders.get(settings)
        except ModelLoadError as exc:
            log.error("%s: %s", root, exc)
            return None
        folder = FolderIndexer(
            root.as_uri(),
            root,
            settings,
            encoder,
            self.events,
            encoder_failed=lambda: self.encoders.error,
        )
        folder.start()
        log.info("serving %s (encoder backend %s)", root, settings.backend)
        return folder

    def stop_all(self) -> None:
        with self._lock:
            folders, self._folders = list(self._folders.values()), {}
        for folder in folders:
            folder.stop()

    # -- what the tools use --------------------------------------------------------------------

    def current(self) -> list[FolderIndexer]:
        """Every folder; an error that says how to add one when there are none."""
        self._roots_known.wait(ROOTS_WAIT_S)
        with self._lock:
            folders = list(self._folders.values())
        if not folders:
            raise InputError(self._no_roots_reason)
        return folders

    def locate(self, path: str) -> tuple[FolderIndexer, Path]:
        """The folder that holds a file named by the client, and the file's real path.

        Decided by real path, symlinks resolved: a link inside a folder that points out of
        every folder belongs to none, and is never read.
        """
        folders = self.current()
        written = Path(path).expanduser()
        candidates = [written] if written.is_absolute() else [f.root / written for f in folders]
        existing = [c for c in candidates if c.exists()]
        if not existing:
            roots = ", ".join(str(f.root) for f in folders)
            raise InputError(f"no such file: {path} (looked in {roots})")
        try:
            real = existing[0].resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # a link loop
            raise InputError(f"cannot read {path}: {exc}") from exc
        owner = owning_folder(folders, real)
        if owner is None:
            roots = ", ".join(str(f.root) for f in folders)
            raise InputError(f"{path} is outside the indexed folders ({roots})")
        if not real.is_file():
            raise InputError(f"{path} is a folder, not a file")
        return owner, real

    def answer(
        self,
        folders: Sequence[FolderIndexer],
        run: Callable[[WorkspaceIndex], SearchResponse],
        limit: int,
    ) -> tuple[SearchResponse, list[str]]:
        """A search over `folders` after bringing each up to date with the disk, with what
        the agent must know about the answer (partial, stale, and why)."""
        for folder in folders:
            self.encoders.wait_loaded(folder.encoder, MODEL_WAIT_S)
        freshness = [(folder, folder.refresh(REFRESH_WAIT_S)) for folder in folders]
        response = search_folders(folders, run, limit)
        notices: list[str] = []
        for folder, fresh in freshness:
            response.stale = response.stale or fresh is None or fresh.stale
            notices.extend(_notices(folder, fresh, response, len(folders) > 1))
        return response, notices

    def status(self) -> tuple[list[tuple[FolderIndexer, Freshness | None]], dict[str, Any]]:
        """Each folder with how far its files have moved on from the index (None: not open)."""
        entries = []
        for folder in self.current():
            index = folder.index
            entries.append((folder, index.changes() if index is not None else None))
        overall = {"modelLoaded": self.encoders.any_loaded, "modelError": self.encoders.error}
        return entries, overall


def _notices(
    folder: FolderIndexer, fresh: Freshness | None, response: SearchResponse, several: bool
) -> list[str]:
    prefix = f"{folder.root.name}: " if several else ""
    notices: list[str] = []
    if fresh is None:
        notices.append(
            "the index is still being built (first scan): results may be missing or out of date"
        )
    else:
        stale = fresh.describe()
        if stale:
            notices.append(stale)
        if fresh.unembedded:
            notices.append(
                f"{fresh.unembedded} chunks of changed files are not embedded yet "
                "(found by words only)"
            )
    index = folder.index
    if response.partial and index is not None:
        reason = index.pending_reason()
        if reason:
            notices.append(reason)
    elif index is None:
        notices.append(folder.status.message or "the index could not be opened")
    return [prefix + notice for notice in notices]
