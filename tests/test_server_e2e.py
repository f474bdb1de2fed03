"""End to end: the real server over stdio, the real default model, a pytest-lsp client."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from .conftest import FIXTURE_WORKSPACE
from .lsp_helpers import command, lsp_session, wait_for, wait_until_ready

pytestmark = pytest.mark.e2e

TRACEBACK = """Traceback (most recent call last):
  File "/srv/deploy/app/main.py", line 11, in main
    print(download_report(client, "latest"))
  File "/srv/deploy/http/client.py", line 27, in fetch_with_retry
    return self.get(path)
urllib.error.URLError: <urlopen error timed out>
"""


SEARCH_BOX_VUE = """<script setup lang="ts">
import { computed, ref } from 'vue'

const props = defineProps<{ pages: { title: string; url: string }[] }>()
const query = ref('')

const matches = computed(() =>
  props.pages.filter((page) => page.title.toLowerCase().includes(query.value.toLowerCase()))
)
</script>

<template>
  <input v-model="query" placeholder="Search pages" />
</template>
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / "project"
    shutil.copytree(FIXTURE_WORKSPACE, first)
    second = tmp_path / "scripts"
    second.mkdir()
    (second / "deploy.sh").write_text(
        "#!/bin/sh\n# Roll out the container image to the staging cluster\n"
        "kubectl set image deployment/web web=registry.local/web:$1\n"
    )
    (second / "SearchBox.vue").write_text(SEARCH_BOX_VUE)
    (second / "report.py").write_text(
        "def monthly_revenue(rows):\n"
        '    """Sum invoice amounts per month."""\n'
        "    totals = {}\n"
        "    for row in rows:\n"
        "        totals[row.month] = totals.get(row.month, 0) + row.amount\n"
        "    return totals\n"
    )
    return first, second


def _top(response: dict) -> dict:
    assert response["results"], response
    return response["results"][0]


async def test_two_folders_three_searches_and_fresh_updates(folders, tmp_path):
    project, scripts = folders
    async with lsp_session([project, scripts], tmp_path / "cache") as client:
        status = await wait_until_ready(client, folders=2)
        assert {Path(e["indexPath"]).parent for e in status["folders"]} == {
            tmp_path / "cache" / "indexes"
        }

        # Progress: each folder's indexing began, reported and ended.
        reports = list(client.progress_reports.values())
        assert len(reports) >= 2
        assert all(isinstance(r[0], types.WorkDoneProgressBegin) for r in reports)
        assert all(isinstance(r[-1], types.WorkDoneProgressEnd) for r in reports)
        assert any(r[0].title == "Indexing project" for r in reports)

        # Natural language.
        top = _top(
            await command(
                client, "nearcode.search", {"query": "where do we retry failed HTTP requests?"}
            )
        )
        assert (top["path"], top["symbol"]) == ("http/client.py", "HttpClient.fetch_with_retry")
        assert top["uri"] == (project / "http" / "client.py").as_uri()
        assert top["range"]["start"]["line"] == 21
        second = _top(await command(client, "nearcode.search", {"query": "sum invoices per month"}))
        assert second["uri"] == (scripts / "report.py").as_uri()

        # Similar code: the cursor inside slugify() finds its near-duplicate elsewhere.
        similar = await command(
            client,
            "nearcode.findSimilar",
            {
                "textDocument": {"uri": (project / "textutil" / "strings.py").as_uri()},
                "position": {"line": 7, "character": 4},
            },
        )
        assert (_top(similar)["path"], _top(similar)["symbol"]) == (
            "legacy/old_helpers.py",
            "make_slug",
        )
        assert all(r["symbol"] != "slugify" for r in similar["results"])

        # A traceback as the selection: the innermost frame in the workspace comes first.
        frames = await command(client, "nearcode.searchSelection", {"text": TRACEBACK})
        assert (_top(frames)["path"], _top(frames)["symbol"]) == (
            "http/client.py",
            "HttpClient.fetch_with_retry",
        )
        # Opening it lands on the frame's line (27, 1-based), past its indentation.
        assert _top(frames)["range"]["start"]["line"] == 21
        assert _top(frames)["selectionRange"] == {
            "start": {"line": 26, "character": 16},
            "end": {"line": 26, "character": 37},
        }
        assert frames["results"][1]["path"] == "app/main.py"

        # Selection by range in a document.
        selection = await command(
            client,
            "nearcode.searchSelection",
            {
                "textDocument": {"uri": (project / "web" / "api.js").as_uri()},
                "range": {"start": {"line": 2, "character": 0}, "end": {"line": 8, "character": 1}},
            },
        )
        assert _top(selection)["path"] == "web/api.js"

        # workspace/symbol answers semantically.
        symbols = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="edit distance between two strings")
        )
        assert symbols and symbols[0].name == "levenshtein_distance"
        assert symbols[0].location.uri == (project / "textutil" / "strings.py").as_uri()
        # A constant by its name: the statement that declares it, named by it.
        constants = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="DEFAULT_TIMEOUT")
        )
        assert (constants[0].name, constants[0].kind) == (
            "DEFAULT_TIMEOUT",
            types.SymbolKind.Variable,
        )
        assert constants[0].location.uri == (project / "http" / "client.py").as_uri()
        assert constants[0].location.range.start.line == 7

        # A definition under a doc comment: its range starts at the comment, the cursor goes
        # to its name (selectionRange), in the commands' results and in the symbol search.
        crc = _top(await command(client, "nearcode.search", {"query": "CRC-32 checksum"}))
        assert (crc["path"], crc["symbol"], crc["range"]["start"]) == (
            "src/checksum.rs",
            "crc32",
            {"line": 0, "character": 0},
        )
        name = {"start": {"line": 1, "character": 7}, "end": {"line": 1, "character": 12}}
        assert crc["selectionRange"] == name
        symbols = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="CRC-32 checksum")
        )
        assert symbols[0].name == "crc32"
        assert symbols[0].location.range.start == types.Position(line=1, character=7)
        assert symbols[0].location.range.end == types.Position(**crc["range"]["end"])

        # A Vue component's script is TypeScript, its definitions named by the component.
        symbols = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="pages whose title holds the typed text")
        )
        found = (symbols[0].name, symbols[0].kind)
        assert found == ("SearchBox.matches", types.SymbolKind.Function)
        assert symbols[0].location.uri == (scripts / "SearchBox.vue").as_uri()
        assert symbols[0].location.range.start == types.Position(line=6, character=6)

        # Edit on disk + didSave: the next search sees the new function.
        strings = project / "textutil" / "strings.py"
        strings.write_text(
            strings.read_text()
            + (
                "\n\ndef rot13_cipher(text: str) -> str:\n"
                '    """Rotate letters by 13 places."""\n'
                "    return text.translate(str.maketrans(\n"
                "        'abcdefghijklmnopqrstuvwxyz', 'nopqrstuvwxyzabcdefghijklm'))\n"
                "\n\ndef caesar_cipher(text: str, shift: int) -> str:\n"
                "    def shift_letter(letter: str) -> str:\n"
                "        if not letter.isalpha():\n"
                "            return letter\n"
                "        return chr((ord(letter) - 97 + shift) % 26 + 97)\n"
                "    return ''.join(shift_letter(c) for c in text.lower())\n"
            )
        )
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=strings.as_uri())
            )
        )

        async def rot13_found():
            found = await command(client, "nearcode.search", {"query": "rot13 cipher"})
            return found["results"] and found["results"][0]["symbol"] == "rot13_cipher"

        await wait_for(rot13_found, timeout=20)

        # A name typed alone: a function defined inside another is found, and its result
        # lands on it (its line, its own signature), not on the function that holds it.
        nested = _top(await command(client, "nearcode.search", {"query": "shift_letter"}))
        assert (nested["path"], nested["symbol"]) == (
            "textutil/strings.py",
            "caesar_cipher.shift_letter",
        )
        lines = strings.read_text().split("\n")
        assert lines[nested["range"]["start"]["line"]].strip().startswith("def shift_letter(")
        assert nested["preview"] == "def shift_letter(letter: str) -> str:"
        # The editor's symbol search lists it the same way.
        symbol = (
            await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="shift_letter"))
        )[0]
        assert (symbol.name, symbol.kind) == (
            "caesar_cipher.shift_letter",
            types.SymbolKind.Function,
        )
        assert symbol.location.range.start.line == nested["range"]["start"]["line"]

        # Delete + watched-files event: its results disappear.
        api = project / "web" / "api.js"
        api.unlink()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=api.as_uri(), type=types.FileChangeType.Deleted)]
            )
        )

        async def api_gone():
            found = await command(client, "nearcode.search", {"query": "debounce fetchJson"})
            return all(r["path"] != "web/api.js" for r in found["results"])

        await wait_for(api_gone, timeout=20)


BAD_ARGUMENTS = [  # (command, argument, what the error message must say)
    ("nearcode.search", {}, "'query' must be a string"),
    ("nearcode.search", {"query": ""}, "'query' is empty"),
    ("nearcode.search", {"query": 42}, "'query' must be a string"),
    ("nearcode.search", {"query": "x", "limit": -3}, "'limit' must be"),
    ("nearcode.search", {"query": "x", "include": "not-a-list"}, "'include' must be a list"),
    (
        "nearcode.findSimilar",
        {"textDocument": {"uri": "file:///etc/passwd"}, "position": {"line": 0, "character": 0}},
        "outside every workspace folder",
    ),
    (
        "nearcode.findSimilar",
        {"textDocument": {"uri": "untitled:Untitled-1"}, "position": {"line": 0, "character": 0}},
        "only file: uris",
    ),
    (
        "nearcode.findSimilar",
        {"textDocument": {"uri": "FILE"}, "position": {"line": 99999, "character": 0}},
        "line 100000 is past the end of storage/cache.py (29 lines)",
    ),
    (
        "nearcode.findSimilar",
        {"textDocument": {"uri": "FILE"}, "position": {"line": "one"}},
        "position.line must be a whole number",
    ),
    (
        "nearcode.searchSelection",
        {
            "textDocument": {"uri": "FILE"},
            "range": {"start": {"line": 5, "character": 0}, "end": {"line": 1, "character": 0}},
        },
        "ends before it starts",
    ),
    ("nearcode.reindex", {"folder": "file:///nowhere"}, "is not a workspace folder"),
]


async def test_bad_arguments_get_errors_and_the_server_keeps_serving(folders, tmp_path):
    project, _ = folders
    file_uri = (project / "storage" / "cache.py").as_uri()
    async with lsp_session([project], tmp_path / "cache") as client:
        for name, argument, expected in BAD_ARGUMENTS:
            if argument.get("textDocument", {}).get("uri") == "FILE":
                argument = {**argument, "textDocument": {"uri": file_uri}}
            with pytest.raises(JsonRpcInvalidParams, match=re.escape(expected)):
                await command(client, name, argument)
        await wait_until_ready(client, folders=1)
        top = _top(await command(client, "nearcode.search", {"query": "least recently used"}))
        assert top["path"] == "storage/cache.py"


async def test_restart_reuses_the_persisted_index(folders, tmp_path):
    project, _ = folders
    async with lsp_session([project], tmp_path / "cache") as client:
        first = (await wait_until_ready(client, folders=1))["folders"][0]
        assert first["encodedThisSession"] == first["chunks"] > 0
    async with lsp_session([project], tmp_path / "cache") as client:
        again = (await wait_until_ready(client, folders=1))["folders"][0]
        assert again["chunks"] == first["chunks"]
        assert again["encodedThisSession"] == 0
        top = _top(await command(client, "nearcode.search", {"query": "dotenv file"}))
        assert top["path"] == "src/config.go"
