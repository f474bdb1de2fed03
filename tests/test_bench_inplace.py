"""In-place sets: docs removed from a whole tree, questions with line targets, scoring."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pytest

from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.cli import per_query_path, set_folders
from lsp_server.bench.inplace import build_in_place
from lsp_server.bench.metrics import score_query
from lsp_server.bench.projects import DEFAULT_PROJECTS, build_projects, load_projects
from lsp_server.bench.quality import (
    Ablation,
    QualityRun,
    pipelines,
    ranked_targets,
    select,
    unmatched,
)
from lsp_server.bench.report import language_table
from lsp_server.bench.treeset import Target, load_tree_set, read_questions
from lsp_server.engine.results import SearchResponse, SearchResult
from lsp_server.engine.settings import EngineSettings

PYTHON = '''"""Module doc stays."""
import functools


@functools.cache
def parse_words(text):
    """Split the text into lowercase words.

    More detail here.
    """
    return text.lower().split()


class Box:
    """A box of things to carry."""

    def size(self):
        """Return the number of items in the box."""
        return len(self.items)

    def stub(self):
        """Only a docstring here, nothing else."""

    def __len__(self):
        """Return the length of the box please."""
        return 3


def old_thing():
    """Deprecated: use parse_words instead of this."""
    return None


def short():
    """Too short."""
    return 1
'''

TEST_PYTHON = '''def test_parse():
    """Check that parse works on plain words."""
    assert True
'''

# CRLF line ends: kept byte for byte.
JAVASCRIPT = """/**
 * Send a JSON response to the client.
 *
 * @param {Object} body
 */

res.json = function json(body) {
  return this.send(JSON.stringify(body));
};

/**
 * @param {String} name
 * @return {String}
 */
function paramOnly(name) { return name; }

/**
 * Check if the request is fresh, aka Last-Modified still matches.
 */
defineGetter(req, 'fresh', function () {
  return true;
});

class Router {
  /** Add a route handler for the given path. */
  route(path) {
    return path;
  }
}
""".replace("\n", "\r\n")

GO = """package lib

// Reverse returns the string with its runes in reverse order.
func Reverse(s string) string {
\treturn s
}

//go:noinline
// Hidden has a directive in its doc block here.
func Hidden() {}
"""

RUST = """/// Adds two numbers together and returns
/// the sum of both.
#[inline]
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Placeholder for the value of the argument in the help message.
///
/// ```
#[cfg_attr(feature = "help", doc = " ```")]
/// # use clap::Arg;
/// Arg::new("config").value_name("FILE");
/// ```
#[must_use]
pub fn value_name(name: &str) -> String {
    name.to_uppercase()
}

#[cfg(test)]
mod tests {
    /// Checks that adding works in the test module.
    fn it_adds() {}
}
"""

JAVA = """public class Joiner {
    /**
     * Returns the {@link String} joined with commas between items.
     * @param items the items
     */
    public String join(List<String> items) {
        return String.join(",", items);
    }
}
"""

# C documents with plain comments (Lua's `** ` lines), GNU/BSD style headers on two lines.
C = """/*
** Convert an acceptable index to a pointer to its value.
*/
static TValue *
index2value (lua_State *L, int idx) {
  return NULL;
}

/***************** banner, not a doc *****************/
int banner (void) { return 0; }
"""

CPP = """class App {
    /// @brief Set a callback to run before parsing starts.
    App *preparse_callback(std::function<void(std::size_t)> cb) {
        return this;
    }
};
"""

# C++ in a `.h` file (C by its path), its documented member a template.
CPP_HEADER = """#pragma once
#include <vector>

namespace fmt {
template <typename Context> class dynamic_format_arg_store {
 public:
  /**
    Reserves space to store at least *new_cap* arguments in the store.
   */
  template <typename T> void reserve(size_t new_cap) {
    data_.reserve(new_cap);
  }
};
}  // namespace fmt
"""

PHP = """<?php
interface Delimiters
{
    /**
     * Returns the delimiter processor for the given character.
     */
    public function getDelimiterProcessor(string $char): ?Processor;
}
"""

RUBY = """module Rack
  class Builder
    # Parse the given config file to get a Rack application.
    def self.parse_file(path)
      new
    end

    # :nodoc: Internal helper kept out of the docs entirely.
    def helper; end
  end
end
"""

CSHARP = """namespace Python.Runtime
{
    internal static class AssemblyManager
    {
        /// <summary>
        /// Loads an assembly named <paramref name="name"/> from the search path of
        /// <see cref="M:Python.Runtime.PythonEngine.Initialize(System.Boolean)"/>.
        /// </summary>
        /// <param name="name">The assembly's name.</param>
        [Obsolete]
        public static Assembly LoadAssemblyPath(string name)
        {
            return null;
        }

        /// <summary>
        /// Directories searched for assemblies, in the order they are tried.
        /// </summary>
        public static IEnumerable<string> SearchPaths
        {
            get { return pypath.Select(p => p.Trim()); }
        }

        /// <summary>Gets or sets the timeout.</summary>
        public static int Timeout { get; set; }
    }
}
"""

# Generated code (the engine's file role): its docs stay in the tree, never asked.
GENERATED_CSHARP = """namespace KeePass.Resources
{
    public static partial class KPRes
    {
        /// <summary>
        /// Look up a localized string similar to 'Create a new entry group'.
        /// </summary>
        public static string AddGroupDesc
        {
            get { return m_strAddGroupDesc; }
        }
    }
}
"""

# Files whose content gives them a role (chunker.content_role, builder 7): a Django app's
# tests beside its code, a Go file a tool wrote. Their docs stay in the tree, never asked.
DJANGO_TESTS = '''from django.test import TestCase


class CoreTests(TestCase):
    def test_words(self):
        """Words come back lowercase, in the order of the text."""
        self.assertEqual(words("A b"), ["a", "b"])
'''

GENERATED_GO = """// Code generated by stringer; DO NOT EDIT.

package demo

// String names the colour, as its constant does.
func (c Colour) String() string {
\treturn names[c]
}
"""

# A Storybook story: an example of a component's use, never asked (builder 7).
STORY = """import { Button } from './Button';

/**
 * Renders the button in its busy state, with a spinner beside its label.
 */
export const Busy = () => Button({ busy: true, label: 'Saving' });
"""

FILES = {
    "src/runtime/AssemblyManager.cs": CSHARP,
    "web/Button.stories.js": STORY,
    "pkg/tests.py": DJANGO_TESTS,
    "colour_string.go": GENERATED_GO,
    "src/Resources/KPRes.Generated.cs": GENERATED_CSHARP,
    "src/lapi.c": C,
    "include/App.hpp": CPP,
    "include/fmt/args.h": CPP_HEADER,
    "src/Delimiters.php": PHP,
    "lib/rack/builder.rb": RUBY,
    "pkg/core.py": PYTHON,
    "tests/test_core.py": TEST_PYTHON,
    "web/app.js": JAVASCRIPT,
    "lib.go": GO,
    "src/lib.rs": RUST,
    "src/Joiner.java": JAVA,
    "README.md": "# demo\n\nSplit the text into lowercase words.\n",
}

EXPECTED = {
    # XML references read as the names they refer to.
    "Loads an assembly named name from the search path of Initialize.": (
        "src/runtime/AssemblyManager.cs",
        "[Obsolete]",
        "}",
    ),
    # A property is asked as a method is (builder 3); "Gets or sets the timeout." is not.
    "Directories searched for assemblies, in the order they are tried.": (
        "src/runtime/AssemblyManager.cs",
        "public static IEnumerable<string> SearchPaths",
        "}",
    ),
    "Convert an acceptable index to a pointer to its value.": (
        "src/lapi.c",
        "static TValue *",
        "}",
    ),
    "Set a callback to run before parsing starts.": ("include/App.hpp", "App *preparse", "}"),
    "Reserves space to store at least *new_cap* arguments in the store.": (
        "include/fmt/args.h",
        "template <typename T> void reserve",
        "}",
    ),
    "Returns the delimiter processor for the given character.": (
        "src/Delimiters.php",
        "public function getDelimiterProcessor",
        ";",
    ),
    "Parse the given config file to get a Rack application.": (
        "lib/rack/builder.rb",
        "def self.parse_file",
        "end",
    ),
    "Split the text into lowercase words.": ("pkg/core.py", "@functools.cache", "split()"),
    "Return the number of items in the box.": ("pkg/core.py", "def size", "self.items)"),
    "Send a JSON response to the client.": ("web/app.js", "res.json =", "};"),
    "Check if the request is fresh, aka Last-Modified still matches.": (
        "web/app.js",
        "defineGetter(",
        "});",
    ),
    "Add a route handler for the given path.": ("web/app.js", "route(path)", "}"),
    "Reverse returns the string with its runes in reverse order.": ("lib.go", "func Rev", "}"),
    "Adds two numbers together and returns the sum of both.": ("src/lib.rs", "#[inline]", "}"),
    # clap's docs hold `#[cfg_attr(feature = "help", doc = " ```")]` lines: one doc with them.
    "Placeholder for the value of the argument in the help message.": (
        "src/lib.rs",
        "#[must_use]",
        "}",
    ),
    "Returns the String joined with commas between items.": (
        "src/Joiner.java",
        "public String join",
        "}",
    ),
}


def make_tree(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return root


def rows_without(data: bytes, removed: list[tuple[int, int]]) -> bytes:
    gone = {row for start, end in removed for row in range(start, end + 1)}
    lines = data.split(b"\n")
    return b"\n".join(line for number, line in enumerate(lines, 1) if number not in gone)


def test_every_eligible_doc_becomes_a_question_with_its_target(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    built = build_in_place(source, tmp_path / "set", sample=100, seed=0, meta={"x": 1})
    data = load_tree_set(tmp_path / "set")
    assert {q.query for q in data.questions} == set(EXPECTED)
    assert built.meta["counts"]["questions"] == len(EXPECTED) and built.meta["x"] == 1
    for question in data.questions:
        path, first, last = EXPECTED[question.query]
        (target,) = question.targets
        assert target.path == path
        lines = (data.tree / path).read_bytes().decode().split("\n")
        body = [line.rstrip("\r") for line in lines[target.start - 1 : target.end]]
        assert body[0].strip().startswith(first), (question.query, body)
        assert body[-1].strip().endswith(last), (question.query, body)
        # The doc is gone from the file (the README's copy of a sentence stays).
        assert " ".join(question.query.split()[:3]) not in "\n".join(lines)
    assert "Split the text" in (data.tree / "README.md").read_text()
    assert "Check that parse works" in (data.tree / "tests/test_core.py").read_text()
    assert "Words come back lowercase" in (data.tree / "pkg/tests.py").read_text()
    assert "String names the colour" in (data.tree / "colour_string.go").read_text()
    story = (data.tree / "web/Button.stories.js").read_text()
    assert "Renders the button in its busy state" in story


def test_a_header_holding_cpp_is_asked_as_cpp(tmp_path: Path) -> None:
    # The engine parses such a header with C++'s grammar and labels its chunks so; the set
    # builder reads it the same way (C's grammar finds no definition in it).
    build_in_place(make_tree(tmp_path / "src"), tmp_path / "set", sample=100, seed=0, meta={})
    data = load_tree_set(tmp_path / "set")
    languages = {q.targets[0].path: q.extra["language"] for q in data.questions}
    assert languages["include/fmt/args.h"] == "cpp"
    assert languages["src/lapi.c"] == "c"
    assert data.meta["counts"]["files_per_language"]["cpp"] == 2


def test_only_the_sampled_docs_are_removed(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    build_in_place(source, tmp_path / "set", sample=3, seed=7, meta={})
    data = load_tree_set(tmp_path / "set")
    assert len(data.questions) == 3
    removed: dict[str, list[tuple[int, int]]] = {}
    for question in data.questions:
        span = question.extra["removed"]
        removed.setdefault(question.targets[0].path, []).append((span["start"], span["end"]))
        original = (source / question.targets[0].path).read_bytes().split(b"\n")
        doc = b" ".join(original[span["start"] - 1 : span["end"]]).decode()
        assert question.query.split()[0] in doc  # the removed lines were that doc
    for rel in FILES:
        original = (source / rel).read_bytes()
        assert (data.tree / rel).read_bytes() == rows_without(original, removed.get(rel, []))
    # The same seed samples the same definitions.
    build_in_place(source, tmp_path / "again", sample=3, seed=7, meta={})
    again = load_tree_set(tmp_path / "again")
    assert [q.query for q in again.questions] == [q.query for q in data.questions]


def test_rebuilding_over_a_foreign_folder_is_refused(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ValueError, match="not a set folder"):
        build_in_place(source, tmp_path / "mine", sample=3, seed=0, meta={})
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def result(path: str, start: int, end: int, score: float = 1.0) -> SearchResult:
    """A result over 1-based inclusive lines start..end (the engine's are 0-based)."""
    return SearchResult(path, "", start - 1, 0, end, 0, score, "", "", "", "")


def test_hits_are_overlaps_and_split_parts_count_once() -> None:
    targets = (Target("a.py", 10, 30), Target("b.py", 5, 8))
    response = SearchResponse(
        [
            result("c.py", 1, 9),  # rank 1: elsewhere
            result("a.py", 25, 40),  # rank 2: overlaps the end of target 0
            result("a.py", 10, 20),  # another part of target 0: not counted again
            result("a.py", 1, 9),  # next to target 0, no overlap
            result("b.py", 8, 8, score=0.0),  # scored 0: dropped (single-ranking pipelines)
            result("b.py", 2, 6),  # rank 4: target 1
        ]
    )
    ranked = ranked_targets(response, targets)
    assert ranked == ["c.py:1-9", "t0", "a.py:1-9", "t1"]
    scores = score_query(ranked, {"t0": 1, "t1": 1})
    assert scores["mrr"] == pytest.approx(1 / 2)
    assert scores["recall@1"] == 0.0
    assert scores["recall@10"] == 1.0
    ideal = 1 + 1 / 1.5849625007211563  # gains at ranks 1 and 2
    found = 1 / 1.5849625007211563 + 1 / 2.321928094887362  # gains at ranks 2 and 4
    assert scores["ndcg@10"] == pytest.approx(found / ideal)


def test_a_result_ending_at_a_line_start_does_not_cover_that_line() -> None:
    response = SearchResponse([SearchResult("a.py", "", 0, 0, 9, 0, 1.0, "", "", "", "")])
    assert ranked_targets(response, (Target("a.py", 10, 12),)) == ["a.py:1-9"]
    assert ranked_targets(response, (Target("a.py", 9, 12),)) == ["t0"]


def write_questions(folder: Path, rows: list[dict], tree: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "set.json").write_text(json.dumps({"tree": tree}))
    return folder


def test_hand_written_questions_are_checked_against_the_tree(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "repo")
    bad = [{"query": "q", "targets": [{"path": "pkg/core.py", "start": 5, "end": 500}]}]
    folder = write_questions(tmp_path / "bad", bad, str(tree))
    lines = len(PYTHON.splitlines())
    with pytest.raises(ValueError, match=f"has {lines} lines, the target ends at 500"):
        load_tree_set(folder)
    missing = [{"query": "q", "targets": [{"path": "nope.py", "start": 1, "end": 2}]}]
    with pytest.raises(ValueError, match="nope.py is not a file"):
        load_tree_set(write_questions(tmp_path / "missing", missing, str(tree)))
    (tmp_path / "q.jsonl").write_text('{"query": "no targets"}\n')
    with pytest.raises(ValueError, match="at least one target"):
        read_questions(tmp_path / "q.jsonl")


def test_without_leaves_a_package_s_compiled_copies_out_of_the_set(
    tmp_path: Path, capsys
) -> None:
    """A package that ships compiled copies of its sources (`esm/`; `dist/` the scanner
    skips) has every doc twice, so none is asked (a doc shared with another has two
    answers); --without trims the copy, as the repository is, and leaves the source folder
    as it was."""
    source = make_tree(tmp_path / "src")
    (source / "esm" / "web").mkdir(parents=True)
    (source / "esm" / "web" / "app.js").write_bytes(JAVASCRIPT.encode())
    build = ["build-set", "--in-place", "--from-folder", str(source), "--sample", "100"]
    assert bench_main([*build, "--out", str(tmp_path / "whole")]) == 0
    assert bench_main([*build, "--without", "esm", "--out", str(tmp_path / "trimmed")]) == 0
    asked = {
        name: {q.targets[0].path for q in load_tree_set(tmp_path / name).questions}
        for name in ("whole", "trimmed")
    }
    assert "web/app.js" in asked["trimmed"] - asked["whole"]
    assert not (tmp_path / "trimmed" / "tree" / "esm").exists()
    assert (source / "esm" / "web" / "app.js").read_bytes() == JAVASCRIPT.encode()
    assert json.loads((tmp_path / "trimmed" / "set.json").read_text())["without"] == ["esm"]
    questions = tmp_path / "mine.jsonl"
    row = {"query": "reverse a string", "targets": [{"path": "lib.go", "start": 3, "end": 6}]}
    questions.write_text(json.dumps(row) + "\n")
    own = [*build, "--questions", str(questions), "--without", "esm"]
    assert bench_main([*own, "--out", str(tmp_path / "own")]) == 0
    own_meta = json.loads((tmp_path / "own" / "set.json").read_text())
    assert own_meta["tree"] == "tree"  # the trimmed copy, not the user's folder
    assert not (tmp_path / "own" / "tree" / "esm").exists()
    assert bench_main([*build, "--without", "nope", "--out", str(tmp_path / "bad")]) == 1
    assert f"--without: not in {source}: nope" in capsys.readouterr().err


def test_exact_match_question_ranks_first_through_the_engine(tmp_path: Path, encoder) -> None:
    tree = make_tree(tmp_path / "repo")
    lines = PYTHON.splitlines()
    start = lines.index("@functools.cache") + 1
    end = lines.index("    return text.lower().split()") + 1
    target = {"path": "pkg/core.py", "start": start, "end": end}
    rows = [{"query": "return text.lower().split()", "targets": [target]}]
    data = load_tree_set(write_questions(tmp_path / "mine", rows, str(tree)))
    run = QualityRun(tmp_path / "work", EngineSettings(), encoder=encoder, patterns=["bm25"])
    measured = run.run(data)
    assert list(measured.pipelines) == ["bm25"]
    assert measured.pipelines["bm25"]["mrr"] == 1.0
    assert measured.layout == "in-place" and measured.files == len(FILES)
    assert measured.corpus == measured.chunks > 0
    assert (tree / "pkg/core.py").read_text() == PYTHON  # the user's tree is never changed


def test_a_tree_of_several_languages_is_scored_per_language_of_the_answer(
    tmp_path: Path, encoder
) -> None:
    """A tree that holds Python and Go is scored per language of each question's answer, so
    that a strong language does not hide a weak one in the set's mean."""
    tree = make_tree(tmp_path / "repo")
    lines = PYTHON.splitlines()
    start = lines.index("@functools.cache") + 1
    end = lines.index("    return text.lower().split()") + 1
    rows = [
        {"query": "return text.lower().split()", "targets": [
            {"path": "pkg/core.py", "start": start, "end": end}]},
        {"query": "qqzx wvvk", "targets": [{"path": "lib.go", "start": 3, "end": 6}]},
        {"query": "return text.lower().split()", "targets": [
            {"path": "pkg/core.py", "start": start, "end": end}]},
    ]  # fmt: skip
    data = load_tree_set(write_questions(tmp_path / "mine", rows, str(tree)))
    run = QualityRun(tmp_path / "work", EngineSettings(), encoder=encoder, patterns=["bm25"])
    measured = run.run(data)
    assert measured.answer_languages == ["python", "go", "python"]
    assert measured.per_query["bm25"] == [1.0, 0.0, 1.0]
    table = language_table(
        {"mine": measured.per_query}, {"mine": measured.per_query_landing},
        {"mine": measured.answer_languages},
    )  # fmt: skip
    landed = measured.per_query_landing["bm25"][0]
    assert table.splitlines() == [
        "| set | answers in | queries | bm25 MRR / landing |",
        "|---|---|---:|---|",
        f"| mine | python | 2 | 1.0000 / {landed:.4f} |",
        "| mine | go | 1 | 0.0000 / 0.0000 |",
    ]
    # A set whose answers are all in one language adds nothing.
    assert language_table({"one": {"bm25": [1.0]}}, {}, {"one": ["python"]}) == ""


def test_cli_builds_and_scores_in_place_sets_with_the_real_model(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    sets = tmp_path / "sets"
    build = ["build-set", "--in-place", "--from-folder", str(source), "--sample", "100"]
    assert bench_main([*build, "--out", str(sets / "demo")]) == 0
    questions = tmp_path / "mine.jsonl"
    row = {"query": "reverse a string", "targets": [{"path": "lib.go", "start": 3, "end": 6}]}
    questions.write_text(json.dumps(row) + "\n")
    own = ["build-set", "--in-place", "--from-folder", str(source), "--questions", str(questions)]
    assert bench_main([*own, "--out", str(sets / "own")]) == 0
    assert set_folders([sets]) == [sets / "demo", sets / "own"]
    out = tmp_path / "results" / "quality.json"
    quality = ["quality", "--data", str(sets), "--pipelines", "dense,hybrid", "--out", str(out)]
    assert bench_main(quality) == 0
    entry = json.loads(out.read_text())["sets"]["demo"]
    assert entry["layout"] == "in-place" and entry["queries"] == len(EXPECTED)
    assert list(entry["pipelines"]) == ["dense", "hybrid"]
    # Thirteen distinct definitions asked by their own doc sentence: the model finds most first.
    assert entry["pipelines"]["hybrid"]["mrr"] >= 0.6
    assert json.loads(out.read_text())["sets"]["own"]["queries"] == 1
    report = out.with_suffix(".md").read_text()
    assert f"| demo | {len(EXPECTED)} |" in report
    # Its answers lie in six languages: the report scores each apart, `own` (one) not at all.
    assert "| demo | go | 1 | " in report and "| own |" not in report.split("answers in")[1]
    saved = json.loads(per_query_path(out).read_text())["languages"]
    assert saved["own"] == ["go"] and saved["demo"].count("python") == 2


def test_build_set_without_in_place_refuses_new_sources(tmp_path: Path, capsys) -> None:
    assert bench_main(["build-set", "--from-npm", "x@1.0.0", "--out", str(tmp_path / "s")]) == 1
    assert "need --in-place" in capsys.readouterr().err


def test_beir_pipeline_names_are_unchanged_and_ablations_extend() -> None:
    defaults = EngineSettings(candidates=1000)
    names = [p.name for p in pipelines(defaults)]
    # The names BEIR results were published under come first, unchanged; the engine's later
    # settings add ablations after them.
    assert names[:12] == [
        "bm25",
        "dense",
        "hybrid",
        "hybrid/candidates=100",
        "hybrid/lexical_weight=1",
        "hybrid/lexical_weight=3",
        "hybrid/prose_lexical_weight=0.1",
        "hybrid/prose_lexical_weight=0.3",
        "hybrid/prose_lexical_weight=0.5",
        "hybrid/prose_lexical_weight=1",
        "dense/context_header=off",
        "hybrid/context_header=off",
    ]
    header = next(p for p in pipelines(defaults) if p.name == "dense/context_header=off")
    assert header.index_overrides == {"context_header": False}
    extra = Ablation("rrf_k", (10, 30), bases=("bm25", "hybrid"))
    added = extra.expand(defaults)
    assert [p.name for p in added] == ["bm25/rrf_k=30", "hybrid/rrf_k=30"]
    assert added[0].overrides == {"dense_weight": 0.0, "rrf_k": 30}
    assert "hybrid/unit_results=off" in names and "hybrid/fusion=rrf" in names
    assert [p.name for p in select(pipelines(defaults), ["*context_header*"])] == names[10:12]
    with pytest.raises(ValueError, match="no pipeline matches"):
        select(pipelines(defaults), ["nothing"])
    # A pattern that matches nothing beside others that match is told, with what it may mean.
    assert unmatched(pipelines(defaults), ["hybrid", "hybrid/content_roles=false"]) == [
        "no pipeline matches 'hybrid/content_roles=false'; there are: hybrid/content_roles=off"
    ]


def test_dense_is_dense_for_every_kind_of_query() -> None:
    """No lexical weight of any query kind leaks into the dense pipeline; an engine without
    one of those weights (a baseline revision's) still gets the pipeline."""
    dense = next(p for p in pipelines(EngineSettings()) if p.name == "dense")
    settings = replace(EngineSettings(), **dense.overrides)
    weights = [f.name for f in fields(EngineSettings) if f.name.endswith("lexical_weight")]
    assert weights and all(getattr(settings, name) in (0.0, None) for name in weights)

    @dataclass(frozen=True)
    class OlderSettings:
        lexical_weight: float = 2.0
        prose_lexical_weight: float = 0.1

    older = next(p for p in pipelines(OlderSettings()) if p.name == "dense")  # type: ignore[arg-type]
    assert older.overrides == {"lexical_weight": 0.0, "prose_lexical_weight": 0.0}


def test_reciprocal_ranks_weigh_every_question_alike_where_the_engine_scales_by_coverage():
    rrf = next(p for p in pipelines(EngineSettings()) if p.name == "hybrid/fusion=rrf")
    assert rrf.overrides == {
        "fusion": "rrf",
        "prose_lexical_weight": 0.1,
        "prose_lexical_coverage": 0.0,
    }

    @dataclass(frozen=True)
    class OlderSettings:
        fusion: str = "convex"
        prose_lexical_weight: float = 0.2

    older = next(p for p in pipelines(OlderSettings()) if p.name == "hybrid/fusion=rrf")  # type: ignore[arg-type]
    assert older.overrides == {"fusion": "rrf", "prose_lexical_weight": 0.1}
    constant = "hybrid/prose_lexical_weight=0.2/prose_lexical_coverage=0"
    assert constant in [p.name for p in pipelines(EngineSettings())]
    assert constant not in [p.name for p in pipelines(OlderSettings())]  # type: ignore[arg-type]


def test_a_run_can_rank_as_the_editor_does() -> None:
    """Benchmarks rank 1,000 candidates a ranking; the editor ranks EngineSettings'
    default. One ablation must reproduce the editor's ranking (README and BENCHMARKS quote
    both), so changing the default without it fails here."""
    editor = EngineSettings().candidates
    assert editor < 1000
    names = [p.name for p in pipelines(EngineSettings(candidates=1000))]
    assert f"hybrid/candidates={editor}" in names


def test_a_baseline_engine_without_adapters_keeps_its_one_encoder(tmp_path: Path, encoder) -> None:
    """bench/baseline.py runs this benchmark over an older engine, whose settings may lack
    fields this one has (the adapter): every index of that run uses the encoder it was given."""

    @dataclass(frozen=True)
    class OlderSettings:
        candidates: int = 100

    run = QualityRun(tmp_path / "work", OlderSettings(), encoder=encoder)  # type: ignore[arg-type]
    assert run._encoder_for(OlderSettings()) is run.encoder
    names = [p.name for p in pipelines(OlderSettings(), adapters=["none"])]  # type: ignore[arg-type]
    assert "hybrid" in names and not any("adapter=" in name for name in names)


def test_project_list_builds_each_set_once(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    questions = tmp_path / "q.jsonl"
    row = {"query": "reverse a string", "targets": [{"path": "lib.go", "start": 3, "end": 6}]}
    questions.write_text(json.dumps(row) + "\n")
    listed = {
        "sample": 4,
        "projects": [
            {"name": "docs", "source": "folder", "spec": str(source), "language": "go",
             "role": "tune"},
            {"name": "asked", "source": "folder", "spec": str(source), "language": "go",
             "role": "report", "questions": "q.jsonl"},
        ],
    }  # fmt: skip
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    said: list[str] = []
    assert build_projects(tmp_path / "projects.json", tmp_path / "sets", say=said.append) == 0
    assert len(load_tree_set(tmp_path / "sets" / "docs").questions) == 4
    asked = load_tree_set(tmp_path / "sets" / "asked")
    assert asked.tree == source.resolve() and asked.meta["role"] == "report"
    assert build_projects(tmp_path / "projects.json", tmp_path / "sets", say=said.append) == 0
    assert said[-2:] == [f"{tmp_path / 'sets' / n}: up to date" for n in ("docs", "asked")]
    listed["projects"][0]["role"] = "other"
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    with pytest.raises(ValueError, match="role must be one of"):
        build_projects(tmp_path / "projects.json", tmp_path / "sets")


def test_pinned_project_list_is_complete() -> None:
    projects = load_projects(DEFAULT_PROJECTS)
    languages = {p.language for p in projects}
    assert {"python", "javascript", "typescript", "go", "rust", "java"} <= languages
    # C, C++, C#, PHP and Ruby (since 2026-12-05) each have a tuned and a held-out tree.
    for language in ("c", "cpp", "csharp", "php", "ruby"):
        assert {p.role for p in projects if p.language == language} == {"tune", "report"}
    tuned = {p.name for p in projects if p.role == "tune"}
    assert not any(name.startswith(("httpx", "express")) for name in tuned)
    assert all(p.questions is None or p.questions.is_file() for p in projects)


def test_a_revision_s_own_command_line_scores_the_typed_questions(tmp_path: Path) -> None:
    """--baseline-cli: the revision's whole package, asked through its own command line, and
    judged as the run's pipelines are; sets with other kinds of question are left out."""
    from lsp_server.bench.cli_baseline import PIPELINE, run_cli_baseline

    tree = make_tree(tmp_path / "repo")
    lines = PYTHON.splitlines()
    start = lines.index("@functools.cache") + 1
    end = lines.index("    return text.lower().split()") + 1
    target = {"path": "pkg/core.py", "start": start, "end": end}
    typed = [
        {"query": "return text.lower().split()", "targets": [target]},
        {"query": "split the text into lowercase words", "targets": [target]},
    ]
    similar = [{**typed[0], "ask": "similar", "at": {"path": "pkg/core.py", "line": start}}]
    sets = [
        load_tree_set(write_questions(tmp_path / "typed", typed, str(tree))),
        load_tree_set(write_questions(tmp_path / "similar", similar, str(tree))),
    ]
    said: list[str] = []
    results, ranks = run_cli_baseline(
        "HEAD", sets, tmp_path / "work", tmp_path / "cache", log=said.append
    )
    assert list(results) == ["typed"] and len(ranks["typed"]) == 2
    assert ranks["typed"][0] == 1.0  # the exact line, through the CLI's JSON and line rule
    assert 0 < results["typed"]["pipelines"][PIPELINE]["mrr"] <= 1.0
    assert any("similar: left out" in line for line in said)
    committed = subprocess.run(
        ["git", "show", "HEAD:lsp_server/cli.py"], capture_output=True, text=True, check=True
    ).stdout
    assert (tmp_path / "work" / "package" / "lsp_server" / "cli.py").read_text() == committed
    assert (tmp_path / "cache" / "indexes").is_dir()  # its own cache, not the editor's
    with pytest.raises(ValueError, match="cannot read revision"):
        run_cli_baseline("no-such-revision-xyz", sets, tmp_path / "bad")
