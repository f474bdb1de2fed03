"""What the engine tells its callers about work done and the state of an index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .scanner import SkippedFile


@dataclass(frozen=True)
class Progress:
    phase: str  # "model" | "scan" | "index" | "embed"
    done: int
    total: int
    message: str = ""


ProgressFn = Callable[[Progress], None]


@dataclass
class SyncReport:
    files: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_from_cache: int = 0  # new chunks whose vector was already cached (moved, copied code)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class EmbedReport:
    encoded: int = 0  # chunks sent to the model
    cached: int = 0  # chunks whose vector came from the cache
    seconds: float = 0.0
    cancelled: bool = False


@dataclass(frozen=True)
class FileUpdate:
    path: str
    status: str  # "updated" | "unchanged" | "removed" | "skipped" | "ignored"
    reason: str = ""
    chunks_added: int = 0
    chunks_removed: int = 0


@dataclass(frozen=True)
class Freshness:
    """How well an index reflects the files on disk, after a reader's refresh."""

    changed: int = 0  # files added, changed or removed since they were indexed
    applied: bool = True  # the index now reflects them (lexically at least)
    complete: bool = True  # the whole tree was compared within the time budget
    unembedded: int = 0  # chunks of those files still without a vector
    # The files not indexed, and why, as this refresh found them (an owner's complete scan);
    # None where it did not look at them all.
    skipped: tuple[SkippedFile, ...] | None = None

    @property
    def stale(self) -> bool:
        """Results may show code that is no longer on disk (or miss new code)."""
        return (self.changed > 0 and not self.applied) or not self.complete

    def describe(self) -> str | None:
        """One sentence for the user, None when there is nothing to say."""
        if not self.complete:
            return (
                "the tree is too large to check for changes before every search: "
                "results may be stale (run `nearcode index` to update)"
            )
        if self.changed and not self.applied:
            files = "file has" if self.changed == 1 else "files have"
            return (
                f"{self.changed} {files} changed since the index was updated; results may be "
                "stale (the index is busy or read-only; run `nearcode index` to update it)"
            )
        return None


@dataclass(frozen=True)
class IndexStatus:
    root: str
    index_dir: str
    encoder: str
    files: int
    chunks: int
    embedded: int
    read_only: bool
    notices: tuple[str, ...]
    built_with: str = ""  # the encoder of the index's vectors, when it differs from `encoder`
    changed_files: int = 0  # files changed on disk since indexing (readers only; 0 otherwise)

    @property
    def pending(self) -> int:
        return self.chunks - self.embedded

    def to_json(self) -> dict[str, object]:
        """The shape `nearcode status --json` prints and nearcode.status extends."""
        data: dict[str, object] = {
            "root": self.root,
            "indexPath": self.index_dir,
            "model": self.encoder,
            "files": self.files,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "pending": self.pending,
            "readOnly": self.read_only,
            "notices": list(self.notices),
        }
        if self.built_with:
            data["builtWith"] = self.built_with
        if self.changed_files:
            data["changedFiles"] = self.changed_files
        return data
