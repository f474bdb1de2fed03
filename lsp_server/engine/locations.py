"""Where indexes live: the user cache dir, one folder per workspace, never inside the repo."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

FORMAT_VERSION = 1
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
    workspace: str
    encoder: str
    format: int = FORMAT_VERSION

    def write(self, folder: Path) -> None:
        path = folder / "manifest.json"
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.chmod(path, 0o600)

    @staticmethod
    def read(folder: Path) -> Manifest | None:
        try:
            data = json.loads((folder / "manifest.json").read_text())
            return Manifest(
                workspace=str(data["workspace"]),
                encoder=str(data["encoder"]),
                format=int(data["format"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
