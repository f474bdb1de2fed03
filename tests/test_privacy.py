"""Security and privacy: no network, private cache files, a read-only workspace, and model
paths that a cloned repository (or another user) could plant are refused.

The audit-hook test sees Python's own sockets only; the strace test sees every process and
native library (onnxruntime's telemetry opens its sockets from C++)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_server.engine.locations import CACHE_ENV, MODEL_CACHE_ENV
from lsp_server.engine.privacy import OFFLINE_ENVIRONMENT
from lsp_server.server.settings import model_path_problem

from .conftest import FIXTURE_WORKSPACE
from .lsp_helpers import command, lsp_session, wait_for, wait_until_ready
from .stub_encoder import STUB_SERVER
from .subprocess_helpers import ROOT, python

# Installed in every child through PYTHONPATH: records network-ish socket use to a file.
SITECUSTOMIZE = textwrap.dedent(
    """
    import json, os, socket, sys

    _LOG = os.environ["NEARCODE_AUDIT_LOG"]
    _NET = {socket.AF_INET, socket.AF_INET6}

    def _hook(event, args):
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
            if getattr(args[0], "family", None) not in _NET:
                return  # AF_UNIX (asyncio's self-pipe): not the network
        elif event not in ("socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
            return
        with open(_LOG, "a") as handle:
            handle.write(json.dumps([event, repr(args)[:200]]) + "\\n")

    sys.addaudithook(_hook)
    """
)


@pytest.fixture
def offline(tmp_path: Path) -> dict[str, str]:
    """Environment for children: unreachable proxies, hub offline, the audit hook."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    audit = tmp_path / "audit.log"
    audit.write_text("")
    repo = Path(__file__).resolve().parent.parent
    proxy = "http://127.0.0.1:9"
    return {
        "PYTHONPATH": f"{hook_dir}{os.pathsep}{repo}",
        "NEARCODE_AUDIT_LOG": str(audit),
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "http_proxy": proxy,
        "https_proxy": proxy,
        "HF_HUB_OFFLINE": "1",
        "NEARCODE_CACHE_DIR": str(tmp_path / "cache" / "nearcode"),  # created by nearcode
    }


def fingerprint(root: Path) -> dict[str, tuple]:
    """Every entry under root with its mtime and content hash."""
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[str(path.relative_to(root))] = (info.st_mtime_ns, info.st_mode, digest)
    return found


def assert_private(cache: Path) -> list[str]:
    """Folders 0700 and files 0600, whatever the umask was."""
    checked = []
    for path in [cache, *cache.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        assert mode == wanted, f"{path} is {oct(mode)}, not {oct(wanted)}"
        checked.append(path.name)
    return checked


ENGINE_FLOWS = """
import json, os, sys
from pathlib import Path
os.umask(0)  # the worst case: nothing made private by accident
from lsp_server.engine.workspace import WorkspaceIndex
root = Path(sys.argv[1])
with WorkspaceIndex(root) as index:
    index.index()
    top = index.search("where do we retry failed HTTP requests?").results[0]
    similar = index.similar(root / "storage" / "cache.py", 11).results
    index.update_file(root / "storage" / "cache.py")
    print(json.dumps({"top": top.path, "similar": len(similar)}))
"""


async def test_no_network_private_files_and_an_untouched_workspace(tmp_path, offline):
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, root)
    before = fingerprint(root)
    done = python(ENGINE_FLOWS, str(root), env=offline, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["top"] == "http/client.py"

    old_umask = os.umask(0)  # inherited by the server
    try:
        server_cache = tmp_path / "server-cache" / "nearcode"
        env = {k: v for k, v in offline.items() if k != "NEARCODE_CACHE_DIR"}
        async with lsp_session([root], server_cache, env=env) as client:
            await wait_until_ready(client, folders=1)
            found = await command(client, "nearcode.search", {"query": "least recently used"})
            assert found["results"][0]["path"] == "storage/cache.py"
            await command(
                client,
                "nearcode.findSimilar",
                {
                    "textDocument": {"uri": (root / "storage" / "cache.py").as_uri()},
                    "position": {"line": 11, "character": 4},
                },
            )
    finally:
        os.umask(old_umask)

    assert Path(offline["NEARCODE_AUDIT_LOG"]).read_text() == "", "a socket was used"
    assert fingerprint(root) == before, "the workspace was written to"
    names = assert_private(Path(offline["NEARCODE_CACHE_DIR"])) + assert_private(server_cache)
    # The WAL is gone once every connection closed (SQLite gives it the database's mode).
    for expected in (
        "index.sqlite",
        "vectors.hnsw",
        "vectors.json",
        "manifest.json",
        "writer.lock",
        "server.log",
    ):
        assert expected in names, f"{expected} was not checked"


def test_the_audit_hook_does_record_a_connection(tmp_path, offline):
    """The network check above can fail: a child that connects is caught."""
    script = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "except OSError:\n"
        "    pass\n"
    )
    assert python(script, env=offline).returncode == 0
    assert "socket.connect" in Path(offline["NEARCODE_AUDIT_LOG"]).read_text()


# -- model paths ---------------------------------------------------------------------------------


def test_model_paths_a_repository_or_another_user_could_plant_are_refused(tmp_path):
    root = tmp_path / "ws"
    (root / "models" / "evil").mkdir(parents=True)
    mine = tmp_path / "mine" / "model"
    mine.mkdir(parents=True)
    assert model_path_problem(None, [root]) is None
    assert model_path_problem("all-MiniLM-L6-v2", [root]) is None  # a name, not a path
    assert model_path_problem("/nonexistent/model", [root]) is None  # fails to load, safely
    assert model_path_problem(str(mine), [root]) is None
    assert "inside the workspace" in model_path_problem(str(root / "models" / "evil"), [root])
    link = tmp_path / "innocent"
    link.symlink_to(root / "models" / "evil")
    assert "inside the workspace" in model_path_problem(str(link), [root])
    shared = tmp_path / "shared"
    (shared / "model").mkdir(parents=True)
    shared.chmod(0o777)
    assert "writable by anyone" in model_path_problem(str(shared / "model"), [root])
    if os.geteuid() == 0:
        other = tmp_path / "other" / "model"
        other.mkdir(parents=True)
        os.chown(other, 65534, 65534)
        assert "belongs to another user" in model_path_problem(str(other), [root])


async def test_the_server_refuses_a_model_inside_the_workspace(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, root)
    planted = root / ".vscode" / "model"
    planted.mkdir(parents=True)
    options = {"model": str(planted)}
    async with lsp_session(
        [root], tmp_path / "cache", options=options, server_command=STUB_SERVER
    ) as client:

        async def refused() -> list[str]:
            return [
                m.message
                for m in client.messages
                if m.type == types.MessageType.Error and "inside the workspace" in m.message
            ]

        (message,) = await wait_for(refused, timeout=10)
        assert "using the default model" in message
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"nearcode": {"model": str(planted)}})
        )
        await wait_for(lambda: _count(client, "inside the workspace", 2), timeout=10)
        found = await command(client, "nearcode.search", {"query": "least recently used"})
        assert "results" in found


async def _count(client, text: str, wanted: int) -> bool:
    return sum(text in m.message for m in client.messages) >= wanted


# -- the whole default pipeline under strace ------------------------------------------------------

STRACE = shutil.which("strace")
# Calls that create, change or remove files, and every network call; -y shows fds' paths.
FILE_CALLS = (
    "open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,"
    "truncate,unlink,unlinkat,rmdir"
)
TRACED = f"trace=%network,{FILE_CALLS}"
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>.*)$")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _strace_unusable() -> str | None:
    if STRACE is None:
        return "strace is not installed"
    done = subprocess.run([STRACE, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True)
    if done.returncode != 0:
        return f"strace cannot trace here (ptrace refused): {done.stderr.decode()[-200:]}"
    return None


def traced(command: list[str], trace: Path) -> list[str]:
    assert STRACE is not None
    return [STRACE, "-f", "-qq", "-y", "-s", "512", "-o", str(trace), "-e", TRACED, *command]


def network_use(trace: Path) -> list[str]:
    """Every socket of a family other than AF_UNIX (asyncio's self-pipe, nscd lookups)."""
    return [
        line
        for line in trace.read_text().splitlines()
        if re.search(r"\b(socket|socketpair)\(AF_(?!UNIX\b)", line) or "AF_INET" in line
    ]


def writes_outside(trace: Path, allowed: Path) -> list[str]:
    """Calls that create, change or remove something outside ``allowed`` (or its parents)."""
    problems = []
    for line in trace.read_text().splitlines():
        call = _CALL.match(line)
        if call is None or call["name"] not in FILE_CALLS.split(","):
            continue
        name, args = call["name"], call["args"]
        if name in ("open", "openat") and not any(flag in args for flag in _WRITE_FLAGS):
            continue
        for path in _paths(name, args):
            if not _allowed(path, allowed):
                problems.append(line)
    return problems


def _paths(name: str, args: str) -> list[str]:
    """The paths a traced call names: a dirfd shown as 3</dir> joins the name after it."""
    dirfd = re.match(r"^(\d+)<([^>]*)>,\s*", args)
    strings = _STRING.findall(args)
    if name.startswith(("open", "creat")) or name in ("mkdir", "mkdirat", "truncate"):
        strings = strings[:1]
    paths = []
    for value in strings:
        if not value.startswith("/") and dirfd is not None:
            value = os.path.join(dirfd.group(2), value)
        paths.append(value)
    return paths


def _allowed(path: str, allowed: Path) -> bool:
    if path in ("/dev/null", "/dev/tty") or path.startswith("pipe:"):
        return True
    real = Path(os.path.normpath(path))
    return real == allowed or allowed in real.parents or real in allowed.parents


@pytest.mark.slow
async def test_the_default_pipeline_uses_no_network_and_writes_only_its_cache(
    tmp_path, monkeypatch
):
    """nearcode index + search (first run: the model export included), then a language server
    that indexes, answers and idles 15 s: no socket but AF_UNIX, no file written outside
    ~/.cache/nearcode, nothing else added to an empty home folder."""
    reason = _strace_unusable()
    if reason is not None:
        pytest.skip(reason)
    home = tmp_path / "home"
    home.mkdir()
    cache = home / ".cache" / "nearcode"  # the default location, nothing overridden
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, root)
    for name in [*OFFLINE_ENVIRONMENT, CACHE_ENV, MODEL_CACHE_ENV, "XDG_CACHE_HOME", "HF_HOME"]:
        monkeypatch.delenv(name, raising=False)  # nothing from outside switches anything off
    monkeypatch.setenv("HOME", str(home))
    # Bytecode of the checkout under test: a pip install ships it compiled.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    cli = [sys.executable, "-m", "lsp_server"]

    traces = [tmp_path / f"{step}.trace" for step in ("index", "search", "serve")]
    steps = [(traces[0], ["index", str(root)]), (traces[1], ["search", str(root), "retry"])]
    for trace, args in steps:
        done = subprocess.run(
            traced([*cli, *args], trace), cwd=tmp_path, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr[-3000:]
    assert "http/client.py" in done.stdout

    server = traced([*cli, "serve"], traces[2])
    async with lsp_session([root], cache, server_command=server) as client:
        await wait_until_ready(client, folders=1, timeout=300)
        found = await command(client, "nearcode.search", {"query": "least recently used"})
        assert found["results"][0]["path"] == "storage/cache.py"
        await asyncio.sleep(15)  # onnxruntime's telemetry used to look up its host after ~9 s
        found = await command(client, "nearcode.search", {"query": "retry failed requests"})
        assert found["results"][0]["path"] == "http/client.py"

    for trace in traces:
        assert network_use(trace) == [], f"{trace.name}: sockets other than AF_UNIX"
        outside = writes_outside(trace, cache)
        assert outside == [], f"{trace.name}: writes outside {cache}: {outside[:5]}"
    assert sorted(str(p.relative_to(home)) for p in home.iterdir()) == [".cache"]
    assert sorted(p.name for p in (home / ".cache").iterdir()) == ["nearcode"]
    assert any("-onnx-" in p.name for p in (cache / "models").iterdir()), "no ONNX export ran"


def test_the_trace_checks_can_fail(tmp_path):
    """The checks above see a UDP socket opened by native code and a write outside."""
    reason = _strace_unusable()
    if reason is not None:
        pytest.skip(reason)
    trace = tmp_path / "probe.trace"
    script = (
        "import ctypes, socket\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)\n"
        f"open({str(tmp_path / 'stray.txt')!r}, 'w').close()\n"
    )
    subprocess.run(traced([sys.executable, "-c", script], trace), check=True, timeout=60)
    assert any("AF_INET" in line for line in network_use(trace))
    assert any("stray.txt" in line for line in writes_outside(trace, tmp_path / "cache"))


def test_entry_points_load_no_model_library_before_the_switches(tmp_path):
    """The command line and server modules import nothing that reads the switches at import."""
    script = (
        "import sys\n"
        "import lsp_server.cli, lsp_server.server.main\n"
        "late = {'onnxruntime', 'tokenizers', 'torch', 'transformers', 'huggingface_hub',\n"
        "        'sentence_transformers'} & set(sys.modules)\n"
        "print(sorted(late))\n"
    )
    done = python(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
