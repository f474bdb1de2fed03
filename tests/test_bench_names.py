"""Name sets: definitions and constants asked by their bare name, in an untouched tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.namesets import build_name_set, tagged_definitions
from lsp_server.bench.treeset import load_tree_set

CONFIG = '''"""Settings."""

import os
import sys
import typing

DEFAULT_TIMEOUT = 5.0
# MAX_REDIRECTS caps the redirects followed: its comment is not where it is declared.
MAX_REDIRECTS = 20
DEBUG = os.environ.get("DEBUG")


class RetryPolicy:
    def __init__(self, attempts=MAX_REDIRECTS):
        self.attempts = attempts

    def backoff_delay(self, attempt):
        return DEFAULT_TIMEOUT * 2**attempt


def unused_helper():
    return 1
'''

CLIENT = '''from pkg.config import DEFAULT_TIMEOUT, MAX_REDIRECTS, RetryPolicy

ONLY_HERE = 3


def fetch(url, timeout=DEFAULT_TIMEOUT):
    policy = RetryPolicy()
    return policy.backoff_delay(MAX_REDIRECTS)
'''

TEST = '''from pkg.config import DEFAULT_TIMEOUT

TEST_TIMEOUT = DEFAULT_TIMEOUT


def test_fetch_uses_the_default_timeout():
    assert DEFAULT_TIMEOUT == TEST_TIMEOUT
'''


def make_tree(root: Path) -> Path:
    for rel, text in {
        "pkg/config.py": CONFIG,
        "pkg/client.py": CLIENT,
        "tests/test_client.py": TEST,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def asked(folder: Path) -> dict[str, tuple[str, int, int]]:
    questions = load_tree_set(folder).questions
    return {q.query: (q.targets[0].path, q.targets[0].start, q.targets[0].end) for q in questions}


def test_constants_defined_once_and_used_elsewhere_are_asked_at_their_line(tmp_path: Path) -> None:
    """DEBUG is used nowhere else, ONLY_HERE too, DEBUG and `fetch` are shorter than six
    characters; a test's constant is never asked; the tree is copied untouched."""
    source = make_tree(tmp_path / "src")
    count = build_name_set(source, tmp_path / "set", queries="constants", sample=10, meta={})
    assert asked(tmp_path / "set") == {
        "DEFAULT_TIMEOUT": ("pkg/config.py", 7, 7),
        "MAX_REDIRECTS": ("pkg/config.py", 9, 9),
    }
    assert count == 2
    data = load_tree_set(tmp_path / "set")
    assert data.meta["queries"] == "constants" and data.meta["counts"]["eligible"] == 2
    assert {q.ask for q in data.questions} == {"search"}
    for rel in ("pkg/config.py", "tests/test_client.py"):
        assert (data.tree / rel).read_text() == (source / rel).read_text()


def test_definitions_are_asked_by_their_last_name_for_the_whole_definition(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    build_name_set(source, tmp_path / "set", queries="names", sample=10, meta={})
    assert asked(tmp_path / "set") == {
        "RetryPolicy": ("pkg/config.py", 13, 13),  # the class header, chunked apart
        "backoff_delay": ("pkg/config.py", 17, 18),  # `RetryPolicy.backoff_delay`
    }  # __init__ is held by no other chunk, unused_helper is used nowhere


def test_a_components_script_defines_names_and_makes_a_shared_name_ambiguous(
    tmp_path: Path,
) -> None:
    """`filterOptions` in a `.vue` file's script is asked (the component is read as its
    TypeScript); `backoff_delay` is left out once a component defines it too."""
    source = make_tree(tmp_path / "src")
    (source / "ui").mkdir()
    (source / "ui" / "Picker.vue").write_text(
        '<script setup lang="ts">\nfunction filterOptions(query: string) {\n'
        "  return query.trim()\n}\nfunction backoff_delay() {\n  return 2\n}\n</script>\n"
        '<template><input @input="filterOptions($event.target.value)" /></template>\n'
    )
    build_name_set(source, tmp_path / "set", queries="names", sample=10, meta={})
    assert asked(tmp_path / "set") == {
        "RetryPolicy": ("pkg/config.py", 13, 13),
        "filterOptions": ("ui/Picker.vue", 2, 4),
    }


def test_tags_come_from_the_grammar_nested_definitions_included(tmp_path: Path) -> None:
    """The grammar's own tag query, not the engine's chunks: a closure inside a method is
    asked too, at the line that names it (the chunker leaves it inside the method)."""
    source = make_tree(tmp_path / "src")
    config = source / "pkg" / "config.py"
    config.write_text(
        config.read_text()
        + "\n\ndef run_with_retries(call):\n    def attempt_once():\n        return call()\n\n"
        + "    return attempt_once() or attempt_once()\n"
    )
    build_name_set(source, tmp_path / "set", queries="tags", sample=10, meta={})
    assert asked(tmp_path / "set") == {
        "DEFAULT_TIMEOUT": ("pkg/config.py", 7, 7),  # Python's tags hold module constants
        "MAX_REDIRECTS": ("pkg/config.py", 9, 9),
        "RetryPolicy": ("pkg/config.py", 13, 13),
        "backoff_delay": ("pkg/config.py", 17, 17),
        "attempt_once": ("pkg/config.py", 26, 26),
    }  # run_with_retries and unused_helper are used nowhere else


@pytest.mark.parametrize(
    ("path", "language", "text", "names"),
    [
        (
            "lib/app.js",
            "javascript",
            "const api = {\n  listen: (port) => start(port),\n};\n"
            "function start(port) { const onError = () => {}; return onError; }\n",
            [("listen", 1), ("start", 3), ("onError", 3)],
        ),
        (
            "src/types.ts",
            "typescript",
            "export interface Observer { next(): void }\nexport function pipe() {}\n",
            [("Observer", 0), ("next", 0), ("pipe", 1)],
        ),
        # `mod parser;` declares a file, asked by path; an inline module is a definition.
        ("src/lib.rs", "rust", "mod parser;\nmod inline {\n    fn helper() {}\n}\n",
         [("inline", 1), ("helper", 2)]),
        ("Foo.cs", "csharp", "class Foo {\n  void Bar() {}\n}\n", [("Foo", 0), ("Bar", 1)]),
    ],
)
def test_tagged_definitions_per_language(
    path: str, language: str, text: str, names: list[tuple[str, int]]
) -> None:
    found = tagged_definitions(path, language, text)
    assert sorted((n.name, n.rows[0]) for n in found) == sorted(names)
    assert all(n.rows[0] == n.rows[1] and n.path == path for n in found)


def test_a_tree_with_no_such_names_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("def f():\n    return 1\n")
    with pytest.raises(ValueError, match="no constants under .* are defined once and used"):
        build_name_set(tmp_path / "src", tmp_path / "set", queries="constants", meta={})


def test_cli_builds_name_sets_and_the_engine_answers_each_name_with_its_definition(
    tmp_path: Path,
) -> None:
    source = make_tree(tmp_path / "src")
    for queries in ("names", "constants"):
        build = ["build-set", "--in-place", "--queries", queries, "--from-folder", str(source)]
        assert bench_main([*build, "--out", str(tmp_path / "sets" / queries)]) == 0
    out = tmp_path / "quality.json"
    quality = ["quality", "--data", str(tmp_path / "sets"), "--pipelines", "hybrid"]
    assert bench_main([*quality, "--out", str(out)]) == 0
    sets = json.loads(out.read_text())["sets"]
    assert {name: entry["queries"] for name, entry in sets.items()} == {
        "constants": 2,
        "names": 2,
    }
    # Typed alone, each name lands on what is named so, first.
    assert sets["constants"]["pipelines"]["hybrid"]["mrr"] == 1.0
    assert sets["names"]["pipelines"]["hybrid"]["mrr"] == 1.0
