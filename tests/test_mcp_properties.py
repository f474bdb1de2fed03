"""Property-based tests of the MCP tools' argument handling, in process with the real model.

Whatever arguments an agent sends, a tool call ends in an answer or in a one-line tool error
that says what was wrong: never a traceback, never an "internal error", never more results
than asked for, and never a file outside the folder. The SDK end to end is in test_mcp.py.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.engine.validation import MAX_LIMIT
from lsp_server.mcp.folders import FolderOptions, McpFolders
from lsp_server.mcp.server import call
from lsp_server.mcp.tools import TOOLS_BY_NAME

from .conftest import FIXTURE_WORKSPACE

pytestmark = pytest.mark.e2e

ARGUMENT_NAMES = sorted(
    {name for spec in TOOLS_BY_NAME.values() for name in spec.input_schema["properties"]}
    | {"querry", "paths"}  # typos an agent makes
)
GLOBS = st.sampled_from(["*.py", "**/*.js", "[z-a]", "[[", "src/**", "", "!x", "a}", "../*"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "edit distance between two strings",
            "textutil/strings.py",
            "storage/cache.py",
            "../secret.txt",
            "/etc/passwd",
        ]
    ),
    st.lists(st.one_of(GLOBS, st.integers(), st.text(max_size=8)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
ARGUMENTS = st.dictionaries(st.sampled_from(ARGUMENT_NAMES), VALUES, max_size=5)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[McpFolders, Path]]:
    root = tmp_path_factory.mktemp("mcp") / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, root)
    (root.parent / "secret.txt").write_text("NEARCODE-SECRET\n")
    saved = os.environ.get("NEARCODE_CACHE_DIR")
    os.environ["NEARCODE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    served = McpFolders(FolderOptions())
    try:
        served.set_roots([root])
        _wait_until_indexed(served)
        yield served, root.resolve()
    finally:
        served.stop_all()
        if saved is None:
            os.environ.pop("NEARCODE_CACHE_DIR", None)
        else:
            os.environ["NEARCODE_CACHE_DIR"] = saved


def _wait_until_indexed(served: McpFolders, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = call(served, "index_status", {})
        status = answer.structured_content or {}
        entries = status.get("folders", [])
        if (
            status.get("modelLoaded")
            and entries
            and all(e["state"] == "ready" and e["pending"] == 0 for e in entries)
        ):
            return
        time.sleep(0.2)
    raise AssertionError("the fixture was not indexed in time")


def _check(answer: Any, arguments: dict[str, Any], root: Path) -> None:
    text = answer.content[0].text if answer.content else ""
    if answer.is_error:
        assert text and "\n" not in text, text
        assert "internal error" not in text and "Traceback" not in text, text
        return
    results = (answer.structured_content or {}).get("results", [])
    limit = arguments.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool):
        assert len(results) <= limit
    assert len(results) <= MAX_LIMIT
    for item in results:
        assert Path(item["file"]).resolve().is_relative_to(root), item
    assert "NEARCODE-SECRET" not in text


@given(tool=st.sampled_from(sorted(TOOLS_BY_NAME)), arguments=ARGUMENTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_arguments_get_an_answer_or_a_one_line_error(folders, tool, arguments):
    served, root = folders
    _check(call(served, tool, arguments), arguments, root)


@given(arguments=st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers())))
@settings(max_examples=30, deadline=None)
def test_arguments_that_are_not_an_object_are_refused_plainly(folders, arguments):
    served, root = folders
    answer = call(served, "search_code", arguments)
    if arguments is None:
        assert answer.is_error  # no query given
    else:
        assert answer.is_error and "object of named arguments" in answer.content[0].text
    _check(answer, {}, root)


def test_the_properties_hold_for_a_good_call_too(folders):
    """The properties mean something only if good calls do answer here."""
    served, root = folders
    answer = call(served, "search_code", {"query": "edit distance between two strings", "limit": 3})
    assert not answer.is_error, answer.content[0].text
    results = answer.structured_content["results"]
    assert 1 <= len(results) <= 3
    assert results[0]["symbol"] == "levenshtein_distance"
