"""A real embedding server (infinity-emb on loopback, the bundled MiniLM weights, CPU) for the
remote-provider tests. Its virtual environment is made once by scripts/setup_infinity.sh; where
that cannot run (no package index), these tests skip and say why. CI has the index: there
they run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_server.bench.embedding_server import (
    SERVED_MODEL,
    InfinityServer,
    ServerSetupError,
    infinity_environment,
)
from lsp_server.engine.settings import PROVIDER_OPENAI, EmbeddingsProvider, EngineSettings

API_KEY = "nearcode-test-key-5f3a"  # the server's; tests hand it over in KEY_ENV
KEY_ENV = "NEARCODE_TEST_EMBEDDINGS_KEY"


@pytest.fixture(scope="session")
def infinity_venv() -> Path:
    try:
        return infinity_environment()
    except ServerSetupError as exc:
        if os.environ.get("CI"):
            raise  # CI reaches the package index: a failed setup is a failure there
        pytest.skip(f"no infinity-emb environment: {exc}")


@pytest.fixture(scope="session")
def embedding_server(
    infinity_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InfinityServer]:
    """One server for the module's tests that do not kill it."""
    log = tmp_path_factory.mktemp("infinity") / "server.log"
    with InfinityServer(infinity_venv, api_key=API_KEY, log_file=log) as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    return API_KEY


def remote_settings(url: str, **overrides) -> EngineSettings:
    fields = {"api_key_env": KEY_ENV, "batch_size": 16, "max_concurrency": 2, **overrides}
    provider = EmbeddingsProvider(provider=PROVIDER_OPENAI, url=url, model=SERVED_MODEL, **fields)
    return EngineSettings(embeddings=provider)
