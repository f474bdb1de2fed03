"""The `nearcode` command line as a user runs it: real processes, the real bundled model.

Each test names the item of the index-integrity issue it covers: read commands never change
an index, every bad input is one line (never a traceback), answers are fresh or say they are
stale, subfolders use the enclosing index, interrupted work is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_server.engine.locations import index_dir_for
from lsp_server.engine.storage import WriterLock
from lsp_server.engine.workspace import WorkspaceIndex

from .conftest import FIXTURE_WORKSPACE
from .lsp_helpers import command, lsp_session, wait_for, wait_until_ready
from .subprocess_helpers import ROOT, can_drop_privileges, shared_tmp

pytestmark = pytest.mark.e2e

NEARCODE = [sys.executable, "-m", "lsp_server"]


def nearcode(
    *args: str,
    cache: Path,
    cwd: Path | None = None,
    env: dict | None = None,
    timeout=180,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NEARCODE_CACHE_DIR": str(cache),
        **(env or {}),
    }
    for name in ("NEARCODE_BACKEND", "NEARCODE_MODEL"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [*NEARCODE, *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The command failed with `code`, saying one line (no traceback) that has `words`."""
    err = done.stderr.strip()
    assert done.returncode == code, (done.returncode, done.stdout, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err
    return err


def index_snapshot(workspace: Path, cache: Path) -> dict[str, str]:
    """A hash of every file of the index folder that holds data (not the lock, not SQLite's
    shared-memory scratch file, not an empty write-ahead log a reader's connection leaves)."""
    folder = index_dir_for(workspace, cache)
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
        and path.name not in ("writer.lock", "index.sqlite-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


@pytest.fixture
def indexed(tmp_path) -> tuple[Path, Path]:
    """A copy of the fixture workspace, indexed with the default (bundled ONNX) encoder."""
    workspace, cache = tmp_path / "ws", tmp_path / "cache"
    shutil.copytree(FIXTURE_WORKSPACE, workspace)
    done = nearcode("index", str(workspace), cache=cache)
    assert done.returncode == 0, done.stderr
    return workspace, cache


def search_json(workspace: Path, cache: Path, query: str, *extra: str, cwd=None) -> dict:
    done = nearcode("search", str(workspace), query, "--json", *extra, cache=cache, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- 1. read commands never change the index ------------------------------------------------------


def test_read_commands_with_another_backend_change_nothing(indexed):
    workspace, cache = indexed
    before = index_snapshot(workspace, cache)
    found = search_json(workspace, cache, "edit distance between strings", "--backend", "torch")
    assert found["results"][0]["symbol"] == "levenshtein_distance"  # by words: still found
    assert found["partial"] is True
    assert any("built with" in n and "words only" in n for n in found["notices"])
    status = nearcode("status", str(workspace), "--json", cache=cache, env={
        "NEARCODE_BACKEND": "torch"
    })
    assert status.returncode == 0 and json.loads(status.stdout)["chunks"] > 30
    assert index_snapshot(workspace, cache) == before


def test_index_with_a_model_that_cannot_load_fails_before_touching_the_index(indexed, tmp_path):
    workspace, cache = indexed
    before = index_snapshot(workspace, cache)
    done = nearcode("index", str(workspace), "--model", str(tmp_path / "nonexistent"), cache=cache)
    one_line_error(done, 2, "no model folder", "nonexistent")
    done = nearcode("index", str(workspace), "--backend", "onnx-int8", cache=cache)
    assert done.returncode == 0, done.stderr  # a working encoder: switched, with one notice
    assert done.stderr.count("embedding model changed") == 1
    assert index_snapshot(workspace, cache) != before
    found = search_json(workspace, cache, "least recently used cache")
    assert found["results"][0]["path"] == "storage/cache.py" and not found["partial"]


# -- 2. and 3. bad input: one line, never a traceback or a silent wrong answer -------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--include", "[z-a]"], ["range z-a runs backwards"]),
        (["--exclude-results", "[z-a]"], ["range z-a runs backwards"]),
        (["--include", "[["], ["'[' is never closed"]),
        (["--include", "["], ["'[' is never closed"]),
        (["--include", "**/*.{py"], ["'{' is never closed"]),
        (["--language", "nosuchlang"], ["unknown language 'nosuchlang'"]),
        (["--language", "pyhton"], ["did you mean python"]),
        (["--limit", "0"], ["'limit' must be"]),
        (["--max-file-size", "10"], ["unrecognized arguments: --max-file-size"]),
        # A character str.splitlines() breaks at, echoed back: shown escaped, on one line.
        (["-\x85x"], ["unrecognized arguments: -\\x85x"]),
    ],
)
def test_bad_search_options_are_one_line_and_exit_2(indexed, args, words):
    workspace, cache = indexed
    done = nearcode("search", str(workspace), "cache", *args, cache=cache)
    one_line_error(done, 2, *words)


def test_a_query_may_follow_the_options_as_a_grep_pattern_does(indexed):
    """`nearcode search PATH --options QUERY` and `... PATH --selection -` (stdin) read the
    query after the options; an option the command does not know is still an error, and
    `similar FILE LINE` is told the one-word form."""
    workspace, cache = indexed
    first = search_json(workspace, cache, "cache", "--limit", "3")["results"]
    done = nearcode("search", str(workspace), "--limit", "3", "--json", "cache", cache=cache)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"] == first
    trace = 'File "storage/cache.py", line 12, in get\nKeyError: missing\n'
    piped = nearcode(
        "search", str(workspace), "--selection", "--json", "-", cache=cache, stdin=trace
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["results"][0]["path"] == "storage/cache.py"
    done = nearcode("search", str(workspace), "--limit", "3", "cache", "--bogus", cache=cache)
    one_line_error(done, 2, "unrecognized arguments: --bogus")
    # Find Similar's location is one word; the two-word form is answered with it.
    done = nearcode("similar", "storage/cache.py", "12", cache=cache, cwd=workspace)
    one_line_error(
        done, 2, "expected FILE:LINE[:COL] as one word: `nearcode similar storage/cache.py:12`"
    )


def test_search_asks_for_one_query_as_its_usage_says(indexed):
    workspace, cache = indexed
    usage = nearcode("search", "--help", cache=cache).stdout.splitlines()[0]
    assert usage == "usage: nearcode search [options] [PATH] QUERY"
    done = nearcode("search", str(workspace), "cache", "retry", cache=cache)
    one_line_error(done, 2, 'expected [PATH] "QUERY" (quote a query of several words)')


def test_brace_globs_and_exclude_on_search_do_what_they_say(indexed):
    workspace, cache = indexed
    found = search_json(workspace, cache, "parse configuration", "--include", "**/*.{go,rs}")
    assert found["results"] and all(
        r["path"].endswith((".go", ".rs")) for r in found["results"]
    )
    found = search_json(workspace, cache, "cache", "--exclude", "storage/**", "--limit", "50")
    assert found["results"] and not any(r["path"].startswith("storage/") for r in found["results"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--exclude", "[z-a]"], ["range z-a runs backwards"]),
        (["--max-file-size", "-1"], ["'max file size' must be"]),
    ],
)
def test_bad_index_options_change_nothing(indexed, args, words):
    workspace, cache = indexed
    before = index_snapshot(workspace, cache)
    one_line_error(nearcode("index", str(workspace), *args, cache=cache), 2, *words)
    assert index_snapshot(workspace, cache) == before


def test_unusable_cache_dirs_are_one_line(tmp_path):
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, workspace)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for cache, words in [
        (a_file / "cache", ["is a file, not a folder"]),
        (Path("/proc/nearcode-cache"), ["cannot write"]),
    ]:
        done = nearcode("index", str(workspace), cache=cache)
        one_line_error(done, 2, *words, "NEARCODE_CACHE_DIR")


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to become nobody")
def test_a_read_only_index_answers_searches_and_refuses_writes_in_one_line():
    base = shared_tmp()
    workspace, cache = base / "ws", base / "cache"
    shutil.copytree(FIXTURE_WORKSPACE, workspace)
    assert nearcode("index", str(workspace), cache=cache).returncode == 0
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # root's, readable by nobody
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NEARCODE_CACHE_DIR": str(cache)}
        env.pop("NEARCODE_MODEL_CACHE_DIR", None)  # root's private export is not readable
        return subprocess.run(
            [*as_nobody, *NEARCODE, *args], env=env, capture_output=True, text=True,
            timeout=180, cwd="/",
        )

    found = run("search", str(workspace), "least recently used", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == "storage/cache.py"
    status = run("status", str(workspace))
    assert status.returncode == 0 and "chunks" in status.stdout, status.stderr
    one_line_error(run("index", str(workspace)), 2, "cannot write")
    one_line_error(run("clean", str(workspace)), 1, "permission denied")


@pytest.mark.parametrize(
    ("address", "words"),
    [("127.0.0.1:99999", ["port must be from 1 to 65535"]), ("nonsense", ["expected HOST:PORT"])],
)
def test_bad_serve_addresses_are_one_line(tmp_path, address, words):
    one_line_error(nearcode("serve", "--tcp", address, cache=tmp_path), 2, *words)


# -- 4. fresh or flagged --------------------------------------------------------------------------


RENAMED = "def make_url_slug(title: str) -> str:"


def test_an_edit_outside_the_editor_is_searched_fresh(indexed):
    workspace, cache = indexed
    strings = workspace / "textutil" / "strings.py"
    strings.write_text(strings.read_text().replace("def slugify(title: str) -> str:", RENAMED))
    found = search_json(workspace, cache, "url slug from a title")
    top = found["results"][0]
    assert (top["symbol"], top["preview"]) == ("make_url_slug", RENAMED)
    assert found["stale"] is False and found["partial"] is False
    status = json.loads(nearcode("status", str(workspace), "--json", cache=cache).stdout)
    assert status["changedFiles"] == 0 and status["pending"] == 0


def test_an_index_owned_by_another_process_gives_stale_answers_that_say_so(indexed):
    workspace, cache = indexed
    strings = workspace / "textutil" / "strings.py"
    strings.write_text(strings.read_text().replace("def slugify(title: str) -> str:", RENAMED))
    lock = WriterLock(index_dir_for(workspace, cache))
    assert lock.try_acquire()  # as an editor's server would hold it
    try:
        done = nearcode("search", str(workspace), "slug from a title", "--json", cache=cache)
        found = json.loads(done.stdout)
        assert found["stale"] is True
        assert any("1 file has changed" in n for n in found["notices"])
        status = json.loads(nearcode("status", str(workspace), "--json", cache=cache).stdout)
        assert status["changedFiles"] == 1 and status["updatingPid"] == os.getpid()
        similar = nearcode(
            "similar", f"{strings}:5", "--json", "--limit", "50", cache=cache
        )
        symbols = [r["symbol"] for r in json.loads(similar.stdout)["results"]]
        assert "slugify" not in symbols  # its own stale copy is never an answer
    finally:
        lock.release()


_RETRY = "def retry_request(send, attempts=3):\n    for _ in range(attempts):\n" \
    "        if send():\n            return True\n    return False\n"


def _status(workspace: Path, cache: Path) -> dict:
    done = nearcode("status", str(workspace), "--json", cache=cache)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _three_retry_helpers(workspace: Path) -> Path:
    """retry.py, gen/retry_client.py, and big_retry.py (3.1 KiB) in `workspace`."""
    (workspace / "gen").mkdir(parents=True)
    (workspace / "retry.py").write_text(_RETRY)
    (workspace / "gen" / "retry_client.py").write_text(_RETRY.replace("retry_", "gen_retry_"))
    big = "# padding\n" * 300 + _RETRY.replace("retry_", "big_retry_")
    (workspace / "big_retry.py").write_text(big)
    return workspace


def _indexed_with_a_scope(tmp_path: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A workspace of three retry helpers, indexed by `nearcode index --exclude 'gen/**'
    --max-file-size 2048`, which leaves out gen/retry_client.py and big_retry.py (3.1 KiB)."""
    workspace, cache = _three_retry_helpers(tmp_path / "ws"), tmp_path / "cache"
    done = nearcode(
        "index", str(workspace), "--exclude", "gen/**", "--max-file-size", "2048", cache=cache
    )
    assert done.returncode == 0, done.stderr
    return workspace, cache, done


def test_the_files_an_index_was_built_to_leave_out_stay_out_when_commands_refresh_it(tmp_path):
    """`nearcode index --exclude --max-file-size` chooses the files; searches refresh the
    index with the same choice, and so does the next `index` unless it is given another."""
    workspace, cache, done = _indexed_with_a_scope(tmp_path)
    assert "skipped big_retry.py: too large (3.1 KiB > 2 KiB limit)" in done.stderr

    found = search_json(workspace, cache, "retry a request a few times", "--limit", "10")
    assert [r["path"] for r in found["results"]] == ["retry.py"]
    status = _status(workspace, cache)
    assert (status["files"], status["changedFiles"]) == (1, 0)
    assert (status["exclude"], status["maxFileSize"]) == (["gen/**"], 2048)
    text = nearcode("status", str(workspace), cache=cache).stdout
    assert "scope      --exclude 'gen/**' --max-file-size 2048" in text.splitlines()

    again = nearcode("index", str(workspace), cache=cache)
    assert again.returncode == 0, again.stderr
    assert (
        f"nearcode: as the index of {workspace.resolve()} was built: --exclude 'gen/**' "
        "--max-file-size 2048 (give them again to change them; --exclude '' for no patterns)"
    ) in again.stderr
    assert _status(workspace, cache)["files"] == 1

    cleared = nearcode("index", str(workspace), "--exclude", "", cache=cache)
    assert cleared.returncode == 0, cleared.stderr
    status = _status(workspace, cache)
    assert (status["files"], status["exclude"], status["maxFileSize"]) == (2, [], 2048)
    found = search_json(workspace, cache, "retry a request a few times", "--limit", "10")
    assert sorted(r["path"] for r in found["results"]) == ["gen/retry_client.py", "retry.py"]


async def _editor_paths(workspace: Path, cache: Path, options: dict) -> tuple[list, list, tuple]:
    """The files an editor's server finds for a retry question, those it says it left out,
    and the scope it says it holds, started with `options` as its settings."""
    async with lsp_session([workspace], cache, options=options) as client:
        status = await wait_until_ready(client, 1)
        found = await command(
            client, "nearcode.search", {"query": "retry a request a few times", "limit": 10}
        )
    folder = status["folders"][0]
    paths = sorted(r["path"] for r in found["results"])
    scope = (folder["exclude"], folder["maxFileSize"])
    return paths, [s["path"] for s in folder["skippedFiles"]], scope


async def test_an_editor_that_sets_no_scope_keeps_the_one_the_index_was_built_with(tmp_path):
    """Opening the folder in an editor whose exclude/maxFileSize are not set does not undo
    `nearcode index --exclude --max-file-size`; an editor that sets them uses its own, and
    goes back to the default when they are removed."""
    workspace, cache, _ = _indexed_with_a_scope(tmp_path)

    # VS Code sends null for a setting the user has not set; Neovim sends nothing.
    for unset in ({}, {"exclude": None, "maxFileSize": None}):
        paths, skipped, scope = await _editor_paths(workspace, cache, unset)
        assert paths == ["retry.py"]
        assert skipped == ["big_retry.py"]
        assert scope == (["gen/**"], 2048)  # what the editors show
        status = _status(workspace, cache)
        assert (status["files"], status["exclude"], status["maxFileSize"]) == (
            1, ["gen/**"], 2048
        )
        assert status["scopeSetInEditor"] == []  # kept, not chosen there

    paths, skipped, scope = await _editor_paths(workspace, cache, {"exclude": []})
    assert paths == ["gen/retry_client.py", "retry.py"]
    assert skipped == ["big_retry.py"]  # its largest file is still the one recorded
    assert scope == ([], 2048)
    status = _status(workspace, cache)
    assert (status["exclude"], status["maxFileSize"]) == ([], 2048)

    mine = {"exclude": ["gen/retry_client.py"], "maxFileSize": 4096}
    paths, skipped, scope = await _editor_paths(workspace, cache, mine)
    assert paths == ["big_retry.py", "retry.py"]
    assert (skipped, scope) == ([], (["gen/retry_client.py"], 4096))
    status = _status(workspace, cache)
    assert status["exclude"] == ["gen/retry_client.py"]
    assert status["scopeSetInEditor"] == ["exclude", "maxFileSize"]
    text = nearcode("status", str(workspace), cache=cache).stdout
    assert (
        "scope      --exclude gen/retry_client.py --max-file-size 4096 "
        "(an editor's exclude and maxFileSize settings)"
    ) in text.splitlines()

    # The user removes those settings: the editor's old choice does not linger, since it
    # was the editor's, not what `nearcode index` was given.
    paths, skipped, scope = await _editor_paths(workspace, cache, {})
    assert paths == ["big_retry.py", "gen/retry_client.py", "retry.py"]
    assert (skipped, scope) == ([], ([], 1 << 20))


async def test_each_folder_of_a_window_keeps_to_the_files_its_own_settings_choose(tmp_path):
    """A VS Code multi-root window sends each folder's exclude/maxFileSize (its folder
    settings) beside the window's: each folder indexes what its own settings choose, and a
    change to one folder's settings reopens that folder alone."""
    cache = tmp_path / "cache"
    one = _three_retry_helpers(tmp_path / "one")
    two = _three_retry_helpers(tmp_path / "two")
    window = {"exclude": None, "maxFileSize": 2048}
    options = window | {
        "folders": [
            {"uri": one.as_uri(), "exclude": ["gen/**"], "maxFileSize": None},
            {"uri": two.as_uri(), "exclude": None, "maxFileSize": None},
        ]
    }
    question = {"query": "retry a request a few times", "limit": 10}

    def found_in(found: dict, folder: Path) -> list[str]:
        return sorted(r["path"] for r in found["results"] if r["uri"].startswith(folder.as_uri()))

    async with lsp_session([one, two], cache, options=options) as client:
        status = await wait_until_ready(client, 2)
        scopes = {f["uri"]: (f["exclude"], f["maxFileSize"]) for f in status["folders"]}
        assert scopes == {one.as_uri(): (["gen/**"], 2048), two.as_uri(): ([], 2048)}
        found = await command(client, "nearcode.search", question)
        assert found_in(found, one) == ["retry.py"]
        assert found_in(found, two) == ["gen/retry_client.py", "retry.py"]
        embedded = {f["uri"]: f["encodedThisSession"] for f in status["folders"]}

        options["folders"][1] = {"uri": two.as_uri(), "exclude": ["gen/**"], "maxFileSize": 4096}
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"nearcode": options})
        )

        async def reopened() -> dict | None:
            status = await command(client, "nearcode.status")
            folders = {f["uri"]: f for f in status["folders"]}
            two_now = folders.get(two.as_uri(), {})
            done = two_now.get("maxFileSize") == 4096 and two_now.get("state") == "ready"
            return folders if done and two_now.get("pending") == 0 else None

        folders = await wait_for(reopened, timeout=60)
        assert (folders[two.as_uri()]["exclude"], folders[two.as_uri()]["skipped"]) == (
            ["gen/**"], 0
        )
        # Folder one's settings did not change: it kept its index open (nothing re-read).
        assert folders[one.as_uri()]["encodedThisSession"] == embedded[one.as_uri()] > 0
        found = await command(client, "nearcode.search", question)
        assert found_in(found, two) == ["big_retry.py", "retry.py"]

    # What the command line says of each folder afterwards: which settings chose its scope.
    assert (_status(one, cache)["exclude"], _status(one, cache)["scopeSetInEditor"]) == (
        ["gen/**"], ["exclude", "maxFileSize"]
    )
    assert _status(two, cache)["maxFileSize"] == 4096


# -- 5. subfolders --------------------------------------------------------------------------------


def test_a_subfolder_uses_the_enclosing_index_limited_to_itself(indexed):
    workspace, cache = indexed
    sub = workspace / "textutil"
    done = nearcode("search", "edit distance", "--json", cache=cache, cwd=sub)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["results"] and all(r["path"].startswith("textutil/") for r in found["results"])
    assert any(f"using the index of {workspace}" in n for n in found["notices"])
    folders_before = sorted(p.name for p in (cache / "indexes").iterdir())
    done = nearcode("index", str(sub), cache=cache)
    assert done.returncode == 0 and "updating that index" in done.stderr
    assert sorted(p.name for p in (cache / "indexes").iterdir()) == folders_before


# -- 6. interrupted work is kept, progress moves -------------------------------------------------


def big_tree(root: Path, files: int = 60) -> Path:
    for i in range(files):
        body = "\n\n".join(
            f"def step_{i}_{j}(values):\n    '''Scale item {j} of batch {i}.'''\n"
            f"    return [v * {i + j} + {j} for v in values if v % {j + 2}]"
            for j in range(12)
        )
        (root / f"mod_{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"mod_{i}.py").write_text(body + "\n")
    return root


def test_ctrl_c_keeps_what_was_embedded_and_later_answers_say_how_to_finish(tmp_path):
    workspace, cache = big_tree(tmp_path / "ws"), tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEARCODE_CACHE_DIR": str(cache)}
    proc = subprocess.Popen(
        [*NEARCODE, "index", str(workspace)], env=env, stderr=subprocess.PIPE, text=True,
        # A runner started in the background (nohup, `cmd &`) ignores SIGINT, and children
        # inherit that: give the command the default handling a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # wait until embedding has committed some work
        lines.append(line)
        if line.startswith("embed") and " 0%" not in line:
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, lines + [rest]
    assert "the work done is kept" in rest and "Traceback" not in rest
    status = json.loads(nearcode("status", str(workspace), "--json", cache=cache).stdout)
    assert 0 < status["embedded"] < status["chunks"]
    done = nearcode("search", str(workspace), "scale the items of a batch", cache=cache)
    assert done.returncode == 0
    assert "nothing is embedding them: run `nearcode index" in done.stderr
    assert "still being built" not in done.stderr


# -- 7. the smaller things -----------------------------------------------------------------------


def test_a_piped_stack_trace_is_searched_as_a_selection(indexed):
    """`--selection -` reads pasted text from stdin and searches it as the editor's Search
    by Selection does: the place the trace names comes first. Its words alone point at
    fetchJson, so a search that ignored the frame would rank another function first."""
    workspace, cache = indexed
    trace = "TypeError: Cannot read properties of undefined\n    at /srv/app/web/api.js:25:36\n"
    asked = ("search", str(workspace), "-", "--json")
    done = nearcode(*asked, "--selection", cache=cache, stdin=trace)
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)["results"][0]
    assert (first["path"], first["symbol"]) == ("web/api.js", "EventBus.subscribe")
    assert first["range"]["start"]["line"] <= 24 <= first["range"]["end"]["line"]
    # The cursor goes to the frame's line, past its indentation.
    assert first["selectionRange"]["start"] == {"line": 24, "character": 4}
    typed = nearcode(*asked, cache=cache, stdin=trace)
    assert json.loads(typed.stdout)["results"][0]["symbol"] == "fetchJson"
    one_line_error(nearcode(*asked, "--selection", cache=cache, stdin="  \n"), 2, "empty")


def test_results_point_at_the_name_not_the_doc_comment_above_it(indexed):
    """`/// Computes the CRC-32 …` is line 1 of src/checksum.rs and `pub fn crc32(` line 2:
    the line printed (and the JSON's selectionRange) is the name's; the range keeps the
    comment, which is part of the definition."""
    workspace, cache = indexed
    done = nearcode("search", str(workspace), "CRC-32 checksum", "--limit", "1", cache=cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("src/checksum.rs:2 crc32 (function, "), done.stdout
    assert done.stdout.splitlines()[1].strip() == "pub fn crc32(data: &[u8]) -> u32"
    first = search_json(workspace, cache, "CRC-32 checksum")["results"][0]
    assert first["range"]["start"] == {"line": 0, "character": 0}
    assert first["selectionRange"] == {
        "start": {"line": 1, "character": 7},
        "end": {"line": 1, "character": 12},
    }


def test_similar_on_an_indented_def_line_without_a_column(indexed):
    workspace, cache = indexed
    client = workspace / "http" / "client.py"
    line = next(
        n for n, text in enumerate(client.read_text().splitlines(), 1)
        if text.startswith("    def fetch_with_retry")
    )
    done = nearcode("similar", f"{client}:{line}", "--json", cache=cache)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert "partial" in found and "stale" in found
    assert all(r["symbol"] != "HttpClient.fetch_with_retry" for r in found["results"])
    past = nearcode("similar", f"{client}:999", cache=cache)
    one_line_error(past, 1, "line 999 is past the end of http/client.py (45 lines)")


def test_index_output_counts_cached_vectors_and_says_each_notice_once(indexed):
    workspace, cache = indexed
    shutil.copy(workspace / "textutil" / "strings.py", workspace / "textutil" / "copy.py")
    done = nearcode("index", str(workspace), cache=cache)
    assert done.returncode == 0, done.stderr
    with WorkspaceIndex(workspace, mode="read", index_dir=index_dir_for(workspace, cache)) as index:
        copied = len(index.store.chunks_of_file("textutil/copy.py"))
    assert copied > 1
    assert "1 added" in done.stdout and "0 chunks embedded" in done.stdout
    assert f"{copied} from cache" in done.stdout  # the copy's vectors were already known
    (workspace / "one").mkdir()
    (workspace / "one" / "a.py").write_text("def only():\n    return 1\n")
    done = nearcode("index", str(workspace / "one"), cache=tmp_cache(workspace))
    assert done.returncode == 0 and done.stdout.startswith("indexed 1 file, 1 chunk ")
    switched = nearcode("index", str(workspace), "--backend", "torch", cache=cache)
    assert switched.stderr.count("embedding model changed") == 1
    version = nearcode("--version", cache=cache)
    assert version.returncode == 0 and version.stdout.startswith("nearcode 0.1")


def tmp_cache(workspace: Path) -> Path:
    return workspace.parent / "other-cache"


# -- 13. leftovers and misleading output ---------------------------------------------------------


def test_a_partly_deleted_index_says_so_and_exits_1(indexed):
    workspace, cache = indexed
    folder = index_dir_for(workspace, cache)
    (folder / "index.sqlite").unlink()
    done = nearcode("search", str(workspace), "cache", cache=cache)
    one_line_error(done, 1, "missing or incomplete", "nearcode index")


def test_a_copy_that_keeps_size_and_mtime_is_still_reindexed(indexed):
    workspace, cache = indexed
    strings = workspace / "textutil" / "strings.py"
    stat = strings.stat()
    replacement = workspace.parent / "replacement.py"
    text = strings.read_text().replace("slugify", "slugifx")  # same size
    replacement.write_text(text)
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    shutil.copy2(replacement, strings)  # cp -p: same size, same mtime, new content
    assert strings.stat().st_size == stat.st_size
    assert strings.stat().st_mtime_ns == stat.st_mtime_ns
    time.sleep(0.01)
    found = search_json(workspace, cache, "slugifx")
    assert found["results"][0]["symbol"] == "slugifx"


_COMPONENT = """<!--
A search box over the pages of the site.
-->
<script setup lang="ts">
import { computed, ref } from 'vue'

const props = defineProps<{ pages: { title: string; url: string }[] }>()
const query = ref('')

const matches = computed(() =>
  props.pages.filter((page) => page.title.toLowerCase().includes(query.value.toLowerCase()))
)
</script>

<template>
  <input v-model="query" placeholder="Search pages" />
  <a v-for="page in matches" :key="page.url" :href="page.url">{{ page.title }}</a>
</template>
"""


def test_a_vue_components_code_is_a_named_result_at_its_line(tmp_path):
    """The `<script setup lang="ts">` of a `.vue` file is chunked as TypeScript: the result
    is `matches` on its own line, and a filter on either language keeps it."""
    workspace, cache = tmp_path / "ws", tmp_path / "cache"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "SearchBox.vue").write_text(_COMPONENT)
    assert nearcode("index", str(workspace), cache=cache).returncode == 0
    question = "pages whose title holds the typed text, ignoring case"
    done = nearcode("search", str(workspace), question, "--limit", "1", cache=cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("src/SearchBox.vue:10 SearchBox.matches (function, "), done.stdout
    assert done.stdout.splitlines()[1].strip() == "const matches = computed(() =>"
    for language in ("vue", "typescript"):
        found = search_json(workspace, cache, question, "--language", language)["results"]
        assert (found[0]["symbol"], found[0]["language"]) == ("SearchBox.matches", "typescript")
    assert search_json(workspace, cache, question, "--language", "python")["results"] == []
