"""Embeddings from a real OpenAI-compatible server on loopback (infinity-emb, the bundled
MiniLM weights): same vectors as the local encoder, whole workspaces indexed and searched
through it, outages, 429 storms and slow answers survived with nothing lost, clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from lsprotocol import types

from lsp_server.bench.embedding_server import SERVED_MODEL, InfinityServer
from lsp_server.engine.embedder import make_encoder
from lsp_server.engine.remote_encoder import ProviderError, RemoteEncoder
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.workspace import WorkspaceIndex

from ..conftest import FIXTURE_WORKSPACE
from ..lsp_helpers import command, lsp_session, wait_for, wait_until_ready
from .conftest import API_KEY, KEY_ENV, remote_settings
from .fault_proxy import FaultProxy, Faults

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RETRY_QUESTION = "where do we retry failed HTTP requests?"
RETRY_FUNCTION = ("http/client.py", "HttpClient.fetch_with_retry")


def _workspace(tmp_path: Path, extra_files: int = 0) -> Path:
    """The fixture workspace, plus generated modules (distinct functions) to make work."""
    target = tmp_path / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, target)
    nouns = ["invoice", "ledger", "sensor", "bucket", "tenant", "palette", "kernel", "glyph"]
    verbs = ["merge", "rotate", "audit", "compress", "render", "throttle", "index", "archive"]
    for number in range(extra_files):
        lines = []
        for position, verb in enumerate(verbs):
            noun = nouns[(number + position) % len(nouns)]
            lines += [
                f"def {verb}_{noun}_{number}(items, limit={position + 1}):",
                f'    """{verb.title()} each {noun} of batch {number}, {_amount(position)}."""',
                f"    picked = [item for item in items if item.{noun}_id % {position + 2} == 0]",
                f"    return sorted(picked, key=lambda item: item.{verb}_rank)[:limit]",
                "",
            ]
        (target / "generated").mkdir(exist_ok=True)
        (target / "generated" / f"module_{number}.py").write_text("\n".join(lines))
    return target


def _amount(position: int) -> str:
    return ["at most one", "two at most", "a few", "several", "many", "most", "all", "none"][
        position % 8
    ]


def _top(index: WorkspaceIndex, query: str) -> tuple[str, str]:
    results = index.search(query, limit=5).results
    assert results, query
    return results[0].path, results[0].symbol


def _stored(index: WorkspaceIndex) -> tuple[list[str], np.ndarray]:
    """The embedded text and the stored vector of every chunk, in one order."""
    ids = sorted(index.store.embedded_ids())
    chunks = index.store.chunks_by_id(ids)
    vectors: dict[int, np.ndarray] = {}
    dim = index._vectors.dim
    for batch, matrix in index.store.live_vectors(index.encoder.identity, dim, ids):
        vectors.update(zip(batch, matrix, strict=True))
    return [index.embed_text(chunks[i].chunk) for i in ids], np.stack([vectors[i] for i in ids])


def _all_embedded(index: WorkspaceIndex) -> None:
    """Nothing lost: every chunk has its vector, HNSW agrees with SQLite."""
    status = index.status()
    assert status.chunks > 0 and status.pending == 0, status
    assert index.check_consistency() == []


# -- the same vectors -----------------------------------------------------------------------------


def test_vectors_match_the_local_encoder(embedding_server: InfinityServer, workspace: Path):
    remote = make_encoder(remote_settings(embedding_server.url))
    # The server serves the bundled weights as they are: the local model without the adapter.
    bare = EngineSettings(adapter="none")
    local = make_encoder(bare)
    with WorkspaceIndex(workspace, bare, encoder=local) as index:
        index.sync()
        texts = [index.embed_text(c.chunk) for p in index.store.file_paths() for c in
                 index.store.chunks_of_file(p)]  # fmt: skip
    assert len(texts) > 20
    cosine = (remote.encode(texts) * local.encode(texts)).sum(axis=1)
    assert cosine.min() >= 0.99, cosine.min()
    assert remote.dim == local.dim == 384
    assert isinstance(remote, RemoteEncoder) and remote.loaded


def test_cli_indexes_searches_and_says_where_embeddings_go(
    embedding_server: InfinityServer, tmp_path: Path, private_cache: Path
):
    workspace = _workspace(tmp_path)
    remote = [
        "--provider", "openai-compatible", "--url", embedding_server.url,
        "--remote-model", SERVED_MODEL, "--api-key-env", KEY_ENV,
    ]  # fmt: skip

    def nearcode(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [sys.executable, "-m", "lsp_server", *args],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip

    indexed = nearcode("index", str(workspace), *remote)
    assert indexed.returncode == 0, indexed.stderr
    assert "0 chunks embedded" not in indexed.stdout
    found = nearcode("search", str(workspace), RETRY_QUESTION, "--limit", "3", *remote)
    assert found.returncode == 0, found.stderr
    first = found.stdout.splitlines()[0]
    assert first.startswith("http/client.py:22 HttpClient.fetch_with_retry"), found.stdout
    assert "incomplete" not in found.stderr and "lexical" not in found.stderr
    status = nearcode("status", str(workspace))  # the index says where its vectors come from
    assert (
        f"embeddings openai-compatible {embedding_server.url} model {SERVED_MODEL} "
        "(code text is sent there)"
    ) in status.stdout
    assert f"model      openai-compatible:{SERVED_MODEL}|dims=native" in status.stdout
    # The key is a variable's name in settings: the key itself is stored nowhere.
    stored = b"".join(p.read_bytes() for p in private_cache.rglob("*") if p.is_file())
    assert API_KEY.encode() not in stored
    assert all(API_KEY not in run.stdout + run.stderr for run in (indexed, found, status))


# -- faults ---------------------------------------------------------------------------------------


def test_429_storm_then_random_429s_lose_nothing(embedding_server: InfinityServer, tmp_path: Path):
    workspace = _workspace(tmp_path, extra_files=20)
    faults = Faults(storm=4, retry_after="1", reject_ratio=0.4)
    with FaultProxy(embedding_server.url, faults) as proxy:
        settings = remote_settings(proxy.url)
        with WorkspaceIndex(workspace, settings) as index:
            index.index()
            _all_embedded(index)
            assert _top(index, RETRY_QUESTION) == RETRY_FUNCTION
            texts, stored = _stored(index)
            reference = make_encoder(remote_settings(embedding_server.url)).encode(texts)
            cosine = (stored * reference).sum(axis=1)
            assert cosine.min() > 0.999  # each chunk got its own vector, none was mixed up
    rejected = proxy.answered(429)
    assert len(rejected) >= 6, len(rejected)
    # Retry-After: 1 was honoured. Two workers shared the storm's four 429s, so one of them
    # met two in a row: >= 1 s apart (its own backoff alone would have waited < 0.5 s).
    assert rejected[3].at - rejected[0].at >= 0.95


def test_slow_server_timeouts_are_retried_and_lose_nothing(
    embedding_server: InfinityServer, tmp_path: Path
):
    workspace = _workspace(tmp_path, extra_files=3)
    # The first requests take longer than the client's timeout (the server's own time on
    # two busy cores stays well under it); the client gives up on them and asks again.
    faults = Faults(delay_s=6.0, slow_requests=3)
    with FaultProxy(embedding_server.url, faults) as proxy:
        settings = remote_settings(proxy.url, timeout_ms=5000)
        with WorkspaceIndex(workspace, settings) as index:
            index.index()
            _all_embedded(index)
            batches = -(-index.status().chunks // settings.embeddings.batch_size)
            assert _top(index, RETRY_QUESTION) == RETRY_FUNCTION
    assert len(proxy.seen) >= batches + 3, "the timed-out requests were not retried"


async def test_server_killed_mid_index_lexical_meanwhile_then_resumes(
    infinity_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    workspace = _workspace(tmp_path, extra_files=30)
    server = InfinityServer(infinity_venv, api_key=API_KEY, log_file=tmp_path / "infinity.log")
    server.start()
    embeddings = {
        "provider": "openai-compatible", "url": server.url, "model": SERVED_MODEL,
        "apiKeyEnv": KEY_ENV, "batchSize": 16, "maxConcurrency": 2,
    }  # fmt: skip
    try:
        async with lsp_session(
            [workspace], tmp_path / "cache", options={"embeddings": embeddings}
        ) as client:

            async def part_embedded():
                status = await command(client, "nearcode.status")
                folder = status["folders"][0] if status["folders"] else {}
                return status if folder.get("embedded", 0) >= 32 else None

            status = await wait_for(part_embedded, timeout=120, interval=0.1)
            server.kill()
            folder = status["folders"][0]
            assert folder["pending"] > 0, "indexing finished before the server was killed"
            assert status["embeddings"] == {
                "provider": "openai-compatible", "url": server.url, "model": SERVED_MODEL
            }  # fmt: skip

            async def paused():
                status = await command(client, "nearcode.status")
                message = status["folders"][0]["message"]
                return message if message.startswith("paused, retrying") else None

            message = await wait_for(paused, timeout=60)
            assert f"the embedding server at {server.url} is unavailable" in message
            assert "connection refused" in message
            answer = await command(client, "nearcode.search", {"query": "fetch_with_retry"})
            assert answer["partial"] is True
            notice = answer["notice"]
            assert notice.startswith(f"the embedding server at {server.url} is unavailable (")
            assert notice.endswith(": lexical results only")
            top = answer["results"][0]
            assert (top["path"], top["symbol"]) == RETRY_FUNCTION

            server.start()  # the same port: indexing resumes by itself
            ready = await wait_until_ready(client, folders=1, timeout=240)
            assert ready["folders"][0]["pending"] == 0
            answer = await command(client, "nearcode.search", {"query": RETRY_QUESTION})
            assert answer["partial"] is False and "notice" not in answer
            top = answer["results"][0]
            assert (top["path"], top["symbol"]) == RETRY_FUNCTION
    finally:
        server.kill()
    # Nothing lost: reopened after the server's shutdown, every chunk has its vector.
    monkeypatch.setenv("NEARCODE_CACHE_DIR", str(tmp_path / "cache"))
    settings = remote_settings(server.url)
    with WorkspaceIndex(workspace, settings) as index:
        _all_embedded(index)
        assert index.status().chunks == ready["folders"][0]["chunks"]


def test_search_without_the_server_is_lexical_and_partial(
    embedding_server: InfinityServer, tmp_path: Path
):
    workspace = _workspace(tmp_path)
    with WorkspaceIndex(workspace, remote_settings(embedding_server.url)) as index:
        index.index()
    gone = InfinityServer(embedding_server.venv)  # a free port that nobody serves
    started = time.monotonic()
    # Another URL, same model: the same index (no rebuild), but nobody answers there.
    with WorkspaceIndex(workspace, remote_settings(gone.url)) as index:
        assert index.notices == []
        response = index.search("fetch_with_retry")
    assert time.monotonic() - started < 5, "the search waited on a dead server"
    assert response.partial is True
    assert response.notices == [
        f"the embedding server at {gone.url} is unavailable (connection refused) after 2 "
        "attempts: lexical results only"
    ]
    assert (response.results[0].path, response.results[0].symbol) == RETRY_FUNCTION


# -- clear errors ---------------------------------------------------------------------------------


def _error_of(settings: EngineSettings) -> str:
    with pytest.raises(ProviderError) as caught:
        make_encoder(settings).load()
    return str(caught.value)


def test_a_file_changed_while_the_server_is_down_is_still_searched(
    embedding_server: InfinityServer, tmp_path: Path
):
    """A search refreshes files changed on disk; with the server down it answers from
    BM25 (partial) and leaves the new chunks pending, instead of failing."""
    workspace = _workspace(tmp_path)
    with WorkspaceIndex(workspace, remote_settings(embedding_server.url)) as index:
        index.index()
    (workspace / "textutil" / "ledger.py").write_text(
        "def reconcile_ledger_entries(entries):\n    return sorted(entries)\n"
    )
    gone = InfinityServer(embedding_server.venv)  # a free port that nobody serves
    with WorkspaceIndex(workspace, remote_settings(gone.url)) as index:
        fresh = index.refresh()
        response = index.search("reconcile_ledger_entries")
        pending = index.status().pending
    assert (fresh.applied, fresh.unembedded) == (True, 1)
    assert response.partial is True
    assert (response.results[0].path, response.results[0].symbol) == (
        "textutil/ledger.py",
        "reconcile_ledger_entries",
    )
    assert pending == 1


def test_wrong_key_missing_key_wrong_url_and_bad_dimensions_say_what_to_fix(
    embedding_server: InfinityServer, monkeypatch: pytest.MonkeyPatch
):
    url = embedding_server.url
    monkeypatch.setenv("NEARCODE_TEST_WRONG_KEY", "not-the-key")
    wrong_key = _error_of(remote_settings(url, api_key_env="NEARCODE_TEST_WRONG_KEY"))
    assert wrong_key == (
        f"{url} refused the request: HTTP 401 (Unauthorized); check the API key in the "
        "environment variable NEARCODE_TEST_WRONG_KEY"
    )
    no_key = _error_of(remote_settings(url, api_key_env=""))
    assert "HTTP 401" in no_key and "apiKeyEnv" in no_key
    unset = _error_of(remote_settings(url, api_key_env="NEARCODE_TEST_UNSET_KEY"))
    assert unset.startswith("the environment variable NEARCODE_TEST_UNSET_KEY")
    assert "is not set" in unset

    without_v1 = url.removesuffix("/v1")
    not_found = _error_of(remote_settings(without_v1))
    assert not_found == (
        f"{without_v1}/embeddings answered HTTP 404 (Not Found): check the url (the base URL "
        f"of the API, usually ending in /v1) and the model name '{SERVED_MODEL}'"
    )

    too_many = _error_of(remote_settings(url, dimensions=1000))
    assert too_many.startswith(f"{url} refused the request: HTTP 400")
    assert "matryoshka_dim=1000 is not in a valid range" in too_many

    # A server that ignores `dimensions` (many do) answers 384: said plainly.
    with FaultProxy(url, Faults(strip_dimensions=True)) as proxy:
        ignored = _error_of(remote_settings(proxy.url, dimensions=128))
    assert ignored == (
        f"{proxy.url} returned 384-dimensional vectors, but the embeddings dimensions "
        "setting asks for 128: the server or model ignores it; set dimensions to 384 or "
        "remove it"
    )
    # ...and one that honours it is used at that size.
    encoder = make_encoder(remote_settings(url, dimensions=128))
    assert encoder.encode(["def f(): pass"]).shape == (1, 128)
    assert encoder.identity == f"openai-compatible:{SERVED_MODEL}|dims=128"


def test_cli_errors_are_one_line(embedding_server: InfinityServer, tmp_path: Path):
    workspace = _workspace(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEARCODE_TEST_WRONG_KEY": "nope"}
    done = subprocess.run(
        [
            sys.executable, "-m", "lsp_server", "index", str(workspace),
            "--provider", "openai-compatible", "--url", embedding_server.url,
            "--remote-model", SERVED_MODEL, "--api-key-env", "NEARCODE_TEST_WRONG_KEY",
        ],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("nearcode:")]
    assert lines == [
        f"nearcode: {embedding_server.url} refused the request: HTTP 401 (Unauthorized); "
        "check the API key in the environment variable NEARCODE_TEST_WRONG_KEY"
    ], done.stderr
    assert "Traceback" not in done.stderr


def test_bench_measures_pipeline_against_raw_server(
    embedding_server: InfinityServer, tmp_path: Path
):
    from lsp_server.bench.speed import remote_throughput

    workspace = _workspace(tmp_path, extra_files=4)
    settings = remote_settings(embedding_server.url)
    measured = remote_throughput(workspace, settings, 40, tmp_path / "work", repeats=1)
    assert measured["sample_chunks"] == 40
    assert measured["pipeline_chunks_per_s"] > 0 and measured["raw_server_chunks_per_s"] > 0
    run = measured["runs"][0]
    assert measured["ratio"] == run["ratio"] > 0
    assert measured["url"] == embedding_server.url and measured["max_concurrency"] == 2


async def test_language_server_with_a_wrong_key_says_so_once_and_stays_lexical(
    embedding_server: InfinityServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NEARCODE_TEST_WRONG_KEY", "not-the-key")
    workspace = _workspace(tmp_path)
    embeddings = {
        "provider": "openai-compatible", "url": embedding_server.url, "model": SERVED_MODEL,
        "apiKeyEnv": "NEARCODE_TEST_WRONG_KEY",
    }  # fmt: skip
    refused = (
        f"{embedding_server.url} refused the request: HTTP 401 (Unauthorized); check the API "
        "key in the environment variable NEARCODE_TEST_WRONG_KEY"
    )
    async with lsp_session(
        [workspace], tmp_path / "cache", options={"embeddings": embeddings}
    ) as client:

        async def settled():
            status = await command(client, "nearcode.status")
            folders = status["folders"]
            return status if folders and folders[0]["state"] == "ready" else None

        status = await wait_for(settled, timeout=60)
        assert status["modelError"] == refused
        assert status["folders"][0]["message"] == f"lexical search only: {refused}"
        found = await command(client, "nearcode.search", {"query": "fetch_with_retry"})
        assert found["partial"] is True
        assert (found["results"][0]["path"], found["results"][0]["symbol"]) == RETRY_FUNCTION
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert errors == [f"nearcode: semantic search is off, lexical search still works. {refused}"]
