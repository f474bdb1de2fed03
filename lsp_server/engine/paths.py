"""Workspace-relative paths: the one way a path from a user or a client enters the engine."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import QueryError


class PathError(QueryError):
    """A path that is not a file of the workspace; the message says which and why."""


def workspace_relative(root: Path, path: str | os.PathLike[str]) -> str:
    """Workspace-relative '/' path of `path` (absolute, or relative to the root).

    A path through a symlink counts when its real path is inside the root; anything else
    outside the root is refused.
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = Path(os.path.normpath(candidate))
    try:
        rel = resolved.relative_to(root)
    except ValueError:
        try:
            rel = resolved.resolve().relative_to(root)
        except (ValueError, OSError):
            raise PathError(f"{path} is outside the workspace {root}") from None
    if not rel.parts:
        raise PathError(f"{path} is the workspace folder, not a file")
    return rel.as_posix()
