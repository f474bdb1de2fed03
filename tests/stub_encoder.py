"""A deterministic encoder that subprocesses can import (the conftest fixtures cannot cross
process boundaries), and a server entry point that uses it.

`python tests/stub_encoder.py serve` runs the real nearcode server with this encoder in place
of the model, for fault and load tests that need a full index in seconds;
`python tests/stub_encoder.py mcp [PATH ...]` does the same for the MCP server. Set
NEARCODE_STUB_DELAY_MS to pace encoding (per text) like a real model.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make lsp_server and tests importable
    sys.path.insert(0, str(ROOT))

from lsp_server.engine.tokens import code_tokens  # noqa: E402

STUB_SERVER = [sys.executable, str(Path(__file__).resolve()), "serve"]
STUB_MCP_SERVER = [sys.executable, str(Path(__file__).resolve()), "mcp"]


class StubEncoder:
    """Hashed bag of code tokens: same text, same vector, in every process."""

    identity = "test-stub-encoder|dim64"
    dim = 64
    loaded = True

    def __init__(self) -> None:
        self.delay = float(os.environ.get("NEARCODE_STUB_DELAY_MS", "0")) / 1000

    def load(self) -> None:
        pass

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay * len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in code_tokens(text):
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "big") % self.dim] += 1.0
            out[row, 0] += 1e-3  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _use_stub_encoder() -> None:
    """Every encoder the servers make (through the engine's factory) is one StubEncoder."""
    from lsp_server.engine import embedder

    encoder = StubEncoder()
    embedder.make_encoder = lambda settings: encoder  # type: ignore[assignment]


def serve() -> int:
    """The real language server, every folder sharing one StubEncoder."""
    from lsp_server.server import main

    _use_stub_encoder()
    return main.run_server()


def serve_mcp(arguments: list[str]) -> int:
    """The real MCP server (`nearcode mcp ARGS`), every folder sharing one StubEncoder."""
    from lsp_server.cli import main

    _use_stub_encoder()
    return main(["mcp", *arguments])


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    sys.exit(serve())
if __name__ == "__main__" and sys.argv[1:2] == ["mcp"]:
    sys.exit(serve_mcp(sys.argv[2:]))
