"""End to end: `nearcode mcp` driven by the MCP SDK's own stdio client.

The search tools run with the real bundled model (what they return is what an agent gets);
the tests about errors, roots and sharing an editor's index use the stub encoder, which makes
a full index in a second.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp", reason="the MCP SDK (nearcode[mcp]) is not installed")

import mcp_types as types  # noqa: E402
from lsprotocol import types as lsp  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from lsp_server.engine.settings import EngineSettings  # noqa: E402
from lsp_server.engine.workspace import WorkspaceIndex  # noqa: E402

from .lsp_helpers import command, lsp_session, wait_until_ready  # noqa: E402
from .stub_encoder import STUB_MCP_SERVER, STUB_SERVER, StubEncoder  # noqa: E402
from .test_server_e2e import TRACEBACK  # noqa: E402

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REAL_MCP_SERVER = [sys.executable, "-m", "lsp_server", "mcp"]


@asynccontextmanager
async def mcp_client(
    server: list[str], paths: list[Path] | None = None, roots: list[Path] | None = None
) -> AsyncIterator[ClientSession]:
    """`nearcode mcp PATHS` in a subprocess, initialised; `roots` are the client's MCP roots
    (the list can be changed while the session runs: mutate it and notify)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    params = StdioServerParameters(
        command=server[0], args=[*server[1:], *map(str, paths or [])], env=env, cwd=str(ROOT)
    )

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(
            roots=[types.Root(uri=r.as_uri(), name=r.name) for r in roots or []]
        )

    callback = list_roots if roots is not None else None
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, list_roots_callback=callback) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A successful tool call's structured answer, with its text under "text"."""
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""
    assert not result.is_error, text
    return {**result.structured_content, "text": text}


async def tool_error(session: ClientSession, tool: str, arguments: dict[str, Any]) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result
    return result.content[0].text


async def wait_until_indexed(session: ClientSession, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = await call(session, "index_status", {})
        folders = status["folders"]
        if (
            status["modelLoaded"]
            and folders
            and all(f["state"] == "ready" and f["pending"] == 0 for f in folders)
        ):
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"not indexed after {timeout} s: {status}")


def _top(answer: dict[str, Any]) -> tuple[str, str]:
    assert answer["results"], answer
    return answer["results"][0]["path"], answer["results"][0]["symbol"]


# -- the tools, with the real model ---------------------------------------------------------------


async def test_each_tool_answers_with_the_expected_definition_first(workspace):
    # A page that quotes an error message: a typed question may get it back, a pasted
    # snippet (a selection) only code.
    (workspace / "docs").mkdir()
    (workspace / "docs" / "errors.md").write_text(
        "# Errors\n\n" + "Error: request failed with status 404 from the API.\n" * 3
    )
    async with mcp_client(REAL_MCP_SERVER, [workspace]) as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(listed) == {
            "search_code", "find_similar_code", "search_by_error", "index_status"
        }
        search = listed["search_code"]
        assert search.input_schema["required"] == ["query"]
        assert set(search.input_schema["properties"]) == {
            "query", "limit", "include", "exclude", "languages"
        }
        assert "grep" in search.description
        similar_args = listed["find_similar_code"].input_schema["properties"]
        assert set(similar_args) >= {"path", "line", "code"}
        assert listed["search_by_error"].input_schema["required"] == ["text"]
        assert all(tool.output_schema["type"] == "object" for tool in listed.values())

        status = await wait_until_indexed(session)
        folder = status["folders"][0]
        assert (folder["root"], folder["files"], folder["owner"]) == (
            str(workspace),
            10,
            "this MCP server",
        )
        assert not folder["partial"] and not folder["stale"] and not folder["readOnly"]
        assert "all-MiniLM-L6-v2" in folder["model"]

        answer = await call(
            session, "search_code", {"query": "where do we retry failed HTTP requests?"}
        )
        assert _top(answer) == ("http/client.py", "HttpClient.fetch_with_retry")
        first = answer["results"][0]
        assert (first["line"], first["endLine"]) == (22, 33)
        assert first["file"] == str(workspace / "http" / "client.py")
        assert not answer["partial"] and not answer["stale"] and answer["notices"] == []
        lines = answer["text"].splitlines()
        assert lines[0].startswith("http/client.py:22-33 HttpClient.fetch_with_retry (1.00)")
        assert lines[1] == "  def fetch_with_retry(self, path: str, attempts: int = 5) -> bytes:"
        assert len(answer["results"]) == 10  # the default limit

        # A name alone: where it is declared, named by it.
        named = await call(session, "search_code", {"query": "DEFAULT_TIMEOUT", "limit": 3})
        assert _top(named) == ("http/client.py", "DEFAULT_TIMEOUT")
        head, preview = named["text"].splitlines()[:2]
        assert head.startswith("http/client.py:8 DEFAULT_TIMEOUT (")
        assert preview == "  DEFAULT_TIMEOUT = 10.0"
        assert named["results"][0]["score"] <= 1.0

        # Under the signature, the line that matched: not the line above it.
        thrown = await call(
            session, "search_code", {"query": "request failed with status", "limit": 1}
        )
        assert _top(thrown) == ("web/api.js", "fetchJson")
        assert thrown["text"].splitlines()[1:] == [
            "  export async function fetchJson(url, options = {}) {",
            "      throw new Error(`request failed with status ${response.status}`);",
        ]
        assert thrown["results"][0]["match"] == {
            "line": 14,
            "text": "    throw new Error(`request failed with status ${response.status}`);",
        }

        # Similar code by place: the cursor inside slugify() finds its near-duplicate.
        similar = await call(
            session, "find_similar_code", {"path": "textutil/strings.py", "line": 8}
        )
        assert _top(similar) == ("legacy/old_helpers.py", "make_slug")
        assert all(r["symbol"] != "slugify" for r in similar["results"])
        by_absolute = await call(
            session,
            "find_similar_code",
            {"path": str(workspace / "textutil" / "strings.py"), "line": 8, "limit": 3},
        )
        assert _top(by_absolute) == _top(similar) and len(by_absolute["results"]) == 3

        # ... and by snippet.
        snippet = "clearTimeout(timer);\ntimer = setTimeout(() => fn(...args), waitMs);"
        assert _top(await call(session, "find_similar_code", {"code": snippet})) == (
            "web/api.js",
            "debounce",
        )
        message = "Error: request failed with status 404"
        typed = await call(session, "search_code", {"query": message})
        pasted = await call(session, "find_similar_code", {"code": message})
        assert any(r["path"] == "docs/errors.md" for r in typed["results"])
        assert _top(pasted) == ("web/api.js", "fetchJson")
        assert not any(r["path"].endswith(".md") for r in pasted["results"])

        # A traceback: the innermost frame's definition first, then the caller.
        frames = await call(session, "search_by_error", {"text": TRACEBACK})
        assert _top(frames) == ("http/client.py", "HttpClient.fetch_with_retry")
        assert frames["results"][1]["path"] == "app/main.py"

        # Filters go through the shared validation: braces, languages with aliases.
        only_go = await call(session, "search_code", {"query": "parse", "languages": ["golang"]})
        assert only_go["results"] and {r["language"] for r in only_go["results"]} == {"go"}
        braces = await call(session, "search_code", {"query": "checksum", "include": ["*.{rs,go}"]})
        assert {Path(r["path"]).suffix for r in braces["results"]} <= {".rs", ".go"}

        # An agent edits files on disk, telling no one: the next call sees the new code,
        # and never the deleted function.
        (workspace / "http" / "proxy.py").write_text(
            "def pick_proxy_for_host(host: str, table: dict[str, str]) -> str | None:\n"
            '    """Choose the outgoing proxy server for a host name from the routing table."""\n'
            "    return table.get(host) or table.get('*')\n"
        )
        strings = workspace / "textutil" / "strings.py"
        text = strings.read_text()
        strings.write_text(text[: text.index("def levenshtein_distance")])
        fresh = await call(
            session, "search_code", {"query": "which proxy server should a host use"}
        )
        assert _top(fresh) == ("http/proxy.py", "pick_proxy_for_host")
        assert not fresh["stale"] and not fresh["partial"]
        gone = await call(session, "search_code", {"query": "edit distance between two strings"})
        assert all(r["symbol"] != "levenshtein_distance" for r in gone["results"])
        after = (await call(session, "index_status", {}))["folders"][0]
        assert (after["files"], after["pending"], after["stale"]) == (11, 0, False)


# -- bad input ------------------------------------------------------------------------------------


async def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.py"
    secret.write_text("def leaked_secret_function():\n    return 'do not read me'\n")
    (workspace / "link.py").symlink_to(secret)  # inside by name, outside by real path
    (workspace / "linked_dir").symlink_to(outside, target_is_directory=True)

    async with mcp_client(STUB_MCP_SERVER, [workspace]) as session:
        await wait_until_indexed(session, timeout=60)
        errors = {
            "empty query": await tool_error(session, "search_code", {"query": "  "}),
            "missing query": await tool_error(session, "search_code", {}),
            "unknown language": await tool_error(
                session, "search_code", {"query": "x", "languages": ["pyhton"]}
            ),
            "bad glob": await tool_error(
                session, "search_code", {"query": "x", "include": ["[z-a]"]}
            ),
            "unclosed brace": await tool_error(
                session, "search_code", {"query": "x", "exclude": ["*.{py"]}
            ),
            "limit": await tool_error(session, "search_code", {"query": "x", "limit": 0}),
            "unknown argument": await tool_error(session, "search_code", {"query": "x", "top": 3}),
            "outside": await tool_error(
                session, "find_similar_code", {"path": str(secret), "line": 1}
            ),
            "symlink out": await tool_error(
                session, "find_similar_code", {"path": "link.py", "line": 1}
            ),
            "symlinked folder": await tool_error(
                session, "find_similar_code", {"path": "linked_dir/secret.py", "line": 1}
            ),
            "dot-dot": await tool_error(
                session, "find_similar_code", {"path": "../outside/secret.py", "line": 1}
            ),
            "no such file": await tool_error(
                session, "find_similar_code", {"path": "nope.py", "line": 1}
            ),
            "past the end": await tool_error(
                session, "find_similar_code", {"path": "app/main.py", "line": 999}
            ),
            "no line": await tool_error(session, "find_similar_code", {"path": "app/main.py"}),
            "both": await tool_error(
                session, "find_similar_code", {"path": "app/main.py", "line": 1, "code": "x"}
            ),
            "neither": await tool_error(session, "find_similar_code", {}),
            "empty trace": await tool_error(session, "search_by_error", {"text": ""}),
            "unknown tool": await tool_error(session, "grep_everything", {}),
        }
        expected = {
            "empty query": "'query' is empty",
            "missing query": "'query' must be a string",
            "unknown language": "unknown language 'pyhton'; did you mean python?",
            "bad glob": "bad glob '[z-a]': the range z-a runs backwards",
            "unclosed brace": "bad glob '*.{py': '{' is never closed",
            "limit": "'limit' must be a whole number from 1 to 500, got 0",
            "unknown argument": "unknown argument 'top': search_code takes query, limit,",
            "outside": "is outside the indexed folders",
            "symlink out": "link.py is outside the indexed folders",
            "symlinked folder": "linked_dir/secret.py is outside the indexed folders",
            "dot-dot": "is outside the indexed folders",
            "no such file": "no such file: nope.py",
            "past the end": "line 999 is past the end of app/main.py (16 lines)",
            "no line": "'line' is required with 'path'",
            "both": "give either 'path' and 'line', or 'code', not both",
            "neither": "give 'path' and 'line'",
            "empty trace": "'text' is empty",
            "unknown tool": "unknown tool 'grep_everything'",
        }
        for case, words in expected.items():
            assert words in errors[case], (case, errors[case])
        assert not any("Traceback" in e or "leaked" in e for e in errors.values())

        # Still serving, and nothing outside the folder was indexed or returned.
        answer = await call(session, "search_code", {"query": "leaked secret function"})
        assert all("secret" not in r["path"] for r in answer["results"])
        assert _top(await call(session, "search_code", {"query": "levenshtein_distance"})) == (
            "textutil/strings.py",
            "levenshtein_distance",
        )


def test_without_the_extra_the_command_says_how_to_install_it(tmp_path):
    script = (
        "import sys\n"
        "sys.modules['mcp'] = None  # as if the SDK were not installed\n"
        "from lsp_server.cli import main\n"
        "sys.exit(main(['mcp', sys.argv[1]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "nearcode: `nearcode mcp` needs the MCP SDK (mcp is not installed): "
        "pip install 'nearcode[mcp]'"
    ]


# -- roots from the client ------------------------------------------------------------------------


async def test_roots_come_from_the_client_and_follow_its_changes(workspace, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "billing.py").write_text(
        "def monthly_invoice_total(rows):\n    return sum(row.amount for row in rows)\n"
    )
    roots = [workspace]
    async with mcp_client(STUB_MCP_SERVER, roots=roots) as session:
        status = await wait_until_indexed(session, timeout=60)
        assert [f["root"] for f in status["folders"]] == [str(workspace)]
        assert _top(await call(session, "search_code", {"query": "levenshtein_distance"}))[1] == (
            "levenshtein_distance"
        )

        roots[:] = [other]
        await session.send_notification(types.RootsListChangedNotification())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = await call(session, "index_status", {})
            if [f["root"] for f in status["folders"]] == [str(other)]:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(f"the roots change was not applied: {status}")
        answer = await call(session, "search_code", {"query": "monthly_invoice_total"})
        assert answer["results"][0]["file"] == str(other / "billing.py")
        assert all(Path(r["file"]).is_relative_to(other) for r in answer["results"])


async def test_a_client_without_roots_and_no_paths_gets_a_clear_error():
    async with mcp_client(STUB_MCP_SERVER) as session:
        message = await tool_error(session, "search_code", {"query": "anything"})
        assert "no folder to search" in message and "nearcode mcp /path/to/project" in message
        assert "index_status" in {t.name for t in (await session.list_tools()).tools}


# -- sharing an editor's index --------------------------------------------------------------------


async def test_an_editor_owned_index_is_read_not_built_again(workspace, private_cache):
    async with lsp_session([workspace], private_cache, server_command=STUB_SERVER) as editor:
        editor_status = (await wait_until_ready(editor, folders=1, timeout=60))["folders"][0]
        embedded_by_editor = editor_status["encodedThisSession"]
        assert embedded_by_editor == editor_status["chunks"] > 0
        editor_pid = editor._server.pid

        async with mcp_client(STUB_MCP_SERVER, [workspace]) as session:
            status = (await wait_until_indexed(session, timeout=60))["folders"][0]
            assert status["readOnly"] and status["ownerPid"] == editor_pid
            assert "another nearcode process" in status["owner"]
            assert status["indexPath"] == editor_status["indexPath"]
            assert (status["chunks"], status["embedded"]) == (
                editor_status["chunks"],
                editor_status["embedded"],
            )
            answer = await call(session, "search_code", {"query": "levenshtein_distance"})
            assert _top(answer) == ("textutil/strings.py", "levenshtein_distance")
            assert not answer["stale"] and not answer["partial"]

            # No second embedding of the same chunks, by either process.
            status = (await call(session, "index_status", {}))["folders"][0]
            assert status["encodedThisSession"] == 0
            editor_now = (await command(editor, "nearcode.status"))["folders"][0]
            assert editor_now["encodedThisSession"] == embedded_by_editor
            assert len(list((private_cache / "indexes").iterdir())) == 1

            # An agent writes a file; until the index's owner applies it, answers say stale.
            new_file = workspace / "storage" / "compress.py"
            new_file.write_text("def squeeze_bytes_with_zlib(data):\n    return data\n")
            stale = await call(session, "search_code", {"query": "squeeze_bytes_with_zlib"})
            assert stale["stale"] and "changed since the index was updated" in stale["text"]

            # The editor's file watcher reports it: the reader follows, and is fresh again.
            editor.workspace_did_change_watched_files(
                lsp.DidChangeWatchedFilesParams(
                    changes=[lsp.FileEvent(uri=new_file.as_uri(), type=lsp.FileChangeType.Created)]
                )
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                fresh = await call(session, "search_code", {"query": "squeeze_bytes_with_zlib"})
                if not fresh["stale"]:
                    break
            assert _top(fresh) == ("storage/compress.py", "squeeze_bytes_with_zlib")
            assert not fresh["partial"]
            status = (await call(session, "index_status", {}))["folders"][0]
            assert status["encodedThisSession"] == 0 and status["readOnly"]


async def test_files_an_index_was_built_to_leave_out_stay_out_when_an_agent_refreshes_it(
    workspace,
):
    """Started without --exclude, the server keeps each index's own choice of files."""
    generated = workspace / "gen" / "client.py"
    generated.parent.mkdir()
    generated.write_text("def squeeze_bytes_with_zlib(data):\n    return data\n")
    settings = EngineSettings(exclude=("gen/**",))
    with WorkspaceIndex(workspace, settings, encoder=StubEncoder()) as index:
        index.index()
        chunks = index.status().chunks
    async with mcp_client(STUB_MCP_SERVER, [workspace]) as session:
        status = (await wait_until_indexed(session, timeout=60))["folders"][0]
        assert status["chunks"] == chunks
        answer = await call(session, "search_code", {"query": "squeeze_bytes_with_zlib"})
        assert answer["results"] and not any(
            result["path"].startswith("gen/") for result in answer["results"]
        )
        # ... and says so: no scan lists the files a pattern leaves out.
        status = await call(session, "index_status", {})
        assert status["folders"][0]["exclude"] == ["gen/**"]
        assert "; excluding: gen/**" in status["text"]
        assert "bytes left out" not in status["text"]  # the default largest file


async def test_index_status_names_the_files_left_out_and_why(workspace):
    stylesheet = "".join(f".btn-{i}{{margin:{i % 9}px}}" for i in range(6_000))
    (workspace / "static").mkdir()
    (workspace / "static" / "site.css").write_text(stylesheet)
    (workspace / "static" / "logo.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    async with mcp_client(STUB_MCP_SERVER, [workspace]) as session:
        await wait_until_indexed(session, timeout=60)
        status = await call(session, "index_status", {})
    folder = status["folders"][0]
    minified = (
        f"minified (1 line of {len(stylesheet):,} characters); an exclude pattern "
        "!static/site.css indexes it"
    )
    assert folder["skipped"] == 2
    assert folder["skippedFiles"] == [
        {"path": "static/logo.py", "reason": "binary"},
        {"path": "static/site.css", "reason": minified},
    ]
    assert status["text"].endswith(
        f"; not indexed: 2 (static/logo.py: binary; static/site.css: {minified})"
    )


async def test_a_file_an_agent_writes_that_cannot_be_indexed_is_named_at_the_next_answer(
    workspace,
):
    """No editor reports the change: the refresh before an answer finds it, and says so."""
    async with mcp_client(STUB_MCP_SERVER, [workspace]) as session:
        await wait_until_indexed(session, timeout=60)
        assert (await call(session, "index_status", {}))["folders"][0]["skipped"] == 0
        (workspace / "dump.py").write_bytes(b"\x00\x01binary" * 100)
        await call(session, "search_code", {"query": "levenshtein_distance"})
        folder = (await call(session, "index_status", {}))["folders"][0]
        assert folder["skippedFiles"] == [{"path": "dump.py", "reason": "binary"}]
        (workspace / "dump.py").unlink()
        await call(session, "search_code", {"query": "levenshtein_distance"})
        assert (await call(session, "index_status", {}))["folders"][0]["skipped"] == 0
