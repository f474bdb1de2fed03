"""Embedding-server settings: parsed strictly, never taken from a repository, always shown.

No server is needed here; tests/remote/ talks to a real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_server.engine.remote_encoder import destination, endpoint_of, public_url
from lsp_server.engine.settings import EmbeddingsProvider, EngineSettings
from lsp_server.server.settings import parse_settings, workspace_url_problem

from .lsp_helpers import command, lsp_session
from .stub_encoder import STUB_SERVER

SERVER = {"provider": "openai-compatible", "url": "http://gpu-box:8080/v1", "model": "bge-m3"}


def test_embeddings_object_is_parsed_in_camel_case():
    settings, problems = parse_settings(
        {"embeddings": {**SERVER, "dimensions": 256, "batchSize": 32, "maxConcurrency": 8,
                        "timeoutMs": 5000, "apiKeyEnv": "OPENAI_API_KEY"}}  # fmt: skip
    )
    assert problems == []
    assert settings.engine().embeddings == EmbeddingsProvider(
        provider="openai-compatible", url="http://gpu-box:8080/v1", model="bge-m3",
        dimensions=256, batch_size=32, max_concurrency=8, timeout_ms=5000,
        api_key_env="OPENAI_API_KEY",
    )  # fmt: skip


def test_a_bad_part_keeps_code_on_this_machine():
    for bad, reason in [
        ({**SERVER, "url": "gpu-box:8080"}, "is not an http(s) URL"),
        ({**SERVER, "model": ""}, "embeddings model is empty"),
        ({**SERVER, "batchSize": 0}, "batchSize: expected a whole number from 1 to 2048"),
        ({**SERVER, "apiKey": "sk-live-123"}, "unknown key 'apiKey'"),
        ({**SERVER, "provider": "cloud"}, "provider: expected one of local, openai-compatible"),
    ]:
        settings, problems = parse_settings({"embeddings": bad})
        assert settings.embeddings.remote is False, bad
        assert len(problems) == 1 and reason in problems[0], problems
        assert problems[0].endswith("; using the local model")
        assert "sk-live-123" not in problems[0]


def test_the_api_key_setting_takes_a_variable_name_not_a_key():
    _, problems = parse_settings({"embeddings": {**SERVER, "apiKeyEnv": "sk-live-123"}})
    assert problems == [
        "nearcode setting 'embeddings': apiKeyEnv: expected the NAME of an environment "
        "variable, e.g. OPENAI_API_KEY; using the local model"
    ]


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--api-key-env", "sk-live-123"], "apiKeyEnv: expected the NAME of an environment"),
        (["--timeout-ms", "0"], "timeoutMs: expected a whole number from 100 to 600000"),
        (["--dimensions", "-3"], "dimensions: expected a whole number from 1 to 65536"),
    ],
)
def test_the_command_line_checks_provider_options_as_the_settings_do(tmp_path, option, words):
    """The same checks as the editors' setting: a key pasted where its variable's name goes
    is refused in one line, never stored in the index's manifest nor shown."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text("def f():\n    return 1\n")
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-m", "lsp_server", "index", str(workspace), "--provider",
         "openai-compatible", "--url", "http://127.0.0.1:9/v1", "--remote-model", "m", *option],
        env={**os.environ, "NEARCODE_CACHE_DIR": str(cache)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    said = done.stderr.strip()
    assert said.startswith("nearcode: ") and words in said and "\n" not in said, said
    assert "sk-live-123" not in done.stderr
    assert not any(cache.rglob("manifest.json"))


def test_urls_are_shown_without_credentials():
    assert public_url("https://user:secret@api.example.com:8443/v1?key=abc#x") == (
        "https://api.example.com:8443/v1"
    )
    assert endpoint_of("http://h/v1/") == "http://h/v1/embeddings"
    assert endpoint_of("http://h/v1/embeddings") == "http://h/v1/embeddings"
    remote = EngineSettings(embeddings=EmbeddingsProvider(**{**SERVER, "url": "http://u:p@h/v1"}))
    assert destination(remote) == {"provider": "openai-compatible", "url": "http://h/v1",
                                   "model": "bge-m3"}  # fmt: skip
    assert destination(EngineSettings())["provider"] == "local"
    assert destination(EngineSettings())["url"] is None


def _repository_that_sends_code_away(root: Path, url: str) -> None:
    (root / ".vscode").mkdir(parents=True)
    (root / ".vscode" / "settings.json").write_text(
        "{\n  // looks harmless\n"
        f'  "nearcode.embeddings.provider": "openai-compatible",\n'
        f'  "nearcode.embeddings.url": "{url}",\n}}\n'
    )


def test_a_url_set_by_the_workspace_is_refused(tmp_path: Path):
    provider = EmbeddingsProvider(**SERVER)
    assert workspace_url_problem(provider, [tmp_path]) is None
    _repository_that_sends_code_away(tmp_path, SERVER["url"])
    problem = workspace_url_problem(provider, [tmp_path])
    assert problem is not None and "a repository cannot choose where your code is sent" in problem
    elsewhere = EmbeddingsProvider(**{**SERVER, "url": "http://my-own-box/v1"})
    assert workspace_url_problem(elsewhere, [tmp_path]) is None


async def test_server_refuses_a_workspace_url_and_says_where_embeddings_go(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 42\n")
    _repository_that_sends_code_away(root, "http://collector.example/v1")
    options = {"embeddings": {**SERVER, "url": "http://collector.example/v1"}}
    async with lsp_session(
        [root], tmp_path / "cache", options=options, server_command=STUB_SERVER
    ) as client:
        status = await command(client, "nearcode.status")
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert status["embeddings"]["provider"] == "local"
    assert status["embeddings"]["url"] is None
    assert any("set by the workspace" in e and "using the local model" in e for e in errors)
    assert json.dumps(status).count("collector.example") == 0


def test_the_mcp_server_uses_the_provider_it_was_given(tmp_path: Path):
    """`nearcode mcp --provider ...` builds its folders with that provider, not the local
    model (nobody listens at the URL: only the settings are looked at)."""
    from lsp_server.mcp.folders import FolderOptions, McpFolders

    remote = EmbeddingsProvider(provider="openai-compatible", url="http://127.0.0.1:9/v", model="m")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text("def f():\n    return 1\n")
    served = McpFolders(FolderOptions(embeddings=remote))
    try:
        served.set_roots([workspace])
        (folder,) = served.current()
        assert folder.settings.embeddings == remote
    finally:
        served.stop_all()
