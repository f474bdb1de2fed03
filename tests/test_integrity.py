"""Index storage under fault injection: a clean during a run, damaged pages and side files,
a writer that goes away, leftovers of killed processes.

Every case ends the same way: nothing crashes, a reader never writes, and the owner brings the
index back to exactly what the files say.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.storage import WriterLock
from lsp_server.engine.vectors import VectorIndex
from lsp_server.engine.workspace import EngineError, WorkspaceIndex

from .lsp_helpers import command, lsp_session, saved, wait_for
from .stub_encoder import STUB_SERVER, StubEncoder
from .subprocess_helpers import ROOT
from .test_faults import make_tree

pytestmark = pytest.mark.slow


def open_stub(root: Path, **kwargs) -> WorkspaceIndex:
    return WorkspaceIndex(root, encoder=StubEncoder(), **kwargs)


def built(root: Path) -> Path:
    with open_stub(root) as index:
        index.index()
        return index.index_dir


def all_vectors_match(index: WorkspaceIndex) -> bool:
    """Every label of the HNSW graph holds the vector SQLite has for that chunk."""
    vectors = index._vectors
    assert vectors is not None
    dim = vectors.dim
    every = sorted(vectors.live_labels())
    model = index.encoder.identity
    return vectors.sample_mismatches(
        lambda ids: index.store.live_vectors(model, dim, ids), sample=len(every)
    ) == 0 and vectors.live_labels() == index.store.embedded_ids()


def nearcode(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEARCODE_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )


# -- 8. clean while a server runs; generations -------------------------------------------------


def test_clean_refuses_while_another_process_owns_the_index(tmp_path, private_cache):
    root = make_tree(tmp_path / "ws", files=10)
    with open_stub(root) as owner:
        owner.index()
        done = nearcode("clean", str(root), cache=private_cache)
        assert done.returncode == 1, done.stderr
        assert f"in use by another nearcode process (pid {os.getpid()})" in done.stderr
        assert owner.index_dir.is_dir() and owner.check_consistency() == []


def test_a_process_that_outlived_its_index_never_writes_into_the_next_one(tmp_path):
    root = make_tree(tmp_path / "ws", files=20)
    old = open_stub(root)
    old.index()
    folder = old.index_dir
    shutil.rmtree(folder)  # deleted from under it (an older clean, or by hand)
    (root / "pkg0" / "mod0.py").write_text("def brand_new(rows):\n    return sorted(rows)\n")
    with open_stub(root) as fresh:
        fresh.index()
    saved_files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("vec")}
    old.update_file(root / "pkg1" / "mod1.py")  # the old process goes on working...
    old._vectors.dirty = True
    old.close()  # ...and saves at shutdown
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("vec")} == (
        saved_files
    )
    with open_stub(root) as reopened:
        assert reopened.check_consistency() == []
        assert all_vectors_match(reopened)


def test_vectors_of_another_build_are_never_loaded(tmp_path):
    root = make_tree(tmp_path / "ws", files=20)
    folder = built(root)
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("vectors.hnsw", "vectors.json"):
        shutil.copy(folder / name, aside / name)
    shutil.rmtree(folder)
    for path in sorted(root.rglob("*.py"))[:10]:  # another tree: same ids, other chunks
        path.write_text(path.read_text().replace("rows", "items"))
    built(root)
    for name in ("vectors.hnsw", "vectors.json"):
        shutil.copy(aside / name, folder / name)
    with open_stub(root) as index:
        assert index.check_consistency() == []
        assert all_vectors_match(index)


def test_a_graph_with_the_right_labels_and_wrong_vectors_is_caught(tmp_path):
    root = make_tree(tmp_path / "ws", files=20)
    with open_stub(root) as index:
        index.index()
        vectors, generation = index._vectors, index.storage.generation
        labels = sorted(vectors.live_labels())
        dim = vectors.dim
    swapped = VectorIndex(vectors.path, dim, generation)
    rng = np.random.default_rng(0)
    wrong = rng.normal(size=(len(labels), dim)).astype(np.float32)
    swapped.rebuild([(labels, wrong)], len(labels))
    swapped.save()  # a valid file and sidecar, of this generation, holding other vectors
    with open_stub(root) as index:
        assert all_vectors_match(index)
        some = index.store.chunks_by_id(labels[:1])[labels[0]]
        found = index.similar(some.path, some.chunk.start_line, end=None)
        assert found.results  # answers come from the rebuilt graph


# -- 9. damaged database pages and a damaged lexical index ---------------------------------------


def corrupt_pages(db: Path, seed: int, pages: int = 3) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    rng = random.Random(seed)
    count = len(data) // page_size
    for page in rng.sample(range(1, count), min(pages, count - 1)):
        start = page * page_size
        data[start : start + page_size] = rng.randbytes(page_size)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("seed", range(6))
def test_random_damaged_pages_are_set_aside_once_and_rebuilt(tmp_path, seed):
    root = make_tree(tmp_path / "ws", files=40)
    folder = built(root)
    for _ in range(2):  # twice: still one aside copy
        corrupt_pages(folder / "index.sqlite", seed)
        with open_stub(root) as index:
            damaged = [n for n in index.notices if "corrupt" in n]
            index.index()
            assert index.check_consistency() == []
            hits = index.search("alphaport sigmafold").results
            assert hits, index.notices
        assert len(damaged) <= 1
    asides = {p.name.removesuffix("-wal").removesuffix("-shm") for p in folder.glob("*.corrupt-*")}
    assert len(asides) <= 1  # one damaged copy (with its WAL) kept for a look
    assert not list(folder.glob("index.sqlite.old-*"))


def damage_lexical_index(db: Path) -> None:
    """Overwrites the lexical index's pages with bytes FTS5 cannot read. The same bytes
    every run: random ones were now and then read as a valid, empty page list, and the
    damage went unseen by the search that should have found it."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE chunks_fts_data SET block = CAST(replace(hex(zeroblob(length(block))), "
            "'00', 'F') AS BLOB) WHERE id > 10"
        )


def test_a_damaged_lexical_index_is_found_on_open_and_rebuilt(tmp_path, private_cache):
    root = make_tree(tmp_path / "ws", files=30)
    folder = built(root)
    damage_lexical_index(folder / "index.sqlite")
    done = nearcode("search", str(root), "alphaport", cache=private_cache)  # a reader
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "index database failed" in done.stderr and "nearcode index" in done.stderr
    with open_stub(root) as index:
        assert any("lexical index was damaged" in n for n in index.notices)
        assert index.search("alphaport").results
        assert index.store.health_problems() == []


def test_a_lexical_index_of_other_tokens_is_rebuilt_by_its_owner_and_not_by_a_reader(
    tmp_path,
):
    root = make_tree(tmp_path / "ws", files=10)
    (root / "adaptors.py").write_text("def map_ok(items):\n    return list(items)\n")
    folder = built(root)
    db = folder / "index.sqlite"
    # As an older version left it: its tokens (here: none of them) and its token version.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM chunks_fts")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'lexical_tokens'")
    conn.close()
    with open_stub(root, mode="read") as reader:  # a read never writes
        assert reader.store.lexical_tokens_outdated()
        assert not reader.store.lexical_search(["mapok"], 10)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'lexical_tokens'").fetchone()
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 0
    conn.close()
    with open_stub(root) as index:
        assert any("made with other tokens" in notice for notice in index.notices)
        assert not index.store.lexical_tokens_outdated()
        assert index.search("MapOk").results[0].symbol == "map_ok"
        assert index.check_consistency() == []
    with open_stub(root) as index:  # once
        assert not any("other tokens" in notice for notice in index.notices)


def test_an_index_from_before_file_roles_is_read_by_a_reader_and_completed_by_its_owner(
    tmp_path,
):
    root = make_tree(tmp_path / "ws", files=10)
    (root / "enums_string.go").write_text(
        "// Code generated by \"stringer -type=Mode\"; DO NOT EDIT.\n\npackage ws\n\n"
        "func (m Mode) String() string {\n\treturn modeNames[m]\n}\n"
    )
    folder = built(root)
    db = folder / "index.sqlite"
    # As a version before files had a role left it: no column, no rules recorded.
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE files DROP COLUMN role")
        conn.execute("DELETE FROM meta WHERE key = 'content_roles'")
    conn.close()
    with open_stub(root, mode="read") as reader:  # a read never writes, and still reads
        assert reader.store.content_roles_outdated()
        assert reader.search("String").results[0].path == "enums_string.go"
        assert reader.store.chunks_of_file("enums_string.go")[0].role == ""
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(files)")]
        assert "role" not in columns
    conn.close()
    with open_stub(root) as index:  # its owner adds the column and reads every file again
        assert any("judge a file by its content" in notice for notice in index.notices)
        index.index()
        assert index.store.chunks_of_file("enums_string.go")[0].role == "generated"
        assert index.store.chunks_of_file("pkg0/mod0.py")[0].role == ""
        assert index.check_consistency() == []
    with open_stub(root) as index:  # once
        assert not any("judge a file by its content" in notice for notice in index.notices)


def test_an_index_whose_roles_older_rules_judged_is_read_again_and_nothing_embedded(tmp_path):
    """Rules 1 told generated code alone: a Django app's tests.py was code. Its owner reads
    every file again under today's rules, which make it a test module, and reuses every
    vector."""
    root = make_tree(tmp_path / "ws", files=4)
    (root / "shop").mkdir()
    (root / "shop" / "tests.py").write_text(
        "from django.test import TestCase\n\n\nclass OrderTests(TestCase):\n"
        "    def test_total(self):\n        self.assertEqual(1, 1)\n"
    )
    folder = built(root)
    with sqlite3.connect(folder / "index.sqlite") as conn:
        conn.execute("UPDATE files SET role = ''")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'content_roles'")
    conn.close()
    with open_stub(root, mode="read") as reader:  # read as it was written
        assert reader.store.chunks_of_file("shop/tests.py")[0].role == ""
    with open_stub(root) as index:
        assert any("judge a file by its content" in notice for notice in index.notices)
        synced, embedded = index.index()
        assert synced.unchanged == 0 and embedded.encoded == 0
        assert index.store.chunks_of_file("shop/tests.py")[0].role == "test"
        assert index.store.chunks_of_file("pkg0/mod0.py")[0].role == ""
        assert index.check_consistency() == []


def test_an_index_from_before_minified_files_were_left_out_drops_them_once_embedding_nothing(
    tmp_path,
):
    """Rules 2 indexed a compiled stylesheet of one 140,000-character line in windows.
    A reader reads it as written; its owner reads every file again, drops those windows and
    embeds nothing."""
    root = make_tree(tmp_path / "ws", files=4)
    (root / "all.css").write_text(
        "".join(f".bx--row-{i}{{display:flex;padding:{i % 7}px}}" for i in range(4_000))
    )
    with WorkspaceIndex(root, EngineSettings(exclude=["!all.css"]), encoder=StubEncoder()) as old:
        old.index()  # what rules 2 stored: the stylesheet in windows
        folder = old.index_dir
        windows = len(old.store.chunks_of_file("all.css"))
    assert windows > 10
    with sqlite3.connect(folder / "index.sqlite") as conn:  # as version 2 wrote it
        conn.execute(
            "UPDATE files SET hash = substr(hash, 1, instr(hash, '+') - 1) WHERE path = 'all.css'"
        )
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'content_roles'")
    conn.close()
    with open_stub(root, mode="read") as reader:  # read as it was written
        assert len(reader.store.chunks_of_file("all.css")) == windows
    with open_stub(root) as index:
        assert any("judge a file by its content" in notice for notice in index.notices)
        synced, embedded = index.index()
        assert (synced.chunks_removed, embedded.encoded) == (windows, 0)
        assert [skipped.path for skipped in synced.skipped] == ["all.css"]
        assert index.store.chunks_of_file("all.css") == []
        assert index.store.chunks_of_file("pkg0/mod0.py")
        assert index.check_consistency() == []
    with open_stub(root) as index:  # once
        assert not any("judge a file by its content" in notice for notice in index.notices)
        assert index.changes().changed == 0


# -- 10. a read-only server takes over when the writer goes away --------------------------------


HOLDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.stub_encoder import StubEncoder
from lsp_server.engine.workspace import WorkspaceIndex
index = WorkspaceIndex(Path(sys.argv[1]), encoder=StubEncoder())
index.index()
print("holding", flush=True)
time.sleep(600)
"""


async def test_a_read_only_server_takes_over_when_the_owner_exits(tmp_path):
    root, cache = make_tree(tmp_path / "ws", files=10), tmp_path / "cache"
    env = {**os.environ, "NEARCODE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(ROOT)), str(root)],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        async with lsp_session([root], cache, server_command=STUB_SERVER) as client:
            status = await wait_for(lambda: _state(client, "ready"), timeout=30)
            assert status["readOnly"] is True
            holder.kill()
            holder.wait(timeout=10)
            await wait_for(lambda: _owner(client), timeout=30)
            new_file = root / "pkg0" / "fresh.py"
            new_file.write_text("def gammaquux_fresh(rows):\n    return rows\n")
            client.text_document_did_save(saved(new_file.as_uri()))

            async def found():
                answer = await command(client, "nearcode.search", {"query": "gammaquux_fresh"})
                top = answer["results"][:1]
                return top and top[0]["symbol"] == "gammaquux_fresh" and not answer["partial"]

            await wait_for(found, timeout=30)
    finally:
        holder.kill()


async def _state(client, state: str) -> dict | None:
    folders = (await command(client, "nearcode.status"))["folders"]
    return folders[0] if folders and folders[0]["state"] == state else None


async def _owner(client) -> dict | None:
    folders = (await command(client, "nearcode.status"))["folders"]
    return folders[0] if folders and folders[0].get("readOnly") is False else None


# -- 11. damaged side files ----------------------------------------------------------------------


@pytest.mark.parametrize("sidecar", ["[]", "null", '{"deleted": "xyz"}', '"text"', "{}"])
def test_a_sidecar_of_the_wrong_shape_is_treated_as_missing(tmp_path, sidecar):
    root = make_tree(tmp_path / "ws", files=20)
    folder = built(root)
    (folder / "vectors.json").write_text(sidecar)
    with open_stub(root, mode="read") as reader:  # a reader copes, and writes nothing
        assert reader.search("alphaport sigmafold").results
    assert (folder / "vectors.json").read_text() == sidecar
    with open_stub(root) as index:
        assert index.check_consistency() == [] and all_vectors_match(index)
    assert json.loads((folder / "vectors.json").read_text())["generation"]


def test_vector_blobs_cut_short_are_dropped_and_embedded_again(tmp_path):
    root = make_tree(tmp_path / "ws", files=20)
    folder = built(root)
    with sqlite3.connect(folder / "index.sqlite") as conn:
        conn.execute(
            "UPDATE embeddings SET vector = substr(vector, 1, 100) "
            "WHERE hash IN (SELECT hash FROM embeddings ORDER BY hash LIMIT 7)"
        )
    (folder / "vectors.hnsw").unlink()  # force a rebuild from the damaged cache
    with open_stub(root, mode="read") as reader:
        assert reader.search("alphaport sigmafold").results  # no "buffer size" crash
    with open_stub(root) as index:
        assert any("7 damaged cached vectors" in n for n in index.notices)
        index.index()
        assert index.check_consistency() == [] and all_vectors_match(index)


# -- 12. the environment: unchanged manifests are not rewritten; a lost WAL ---------------------


def test_opening_an_unchanged_index_rewrites_nothing(tmp_path):
    root = make_tree(tmp_path / "ws", files=10)
    folder = built(root)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix != ".lock"}
    time.sleep(0.02)
    with open_stub(root):
        pass
    with open_stub(root, mode="read", refresh=True) as reader:
        reader.refresh()
    after = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix != ".lock"}
    assert {k: v for k, v in after.items() if k in before} == before


async def test_a_wal_deleted_under_a_running_server_is_recovered(tmp_path):
    root, cache = make_tree(tmp_path / "ws", files=20), tmp_path / "cache"
    async with lsp_session([root], cache, server_command=STUB_SERVER) as client:
        await wait_for(lambda: _idle(client), timeout=60)
        folder = Path((await command(client, "nearcode.status"))["folders"][0]["indexPath"])
        for name in ("index.sqlite-wal", "index.sqlite-shm"):
            (folder / name).unlink(missing_ok=True)

        async def answers():
            found = await command(client, "nearcode.search", {"query": "alphaport sigmafold"})
            return found["results"] and not found["partial"]

        await wait_for(answers, timeout=60)
        status = (await command(client, "nearcode.status"))["folders"][0]
        assert status["state"] in ("ready", "embedding", "indexing")


async def _idle(client) -> dict | None:
    folders = (await command(client, "nearcode.status"))["folders"]
    entry = folders[0] if folders else {}
    return entry if entry.get("state") == "ready" and entry.get("pending") == 0 else None


# -- 13. leftovers --------------------------------------------------------------------------------


def test_temp_files_of_killed_saves_are_swept_and_live_ones_kept(tmp_path):
    root = make_tree(tmp_path / "ws", files=10)
    folder = built(root)
    dead = folder / ".vectors.hnsw.tmp-999999"
    dead.write_bytes(b"x" * 1000)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = folder / f".vectors.hnsw.tmp-{sleeper.pid}"
        live.write_bytes(b"y")
        with open_stub(root):
            pass
        assert not dead.exists() and live.exists()
    finally:
        sleeper.kill()


def test_a_reader_of_a_locked_index_does_not_take_the_lock(tmp_path):
    root = make_tree(tmp_path / "ws", files=5)
    folder = built(root)
    lock = WriterLock(folder)
    assert lock.try_acquire()
    try:
        with open_stub(root, mode="read", refresh=True) as reader:
            assert reader.read_only
            with pytest.raises(EngineError, match="read-only"):
                reader.sync()
    finally:
        lock.release()
