"""Untouched trees held once per content.

Sets that ask a tree without changing it (error messages, Find Similar, classes, names,
constants, tags, hand-written questions) of one project would otherwise each hold a copy,
and since an index belongs to a tree's real path, a benchmark would embed the same tree once
per set. A project list's build moves each such tree to OUT/.trees/<digest of its content>
and leaves a relative link in its place: every engine then indexes each tree once, and OUT
can be moved as a whole. Sets whose docs were removed hold their own trees.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from .treeset import TREE

SHARED = ".trees"
_CHUNK = 1 << 20


def tree_digest(tree: Path) -> str:
    """A digest of the tree's paths, file contents and link targets (in a stable order)."""
    digest = hashlib.sha256()
    for folder, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        here = Path(folder)
        for name in sorted([*filenames, *(d for d in dirnames if (here / d).is_symlink())]):
            path = here / name
            digest.update(path.relative_to(tree).as_posix().encode() + b"\0")
            if path.is_symlink():
                digest.update(b"link\0" + os.readlink(path).encode() + b"\0")
                continue
            with path.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
            digest.update(b"\0")
    return digest.hexdigest()[:24]


def share_tree(out: Path, root: Path) -> Path:
    """OUT/tree held under ROOT by its content (moved there, or dropped when an equal tree is
    held already) with a relative link left in its place; returns the held tree. Where links
    cannot be made (some Windows accounts) the set keeps its copy."""
    tree = out / TREE
    held = root / tree_digest(tree)
    link = out / f"{TREE}.link"
    link.unlink(missing_ok=True)
    try:
        link.symlink_to(os.path.relpath(held, out), target_is_directory=True)
    except OSError:
        return tree
    if held.is_dir():
        shutil.rmtree(tree)
    else:
        root.mkdir(parents=True, exist_ok=True)
        os.replace(tree, held)
    os.replace(link, tree)
    return held


def prune_shared(root: Path) -> list[Path]:
    """Removes the trees under ROOT that no set beside it (ROOT's parent's folders) links to;
    returns them."""
    if not root.is_dir():
        return []
    linked = {
        (folder / TREE).resolve()
        for folder in root.parent.iterdir()
        if folder != root and (folder / TREE).is_symlink()
    }
    stale = [held for held in root.iterdir() if held.resolve() not in linked]
    for held in stale:
        if held.is_dir() and not held.is_symlink():
            shutil.rmtree(held)
        else:
            held.unlink()
    return stale
