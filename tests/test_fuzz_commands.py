"""Fuzzing every command and workspace/symbol of the real server over stdio.

One server per test; hypothesis runs in a worker thread and hands each request to the event
loop, so each answer is awaited with a deadline. Every request must answer (a result or a
JSON-RPC error) within `ANSWER_S`, the next valid request must succeed, and no answer may carry
the secret file next to the workspace or a uri outside the workspace folder.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol.json_rpc import JsonRPCRequestMessage

from .conftest import FIXTURE_WORKSPACE
from .lsp_helpers import command, lsp_session, wait_until_ready

pytestmark = pytest.mark.e2e

ANSWER_S = 10.0
SECRET = "NEARCODE-SECRET-3f9c1e"
COMMANDS = [
    "nearcode.search",
    "nearcode.findSimilar",
    "nearcode.searchSelection",
    "nearcode.reindex",
    "nearcode.status",
]
MEGABYTE_QUERY = "parse " * (1 << 20 // 6)


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, root)
    secret = tmp_path / "secret.txt"
    secret.write_text(f"def leak():\n    return '{SECRET}'\n")
    (tmp_path / "secret.py").write_text(f"def leak():\n    return '{SECRET}'\n")
    (root / "link_out.py").symlink_to(tmp_path / "secret.py")  # not followed: outside
    return root, tmp_path


def uris(root: Path, base: Path) -> st.SearchStrategy[Any]:
    inside = (root / "storage" / "cache.py").as_uri()
    fixed = [
        inside,
        root.as_uri(),
        (root / "missing.py").as_uri(),
        (root / "link_out.py").as_uri(),
        "file:///etc/passwd",
        f"file://{root}/../secret.txt",
        f"file://{root}/../secret.py",
        (base / "secret.txt").as_uri(),
        f"file://{root}/storage/../../secret.py",
        "file:relative/path.py",
        "../secret.txt",
        "storage/cache.py",
        "untitled:Untitled-1",
        "http://example.com/x.py",
        "vscode-remote://ssh/etc/passwd",
        "file://",
        "file:///%00",
        f"{inside}%00",
        "",
    ]
    return st.one_of(st.sampled_from(fixed), st.text(max_size=40), json_values())


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=8,
    )


def numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-5, max_value=60),
        st.sampled_from([-1, 2**31, 2**53, 10**7, 10**7 + 1, 10**30]),
        json_values(),
    )


def positions() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries({"line": numbers(), "character": numbers()}),
        st.fixed_dictionaries({"line": numbers()}),
        json_values(),
    )


def queries() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(max_size=200),
        st.sampled_from(["", " ", "\x00", MEGABYTE_QUERY, 'OR AND NOT "*" NEAR(', SECRET]),
        st.just(f'File "{Path("/nowhere/secret.txt")}", line 1, in leak'),
        json_values(),
    )


def arguments(root: Path, base: Path) -> st.SearchStrategy[dict[str, Any]]:
    """Objects shaped like real arguments, with any field missing, wrong or extra."""
    fields = {
        "query": queries(),
        "text": queries(),
        "textDocument": st.one_of(st.fixed_dictionaries({"uri": uris(root, base)}), json_values()),
        "position": positions(),
        "range": st.one_of(
            st.fixed_dictionaries({"start": positions(), "end": positions()}), json_values()
        ),
        "limit": numbers(),
        "include": st.one_of(st.lists(st.text(max_size=10), max_size=3), json_values()),
        "exclude": st.one_of(st.lists(st.sampled_from(["**", "[", "\\", "!x"])), json_values()),
        "languages": st.one_of(st.lists(st.text(max_size=8), max_size=3), json_values()),
        "folder": st.one_of(uris(root, base), st.just(root.as_uri())),
        "extra": json_values(),
    }
    return st.fixed_dictionaries({}, optional=fields)


def requests(root: Path, base: Path) -> st.SearchStrategy[tuple[str, Any]]:
    object_args = st.tuples(st.sampled_from(COMMANDS), arguments(root, base).map(lambda a: [a]))
    odd_args = st.tuples(
        st.sampled_from(COMMANDS), st.one_of(st.lists(json_values(), max_size=3), json_values())
    )
    symbol = st.tuples(
        st.just("workspace/symbol"),
        st.one_of(st.fixed_dictionaries({"query": queries()}), json_values()),
    )
    return st.one_of(object_args, odd_args, symbol)


async def send(client, name: str, args: Any) -> Any:
    if name == "workspace/symbol":
        return await raw_request(client, types.WORKSPACE_SYMBOL, args)
    params = {"command": name, "arguments": args}
    return await raw_request(client, types.WORKSPACE_EXECUTE_COMMAND, params)


def raw_request(client, method: str, params: Any) -> asyncio.Future:
    """Sends params as given: the typed client API would refuse malformed ones."""
    protocol = client.protocol
    msg_id = str(uuid.uuid4())
    future: Future = Future()
    protocol._request_futures[msg_id] = future  # no result type: the answer stays raw JSON
    protocol._send_data(
        JsonRPCRequestMessage(id=msg_id, method=method, params=params, jsonrpc="2.0")
    )
    return asyncio.wrap_future(future)


def assert_no_leak(answer: Any, root: Path) -> None:
    text = json.dumps(answer, default=lambda o: getattr(o, "__dict__", str(o)))
    assert SECRET not in text
    for uri in _uris_in(json.loads(text)):
        assert uri == root.as_uri() or uri.startswith(root.as_uri() + "/"), uri


def _uris_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "uri" and isinstance(v, str)]
        return found + [u for v in value.values() for u in _uris_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in _uris_in(v)]
    return []


async def test_malformed_requests_get_bounded_answers_and_leak_nothing(layout):
    root, base = layout
    async with lsp_session([root], base / "cache") as client:
        await wait_until_ready(client, folders=1)
        loop = asyncio.get_running_loop()
        tried: dict[str, int] = {}

        def roundtrip(name: str, args: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(
                asyncio.wait_for(_answer(client, name, args), ANSWER_S), loop
            )
            return future.result(ANSWER_S + 5)  # TimeoutError fails the example

        @settings(
            max_examples=600,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=requests(root, base))
        def fuzz(request: tuple[str, Any]) -> None:
            name, args = request
            tried[name] = tried.get(name, 0) + 1
            answer = roundtrip(name, args)
            assert_no_leak(answer, root)
            status = roundtrip("nearcode.status", [])
            assert status["ok"]["folders"][0]["state"] != "error", status

        await asyncio.to_thread(fuzz)
        assert set(tried) == {*COMMANDS, "workspace/symbol"}, tried

        # The targeted attacks, each answered with an error, not just with nothing.
        for uri in [
            "file:///etc/passwd",
            f"file://{root}/../secret.txt",
            (root / "link_out.py").as_uri(),
        ]:
            for name, argument in [
                ("nearcode.findSimilar", {"position": {"line": 0, "character": 0}}),
                ("nearcode.searchSelection", {"range": _range(0, 0, 1, 10)}),
            ]:
                answer = await _answer(client, name, [{**argument, "textDocument": {"uri": uri}}])
                assert "error" in answer and "outside every workspace" in answer["error"], answer
        found = await command(client, "nearcode.search", {"query": "least recently used"})
        assert found["results"][0]["path"] == "storage/cache.py"


async def _answer(client, name: str, args: Any) -> dict[str, Any]:
    """{"ok": result} or {"error": message}: both are acceptable answers."""
    try:
        return {"ok": _plain(await send(client, name, args))}
    except JsonRpcException as exc:
        return {"error": str(exc)}


def _plain(value: Any) -> Any:
    """lsprotocol objects as JSON-like data, for the leak checks."""
    if isinstance(value, (list, tuple)) and not hasattr(value, "_asdict"):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):  # pygls turns untyped JSON objects into namedtuples
        return {k: _plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__attrs_attrs__"):
        return {a.name: _plain(getattr(value, a.name)) for a in value.__attrs_attrs__}
    return value


def _range(a: int, b: int, c: int, d: int) -> dict[str, Any]:
    return {"start": {"line": a, "character": b}, "end": {"line": c, "character": d}}
