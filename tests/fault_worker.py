"""A child process that works on an index until the parent kills it (tests/test_faults.py).

Usage: python tests/fault_worker.py MODE ROOT SEED, with NEARCODE_CACHE_DIR set.
MODE: index (first build), update (edit files and update them), save (update and save the
vector file in a loop). Prints "ready" once the index is open, then "step N" as it goes.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from stub_encoder import StubEncoder  # noqa: I001 - also puts the repo on sys.path

from lsp_server.engine.workspace import WorkspaceIndex


def say(text: str) -> None:
    print(text, flush=True)


def edit(root: Path, rng: random.Random, step: int) -> Path:
    files = sorted(root.rglob("*.py"))
    target = rng.choice(files)
    if step % 7 == 3:
        target.unlink()
        return target
    extra = f"\n\ndef edited_{step}_{rng.randrange(10**6)}(value):\n    return value * {step}\n"
    target.write_text(target.read_text() + extra)
    return target


def main(mode: str, root: Path, seed: int) -> None:
    rng = random.Random(seed)
    index = WorkspaceIndex(root, encoder=StubEncoder())
    say("ready")
    if mode == "index":
        index.index(progress=lambda p: say(f"step {p.phase} {p.done}"))
        say("done")
        return
    for step in range(10**9):
        target = edit(root, rng, step)
        index.update_file(target)
        index.embed_pending(path=None if not target.exists() else str(target))
        if mode == "save":
            index.save()
        say(f"step {step}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
