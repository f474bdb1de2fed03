"""A hostile workspace: a cloned repository must not run code, hang, exhaust or silence nearcode.

Each test builds its hostile folder with `plant()` at run time (FIFOs, device links and
planted modules are not committed) and drives the real command line or the real server over
stdio, with timeouts, so a regression fails instead of hanging CI. Numbers refer to the items
of the issue "Untrusted repositories and the privacy promise"; the network half of item 2 is
in test_privacy.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lsp_server.engine import scanner as scanner_module
from lsp_server.engine.folder_indexer import FolderIndexer
from lsp_server.engine.locations import MODEL_CACHE_ENV
from lsp_server.engine.scanner import Scanner, SkippedFile
from lsp_server.engine.settings import EngineSettings
from lsp_server.server.framing import INVALID_REQUEST, MAX_MESSAGE_BYTES, PARSE_ERROR
from lsp_server.server.main import NullProgress

from .conftest import HashingEncoder
from .lsp_helpers import command, lsp_session, wait_until_ready
from .raw_lsp import RawServer
from .stub_encoder import STUB_SERVER
from .subprocess_helpers import ROOT

GOOD = "def parse_invoice_total(rows):\n    return sum(r.amount for r in rows)\n"
PATHOLOGICAL = "*a*a*a*a*a*a*a*b"  # exponential on a backtracking regex engine
LONG_NAME = "a" * 100 + ".py"  # 100 characters that almost match PATHOLOGICAL
IGNORED_NAME = "a" * 8 + ".rb"  # matches it: still ignored, as git would


# -- the fixture generator ----------------------------------------------------------------------


def plant(root: Path, kind: str, outside: Path) -> Path:
    """Makes ``root`` a workspace with one kind of hostile content; ``outside`` is a folder
    beside it that nearcode must never open. Returns the root."""
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (root / "good.py").write_text(GOOD)
    if kind == "planted-modules":
        # Imported by any Python started in this folder without -I/-P (the export child was).
        for name in ("numpy", "torch", "onnx", "transformers", "tokenizers", "sitecustomize"):
            (root / f"{name}.py").write_text(_marker_code(outside, name))
        package = root / "lsp_server" / "engine"
        package.mkdir(parents=True)
        (root / "lsp_server" / "__init__.py").write_text(_marker_code(outside, "lsp_server"))
        (package / "__init__.py").write_text("")
    elif kind == "gitignore-to-dev-zero":
        (root / ".gitignore").symlink_to("/dev/zero")
    elif kind == "fifo-gitignore":
        os.mkfifo(root / ".gitignore")
        (root / "sub").mkdir()
        os.mkfifo(root / "sub" / ".gitignore")
    elif kind == "links-outside":
        # FIFOs outside: a scanner that opens them blocks, which a timeout turns into a failure.
        os.mkfifo(outside / "fifo")
        (outside / "gitdir" / "info").mkdir(parents=True)
        os.mkfifo(outside / "gitdir" / "info" / "exclude")
        os.mkfifo(outside / "gitdir" / "commondir")
        (root / ".git").write_text(f"gitdir: {outside / 'gitdir'}\n")
        (root / ".gitignore").symlink_to("/etc/passwd")
        (root / "sub").mkdir()
        (root / "sub" / ".gitignore").symlink_to(outside / "fifo")
        (root / "sub" / "code.py").write_text("def nested_helper():\n    return 2\n")
    elif kind == "gitignore-to-stdin":
        (root / ".gitignore").symlink_to("/dev/stdin")
    elif kind == "pathological-pattern":
        (root / ".gitignore").write_text(f"{PATHOLOGICAL}\n*.log\n")
        (root / LONG_NAME).write_text("def long_named_module():\n    return 3\n")
        (root / IGNORED_NAME).write_text("def ignored_by_the_pattern\n  1\nend\n")
    else:
        raise ValueError(kind)
    return root


def _marker_code(outside: Path, name: str) -> str:
    return f"open({str(outside / ('RAN-' + name))!r}, 'w').write('planted code ran')\n"


def _limit_memory() -> None:
    """A runaway read fails with MemoryError here instead of exhausting the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def nearcode(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """The real command line, started the way the `nearcode` script is: -P keeps the current
    folder off this process's own sys.path, as a console script does."""
    return subprocess.run(
        [sys.executable, "-P", "-m", "lsp_server", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return tmp_path / "outside"


# -- 1. workspace code during the ONNX export -----------------------------------------------------


@pytest.mark.slow
def test_the_model_export_runs_no_code_from_the_workspace(tmp_path, outside):
    root = plant(tmp_path / "repo", "planted-modules", outside)
    models = tmp_path / "empty-model-cache"  # the export runs on first use
    done = nearcode("index", ".", cwd=root, env={MODEL_CACHE_ENV: str(models)}, timeout=600)
    assert sorted(p.name for p in outside.iterdir()) == [], "workspace code ran"
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "planted" not in done.stderr
    assert "chunks embedded" in done.stdout
    assert any("-onnx-" in p.name for p in models.iterdir()), "the ONNX export did not happen"
    found = nearcode("search", ".", "invoice total", "--json", cwd=root)
    assert json.loads(found.stdout)["results"][0]["path"] == "good.py"


# -- 3 and 5. ignore files that are links, FIFOs or point outside -------------------------------


@pytest.mark.parametrize(
    ("kind", "reasons"),
    [
        ("gitignore-to-dev-zero", {".gitignore": "symlink: not followed"}),
        ("fifo-gitignore", {".gitignore": "not a regular file", "sub/.gitignore": "not a regular"}),
        (
            "links-outside",
            {
                ".git": "gitdir outside the workspace: not followed",
                ".gitignore": "symlink: not followed",
                "sub/.gitignore": "symlink: not followed",
            },
        ),
    ],
)
def test_ignore_files_are_read_only_when_regular_and_inside(tmp_path, outside, kind, reasons):
    root = plant(tmp_path / "repo", kind, outside)
    done = nearcode("index", str(root), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    for rel, reason in reasons.items():
        assert f"skipped {rel}: {reason}" in done.stderr, done.stderr[-2000:]
    found = nearcode("search", str(root), "invoice total", "--json", cwd=tmp_path)
    assert json.loads(found.stdout)["results"][0]["path"] == "good.py"


def test_an_ignore_file_is_read_up_to_a_limit(tmp_path):
    limit = scanner_module.IGNORE_FILE_LIMIT
    lines = ["# padding"] * (limit // 10) + ["late.py"]
    (tmp_path / ".gitignore").write_text("early.py\n" + "\n".join(lines) + "\n")
    for name in ("early.py", "late.py", "kept.py"):
        (tmp_path / name).write_text(GOOD)
    found = list(Scanner(tmp_path).scan())
    indexed = sorted(f.path for f in found if not isinstance(f, SkippedFile))
    reasons = [f.reason for f in found if isinstance(f, SkippedFile) and f.path == ".gitignore"]
    assert indexed == ["kept.py", "late.py"]  # early.py ignored; late.py lies past the limit
    assert "larger than 1 MiB: only the first 1 MiB read" in reasons


def test_an_ignore_file_with_too_many_patterns_keeps_the_first(tmp_path):
    cap = scanner_module.MAX_PATTERNS_PER_FILE
    lines = [f"gen_{i}.py" for i in range(cap + 500)]
    (tmp_path / ".gitignore").write_text("\n".join(lines) + "\n")
    for name in ("gen_0.py", f"gen_{cap + 10}.py", "kept.py"):
        (tmp_path / name).write_text(GOOD)
    found = list(Scanner(tmp_path).scan())
    indexed = sorted(f.path for f in found if not isinstance(f, SkippedFile))
    reasons = [f.reason for f in found if isinstance(f, SkippedFile) and f.path == ".gitignore"]
    assert indexed == [".gitignore", f"gen_{cap + 10}.py", "kept.py"]
    assert any(f"more than {cap} patterns" in reason for reason in reasons), reasons


# -- 4 and 5. a pattern that backtracks, and an ignore file that reads the LSP stream --------


@pytest.mark.parametrize("kind", ["pathological-pattern", "gitignore-to-stdin"])
async def test_the_server_keeps_answering(tmp_path, outside, kind):
    root = plant(tmp_path / "repo", kind, outside)
    async with lsp_session([root], tmp_path / "cache", server_command=STUB_SERVER) as client:
        await asyncio.wait_for(wait_until_ready(client, folders=1, timeout=30), 40)
        found = await asyncio.wait_for(
            command(client, "nearcode.search", {"query": "invoice total"}), 10
        )
        assert found["results"][0]["path"] == "good.py"
        if kind == "pathological-pattern":  # same git semantics: the name not matching is kept
            found = await command(client, "nearcode.search", {"query": "long named module"})
            assert found["results"][0]["path"] == LONG_NAME
            found = await command(client, "nearcode.search", {"query": "ignored by the pattern"})
            assert IGNORED_NAME not in {r["path"] for r in found["results"]}
    # lsp_session ends with shutdown + exit, each under a timeout: both were answered


def test_without_re2_a_costly_pattern_is_dropped_with_a_warning(tmp_path, monkeypatch, caplog):
    plant(tmp_path, "pathological-pattern", tmp_path / "outside")
    monkeypatch.setattr(scanner_module, "re2", None)
    monkeypatch.setattr(scanner_module, "_BACKEND", "simple")
    started = time.monotonic()
    found = list(Scanner(tmp_path).scan())
    assert time.monotonic() - started < 30  # on Python's regex engine this pattern never ends
    skipped = {f.path: f.reason for f in found if isinstance(f, SkippedFile)}
    assert PATHOLOGICAL in skipped[".gitignore"] and "wildcards" in skipped[".gitignore"]
    assert f".gitignore: patterns dropped as too costly to match: '{PATHOLOGICAL}'" in caplog.text
    indexed = {f.path for f in found if not isinstance(f, SkippedFile)}
    assert LONG_NAME in indexed and "outside" not in indexed


# -- 6. JSON-RPC framing ------------------------------------------------------------------------


def _abusive_requests() -> list[tuple[object, dict]]:
    """(id, message) pairs: every one is a request, and every one must be answered."""
    methods = [
        "unknown/method",
        "textDocument/hover",
        "textDocument/definition",
        "$/unknown",
        "workspace/symbol",
        "workspace/executeCommand",
        "",
    ]
    params_list = [None, [], "x", 5, {}, {"query": 5}, {"command": 5}, [[[[]]]]]
    built: list[tuple[object, dict]] = []
    for method in methods:
        for params in params_list:
            message = {"jsonrpc": "2.0", "id": len(built) + 1, "method": method}
            if params is not None:
                message["params"] = params
            built.append((message["id"], message))
    commands = [
        ("nearcode.search", "x"),
        ("nearcode.search", [{"query": None}]),
        ("no.such.command", []),
        ("nearcode.status", [1, 2]),
        ("nearcode.search", [{"query": "x" * 3_000_000}]),
    ]
    for name, arguments in commands:
        params = {"command": name, "arguments": arguments}
        message = {"jsonrpc": "2.0", "id": len(built) + 1, "method": "workspace/executeCommand"}
        built.append((message["id"], {**message, "params": params}))
    symbol = {"method": "workspace/symbol", "params": {"query": "invoice"}}
    for envelope in ({"jsonrpc": "1.0"}, {"jsonrpc": None}, {}):
        built.append((len(built) + 1, {"id": len(built) + 1, **symbol, **envelope}))
    for odd in ({"method": 5}, {"method": None}, {**symbol, "result": 1}, {}):
        built.append((len(built) + 1, {"jsonrpc": "2.0", "id": len(built) + 1, **odd}))
    for odd_id in (1.5, -1, 2**70, "", "s" * 1000, 0, "dup", "dup"):
        built.append((odd_id, {"jsonrpc": "2.0", "id": odd_id, **symbol}))
    return built


# Bodies whose id cannot be known: each must be answered with an error and id null.
UNANSWERABLE = [
    (b"{", PARSE_ERROR),
    (b"not json", PARSE_ERROR),
    (b"\xff\xfe{}", PARSE_ERROR),
    (b"[" * 100_000 + b"]" * 100_000, PARSE_ERROR),  # deeper than the JSON parser goes
    (b"", PARSE_ERROR),
    (b"[]", INVALID_REQUEST),
    (b"5", INVALID_REQUEST),
    (b"null", INVALID_REQUEST),
    (b'[{"jsonrpc": "2.0", "id": "batched", "method": "workspace/symbol"}]', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": true, "method": "workspace/symbol"}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "workspace/symbol"}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": [1], "method": "workspace/symbol"}', INVALID_REQUEST),
]


def test_every_abusive_request_gets_an_answer(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "good.py").write_text(GOOD)
    server = RawServer(tmp_path / "cache")
    try:
        server.initialize(root)
        battery = _abusive_requests()
        for _, message in battery:
            server.send_body(json.dumps(message).encode())
        unanswered = [
            message for msg_id, message in battery if not _answered(server, msg_id, timeout=30)
        ]
        assert not unanswered, f"{len(unanswered)} of {len(battery)} not answered: {unanswered}"
        for body, code in UNANSWERABLE:
            before = len(_null_id_errors(server))
            server.send_body(body)
            got = server.wait_for(lambda m, n=before: len(_null_id_errors(server)) > n, 20)
            assert got is not None, f"no answer to {body[:40]!r}"
            assert _null_id_errors(server)[-1]["error"]["code"] == code, body[:40]
        answer = server.request("alive", "workspace/symbol", {"query": "invoice"})
        assert answer["result"][0]["name"] == "parse_invoice_total"
        # Lower-case header names and bare LF line ends are accepted too.
        body = b'{"jsonrpc":"2.0","id":"lf","method":"workspace/symbol","params":{"query":"x"}}'
        server.send_raw(b"content-length: %d\n\n" % len(body) + body)
        assert "result" in server.response("lf")
        assert server.request("bye", "shutdown")["result"] is None
        late = server.request("late", "workspace/symbol", {"query": "invoice"})
        assert late["error"]["code"] == INVALID_REQUEST
        assert "shutting down" in late["error"]["message"]
        server.send({"method": "exit"})
        assert server.exit_code() == 0
    finally:
        server.close()


def _answered(server: RawServer, msg_id: object, timeout: float) -> bool:
    if msg_id == "dup":  # two requests with one id: two answers
        return server.wait_for(lambda m: len(_answers(server, "dup")) >= 2, timeout) is not None
    return server.wait_for(lambda m: m in _answers(server, msg_id), timeout) is not None


def _answers(server: RawServer, msg_id: object) -> list[dict]:
    return [m for m in list(server.messages) if "method" not in m and m.get("id") == msg_id]


def _null_id_errors(server: RawServer) -> list[dict]:
    return [m for m in list(server.messages) if "error" in m and "id" in m and m["id"] is None]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"Content-Length: abc\r\n\r\n{}", "a Content-Length that is not a number"),
        (b"Content-Type: x\r\n\r\n{}", "a message without a Content-Length header"),
        (b"Content-Length: 1000000000000\r\n\r\n{}", "over the 64 MiB limit"),
        (b"Content-Length: %d\r\n\r\n" % (MAX_MESSAGE_BYTES + 1), "over the 64 MiB limit"),
        (b"Content-Length: -5\r\n\r\n", "not a number"),
        (b"X-Padding: " + b"x" * 100_000 + b"\r\n", "a header line longer than"),
    ],
)
def test_broken_framing_closes_the_connection_with_a_reason(tmp_path, frame, reason):
    server = RawServer(tmp_path / "cache")
    try:
        server.initialize()
        server.send_raw(frame)
        server.send({"id": "after", "method": "workspace/symbol", "params": {"query": "x"}})
        assert server.exit_code(timeout=20) == 1, "the server neither answered nor closed"
        shown = server.wait_for(lambda m: m.get("method") == "window/showMessage", 5)
        assert shown is not None and reason in shown["params"]["message"]
        log_file = tmp_path / "cache" / "logs" / "server.log"
        assert "closing the connection: the client sent" in log_file.read_text()
    finally:
        assert "MemoryError" not in server.close()


# -- 7. idle is idle ----------------------------------------------------------------------------


def test_an_idle_folder_runs_no_query_proportional_to_the_index(tmp_path, monkeypatch):
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    for i in range(30):
        (tmp_path / f"mod_{i}.py").write_text(f"def handler_{i}(x):\n    return x + {i}\n")

    class Events:
        def begin_progress(self, title, message, percentage=0):
            return NullProgress()

        def show_error(self, message):
            raise AssertionError(message)

        def show_info(self, message):
            pass

    folder = FolderIndexer("file:///ws", tmp_path, EngineSettings(), HashingEncoder(), Events())
    folder.start()
    try:
        deadline = time.monotonic() + 30
        while folder.status.state != "ready" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert folder.status.state == "ready"
        time.sleep(1.5)  # the last round settles
        statements.clear()
        time.sleep(3.5)  # idle: the indexer thread wakes every second
        counting = [s for s in statements if "count(" in s.lower()]
        assert not counting, f"idle work counts rows: {counting[:3]}"
        assert len(statements) <= 20, statements
    finally:
        folder.stop()


_COMPONENT_CHUNKS = """
import sys
from lsp_server.engine.chunker import chunk_text
text = open(sys.argv[1]).read()
chunks = chunk_text("src/Hostile.vue", text, "vue")
assert chunks and all(text.count(c.text) for c in chunks[:50])
print(len(chunks))
"""


@pytest.mark.parametrize(
    "unit",
    [
        "<!--\n",  # comments never closed (on lines of their own: not a minified file)
        '<script "\n',  # opening tags never closed, quotes that pair across them
        "<script>x</script>\n",  # a script element per line
    ],
)
def test_a_hostile_component_is_chunked_in_time_linear_in_its_size(tmp_path, unit):
    """A `.vue` file of 1 MiB (the largest indexed) built to make a scan from each `<` read
    to the end of the file: it is chunked in seconds, not hours (the timeout fails it)."""
    hostile = tmp_path / "Hostile.vue"
    hostile.write_text(unit * ((1 << 20) // len(unit)))
    done = subprocess.run(
        [sys.executable, "-c", _COMPONENT_CHUNKS, str(hostile)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


_COSTLY_CHUNKS = """
import sys
from lsp_server.engine.chunker import chunk_text, grammars
grammars.PARSE_BUDGET_SECONDS = 2.0
text = open(sys.argv[1]).read()
print(" ".join(sorted({c.kind for c in chunk_text(sys.argv[1], text, sys.argv[2])})))
"""


@pytest.mark.parametrize(
    ("language", "unit"),
    [
        ("java", "(\n"),  # half a million `(` lines: one error node that queries take hours over
        ("python", "(\n"),
        ("kotlin", "(\n"),
        ("swift", "(\n"),
        ("kotlin", "func f() {}\n"),  # Swift's keyword in Kotlin: the parse never ends
    ],
)
def test_a_file_built_to_make_its_parse_endless_gets_line_windows_in_time(
    tmp_path, language, unit
):
    """A 1 MiB file (the largest indexed) on which tree-sitter's parse or queries would run
    for hours is cut in line windows: its tree is refused before a query, or its parse is
    stopped once the budget (2 s here) is spent (the timeout fails it)."""
    hostile = tmp_path / "hostile.txt"
    hostile.write_text(unit * ((1 << 20) // len(unit)))
    done = subprocess.run(
        [sys.executable, "-c", _COSTLY_CHUNKS, str(hostile), language],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["window"]
