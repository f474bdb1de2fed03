"""Where indexes live: the user cache dir, one folder per workspace, never inside the repo."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

# 2: generation ids, file identity (inode, ctime) and a vector cache shared by encoders.
# 3: definitions carry their doc comments; parts of a split definition know its whole span.
FORMAT_VERSION = 3
CACHE_ENV = "NEARCODE_CACHE_DIR"
MODEL_CACHE_ENV = "NEARCODE_MODEL_CACHE_DIR"


def cache_root() -> Path:
    """$NEARCODE_CACHE_DIR, else the platform's user cache dir (e.g. ~/.cache/nearcode)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("nearcode"))


def model_cache_root() -> Path:
    """Exported models: $NEARCODE_MODEL_CACHE_DIR, else <cache root>/models.

    Separate from the index location so that many index roots (tests, benchmarks) can share
    one export of the model.
    """
    override = os.environ.get(MODEL_CACHE_ENV)
    return Path(override) if override else cache_root() / "models"


def index_dir_for(workspace: Path, root: Path | None = None) -> Path:
    """A folder named after the workspace plus a hash of its real path (unique and readable)."""
    real = workspace.resolve()
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", real.name)[:40] or "root"
    return (root or cache_root()) / "indexes" / f"{name}-{digest}"


def ensure_private_dir(path: Path) -> None:
    """Creates the folder (and parents) readable by the user alone: indexes hold source text.

    mkdir(parents=True) would create the parents (the cache root itself) with the umask's
    mode, so each missing level is made, and chmod-ed, here. Existing parents are left alone.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    os.chmod(path, 0o700)


@dataclass(frozen=True)
class Manifest:
    """What an index folder holds: whose workspace, built by which encoder, which build.

    `generation` changes whenever the database is created anew or its vectors change encoder;
    the HNSW sidecar must carry the same id. `encoder_settings` lets a reader use the
    encoder the index was built with when the user did not ask for another one.
    """

    workspace: str
    encoder: str
    format: int = FORMAT_VERSION
    generation: str = ""
    encoder_settings: dict = field(default_factory=dict)
    chunker: int = 0  # the chunker's version: a new one re-chunks every file (chunker/version.py)
    chunker_code: str = ""  # a hash of the chunker's source: other code re-chunks too
    # Which files it holds: exclude patterns and largest file (settings.recorded_scope).
    scope: dict = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        """Atomically (a reader never sees half a manifest), readable by the user alone."""
        path = folder / "manifest.json"
        tmp = folder / f".manifest.json.tmp-{os.getpid()}"
        try:
            tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def read(folder: Path) -> Manifest | None:
        try:
            data = json.loads((folder / "manifest.json").read_text())
            settings = data.get("encoder_settings", {})
            scope = data.get("scope", {})
            return Manifest(
                workspace=str(data["workspace"]),
                encoder=str(data["encoder"]),
                format=int(data["format"]),
                generation=str(data.get("generation", "")),
                encoder_settings=settings if isinstance(settings, dict) else {},
                chunker=int(data.get("chunker", 0)),
                chunker_code=str(data.get("chunker_code", "")),
                scope=scope if isinstance(scope, dict) else {},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def enclosing_index(path: Path) -> Path | None:
    """The nearest folder at or above `path` that has an index (innermost wins)."""
    for folder in (path, *path.parents):
        if Manifest.read(index_dir_for(folder)) is not None:
            return folder
    return None
