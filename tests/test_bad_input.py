"""Bad input: files that try to break scanning, reading and chunking, and names that try to
break paths. The index must skip what it cannot use, say why, and index everything else."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from pygls.uris import to_fs_path

from lsp_server.engine import indexer as indexer_module
from lsp_server.engine import workspace as workspace_module
from lsp_server.engine.chunker import chunk_text, grammars
from lsp_server.engine.scanner import SourceError
from lsp_server.engine.workspace import WorkspaceIndex

from .lsp_helpers import command, lsp_session, wait_for, wait_until_ready
from .stub_encoder import STUB_SERVER
from .subprocess_helpers import can_drop_privileges, python, shared_tmp

_NEWLINE = re.compile(r"\r\n|\r|\n")

GOOD = "def parse_invoice_total(rows):\n    return sum(r.amount for r in rows)\n"


def lsp_slice(text: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    """The text between two LSP positions, counting lines as an editor does."""
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    return text[starts[start[0]] + start[1] : starts[end[0]] + end[1]]


def chunks_of(index: WorkspaceIndex, rel: str) -> list:
    return [c.chunk for c in index.store.chunks_of_file(rel)]


def assert_ranges_match_text(index: WorkspaceIndex, rel: str, text: str) -> None:
    for chunk in chunks_of(index, rel):
        got = lsp_slice(text, (chunk.start_line, chunk.start_col), (chunk.end_line, chunk.end_col))
        assert got == chunk.text, (rel, chunk.start_line, chunk.end_line)


def skipped(report) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


# -- contents ---------------------------------------------------------------------------------


def test_binary_files_with_source_extensions_are_skipped(tmp_path, open_index):
    (tmp_path / "image.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "blob.js").write_bytes(os.urandom(4096))
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path)
    report, _ = index.index()
    assert skipped(report)["image.py"] == "binary"
    assert set(index.store.file_paths()) <= {"good.py", "blob.js"}
    assert not chunks_of(index, "image.py")
    assert index.search("parse invoice total").results[0].path == "good.py"


def test_invalid_utf8_and_mixed_encodings_index_with_replacement_chars(tmp_path, open_index):
    latin1 = "# café crème\ndef prix_total(x):\n    return x\n".encode("latin-1")
    mixed = "def héllo():\n    pass\n".encode() + b"# \xff\xfe broken\n" + GOOD.encode()
    (tmp_path / "latin1.py").write_bytes(latin1)
    (tmp_path / "mixed.py").write_bytes(mixed)
    index = open_index(tmp_path)
    index.index()
    for rel, data in (("latin1.py", latin1), ("mixed.py", mixed)):
        text = data.decode("utf-8", errors="replace")
        assert chunks_of(index, rel), rel
        assert_ranges_match_text(index, rel, text)
    assert index.search("prix total").results[0].path == "latin1.py"
    assert {c.symbol for c in chunks_of(index, "mixed.py")} >= {"héllo", "parse_invoice_total"}
    assert index.check_consistency() == []


def test_bom_is_stripped_so_columns_match_the_editor(tmp_path, open_index):
    (tmp_path / "bom8.py").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    (tmp_path / "bom16.py").write_bytes(b"\xff\xfe" + GOOD.encode("utf-16-le"))
    index = open_index(tmp_path)
    index.index()
    for rel in ("bom8.py", "bom16.py"):
        (chunk,) = chunks_of(index, rel)
        assert (chunk.start_line, chunk.start_col, chunk.symbol) == (0, 0, "parse_invoice_total")
        assert chunk.text == GOOD.rstrip("\n")


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n", "\r\n\r"])
def test_line_endings_keep_chunk_ranges_on_the_editors_lines(tmp_path, open_index, newline):
    # Form feed, U+2028, U+0085 and \x1c end lines for str.splitlines(), not for editors.
    body = [
        "def first(a):",
        "    return a + 1",
        "\x0c",
        "# \u2028 \x85 \x1c\x1d\x1e \x0b",
        "",
        "class Second:",
        "    def third(self):",
    ]
    text = newline.join([*body, "        return 3", ""])
    (tmp_path / "ends.py").write_bytes(text.encode())
    index = open_index(tmp_path)
    index.index()
    assert_ranges_match_text(index, "ends.py", text)
    # A selection is cut from the editor's lines, whatever str.splitlines() thinks a line is.
    lines = _NEWLINE.split(text)
    row = next(i for i, line in enumerate(lines) if line.startswith("class"))
    picked = index._query_chunk("ends.py", text, (row, 0), (row, len(lines[row])))
    assert picked.text == "class Second:"
    assert (picked.start_line, picked.end_line) == (row, row)


def test_a_50_mb_minified_file_is_skipped_by_size_quickly(tmp_path, open_index):
    with (tmp_path / "bundle.js").open("wb") as handle:
        handle.write(b"var a=1;" * (50 * (1 << 20) // 8))
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path)
    started = time.monotonic()
    report = index.sync()
    assert time.monotonic() - started < 5
    assert skipped(report)["bundle.js"].startswith("too large (50 MiB")
    assert index.store.file_paths() == ["good.py"]
    update = index.update_file(tmp_path / "bundle.js")
    assert update.status == "skipped" and "too large" in update.reason


def _minified_stylesheet(selectors: int) -> str:
    """A compiled stylesheet as Carbon ships it: one line, a rule per component class."""
    return "".join(
        f".bx--data-table-row-{i}{{display:flex;padding:{i % 7}px}}" for i in range(selectors)
    )


def test_a_minified_file_is_left_out_saying_why_and_a_rule_that_names_it_indexes_it(
    tmp_path, open_index
):
    (tmp_path / "css").mkdir()
    stylesheet = _minified_stylesheet(3_000)  # one line of about 140,000 characters
    (tmp_path / "css" / "all.css").write_text(stylesheet)
    (tmp_path / "css" / "g10.css").write_text(stylesheet)
    # The same length in lines a reader can read: not minified.
    (tmp_path / "css" / "readable.css").write_text(stylesheet.replace("}", "}\n"))
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path, exclude=["!css/g10.css"])
    report, _ = index.index()
    assert skipped(report) == {
        "css/all.css": f"minified (1 line of {len(stylesheet):,} characters); an exclude "
        "pattern !css/all.css indexes it"
    }
    assert chunks_of(index, "css/all.css") == []
    assert index.status().files == 3  # the files indexed: not the one left out
    assert chunks_of(index, "css/readable.css")
    named = chunks_of(index, "css/g10.css")  # named by a "!" rule: cut in line windows
    assert named and all(chunk.kind == "window" for chunk in named)
    assert named[0].text.startswith(".bx--data-table-row-0{")
    results = index.search("bx--data-table-row-17 display flex", limit=50).results
    assert "css/all.css" not in {result.path for result in results}
    assert "css/readable.css" in {result.path for result in results}
    # Stored without chunks: the next scan finds it unchanged, reads it no more, and still
    # says why it is not indexed.
    assert index.changes().changed == 0
    again, _ = index.index()
    assert skipped(again) == {
        "css/all.css": "minified (as when it was read); an exclude pattern !css/all.css "
        "indexes it"
    }


def test_a_saved_file_that_becomes_minified_loses_its_chunks(tmp_path, open_index):
    target = tmp_path / "theme.css"
    target.write_text(".menu {\n  display: flex;\n}\n")
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path)
    index.index()
    assert chunks_of(index, "theme.css")
    stylesheet = _minified_stylesheet(3_000)
    target.write_text(stylesheet)
    update = index.update_file(target)
    assert (update.status, update.chunks_removed) == ("skipped", 1)
    assert update.reason.startswith("minified (1 line of ")
    assert chunks_of(index, "theme.css") == []
    target.write_text(stylesheet.replace("}", "}\n"))  # built readable again
    assert index.update_file(target).status == "updated"
    assert len(chunks_of(index, "theme.css")) > 1


def test_a_rule_that_names_a_minified_file_later_indexes_it_and_dropping_it_leaves_it_out(
    tmp_path, open_index
):
    """The file does not change, the rules do: whether it is indexed follows them."""
    (tmp_path / "all.css").write_text(_minified_stylesheet(3_000))
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path)
    index.index()
    assert chunks_of(index, "all.css") == []
    index.close()
    named = open_index(tmp_path, exclude=["!all.css"])
    assert named.changes().changed == 1
    report, _ = named.index()
    assert report.skipped == [] and chunks_of(named, "all.css")
    assert named.update_file(tmp_path / "all.css").status == "unchanged"
    named.close()
    again = open_index(tmp_path)
    report, _ = again.index()
    assert list(skipped(report)) == ["all.css"]
    assert chunks_of(again, "all.css") == []


def test_a_100000_line_file_chunks_in_bounded_time(tmp_path, open_index):
    text = "".join(
        f"def handler_{i}(request):\n    value = request.get({i})\n    return value\n\n\n"
        for i in range(20_000)
    )
    (tmp_path / "huge.py").write_text(text)
    index = open_index(tmp_path, max_file_size=16 << 20)
    started = time.monotonic()
    index.sync()
    assert time.monotonic() - started < 60
    chunks = chunks_of(index, "huge.py")
    assert len(chunks) == 20_000
    assert chunks[-1].symbol == "handler_19999" and chunks[-1].start_line == 99_995
    assert all(c.end_line < 100_000 for c in chunks)
    assert index.search("handler_12345").results[0].symbol == "handler_12345"


def test_one_5_mb_line_a_rule_names_is_cut_into_bounded_chunks(tmp_path, open_index):
    """Minified, so left out unless a "!" rule names it; then cut in windows, unparsed."""
    text = "x = [" + "1, " * (5 * (1 << 20) // 3) + "]\n"
    (tmp_path / "line.py").write_text(text)
    index = open_index(tmp_path, max_file_size=8 << 20, exclude=["!line.py"])
    started = time.monotonic()
    index.index()
    assert time.monotonic() - started < 60
    chunks = chunks_of(index, "line.py")
    assert chunks and all(len(c.text) <= index.settings.chunk_chars for c in chunks)
    assert all(c.start_line == 0 and c.end_line == 0 for c in chunks)
    assert index.check_consistency() == []


def test_empty_and_blank_files(tmp_path, open_index):
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "blank.go").write_text("\n\n   \n\t\n")
    (tmp_path / "good.py").write_text(GOOD)
    index = open_index(tmp_path)
    index.index()
    assert not chunks_of(index, "empty.py") and not chunks_of(index, "blank.go")
    assert index.update_file(tmp_path / "empty.py").status in ("unchanged", "updated")
    with pytest.raises(workspace_module.EngineError):
        index.similar("empty.py", 0)
    assert index.check_consistency() == []


# -- files that change under the indexer --------------------------------------------------------


def test_file_vanishing_between_scan_and_read(tmp_path, open_index, monkeypatch):
    for name in ("a.py", "gone.py", "z.py"):
        (tmp_path / name).write_text(GOOD.replace("invoice", name[0]))
    real_read = indexer_module.read_source

    def read_after_delete(path, max_size):
        if Path(path).name == "gone.py":
            Path(path).unlink()
        return real_read(path, max_size)

    monkeypatch.setattr(indexer_module, "read_source", read_after_delete)
    index = open_index(tmp_path)
    report = index.sync()
    assert "gone.py" in skipped(report)
    assert sorted(index.store.file_paths()) == ["a.py", "z.py"]
    assert index.update_file(tmp_path / "gone.py").status == "removed"


def test_files_deleted_and_changed_during_sync_converge_on_the_next_sync(
    tmp_path, open_index, encoder
):
    names = [f"m{i:03d}.py" for i in range(450)]  # three commit batches of 200 files
    for name in names:
        (tmp_path / name).write_text(f"def f_{name[1:4]}():\n    return {name[1:4]}\n")
    index = open_index(tmp_path)

    def meddle(progress) -> None:
        if progress.phase == "index" and progress.done == 200:
            (tmp_path / "m300.py").unlink()  # scanned, not yet read
            (tmp_path / "m301.py").write_text("def changed_midway():\n    return 0\n")
            (tmp_path / "m100.py").write_text("def changed_after():\n    return 1\n")

    report = index.sync(progress=meddle)
    assert "m300.py" in skipped(report)
    index.sync()
    index.embed_pending()
    assert sorted(index.store.file_paths()) == sorted(set(names) - {"m300.py"})
    assert [c.symbol for c in chunks_of(index, "m301.py")] == ["changed_midway"]
    assert [c.symbol for c in chunks_of(index, "m100.py")] == ["changed_after"]
    assert index.check_consistency() == []


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to become nobody")
def test_unreadable_files_and_folders_are_reported_not_fatal():
    base = shared_tmp()
    root, cache = base / "ws", base / "cache"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "inner.py").write_text(GOOD)
    (root / "secret.py").write_text(GOOD)
    (root / "good.py").write_text(GOOD.replace("invoice", "receipt"))
    (root / "secret.py").chmod(0o000)
    (root / "locked").chmod(0o000)
    cache.mkdir()
    os.chown(cache, 65534, 65534)
    script = (
        "import json, sys; from pathlib import Path\n"
        "from lsp_server.engine.workspace import WorkspaceIndex\n"
        "from tests.stub_encoder import StubEncoder\n"
        "index = WorkspaceIndex(Path(sys.argv[1]), encoder=StubEncoder())\n"
        "report, _ = index.index()\n"
        "print(json.dumps({'files': index.store.file_paths(),"
        " 'skipped': {s.path: s.reason for s in report.skipped},"
        " 'problems': index.check_consistency()}))\n"
    )
    done = python(script, str(root), env={"NEARCODE_CACHE_DIR": str(cache)}, as_nobody=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["files"] == ["good.py"]
    assert result["skipped"] == {
        "secret.py": "unreadable: permission denied",
        "locked": "unreadable: permission denied",
    }
    assert result["problems"] == []


# -- paths and links ----------------------------------------------------------------------------


def test_a_deep_directory_tree(tmp_path, open_index):
    deep = tmp_path.joinpath(*["d"] * 300)
    deep.mkdir(parents=True)
    (deep / "bottom.py").write_text(GOOD)
    index = open_index(tmp_path)
    index.index()
    (rel,) = index.store.file_paths()
    assert rel.endswith("d/bottom.py") and rel.count("/") == 300
    assert index.update_file(deep / "bottom.py").status == "unchanged"


def test_symlink_loops_terminate(tmp_path, open_index):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(GOOD)
    (tmp_path / "pkg" / "again").symlink_to(tmp_path)  # directory loop
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")  # file loop
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    index = open_index(tmp_path)
    started = time.monotonic()
    report, _ = index.index()
    assert time.monotonic() - started < 10
    assert index.store.file_paths() == ["pkg/mod.py"]
    reasons = skipped(report)
    assert reasons["pkg/again"] == "symlink loop"
    assert reasons["a.py"] == reasons["b.py"] == "symlink loop"


def test_symlinks_out_of_the_workspace_are_not_followed(tmp_path, open_index):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text("def private_key_loader():\n    return 'TOPSECRET'\n")
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text(GOOD)
    (root / "leak.py").symlink_to(outside / "private.py")
    (root / "leakdir").symlink_to(outside)
    index = open_index(root)
    report, _ = index.index()
    assert index.store.file_paths() == ["good.py"]
    assert skipped(report)["leak.py"] == "symlink outside workspace"
    assert index.update_file(root / "leak.py").status == "skipped"
    assert index.update_file(root / "leakdir" / "private.py").status in ("skipped", "ignored")
    hits = index.search("private key loader TOPSECRET").results
    assert all("TOPSECRET" not in h.preview and h.path == "good.py" for h in hits)
    with pytest.raises(workspace_module.EngineError):
        index.similar(outside / "private.py", 0)


@pytest.mark.parametrize(
    "name", ["with space.py", "ünïcødé_名前.py", "new\nline.py", "tab\tand'quote\".py", "%41.py"]
)
def test_odd_file_names_round_trip_through_uris(tmp_path, open_index, name):
    (tmp_path / "sub dir").mkdir()
    path = tmp_path / "sub dir" / name
    path.write_text(GOOD)
    index = open_index(tmp_path)
    index.index()
    (result,) = index.search("parse invoice total").results
    assert result.path == f"sub dir/{name}"
    assert Path(to_fs_path(result.uri)) == path
    assert index.similar(path, 0).results == []  # the only chunk is the query itself
    path.write_text(GOOD + "\ndef second_one():\n    return 2\n")
    assert index.update_file(path).status == "updated"
    assert index.check_consistency() == []


# -- syntax -------------------------------------------------------------------------------------

BROKEN = {
    "python": ("py", "def ok():\n    return 1\n\ndef broken(:\n    x = (1, 2\nclass C\n"),
    "javascript": ("js", "function ok() { return 1 }\nfunction broken( { if (x { }\nclass {"),
    "typescript": ("ts", "function ok(): number { return 1 }\ninterface I { a: ; }\nlet x: = ;"),
    "tsx": ("tsx", "function ok() { return <div>1</div> }\nconst C = () => <div><span></div>;"),
    "go": ("go", "package m\nfunc ok() int { return 1 }\nfunc broken( {\ntype T struct {"),
    "rust": ("rs", "fn ok() -> i32 { 1 }\nfn broken( -> {\nstruct S { a: }\nimpl {"),
    "java": ("java", "class A { int ok() { return 1; }\n void broken( { }\n"),
    "c": ("c", "int ok(void) { return 1; }\nint broken( { return\nstruct s {"),
    "cpp": ("cpp", "int ok() { return 1; }\nclass C { public: void m( };\ntemplate<"),
    "csharp": ("cs", "class A { int Ok() { return 1; }\n void Broken( { }\nnamespace {"),
    "ruby": ("rb", "def ok\n  1\nend\ndef broken(\n  if x\nclass\n"),
    "php": ("php", "<?php\nfunction ok() { return 1; }\nfunction broken( { if (\nclass {"),
}
UNTERMINATED = {
    "py": 'def ok():\n    return 1\n\ns = """never closed\ndef inside():\n    pass\n',
    "js": "function ok() { return 1 }\n/* never closed\nfunction inside() {}\n",
    "ts": "function ok() { return 1 }\nconst s = `never closed ${\n",
    "go": "package m\nfunc ok() int { return 1 }\nvar s = `never closed\n",
    "rs": 'fn ok() -> i32 { 1 }\n/* never closed\nlet s = "also open\n',
    "java": 'class A { int ok() { return 1; } String s = "open\n/* and this\n',
    "c": "int ok(void) { return 1; }\n/* never closed\nint inside(void) { return 2; }\n",
    "cpp": 'int ok() { return 1; }\nauto s = R"(never closed\n',
    "cs": 'class A { int Ok() { return 1; } string s = @"never closed\n',
    "rb": "def ok\n  1\nend\n=begin\nnever closed\n",
    "php": "<?php\nfunction ok() { return 1; }\n$s = <<<EOT\nnever closed\n",
}


@pytest.mark.parametrize("language", sorted(BROKEN))
def test_syntax_errors_in_every_language(tmp_path, open_index, language):
    ext, text = BROKEN[language]
    (tmp_path / f"broken.{ext}").write_text(text)
    (tmp_path / f"open.{ext}").write_text(UNTERMINATED.get(ext, text))
    index = open_index(tmp_path)
    index.index()
    for rel, content in ((f"broken.{ext}", text), (f"open.{ext}", UNTERMINATED.get(ext, text))):
        chunks = chunks_of(index, rel)
        assert chunks, rel
        assert_ranges_match_text(index, rel, content)
        covered = "".join(c.text for c in chunks)
        assert "ok" in covered.lower(), rel  # the valid definition before the error is kept
    assert index.check_consistency() == []


@pytest.mark.parametrize(
    ("ext", "opening", "closing"),
    [
        ("py", "x = " + "(" * 1, ")"),
        ("js", "var x = [", "]"),
        ("c", "int x = (", ");"),
        ("rb", "x = [", "]"),
        ("go", "package m\nvar x = (", ")"),
    ],
)
def test_deeply_nested_expressions(tmp_path, open_index, ext, opening, closing):
    depth = 20_000
    text = opening + "(" * depth + "1" + ")" * depth + closing + "\n"
    (tmp_path / f"nested.{ext}").write_text(text)
    index = open_index(tmp_path)
    started = time.monotonic()
    index.index()
    assert time.monotonic() - started < 30
    assert_ranges_match_text(index, f"nested.{ext}", text)


def test_a_missing_grammar_falls_back_to_line_windows(tmp_path, open_index, monkeypatch):
    def no_grammar(language: str):
        raise ImportError(f"no grammar for {language}")

    monkeypatch.setattr(grammars, "_grammars", {})
    monkeypatch.setattr(grammars, "import_module", no_grammar)
    text = GOOD * 3
    assert {c.kind for c in chunk_text("x.py", text, "python")} == {"window"}
    (tmp_path / "x.py").write_text(text)
    (tmp_path / "y.rs").write_text("fn main() {}\n")
    index = open_index(tmp_path)
    index.index()
    assert {c.kind for c in chunks_of(index, "x.py") + chunks_of(index, "y.rs")} == {"window"}
    assert index.search("parse invoice total").results[0].path == "x.py"


def test_read_errors_are_reasons_not_crashes(tmp_path, open_index, monkeypatch):
    (tmp_path / "a.py").write_text(GOOD)
    (tmp_path / "b.py").write_text(GOOD)

    def failing_read(path, max_size):
        raise SourceError("unreadable: input/output error")

    monkeypatch.setattr(indexer_module, "read_source", failing_read)
    index = open_index(tmp_path)
    report = index.sync()
    assert skipped(report) == {
        "a.py": "unreadable: input/output error",
        "b.py": "unreadable: input/output error",
    }
    assert index.update_file(tmp_path / "a.py").status == "skipped"


# -- the server keeps serving -------------------------------------------------------------------


async def test_server_keeps_serving_a_workspace_full_of_bad_input(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text(GOOD)
    (root / "image.py").write_bytes(b"\x00\x01\x02" * 100)
    (root / "latin1.py").write_bytes("# é\n".encode("latin-1") + GOOD.encode())
    (root / "crlf.js").write_bytes(b"function a() {\r\n  return 1\r\n}\r\n")
    (root / "new\nline.py").write_text("def odd_name():\n    return 0\n")
    (root / "loop").symlink_to(root)
    for language, (ext, text) in BROKEN.items():
        (root / f"broken_{language}.{ext}").write_text(text)
    async with lsp_session([root], tmp_path / "cache", server_command=STUB_SERVER) as client:
        await wait_until_ready(client, folders=1, timeout=60)
        found = await command(client, "nearcode.search", {"query": "parse invoice total"})
        assert {r["path"] for r in found["results"][:2]} == {"good.py", "latin1.py"}
        odd = await command(client, "nearcode.search", {"query": "odd name"})
        assert odd["results"][0]["uri"] == (root / "new\nline.py").as_uri()
        # A NUL in the head: 1.9% of bare os.urandom(1000) draws hold none and read as
        # Latin-1-like text, which made this test fail by chance.
        (root / "image.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00" + os.urandom(1000))
        client.text_document_did_save(_save_params((root / "image.py").as_uri()))
        (root / "good.py").unlink()
        client.text_document_did_save(_save_params((root / "good.py").as_uri()))

        async def good_py_dropped() -> bool:
            # Not "latin1.py first": the two files hold the same code and tie, so latin1.py
            # can rank first while good.py is still indexed.
            found = await command(client, "nearcode.search", {"query": "parse invoice total"})
            paths = [r["path"] for r in found["results"]]
            return paths[:1] == ["latin1.py"] and "good.py" not in paths

        await wait_for(good_py_dropped, timeout=20)
        status = await wait_until_ready(client, folders=1, timeout=30)
        assert status["folders"][0]["state"] == "ready"
        assert status["folders"][0]["files"] == 1 + len(BROKEN) + 2  # latin1, crlf, odd name


def _save_params(uri: str):
    from lsprotocol import types

    return types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))


async def test_a_folder_opened_through_a_symlink_owns_its_files(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "good.py").write_text(GOOD + "\n\ndef other_total(rows):\n    return len(rows)\n")
    alias = tmp_path / "alias"
    alias.symlink_to(real)  # e.g. ~/src -> /data/src: the editor sends the alias's uris
    async with lsp_session([alias], tmp_path / "cache", server_command=STUB_SERVER) as client:
        await wait_until_ready(client, folders=1, timeout=60)
        argument = {
            "textDocument": {"uri": (alias / "good.py").as_uri()},
            "position": {"line": 0, "character": 4},
        }
        similar = await command(client, "nearcode.findSimilar", argument)
        assert [r["symbol"] for r in similar["results"]] == ["other_total"]
