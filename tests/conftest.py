"""Shared fixtures: a private cache dir per test, a fixture workspace, and encoders."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from lsp_server.engine.locations import MODEL_CACHE_ENV
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.tokens import code_tokens
from lsp_server.engine.workspace import WorkspaceIndex

FIXTURE_WORKSPACE = Path(__file__).parent / "fixtures" / "workspace"


class HashingEncoder:
    """A tiny deterministic encoder (hashed bag of code tokens) that counts its calls.

    For tests of bookkeeping (what gets embedded when), not of search quality: those use the
    real model.
    """

    identity = "test-hashing-encoder|dim64"
    dim = 64
    loaded = True

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def load(self) -> None:
        pass

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in code_tokens(text):
                bucket = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest())
                out[row, bucket % self.dim] += 1.0
            out[row, 0] += 1e-3  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ONNX export of the model for the whole session (servers inherit the variable)."""
    folder = tmp_path_factory.mktemp("models")
    previous = os.environ.get(MODEL_CACHE_ENV)
    os.environ[MODEL_CACHE_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(MODEL_CACHE_ENV, None)
    else:
        os.environ[MODEL_CACHE_ENV] = previous


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("NEARCODE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, target)
    return target


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def open_index(encoder: HashingEncoder) -> Iterator:
    """Opens indexes with the hashing encoder and closes them after the test."""
    opened: list[WorkspaceIndex] = []

    def factory(root: Path, **settings) -> WorkspaceIndex:
        index = WorkspaceIndex(root, EngineSettings(**settings), encoder=encoder)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()
