"""Faults: killed processes, damaged files, unwritable and full disks, two servers, no model.

After any of them the index must pass check_consistency() on reopen, and a sync() + embed must
bring it to exactly what a clean build of the same tree gives.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_server.engine import folder_indexer as folders_module
from lsp_server.engine import vectors as vectors_module
from lsp_server.engine.embedder import make_encoder
from lsp_server.engine.folder_indexer import FolderIndexer, search_folders
from lsp_server.engine.locations import FORMAT_VERSION, Manifest, index_dir_for
from lsp_server.engine.results import SearchResponse
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.store import Store
from lsp_server.engine.tokens import query_terms
from lsp_server.engine.workspace import WorkspaceIndex

from .lsp_helpers import command, lsp_session, wait_for, wait_until_ready
from .raw_lsp import framed_message
from .stub_encoder import STUB_SERVER, StubEncoder
from .subprocess_helpers import AS_NOBODY, ROOT, can_drop_privileges, shared_tmp

pytestmark = pytest.mark.slow

WORDS = [
    f"{a}{b}"
    for a in ("alpha", "delta", "omega", "sigma", "kappa", "theta")
    for b in ("port", "scan", "load", "sort", "pack", "wrap", "fold", "trim", "mask")
]
QUERIES = ["alphaport sigmafold", "deltascan kappatrim omegawrap", "thetamask", "handle 17 rows"]


def make_tree(root: Path, files: int = 240) -> Path:
    """Python files whose chunks all differ (ties would make rankings order-dependent)."""
    rng = random.Random(files)
    for i in range(files):
        folder = root / f"pkg{i % 12}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def handle_{i}_{j}(rows):\n"
            f"    # {' '.join(rng.sample(WORDS, 6))}\n"
            f"    return [row * {i + j} for row in rows if row > {j}]\n\n\n"
            for j in range(4)
        )
        (folder / f"mod{i}.py").write_text(f'"""Module {i}."""\n\n{body}')
    return root


def open_stub(root: Path, index_dir: Path | None = None) -> WorkspaceIndex:
    return WorkspaceIndex(root, encoder=StubEncoder(), index_dir=index_dir)


def snapshot(index: WorkspaceIndex) -> tuple[list[tuple], dict[str, dict], dict[tuple, bytes]]:
    """What searches are computed from: chunks, every BM25 score, every chunk's vector.

    Ranked result lists are not compared: ties (equal BM25 or cosine scores) are ordered by
    chunk id, which depends on the order files were indexed in, not on the index content.
    """
    stored = [c for path in index.store.file_paths() for c in index.store.chunks_of_file(path)]
    place = {c.id: (c.path, c.chunk.start_line, c.chunk.start_col) for c in stored}
    chunks = sorted(
        (*place[c.id], c.chunk.end_line, c.chunk.end_col, c.chunk.symbol, c.chunk.text)
        for c in stored
    )
    lexical = {
        q: {
            place[i]: round(score, 6)
            for i, score in index.store.lexical_search(query_terms(q), 10**6)
        }
        for q in QUERIES
    }
    cached = index.store.cached_vectors(index.encoder.identity, [c.embed_hash for c in stored])
    embedded = index.store.embedded_ids()
    live = index._vectors.live_labels() if index._vectors is not None else set()
    assert embedded == live == set(place)  # everything embedded, and HNSW holds exactly that
    vectors = {place[c.id]: cached[c.embed_hash].tobytes() for c in stored}
    return chunks, lexical, vectors


def clean_build(root: Path, tmp: Path) -> tuple[list[tuple], dict[str, list[tuple]]]:
    with open_stub(root, index_dir=tmp / f"clean-{time.monotonic_ns()}") as index:
        index.index()
        assert index.check_consistency() == []
        return snapshot(index)


def recover_and_compare(root: Path, tmp: Path) -> WorkspaceIndex:
    """Reopen: consistent at once; after sync + embed: identical to a clean build."""
    index = open_stub(root)
    assert index.check_consistency() == []
    index.index()
    assert index.check_consistency() == []
    assert snapshot(index) == clean_build(root, tmp)
    return index


# -- kill -9 ------------------------------------------------------------------------------------


def run_until_killed(mode: str, root: Path, seed: int, after_s: float) -> list[str]:
    """Starts the worker, lets it run `after_s` past "ready", then SIGKILLs it."""
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fault_worker.py"), mode, str(root), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NEARCODE_STUB_DELAY_MS": "1"},
    )
    assert worker.stdout is not None
    lines = [worker.stdout.readline().strip()]
    assert lines == ["ready"], worker.stderr.read() if worker.stderr else ""
    time.sleep(after_s)
    worker.send_signal(signal.SIGKILL)
    out, _ = worker.communicate(timeout=30)
    return lines + out.splitlines()


@pytest.mark.parametrize("mode", ["index", "update", "save"])
def test_kill_9_at_random_points_never_corrupts_the_index(tmp_path, mode):
    root = make_tree(tmp_path / "ws")
    if mode != "index":
        with open_stub(root) as index:
            index.index()
    rng = random.Random(f"{mode}-kill")
    for attempt in range(3):
        if mode == "index":  # each attempt kills a first build
            shutil.rmtree(index_dir_for(root), ignore_errors=True)
        lines = run_until_killed(mode, root, seed=attempt, after_s=rng.uniform(0.05, 1.5))
        assert "done" not in lines, "the worker finished before it was killed: use a bigger tree"
        recover_and_compare(root, tmp_path).close()


# -- damaged files --------------------------------------------------------------------------------


def built(root: Path) -> Path:
    with open_stub(root) as index:
        index.index()
        return index.index_dir


@pytest.mark.parametrize(
    "damage",
    ["zero-length hnsw", "garbage hnsw", "half hnsw", "garbage sidecar", "no sidecar", "no hnsw"],
)
def test_damaged_vector_files_are_rebuilt(tmp_path, damage):
    root = make_tree(tmp_path / "ws", files=30)
    index_dir = built(root)
    hnsw, sidecar = index_dir / "vectors.hnsw", index_dir / "vectors.json"
    if damage == "zero-length hnsw":
        hnsw.write_bytes(b"")
    elif damage == "garbage hnsw":
        hnsw.write_bytes(os.urandom(hnsw.stat().st_size))
    elif damage == "half hnsw":
        hnsw.write_bytes(hnsw.read_bytes()[: hnsw.stat().st_size // 2])
    elif damage == "garbage sidecar":
        sidecar.write_text("{not json")
    else:
        (sidecar if damage == "no sidecar" else hnsw).unlink()
    recover_and_compare(root, tmp_path).close()


@pytest.mark.parametrize("damage", ["garbage", "zero-length", "truncated", "not sqlite at all"])
def test_a_corrupt_database_is_moved_aside_and_rebuilt(tmp_path, damage):
    root = make_tree(tmp_path / "ws", files=30)
    index_dir = built(root)
    db = index_dir / "index.sqlite"
    with sqlite3.connect(db) as conn:  # else the intact pages in the WAL hide the damage
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    db.write_bytes(
        {
            "garbage": data[:100] + os.urandom(len(data) - 100),
            "zero-length": b"",
            "truncated": data[: len(data) // 3],
            "not sqlite at all": b"hello, I am a text file\n" * 100,
        }[damage]
    )
    index = recover_and_compare(root, tmp_path)
    if damage != "zero-length":  # an empty file is a valid, empty database
        assert any("rebuilding" in n for n in index.notices), index.notices
    index.close()


def test_a_manifest_from_a_newer_nearcode_rebuilds_with_a_notice(tmp_path):
    root = make_tree(tmp_path / "ws", files=20)
    index_dir = built(root)
    Manifest(str(root), StubEncoder.identity, FORMAT_VERSION + 5).write(index_dir)
    index = recover_and_compare(root, tmp_path)
    assert any(f"newer nearcode (format {FORMAT_VERSION + 5})" in n for n in index.notices)
    index.close()


# -- unwritable and full disks ------------------------------------------------------------------


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to become nobody")
async def test_a_read_only_cache_dir_is_reported_and_the_server_keeps_answering():
    base = shared_tmp()
    root, cache = make_tree(base / "ws", files=5), base / "cache"
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    cache.mkdir(mode=0o755)  # root's: nobody cannot write here
    async with lsp_session([root], cache, server_command=AS_NOBODY + STUB_SERVER) as client:
        status = await wait_for(lambda: _folder_state(client, "error"), timeout=30)
        assert "Permission denied" in status["message"]
        error = next(m for m in client.messages if m.type == types.MessageType.Error)
        assert "cannot open the index" in error.message
        found = await command(client, "nearcode.search", {"query": "parse invoice"})
        assert found == {"results": [], "partial": True}


async def _folder_state(client, state: str) -> dict | None:
    status = await command(client, "nearcode.status")
    folders = status["folders"]
    return folders[0] if folders and folders[0]["state"] == state else None


def test_a_full_disk_while_indexing_rolls_back_cleanly(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "ws", files=30)
    calls = {"n": 0}
    real_insert = Store.insert_chunk

    def insert_until_full(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 50:
            raise sqlite3.OperationalError("database or disk is full")
        return real_insert(self, *args, **kwargs)

    monkeypatch.setattr(Store, "insert_chunk", insert_until_full)
    with open_stub(root) as index, pytest.raises(sqlite3.OperationalError, match="disk is full"):
        index.sync()
    monkeypatch.setattr(Store, "insert_chunk", real_insert)
    recover_and_compare(root, tmp_path).close()


class Events:
    """What a FolderIndexer tells the editor, recorded."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.infos: list[str] = []

    def begin_progress(self, title: str, message: str, percentage: int | None = 0):
        return _NoProgress()

    def show_error(self, message: str) -> None:
        self.errors.append(message)

    def show_info(self, message: str) -> None:
        self.infos.append(message)


class _NoProgress:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def report(self, percentage: int | None, message: str) -> None:
        pass

    def end(self, message: str) -> None:
        pass


def started_folder(root: Path, events: Events, debounce_s: float) -> FolderIndexer:
    """A folder indexer on the stub encoder, started and ready (its first index built)."""
    folder = FolderIndexer(
        "file://ws", root, EngineSettings(), StubEncoder(), events, debounce_s=debounce_s
    )
    folder.start()
    assert folder.ready.wait(10)
    deadline = time.monotonic() + 30
    while folder.status.state != "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    return folder


def test_a_full_disk_when_saving_vectors_does_not_stop_updates(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "ws", files=10)

    def disk_full(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(vectors_module.VectorIndex, "save", disk_full)
    monkeypatch.setattr(folders_module, "_SAVE_EVERY_S", 0.0)  # save on every loop
    events = Events()
    folder = started_folder(root, events, debounce_s=0.05)
    try:
        time.sleep(1.5)  # a few failed saves
        target = root / "pkg0" / "mod0.py"
        target.write_text("def brand_new_name():\n    return 1\n")
        folder.file_changed(str(target))
        assert folder.index is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            top = folder.index.search("brand new name").results
            if top and top[0].symbol == "brand_new_name":
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the update was lost after a failed save: {folder.status}")
        assert all(t.is_alive() for t in folder._threads), "a thread died on ENOSPC"
        assert folder.status.state == "ready" and not events.errors
    finally:
        folder.stop()  # close() must not raise either
    open_stub(root).close()  # nor does opening on a full disk
    monkeypatch.undo()
    recover_and_compare(root, tmp_path).close()


def test_a_folder_closed_under_a_search_answers_partial_without_a_repair(tmp_path):
    """A search that outlives its folder (removed from the workspace, or the server stopping)
    is not a damaged database: no error for the user, no repair, nothing set aside."""
    root = make_tree(tmp_path / "ws", files=10)
    events = Events()
    folder = started_folder(root, events, debounce_s=0.05)
    query = "alphaport sigmafold"
    first = search_folders([folder], lambda index: index.search(query), 10)
    assert first.results and not first.partial

    def closed_midway(index: WorkspaceIndex):
        folder.stop()  # this thread's reader connection is closed under it
        return index.search(query)

    answer = search_folders([folder], closed_midway, 10)
    assert answer.partial and answer.results == []
    assert events.errors == [] and folder.status.state != "error"
    assert not folder._reopen.is_set()
    # Another thread's query after close opens no new connection: it fails the same way.
    later: list[SearchResponse] = []
    worker = threading.Thread(
        target=lambda: later.append(search_folders([folder], closed_midway, 5))
    )
    worker.start()
    worker.join(30)
    assert later and later[0].partial and later[0].results == []
    index_dir = index_dir_for(root, None)
    assert not [p for p in index_dir.iterdir() if ".corrupt-" in p.name]
    with open_stub(root) as reopened:
        assert reopened.check_consistency() == []
        assert not reopened.notices


# -- two servers, and no model ------------------------------------------------------------------


async def test_two_servers_on_one_workspace_the_second_is_read_only(tmp_path):
    root = make_tree(tmp_path / "ws", files=40)
    cache = tmp_path / "cache"
    async with lsp_session([root], cache, server_command=STUB_SERVER) as first:
        await wait_until_ready(first, folders=1, timeout=60)
        async with lsp_session([root], cache, server_command=STUB_SERVER) as second:
            status = await wait_until_ready(second, folders=1, timeout=60)
            assert status["folders"][0]["readOnly"] is True
            await wait_for(lambda: _has_read_only_notice(second), timeout=10)
            found = await command(second, "nearcode.search", {"query": "parse invoice rows"})
            assert found["results"]
            (root / "pkg0" / "mod0.py").write_text("def saved_while_two_run():\n    return 2\n")
            first.text_document_did_save(
                types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(
                        uri=(root / "pkg0" / "mod0.py").as_uri()
                    )
                )
            )

            # Its lexical index is live; its vectors are a snapshot from when it opened.
            async def seen_by_second() -> bool:
                found = await command(second, "nearcode.search", {"query": "saved_while_two_run"})
                return any(r["symbol"] == "saved_while_two_run" for r in found["results"][:3])

            await wait_for(seen_by_second, timeout=20)
    recover_and_compare(root, tmp_path).close()


async def _has_read_only_notice(client) -> bool:
    await asyncio.sleep(0)
    return any("read-only" in m.message for m in client.messages)


async def test_a_model_that_fails_to_load_leaves_lexical_search_and_one_message(tmp_path):
    root = make_tree(tmp_path / "ws", files=10)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.py").write_text("def other_thing():\n    return 0\n")
    options = {"model": "/nonexistent/model"}
    async with lsp_session(
        [root, tmp_path / "other"], tmp_path / "cache", options=options
    ) as client:
        status = await wait_for(lambda: _model_error(client), timeout=120)
        assert "/nonexistent/model" in status["modelError"]
        found = await command(client, "nearcode.search", {"query": "parse invoice rows"})
        assert found["results"] and found["partial"] is True
        await asyncio.sleep(1.0)
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1, [m.message for m in errors]
        assert "lexical search still works" in errors[0].message


async def _model_error(client) -> dict | None:
    status = await command(client, "nearcode.status")
    ready = status["folders"] and all(f["state"] == "ready" for f in status["folders"])
    return status if status["modelError"] and ready else None


def test_check_consistency_notices_damage(tmp_path):
    """The checker itself: each invariant, broken on purpose, is reported."""
    root = make_tree(tmp_path / "ws", files=5)
    with open_stub(root) as index:
        index.index()
        assert index.check_consistency() == []
        with index.store.transaction() as conn:
            conn.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT min(id) FROM chunks)")
            conn.execute("DELETE FROM embeddings WHERE hash = (SELECT max(embed_hash) FROM chunks)")
        assert index._vectors is not None
        index._vectors.remove([max(index.store.embedded_ids())])
        problems = "\n".join(index.check_consistency())
        assert "lexical index disagrees" in problems
        assert "have no cached vector" in problems
        assert "vector index disagrees" in problems
    json.dumps(problems)


def _read_until(process: subprocess.Popen, marker: bytes, timeout: float = 60.0) -> bytes:
    """The server's output up to and including `marker` (a whole answer's id)."""
    assert process.stdout is not None
    seen, deadline = b"", time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} from the server in {timeout} s: {seen[-300:]!r}"
        if select.select([process.stdout], [], [], left)[0]:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"the server closed its output: {seen[-300:]!r}"
            seen += chunk
    return seen


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3])
def test_a_server_closed_while_the_model_loads_or_embeds_exits_cleanly(tmp_path, delay):
    """An editor or agent closes the server just after starting it (or restarts it): the
    real model is loading or embedding in a background thread. The language server and
    the MCP server stop and exit 0, not aborted by C++ under that thread (exit 134,
    "terminate called without an active exception", as both did)."""
    # The model exported beforehand (once for the session), as on every start but the
    # first: the server then loads it into ONNX Runtime at once, instead of waiting on an
    # export in a child process.
    make_encoder(EngineSettings()).load()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for number in range(40):
        (workspace / f"m{number}.py").write_text(
            f"def handler_{number}(request):\n    return request.get('id{number}')\n"
        )
    env = {**os.environ, "NEARCODE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    folder = {"uri": workspace.as_uri(), "name": "ws"}
    initialize = {"processId": None, "rootUri": folder["uri"], "capabilities": {},
                  "workspaceFolders": [folder]}
    lsp_hello = framed_message(
        {"id": 1, "method": "initialize", "params": initialize}
    ) + framed_message({"method": "initialized", "params": {}})
    lsp_bye = framed_message({"id": 2, "method": "shutdown"}) + framed_message({"method": "exit"})
    client = {"name": "test", "version": "1"}
    mcp_hello = "".join(json.dumps(message) + "\n" for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    )).encode()
    runs = {  # each: the hello, the answer awaited before the pause, then the goodbye
        "serve": (["serve"], lsp_hello, b'"id": 1', lsp_bye),
        "mcp": (["mcp", str(workspace)], mcp_hello, b'"id":2', b""),  # b"": stdin closed
    }
    for name, (args, hello, answered, bye) in runs.items():
        process = subprocess.Popen(
            [sys.executable, "-m", "lsp_server", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=ROOT,
        )
        assert process.stdin is not None
        process.stdin.write(hello)
        process.stdin.flush()
        _read_until(process, answered)
        time.sleep(delay)
        out, err = process.communicate(bye, timeout=120)
        assert b"terminate called" not in err, (name, err[-500:])
        assert process.returncode == 0, (name, process.returncode, err[-500:])
        if name == "serve":
            assert b'"id": 2, "jsonrpc": "2.0", "result": null' in out, out[-300:]
