"""Index bookkeeping: incremental updates, persistence, recovery. Uses the hashing encoder."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import weakref
from dataclasses import replace
from pathlib import Path

import pytest

from lsp_server.engine import store as store_module
from lsp_server.engine.embedder import ModelLoadError
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.store import Store
from lsp_server.engine.workspace import EngineError, WorkspaceIndex

from .conftest import HashingEncoder


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _symbols(index: WorkspaceIndex, path: str) -> list[str]:
    return [c.chunk.symbol for c in index.store.chunks_of_file(path)]


def test_index_builds_lexical_then_vectors(workspace, open_index, encoder):
    index = open_index(workspace)
    report = index.sync()
    assert report.added == 9  # every fixture file but none ignored
    status = index.status()
    assert status.files == 9 and status.chunks > 20 and status.embedded == 0
    embedded = index.embed_pending()
    assert embedded.encoded == status.chunks
    assert index.status().pending == 0
    assert "HttpClient.fetch_with_retry" in _symbols(index, "http/client.py")


def test_second_sync_with_nothing_changed_does_no_work(workspace, open_index, encoder):
    index = open_index(workspace)
    index.index()
    calls = encoder.calls
    report = index.sync()
    assert (report.added, report.changed, report.removed) == (0, 0, 0)
    assert report.unchanged == 9
    assert index.embed_pending().encoded == 0
    assert encoder.calls == calls


def test_editing_one_function_reembeds_only_that_chunk(workspace, open_index, encoder):
    index = open_index(workspace)
    index.index()
    before = len(encoder.texts)
    source = workspace / "textutil" / "strings.py"
    source.write_text(source.read_text().replace("return \"-\".join(words)",
                                                 "return \"_\".join(words)"))
    update = index.update_file(source)
    assert update.status == "updated"
    assert (update.chunks_added, update.chunks_removed) == (1, 1)
    assert index.embed_pending().encoded == 1
    new_texts = encoder.texts[before:]
    assert len(new_texts) == 1 and "def slugify" in new_texts[0]


def test_saving_an_unchanged_file_costs_nothing(workspace, open_index, encoder):
    index = open_index(workspace)
    index.index()
    calls = encoder.calls
    path = workspace / "storage" / "cache.py"
    _bump_mtime(path)
    assert index.update_file(path).status == "unchanged"
    assert index.embed_pending().encoded == 0
    assert encoder.calls == calls


def test_lines_added_above_move_chunks_without_reembedding(workspace, open_index, encoder):
    index = open_index(workspace)
    index.index()
    path = workspace / "storage" / "cache.py"
    path.write_text("# a new comment line\n\n" + path.read_text())
    update = index.update_file(path)
    assert update.chunks_added == 1  # only the top-level block changed
    chunks = {c.chunk.symbol: c.chunk for c in index.store.chunks_of_file("storage/cache.py")}
    assert chunks["LRUCache.get"].start_line == 12


def test_delete_and_rename_files(workspace, open_index, encoder):
    index = open_index(workspace)
    index.index()
    calls = encoder.calls
    (workspace / "web" / "api.js").unlink()
    (workspace / "storage" / "cache.py").rename(workspace / "storage" / "lru.py")
    report = index.sync()
    assert report.removed == 2 and report.added == 1
    assert index.store.file("web/api.js") is None
    assert "LRUCache.put" in _symbols(index, "storage/lru.py")
    # The moved code keeps its cached vectors: nothing new for the model.
    assert index.embed_pending().encoded == 0
    assert encoder.calls == calls
    assert index.status().pending == 0


def test_remove_file_drops_its_search_results(workspace, open_index):
    index = open_index(workspace)
    index.index()
    assert any(r.path == "web/api.js" for r in index.search("debounce").results)
    index.remove_file("web/api.js")
    assert not any(r.path == "web/api.js" for r in index.search("debounce").results)


def test_sync_sees_changes_made_while_closed(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
    (workspace / "textutil" / "new_module.py").write_text(
        "def reverse_words(text):\n    return ' '.join(reversed(text.split()))\n")
    (workspace / "legacy" / "old_helpers.py").unlink()
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        report = index.sync()
        assert (report.added, report.removed) == (1, 1)
        index.embed_pending()
        top = index.search("reverse_words").results[0]
        assert top.path == "textutil/new_module.py" and top.symbol == "reverse_words"


def test_reopen_gives_the_same_results(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        before = [r.to_json() for r in index.search("cache evicts oldest entry").results]
    calls = encoder.calls
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        after = [r.to_json() for r in index.search("cache evicts oldest entry").results]
    assert after == before and before
    assert encoder.calls == calls + 1  # the query alone


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage"])
def test_damaged_vector_file_is_rebuilt_from_sqlite(workspace, encoder, damage):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        expected = [r.to_json() for r in index.search("levenshtein edit distance").results]
        vector_file = index.index_dir / "vectors.hnsw"
    if damage == "truncate":
        vector_file.write_bytes(vector_file.read_bytes()[:100])
    elif damage == "delete":
        vector_file.unlink()
    else:
        vector_file.write_bytes(os.urandom(vector_file.stat().st_size))
    calls = encoder.calls
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert len(index._vectors or []) == index.status().embedded
        assert [r.to_json() for r in index.search("levenshtein edit distance").results] == expected
    assert encoder.calls == calls + 1  # rebuilt from stored vectors, not re-embedded


def test_killed_right_after_the_first_vectors_commit_the_index_loads_them(
    workspace, encoder, monkeypatch, tmp_path
):
    # The first batch of vectors commits, then the process dies before the vector file is
    # made (a kill -9 test found it: the dimension was written after the vectors, so the
    # reopened index knew vectors it could not load).
    from lsp_server.engine.indexer import Indexer

    class Killed(BaseException):
        pass

    def killed(self, dim):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(Indexer, "_ensure_vectors", killed)
        index = WorkspaceIndex(workspace, encoder=encoder)
        with pytest.raises(Killed):
            index.index()
        assert index.store.embedded_ids()  # committed
        index.storage.close()  # the process is gone: its lock with it, nothing saved
    with WorkspaceIndex(workspace, encoder=encoder) as reopened:
        assert reopened.check_consistency() == []
        assert reopened._vectors is not None and reopened._vectors.live_labels()
        reopened.index()
        assert reopened.check_consistency() == []
        found = [r.to_json() for r in reopened.search("levenshtein edit distance").results]
    with WorkspaceIndex(workspace, encoder=encoder, index_dir=tmp_path / "clean") as clean:
        clean.index()
        assert [r.to_json() for r in clean.search("levenshtein edit distance").results] == found


def test_stale_vector_file_is_reconciled(workspace, encoder):
    """A crash after SQLite committed but before the HNSW save loses nothing."""
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        saved = (index.index_dir / "vectors.hnsw").read_bytes()
        sidecar = (index.index_dir / "vectors.json").read_bytes()
        (workspace / "web" / "api.js").unlink()
        (workspace / "textutil" / "extra.py").write_text("def triple(x):\n    return 3 * x\n")
        index.sync()
        index.embed_pending()
        index_dir = index.index_dir
    (index_dir / "vectors.hnsw").write_bytes(saved)
    (index_dir / "vectors.json").write_bytes(sidecar)
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert index._vectors is not None
        assert index._vectors.live_labels() == index.store.embedded_ids()


def test_model_change_re_embeds_with_a_notice_and_switching_back_costs_nothing(
    workspace, encoder
):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        files = index.status().files
        expected = [r.to_json() for r in index.search("levenshtein edit distance").results]

    class OtherEncoder(HashingEncoder):
        identity = "another-model|dim64"

    other = OtherEncoder()
    with WorkspaceIndex(workspace, encoder=other) as index:
        notices = [n for n in index.notices if "embedding model changed" in n]
        assert len(notices) == 1 and "0 of" in notices[0]
        status = index.status()
        assert status.files == files and status.embedded == 0  # chunks kept, vectors not mixed
        index.index()
        assert other.calls > 0 and index.status().pending == 0
    calls = encoder.calls
    with WorkspaceIndex(workspace, encoder=encoder) as index:  # back to the first model
        assert index.status().pending == 0  # every vector came from the cache
        assert [r.to_json() for r in index.search("levenshtein edit distance").results] == expected
    assert encoder.calls == calls + 2  # the probe of the switch and the query: no re-embedding


def test_a_model_that_fails_leaves_the_index_untouched(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        before = index.status()

    class BrokenEncoder(HashingEncoder):
        identity = "broken-model|dim64"

        def load(self) -> None:
            raise ModelLoadError("cannot load embedding model '/nonexistent'")

    with pytest.raises(ModelLoadError, match="nonexistent"):
        WorkspaceIndex(workspace, encoder=BrokenEncoder())
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert index.status() == before
        assert index.notices == []


def test_corrupt_database_is_moved_aside_and_rebuilt(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        db = index.index_dir / "index.sqlite"
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert any("corrupt" in n for n in index.notices)
        index.index()
        assert index.search("slugify").results[0].symbol == "slugify"
    assert list(db.parent.glob("index.sqlite.corrupt-*"))


def test_second_process_gets_a_read_only_index(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as owner:
        owner.index()
        second = WorkspaceIndex(workspace, encoder=encoder)
        try:
            assert second.read_only
            assert second.search("slugify").results[0].symbol == "slugify"
            with pytest.raises(EngineError, match="read-only"):
                second.sync()
        finally:
            second.close()


def test_a_status_asked_while_a_reader_takes_over_reads_an_open_database(
    workspace, encoder, monkeypatch
):
    """The server answers status and searches from other threads while its folder takes the
    index over: they read the reader's store until the owner's is open, never a closed one
    (a status sent at that moment failed with "Cannot operate on a closed database")."""
    with WorkspaceIndex(workspace, encoder=encoder) as owner:
        owner.index()
        expected = owner.status().chunks
        reader = WorkspaceIndex(workspace, encoder=encoder, mode="read")
    try:
        seen: list[int] = []
        open_owned = reader._open_owned

        def asked_meanwhile() -> None:
            seen.append(reader.status().chunks)
            seen.append(len(reader.search("slugify").results))
            open_owned()

        monkeypatch.setattr(reader, "_open_owned", asked_meanwhile)
        assert reader.try_take_over()
        assert seen[0] == expected and seen[1] > 0
        assert not reader.read_only and reader.status().chunks == expected
    finally:
        reader.close()


def test_a_search_running_across_a_takeover_finishes_on_the_reader_store(
    workspace, encoder, monkeypatch
):
    """A search that began on the reader's store keeps reading it while the folder takes the
    index over; the reader's store closes once nothing uses it any more."""
    with WorkspaceIndex(workspace, encoder=encoder) as owner:
        owner.index()
        expected = owner.search("slugify").results[0].symbol
    reader = WorkspaceIndex(workspace, encoder=encoder, mode="read")
    reader_store = weakref.ref(reader.store)
    in_store, taken_over = threading.Event(), threading.Event()
    chunks_by_id = Store.chunks_by_id

    def waits_for_the_takeover(store: Store, ids):
        if store is reader_store():
            in_store.set()
            assert taken_over.wait(30)
        return chunks_by_id(store, ids)

    monkeypatch.setattr(Store, "chunks_by_id", waits_for_the_takeover)
    outcome: list = []

    def search() -> None:
        try:
            outcome.append(reader.search("slugify").results[0].symbol)
        except Exception as exc:  # noqa: BLE001 - the test reports what the search raised
            outcome.append(exc)

    searching = threading.Thread(target=search)
    try:
        searching.start()
        assert in_store.wait(30)
        assert reader.try_take_over() and reader.store is not reader_store()
        taken_over.set()
        searching.join(30)
        assert outcome == [expected]
        gc.collect()
        assert reader_store() is None
    finally:
        taken_over.set()
        reader.close()


def test_a_failed_takeover_leaves_the_reader_answering(workspace, encoder, monkeypatch):
    with WorkspaceIndex(workspace, encoder=encoder) as owner:
        owner.index()
    reader = WorkspaceIndex(workspace, encoder=encoder, mode="read")
    try:
        def fails() -> None:
            raise EngineError("cannot open the index: disk full")

        monkeypatch.setattr(reader, "_open_owned", fails)
        with pytest.raises(EngineError, match="disk full"):
            reader.try_take_over()
        assert reader.read_only and reader.mode == "read"
        assert reader.search("slugify").results[0].symbol == "slugify"
    finally:
        reader.close()


def test_paths_outside_the_workspace_are_refused(workspace, open_index, tmp_path):
    index = open_index(workspace)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    with pytest.raises(EngineError, match="outside the workspace"):
        index.update_file(outside)
    with pytest.raises(EngineError, match="outside the workspace"):
        index.similar("../elsewhere.py", 0, 0)


def test_ignored_and_oversized_files_are_not_indexed(workspace, open_index):
    (workspace / ".gitignore").write_text("legacy/\n")
    (workspace / "big.py").write_text("x = 1\n" * 50_000)
    index = open_index(workspace, max_file_size=100_000)
    report = index.sync()
    assert index.store.file("legacy/old_helpers.py") is None
    assert index.store.file("big.py") is None
    assert any(s.path == "big.py" and "too large" in s.reason for s in report.skipped)


def test_index_lives_in_the_cache_dir_not_the_workspace(workspace, open_index, private_cache):
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    index = open_index(workspace)
    index.index()
    index.save()
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before
    assert index.index_dir.is_relative_to(private_cache)
    assert (index.index_dir.stat().st_mode & 0o777) == 0o700


def test_copied_workspace_reuses_nothing_but_its_own_index(workspace, encoder, tmp_path):
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        first_dir = index.index_dir
    copy = tmp_path / "copy"
    shutil.copytree(workspace, copy)
    with WorkspaceIndex(copy, EngineSettings(), encoder=encoder) as index:
        assert index.index_dir != first_dir
        assert index.status().files == 0


def test_a_reader_catches_up_with_the_owners_new_vectors(workspace, encoder):
    with WorkspaceIndex(workspace, encoder=encoder) as owner:
        owner.sync()
        owner.embed_pending(max_chunks=5)
        reader = WorkspaceIndex(workspace, encoder=encoder, mode="read")
        try:
            assert len(reader._vectors or []) == 5
            owner.embed_pending()
            (workspace / "textutil" / "extra.py").write_text(
                "def reverse_words(text):\n    return ' '.join(reversed(text.split()))\n"
            )
            owner.sync()
            owner.embed_pending()
            added = reader.catch_up()
            assert added == owner.status().embedded - 5
            assert reader._vectors.live_labels() == owner.store.embedded_ids()
            top = reader.search("reverse the order of words").results[0]
            assert top.symbol == "reverse_words"
            assert reader.catch_up() == 0  # nothing new: nothing added
        finally:
            reader.close()


def test_a_new_chunker_rechunks_every_file_and_reuses_vectors(workspace, encoder, monkeypatch):
    from lsp_server.engine import workspace as workspace_module

    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        chunks = index.status().chunks
    calls = encoder.calls
    monkeypatch.setattr(workspace_module, "CHUNKER_VERSION", 999)
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert any("chunker changed" in n for n in index.notices)
        report, embedded = index.index()
        assert report.changed == report.files  # every file read and chunked again...
        assert report.chunks_added == report.chunks_removed == 0  # ...to the same chunks here
        assert index.status().chunks == chunks and embedded.encoded == 0
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert index.notices == []  # once
    assert encoder.calls == calls  # nothing embedded again


def test_other_chunking_code_rechunks_though_the_version_is_the_same(
    workspace, encoder, monkeypatch
):
    # A forgotten CHUNKER_VERSION bump (or a development tree between two versions) must not
    # leave an index cut by other code: the manifest also holds a hash of the chunker's source.
    from lsp_server.engine import workspace as workspace_module
    from lsp_server.engine.chunker import CHUNKER_CODE
    from lsp_server.engine.locations import Manifest

    assert len(CHUNKER_CODE) == 16  # the source is beside the module, so it is hashed
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        index_dir = index.index_dir
    manifest = Manifest.read(index_dir)
    assert manifest is not None and manifest.chunker_code == CHUNKER_CODE
    calls = encoder.calls
    monkeypatch.setattr(workspace_module, "CHUNKER_CODE", "other-code")
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert any("chunker changed" in n for n in index.notices)
        report, embedded = index.index()
        assert report.changed == report.files and embedded.encoded == 0
    assert encoder.calls == calls  # re-chunked, nothing embedded again
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        assert index.notices == []  # once: the manifest now holds the new hash


def test_a_new_chunker_rewrites_what_unchanged_chunks_show(workspace, encoder, monkeypatch):
    # A chunker that only changes a signature (chunker 7 left comments out of them) keeps
    # every vector, and the index must show its signatures, not the old ones.
    from lsp_server.engine import indexer as indexer_module
    from lsp_server.engine import workspace as workspace_module

    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        stored = index.store.chunks_of_file("textutil/strings.py")
        before = {s.chunk.symbol: s.chunk.signature for s in stored if s.chunk.signature}
    assert len(before) >= 3
    real_chunk_text = indexer_module.chunk_text

    def renamed_signatures(*args, **kwargs):
        chunks = real_chunk_text(*args, **kwargs)
        return [replace(c, signature=f"NEW {c.signature}" if c.signature else "") for c in chunks]

    monkeypatch.setattr(indexer_module, "chunk_text", renamed_signatures)
    monkeypatch.setattr(workspace_module, "CHUNKER_VERSION", 999)
    calls = encoder.calls
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        index.index()
        stored = index.store.chunks_of_file("textutil/strings.py")
        after = {s.chunk.symbol: s.chunk.signature for s in stored if s.chunk.symbol in before}
        assert encoder.calls == calls  # the same embedded texts: no vector made again
        shown = index.search("turn a title into a slug, edit distance of strings").results
    assert after == {symbol: f"NEW {signature}" for symbol, signature in before.items()}
    previews = [r.preview for r in shown if r.path == "textutil/strings.py" and r.symbol]
    assert previews and all(preview.startswith("NEW def ") for preview in previews)


def test_a_new_chunker_renames_unchanged_chunks_in_the_lexical_index_too(
    workspace, encoder, monkeypatch
):
    # Without the context header the embedded text is the code alone, so a chunker that only
    # names (chunker 12 named the code between definitions) or moves a chunk into another
    # container keeps its vector: its name, kind and container, and the words BM25 finds it
    # by, must be the new chunker's.
    from lsp_server.engine import indexer as indexer_module
    from lsp_server.engine import workspace as workspace_module

    settings = EngineSettings(context_header=False)
    with WorkspaceIndex(workspace, settings, encoder=encoder) as index:
        index.index()
        [before] = _chunks_at(index, "http/client.py", 7)
    assert (before.chunk.kind, before.chunk.symbol) == ("block", "DEFAULT_TIMEOUT")
    real_chunk_text = indexer_module.chunk_text

    def renamed(*args, **kwargs):
        return [
            replace(c, symbol="RenamedZebraSetting", kind="window", container="Quokka")
            if c.symbol == "DEFAULT_TIMEOUT"
            else c
            for c in real_chunk_text(*args, **kwargs)
        ]

    monkeypatch.setattr(indexer_module, "chunk_text", renamed)
    monkeypatch.setattr(workspace_module, "CHUNKER_VERSION", 999)
    calls = encoder.calls
    with WorkspaceIndex(workspace, settings, encoder=encoder) as index:
        index.index()
        assert encoder.calls == calls  # the same embedded text: no vector made again
        [after] = _chunks_at(index, "http/client.py", 7)
        assert after.id == before.id  # the row was kept, and rewritten
        chunk = after.chunk
        assert (chunk.kind, chunk.symbol, chunk.container) == (
            "window",
            "RenamedZebraSetting",
            "Quokka",
        )
        # Found by its new name and container, words that are in no file.
        assert [i for i, _ in index.store.lexical_search(["zebra", "quokka"], 5)] == [after.id]
        assert index.store.lexical_healthy()


def _chunks_at(index: WorkspaceIndex, path: str, line: int) -> list:
    return [c for c in index.store.chunks_of_file(path) if c.chunk.start_line == line]


def test_the_session_count_is_never_behind_the_stored_vectors(workspace, encoder, monkeypatch):
    """A status read as a slice of vectors lands (nothing pending: "ready") must not see
    encodedThisSession behind what is stored."""
    with WorkspaceIndex(workspace, encoder=encoder) as index:
        indexer = index.indexer
        commit = indexer._commit_vectors
        seen: list[tuple[int, int]] = []

        def commit_and_look(*args, **kwargs):
            commit(*args, **kwargs)
            seen.append((indexer.session_encoded, index.store.counts()[2]))

        monkeypatch.setattr(indexer, "_commit_vectors", commit_and_look)
        index.index()
    assert seen and seen[-1][1] > 0
    assert all(count >= embedded for count, embedded in seen), seen


def test_a_selection_of_indexed_code_needs_no_model_call(tmp_path, open_index, encoder):
    """A selection's vector is pooled from its definitions' cached vectors; in an edited
    buffer whose definitions are all new, the selected text is embedded once, not each."""
    root = tmp_path / "ws"
    root.mkdir()
    functions = [f"def step_{n}(items):\n    return [x + {n} for x in items]\n" for n in range(12)]
    text = "\n\n".join(functions)
    (root / "steps.py").write_text(text)
    (root / "other.py").write_text("def step_other(items):\n    return list(items)\n")
    index = open_index(root)
    index.index()
    end = (len(text.splitlines()) - 1, len(text.splitlines()[-1]))
    before = encoder.texts[:]
    assert index.similar("steps.py", 0, 0, end=end).results
    assert encoder.texts == before  # every definition's vector was cached
    edited = text.replace("x + ", "x * ")
    assert index.similar("steps.py", 0, 0, end=end, source=edited).results
    new = encoder.texts[len(before) :]
    assert len(new) == 1 and "x * 11" in new[0], new


def _coverage_tree(root: Path) -> Path:
    root.mkdir()
    (root / "retry.py").write_text(
        "def retry_failed_request(session, attempts):\n"
        '    """Send the request again with backoff."""\n'
        "    for attempt in range(attempts):\n"
        "        session.backoff(attempt)\n"
    )
    (root / "parse.py").write_text(
        "def parse_header(line):\n    return line.split(':', 1)\n\n\n"
        "def parse_request(text):\n    return text.splitlines()\n"
    )
    (root / "cache.py").write_text("def cache_entry(key):\n    return {key: None}\n")
    return root


def test_the_lexical_ceiling_is_the_sum_of_each_terms_best(tmp_path, open_index, monkeypatch):
    index = open_index(_coverage_tree(tmp_path / "ws"))
    index.index()
    store = index.store
    terms = ["retry", "backoff", "request"]
    best = {t: store.lexical_search([t], 1)[0][1] for t in terms}
    ceiling = store.lexical_ceiling(terms)
    assert ceiling == pytest.approx(sum(best.values()))
    # BM25 adds up over terms: no unit scores above the ceiling, and one term counts twice
    # when it is asked twice, as in the OR query.
    assert all(score <= ceiling + 1e-12 for _, score in store.lexical_search(terms, 100))
    assert store.lexical_ceiling(["retry", "retry"]) == pytest.approx(2 * best["retry"])
    assert store.lexical_ceiling(["zebra"]) == 0.0
    # Each term's best is kept between questions, for a while after the index changes
    # (saves during a first index commit many times a second), then read again.
    monkeypatch.setattr(store_module, "_TERM_CACHE_SECONDS", 3600.0)  # a slow machine
    (index.root / "zebra.py").write_text("def zebra_retry():\n    return 'zebra retry retry'\n")
    index.update_file(index.root / "zebra.py")
    fresh = {t: store.lexical_search([t], 1)[0][1] for t in ["retry", "zebra"]}
    assert fresh["retry"] != best["retry"]
    assert store.lexical_ceiling(["retry"]) == pytest.approx(best["retry"])
    monkeypatch.setattr(store_module, "_TERM_CACHE_SECONDS", 0.0)
    assert store.lexical_ceiling(["retry", "zebra"]) == pytest.approx(sum(fresh.values()))


def test_term_holders_counts_the_given_chunks_that_hold_a_word_as_bm25_reads_it(
    tmp_path, open_index
):
    index = open_index(_coverage_tree(tmp_path / "ws"))
    index.index()
    store = index.store
    parse = [c.id for c in store.chunks_of_file("parse.py")]
    everywhere = [c.id for path in store.file_paths() for c in store.chunks_of_file(path)]
    assert len(parse) == 2
    # Only the chunks asked about count; "parses" is stemmed as BM25 reads it; a word of the
    # path alone (not in the code) is not held.
    assert store.term_holders(["parse", "parses", "header", "retry", "py"], parse) == {
        "parse": 2, "parses": 2, "header": 1, "retry": 0, "py": 0
    }  # fmt: skip
    assert store.term_holders(["retry"], everywhere)["retry"] >= 1
    assert store.term_holders(["parse"], []) == {"parse": 0}


def test_bm25s_weight_for_a_question_follows_how_much_of_it_one_unit_holds(
    tmp_path, open_index
):
    index = open_index(_coverage_tree(tmp_path / "ws"))
    index.index()
    traces: list = []
    index.searcher.rank_observer = traces.append
    settings = index.settings

    def traced(question: str):
        traces.clear()
        index.search(question)
        return traces[-1]

    together = traced("retry failed request with backoff")
    apart = traced("parse the cache header entry")
    assert together.kind == apart.kind == "prose"
    assert together.lexical_weight == apart.lexical_weight == settings.prose_lexical_weight
    # retry.py holds every word of the first question; the second's words are spread over
    # three definitions, none holding more than two of them.
    assert together.coverage == pytest.approx(1.0)
    assert 0 < apart.coverage < 0.7
    assert apart.lexical_scale == apart.coverage**settings.prose_lexical_coverage
    # Other kinds of query keep their weight as it is.
    traces.clear()
    index.search_text("session.backoff(attempt)")
    assert traces[-1].coverage is None and traces[-1].lexical_scale == 1.0


def test_a_question_naming_a_type_finds_the_function_written_in_another_style(
    tmp_path, open_index
):
    """Rust's `MapOk` is made by `map_ok`, Python's `HTTPError` raised by `http_error`: the
    whole identifier is one token whatever its style, which a question's name matches."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "adaptors.rs").write_text(
        "pub fn map_ok(iter: I, f: F) -> Mapped {\n    Mapped { iter, f }\n}\n"
    )
    (root / "other.rs").write_text(
        "pub fn ok_map(iter: I, f: F) -> Mapped {\n    Mapped { iter, f }\n}\n"
    )
    for word in ["parse", "render", "fetch", "store", "close", "open", "merge"]:
        (root / f"{word}.rs").write_text(f"pub fn {word}_all(rows: Rows) -> Rows {{ rows }}\n")
    index = open_index(root)
    index.index()
    traces: list = []
    index.searcher.rank_observer = traces.append
    index.search("Create a new `MapOk` iterator.")
    lexical = {unit.path: unit.lexical for unit in traces[-1].units}
    # Both hold the words "map" and "ok"; only `map_ok` is the name the question gives.
    assert lexical["adaptors.rs"] > 1.5 * lexical["other.rs"] > 0


def test_a_question_ranks_with_bm25_out_of_the_fusion_when_blocks_declare_its_words(
    tmp_path, open_index
):
    """Dense alone (BM25's weight 0, as benchmarks score it), with pools too small to hold
    every unit: BM25 still finds the block that declares the question's word, which the
    fusion never saw; it is not raised (its part was never fused), and nothing fails."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "sizes.py").write_text("FORCED_WIDTH = None\nDEFAULT_WIDTH = 78\n")
    (root / "wrap.py").write_text("def wrap(text):\n    return text.split()\n")
    index = open_index(root, prose_lexical_weight=0.0, named_lexical_weight=0.0, candidates=1)
    index.index()
    traces: list = []
    index.searcher.rank_observer = traces.append
    found = index.search("force a fixed width for the help output").results
    assert len(found) == 1 and traces[-1].block_depth == 0


def _made_up_words(count: int) -> list[str]:
    syllables = ["ba", "ko", "ri", "mu", "te", "lo", "zi", "pa", "ne"]
    return [a + b + c for a in syllables for b in syllables for c in syllables][:count]


def test_find_similar_asks_bm25_by_the_words_that_tell_a_definition_apart(
    tmp_path: Path, open_index
) -> None:
    """A definition whose first 64 words every other function also uses, and whose own
    words come after them: searched by its first words (code_query_terms=0) it finds the
    functions that share the common words; by its most telling ones, its clone."""
    common = _made_up_words(70)
    body = "\n".join(f"    {word} = {word} + 1" for word in common)
    rare = "    quaternion_slerp(gimbal, rotor, versor)\n"
    root = tmp_path / "tree"
    root.mkdir()
    (root / "query.py").write_text(f"def handle_everything():\n{body}\n{rare}")
    (root / "clone.py").write_text(f"def blend_rotations():\n    {common[0]} = 1\n{rare}")
    for number in range(8):
        (root / f"other{number}.py").write_text(f"def other{number}():\n{body}\n")
    query = (root / "query.py").read_text()
    firsts, selected, typed = {}, {}, {}
    for terms in (0, EngineSettings().code_query_terms):
        index = open_index(root, dense_weight=0.0, code_query_terms=terms)
        index.index()
        results = index.similar("query.py", 0).results
        firsts[terms] = results[0].path
        # The same text selected (its own file first), and typed: asked as typed.
        selected[terms] = [r.path for r in index.search_text(query).results[:2]]
        typed[terms] = [r.path for r in index.search(query).results[:2]]
        chunks, frequencies = index.store.document_frequencies(["quaternion", "slerps", "zzz"])
        # As BM25 reads words: "slerps" stems as "slerp" does; none holds "zzz".
        assert chunks == index.status().chunks
        assert frequencies == {"quaternion": 2, "slerps": 2, "zzz": 0}
        index.close()
    assert firsts.pop(0).startswith("other")  # what its first 64 words gave
    assert list(firsts.values()) == ["clone.py"]
    before = selected.pop(0)
    assert before[0] == "query.py" and before[1].startswith("other")
    assert list(selected.values()) == [["query.py", "clone.py"]]
    assert typed.pop(0) == before and list(typed.values()) == [before]


def test_lines_of_structure_alone_get_no_chunk(tmp_path, open_index):
    """A class's closing `end`, a `private` section marker, an `#else` or `#endif` between
    definitions say nothing: they are in no chunk, so no search lists them (faraday listed
    five `private` lines for "private helper methods", and an `end` for "close the
    connection at the end")."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "client.rb").write_text(
        "class Client\n  def get(url)\n    fetch(url)\n  end\n\n  private\n\n"
        "  def fetch(url)\n    url\n  end\nend\n"
    )
    (root / "clock.c").write_text(
        "#include <time.h>\n\n#ifdef HAVE_GMTIME_R\nstatic int utc(void) {\n  return 1;\n}\n"
        "#else /* !HAVE_GMTIME_R */\nstatic int utc(void) {\n  return 0;\n}\n#endif\n"
    )
    index = open_index(root)
    index.index()
    chunks = [c.chunk for p in ("client.rb", "clock.c") for c in index.store.chunks_of_file(p)]
    structure = {"end", "private", "#else", "/*", "!HAVE_GMTIME_R", "*/", "#endif"}
    assert [c.text for c in chunks if set(c.text.split()) <= structure] == []
    assert {"Client.get", "Client.fetch", "utc"} <= {c.symbol for c in chunks}
    found = index.search("private end", limit=10).results
    assert found and all(r.preview not in ("private", "end") for r in found)
