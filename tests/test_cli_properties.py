"""Property-based tests over the command line's argument space and the server's argument
parser: no traceback, no change to an index from a read command, exit status 0 only with a
correct answer, and the same words for the same bad input everywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path

import pathspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server import cli
from lsp_server.engine import workspace as workspace_module
from lsp_server.engine.languages import LANGUAGE_ALIASES, LANGUAGE_FAMILIES, known_languages
from lsp_server.engine.locations import index_dir_for
from lsp_server.engine.validation import InputError, globs
from lsp_server.engine.workspace import WorkspaceIndex
from lsp_server.server import arguments

from .conftest import HashingEncoder

FILES = {
    "src/app.py": "def start_server(port):\n    return f'listening on {port}'\n",
    "src/util/strings.py": "def slugify(title):\n    return title.lower().replace(' ', '-')\n",
    "web/client.js": "function fetchUser(id) {\n  return fetch(`/users/${id}`);\n}\n",
    "web/view.ts": "export function render(user: string): string {\n  return user;\n}\n",
    "tests/test_app.py": "def test_start_server():\n    assert start_server(1)\n",
    "docs/guide.md": "# Guide\n\nHow to start the server and slugify titles.\n",
}


class SettingsEncoder(HashingEncoder):
    """A different identity per backend and model, as the real factory gives."""

    def __init__(self, identity: str) -> None:
        super().__init__()
        self.identity = identity


def fake_make_encoder(engine_settings) -> SettingsEncoder:
    return SettingsEncoder(f"prop|{engine_settings.backend}|{engine_settings.model}")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("prop-ws")
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    cache = tmp_path_factory.mktemp("prop-cache")
    index_dir = index_dir_for(root, cache)
    with WorkspaceIndex(
        root, encoder=fake_make_encoder(cli.EngineSettings()), index_dir=index_dir
    ) as index:
        index.index()
    return root, cache


def snapshot(root: Path, cache: Path) -> dict[str, str]:
    folder = index_dir_for(root, cache)
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.is_file()
        and p.name not in ("writer.lock", "index.sqlite-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # --help and --version exit through argparse
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


# -- strategies -----------------------------------------------------------------------------------

GLOB_ALPHABET = "ab*?/.[]{},!-\\zp"
glob_text = st.one_of(
    st.text(GLOB_ALPHABET, min_size=0, max_size=12),
    st.sampled_from(["**/*.py", "src/**", "*.{py,ts}", "[z-a]", "[[", "web/", "tests/**"]),
)
language_text = st.one_of(
    st.sampled_from(sorted(known_languages()) + sorted(LANGUAGE_ALIASES)),
    st.text("abcdefghijklmnopqrstuvwxyz+#", min_size=0, max_size=8),
)
number_text = st.one_of(st.integers(-3, 700).map(str), st.sampled_from(["x", "", "1e3", "3.5"]))
query_text = st.one_of(
    st.sampled_from(["start the server", "slugify", "fetch a user by id", "render"]),
    st.text(min_size=0, max_size=30),
)


@st.composite
def filter_options(draw) -> list[str]:
    options: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["--limit", "--include", "--exclude", "--language", "--json"]))
        if kind == "--json":
            options.append(kind)
        elif kind == "--limit":
            options += [kind, draw(number_text)]
        elif kind == "--language":
            options += [kind, draw(language_text)]
        else:
            options += [kind, draw(glob_text)]
    if draw(st.booleans()):
        options += ["--backend", draw(st.sampled_from(["onnx", "torch", "onnx-int8", "gpu"]))]
    return options


@st.composite
def read_command(draw, root: Path) -> list[str]:
    places = [str(root), str(root / "src"), str(root / "nope"), str(root / "src" / "app.py")]
    kind = draw(st.sampled_from(["search", "similar", "status"]))
    if kind == "status":
        return ["status", *draw(st.lists(st.sampled_from([*places, "--json"]), max_size=2))]
    if kind == "search":
        where = draw(st.one_of(st.just([]), st.sampled_from(places).map(lambda p: [p])))
        return ["search", *where, draw(query_text), *draw(filter_options())]
    target = draw(st.sampled_from([*(str(root / f) for f in FILES), str(root / "missing.py")]))
    line = draw(st.integers(-1, 8))
    column = draw(st.one_of(st.just(""), st.integers(-1, 50).map(lambda c: f":{c}")))
    return ["similar", f"{target}:{line}{column}", *draw(filter_options())]


# -- properties -----------------------------------------------------------------------------------


def expand(pattern: str) -> list[str]:
    """Brace expansion, written again here so the check does not reuse the code it checks."""
    start = pattern.find("{")
    end = pattern.find("}", start)
    if start < 0 or end < 0:
        return [pattern]
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    return [x for option in body.split(",") for x in expand(head + option + tail)]


def check_answer(argv: list[str], out: str) -> None:
    """A successful --json answer honours every filter it was given."""
    data = json.loads(out)
    values = {flag: [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag] for flag in
              ("--limit", "--include", "--exclude", "--language")}
    limit = int(values["--limit"][-1]) if values["--limit"] else 10
    results = data["results"]
    assert len(results) <= limit
    include = [p for g in values["--include"] for p in expand(g)]
    exclude = [p for g in values["--exclude"] for p in expand(g)]
    languages = set()
    for name in values["--language"]:
        name = LANGUAGE_ALIASES.get(name.lower(), name.lower())
        languages.update(LANGUAGE_FAMILIES.get(name, (name,)))
    for result in results:
        if include:
            assert pathspec.GitIgnoreSpec.from_lines(include).match_file(result["path"])
        if exclude:
            assert not pathspec.GitIgnoreSpec.from_lines(exclude).match_file(result["path"])
        if languages:
            assert result["language"] in languages


@settings(
    max_examples=int(os.environ.get("NEARCODE_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_read_commands_answer_in_one_line_or_correctly_and_never_write(
    tree, monkeypatch, data
):
    root, cache = tree
    monkeypatch.setenv("NEARCODE_CACHE_DIR", str(cache))
    monkeypatch.setattr(workspace_module, "make_encoder", fake_make_encoder)
    argv = data.draw(read_command(root))
    before = snapshot(root, cache)
    code, out, err = run(argv)
    assert "Traceback" not in err + out
    assert code in (0, 1, 2), (argv, code, err)
    if code != 0:
        assert len([line for line in err.splitlines() if line.strip()]) == 1, (argv, err)
    elif "--json" in argv and argv[0] in ("search", "similar"):
        check_answer(argv, out)
    assert snapshot(root, cache) == before, argv


@given(
    obj=st.dictionaries(
        st.sampled_from(["limit", "include", "exclude", "languages", "query"]),
        st.one_of(
            st.integers(-5, 1000),
            st.text(max_size=10),
            st.lists(st.one_of(glob_text, st.integers()), max_size=3),
            st.none(),
            st.booleans(),
        ),
    )
)
@settings(max_examples=300, deadline=None)
def test_the_server_parser_accepts_or_says_why_in_the_same_words(obj):
    try:
        filters = arguments.filters_of(obj, 20)
    except JsonRpcInvalidParams as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert 1 <= filters.limit <= 500
    for pattern in (*filters.include, *filters.exclude):
        pathspec.GitIgnoreSpec.from_lines([pattern])  # only patterns that compile get through


@pytest.mark.parametrize("bad", ["[z-a]", "[[", "**/*.{py", "a}"])
def test_one_bad_glob_reads_the_same_in_the_cli_and_the_server(tree, monkeypatch, bad):
    root, cache = tree
    monkeypatch.setenv("NEARCODE_CACHE_DIR", str(cache))
    code, _, err = run(["search", str(root), "server", "--include", bad])
    with pytest.raises(JsonRpcInvalidParams) as lsp_error:
        arguments.filters_of({"include": [bad]}, 20)
    with pytest.raises(InputError) as engine_error:
        globs([bad], "include")
    assert code == 2
    said = err.strip()
    assert said == f"nearcode: {engine_error.value}" == f"nearcode: {lsp_error.value.message}"


def test_the_harness_answers_good_questions(tree, monkeypatch):
    """The properties above mean something only if good commands do succeed here."""
    root, cache = tree
    monkeypatch.setenv("NEARCODE_CACHE_DIR", str(cache))
    monkeypatch.setattr(workspace_module, "make_encoder", fake_make_encoder)
    code, out, err = run(["search", str(root), "slugify", "--json", "--language", "py"])
    assert code == 0, err
    assert json.loads(out)["results"][0]["path"] == "src/util/strings.py"
    code, out, err = run(["similar", f"{root / 'web' / 'client.js'}:2", "--json"])
    assert code == 0, err and json.loads(out)["results"]
