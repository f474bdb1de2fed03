"""Error-message sets: a tree's raise sites, asked as Search by Selection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.errorsets import build_error_set, error_sites
from lsp_server.bench.projects import build_projects
from lsp_server.bench.quality import QualityRun
from lsp_server.bench.treeset import load_tree_set, read_questions
from lsp_server.engine.settings import EngineSettings

# A function long enough that its raise is a small part of it (12 statements first).
PYTHON = (
    "import re\n\n\ndef parse_scheme(url):\n"
    + "".join(f"    step_{n} = prepare_{n}(url, option_{n})\n" for n in range(12))
    + """    match = re.match(r"([a-z]+)://", url)
    if match is None:
        raise errors.InvalidURL(f"unknown scheme {url!r} in this request")
    return match.group(1)


def chain(commands):
    if len(commands) > 3:
        raise RuntimeError("Multi commands in chain mode cannot have"
                           " optional arguments.")
    raise KeyError(commands)  # no literal message: not asked
"""
)

JAVASCRIPT = """function use(fn) {
  if (typeof fn !== 'function') {
    throw new TypeError('Router.use() requires a middleware function but got a ' + gettype(fn))
  }
  throw new Error(`Unexpected ${fn} for event passed to hook`)
}
"""

GO = (
    'func find(name string) error {\n\treturn fmt.Errorf("unknown command %q for %q", name, x)\n}\n'
)
RUST = """fn index(v: &Value) {
    panic!("cannot access key {:?} in JSON {}", k, v);
    v.expect("number value was not emitted");
}
"""
JAVA = """class Conn {
  void run() {
    throw new IllegalArgumentException("URL not set. Make sure " + name + " is set first");
  }
}
"""


def test_each_language_asks_the_message_as_it_is_shown() -> None:
    """The error's name as the runtime prints it, then the message, its holes filled with
    values drawn per site (a pasted message carries values the code does not hold)."""
    found = [
        *error_sites(PYTHON, "python", "a.py"),
        *error_sites(JAVASCRIPT, "javascript", "a.js"),
        *error_sites(GO, "go", "a.go"),
        *error_sites(RUST, "rust", "a.rs"),
        *error_sites(JAVA, "java", "A.java"),
    ]
    assert [(site.path, site.query, site.rows) for site in found] == [
        ("a.py", "InvalidURL: unknown scheme 'utf-8' in this request",
         (18, 18)),
        ("a.py", "RuntimeError: Multi commands in chain mode cannot have optional arguments.",
         (24, 25)),
        ("a.js", "TypeError: Router.use() requires a middleware function but got a 'utf-8'",
         (2, 2)),
        ("a.js", "Error: Unexpected 0 for event passed to hook", (4, 4)),
        ("a.go", "unknown command 'user_id' for 3.5", (1, 1)),
        ("a.rs", "cannot access key <Response [404]> in JSON 'GET'", (1, 1)),
        ("a.rs", "number value was not emitted", (2, 2)),
        ("A.java", "IllegalArgumentException: URL not set. Make sure None is set first",
         (2, 2)),
    ]  # fmt: skip


def test_a_message_of_few_words_is_not_asked() -> None:
    assert error_sites('raise ValueError("bad %s" % x)\n', "python", "a.py") == []
    assert error_sites("throw new Error(`${a}: ${b}`)\n", "javascript", "a.js") == []


def test_a_percent_sign_in_the_text_is_not_a_placeholder() -> None:
    (site,) = error_sites('raise ValueError("100% sure that %s broke" % x)\n', "python", "a.py")
    assert site.query == "ValueError: 100% sure that 'user_id' broke"


def make_tree(root: Path) -> Path:
    files = {
        "pkg/urls.py": PYTHON,
        "pkg/more.py": 'def other():\n    raise RuntimeError("Multi commands in chain mode '
        'cannot have optional arguments.")\n',
        "tests/test_urls.py": 'def test_x():\n    raise ValueError("a test raises this here")\n',
        # The message quoted in prose: a selection of code wants the code that raises it.
        "docs/errors.md": "# Errors\n\n"
        + "InvalidURL: unknown scheme value in this request.\n" * 3,
        "web/use.js": JAVASCRIPT,
        "pkg/words.py": 'def split_words(text):\n    """Split the text into lowercase words."""\n'
        "    return text.lower().split()\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_built_set_keeps_the_tree_and_targets_every_site(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    asked = build_error_set(source, tmp_path / "set", sample=10, meta={})
    data = load_tree_set(tmp_path / "set")
    assert asked == len(data.questions) == 4  # tests are not asked
    by_query = {q.query: q for q in data.questions}
    chain = by_query["RuntimeError: Multi commands in chain mode cannot have optional arguments."]
    assert [(t.path, t.start, t.end) for t in chain.targets] == [
        ("pkg/more.py", 2, 2),
        ("pkg/urls.py", 25, 26),
    ]
    assert {q.ask for q in data.questions} == {"selection"}
    for rel in ("pkg/urls.py", "docs/errors.md", "tests/test_urls.py"):
        assert (data.tree / rel).read_text() == (source / rel).read_text()


def _asked(folder: Path, rows: list[dict], tree: Path) -> Path:
    """A set folder of these questions against `tree`, referenced where it is."""
    folder.mkdir()
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "set.json").write_text(json.dumps({"tree": str(tree)}))
    return folder


def test_selection_questions_go_through_search_by_selection(tmp_path: Path, encoder) -> None:
    """The same message asked both ways: typed, the docs page that quotes it word for word
    ranks first; selected, prose is never an answer, so the raising function is first."""
    tree = make_tree(tmp_path / "repo")
    target = {"path": "pkg/urls.py", "start": 19, "end": 19}
    query = "InvalidURL: unknown scheme value in this request"
    rows = [
        {"id": "typed", "query": query, "targets": [target]},
        {"id": "selected", "query": query, "targets": [target], "ask": "selection"},
    ]
    folder = _asked(tmp_path / "asked", rows, tree)
    run = QualityRun(tmp_path / "work", EngineSettings(), encoder=encoder, patterns=["bm25"])
    typed, selected = run.run(load_tree_set(folder)).per_query["bm25"]
    assert selected == 1.0
    assert typed == 0.5


def test_an_unknown_way_of_asking_is_refused(tmp_path: Path) -> None:
    row = {"query": "q", "ask": "shout", "targets": [{"path": "a.py", "start": 1, "end": 1}]}
    (tmp_path / "q.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match="q.jsonl:1: ask is one of search, selection"):
        read_questions(tmp_path / "q.jsonl")


def test_in_place_sets_score_where_a_result_lands_too(tmp_path: Path, encoder) -> None:
    """A result that only holds the definition asked for overlaps it (MRR) but lands on its
    own name (landing): a store's `replaceReducer` is a unit of its own (the function holding
    it is larger than a chunk), a small factory's `inner` is not."""
    state = "".join(f"  let state{i} = preloaded[{i}]\n" for i in range(60))
    store = (
        "export function createStore(reducer, preloaded) {\n"
        f"{state}"
        "  /** Replaces the reducer that the store calls. */\n"
        "  function replaceReducer(nextReducer) {\n"
        "    reducer = nextReducer\n"
        "    dispatch({ type: 'REPLACE' })\n"
        "  }\n"
        "  return { replaceReducer }\n"
        "}\n"
    )
    factory = "export function makeWidget() {\n  function inner() {\n    return 'knob'\n  }\n}\n"
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / "store.js").write_text(store)
    (tree / "widget.js").write_text(factory)
    rows = [
        {"id": "nested", "query": "nextReducer REPLACE",
         "targets": [{"path": "store.js", "start": 63, "end": 66}]},
        {"id": "closure", "query": "knob",
         "targets": [{"path": "widget.js", "start": 2, "end": 4}]},
    ]  # fmt: skip
    folder = _asked(tmp_path / "asked", rows, tree)
    run = QualityRun(tmp_path / "work", EngineSettings(), encoder=encoder, patterns=["bm25"])
    result = run.run(load_tree_set(folder))
    assert result.per_query["bm25"] == [1.0, 1.0]  # both overlap their targets
    # `replaceReducer` lands on its name on line 63 (its doc comment, line 62, is its first);
    # `makeWidget` on its own, on line 1.
    assert result.per_query_landing["bm25"] == [1.0, 0.0]
    assert result.pipelines["bm25"]["landing"] == 0.5


def test_sets_that_leave_a_tree_untouched_share_one_copy_of_it(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    row = {"source": "folder", "spec": str(source), "language": "python", "role": "tune"}
    questions = tmp_path / "q.jsonl"
    asked = {"query": "split words", "targets": [{"path": "pkg/words.py", "start": 1, "end": 3}]}
    questions.write_text(json.dumps(asked) + "\n")
    listed = {"projects": [
        {**row, "name": "docs"},
        {**row, "name": "errs", "queries": "errors"},
        {**row, "name": "errs-again", "queries": "errors", "seed": 1},
        {**row, "name": "asked", "questions": "q.jsonl", "without": ["tests"]},
    ]}  # fmt: skip
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    sets = tmp_path / "sets"
    said: list[str] = []
    assert build_projects(tmp_path / "projects.json", sets, say=said.append) == 0
    errs, again, own = (load_tree_set(sets / n) for n in ("errs", "errs-again", "asked"))
    # One copy for the two error sets (an index belongs to a real path: embedded once), a
    # link in each set; the trimmed tree is another content, the docs set's tree its own.
    assert errs.tree == again.tree and errs.tree.parent == (sets / ".trees").resolve()
    assert (sets / "errs" / "tree").is_symlink() and not (sets / "docs" / "tree").is_symlink()
    assert own.tree.parent == errs.tree.parent and own.tree != errs.tree
    assert not (own.tree / "tests").exists() and (errs.tree / "tests" / "test_urls.py").is_file()
    assert (errs.tree / "pkg" / "urls.py").read_text() == (source / "pkg" / "urls.py").read_text()
    assert sorted(p.name for p in (sets / ".trees").iterdir()) == sorted(
        {errs.tree.name, own.tree.name}
    )
    assert build_projects(tmp_path / "projects.json", sets, say=said.append) == 0
    assert said[-4:] == [f"{sets / n}: up to date" for n in ("docs", "errs", "errs-again", "asked")]
    # A held tree removed by hand: the first set that links to it is built again (its
    # build holds the same content again, so the second is whole once more).
    shutil.rmtree(errs.tree)
    assert build_projects(tmp_path / "projects.json", sets, say=said.append) == 0
    assert [line.split(":")[0] for line in said[-4:]] == [
        f"{sets / 'docs'}", f"wrote {sets / 'errs'}", f"{sets / 'errs-again'}",
        f"{sets / 'asked'}",
    ]  # fmt: skip
    assert load_tree_set(sets / "errs").tree == errs.tree
    # The source changes and its error sets are built again: the old tree is dropped.
    (source / "pkg" / "more.py").write_text("def other():\n    raise KeyError('gone away')\n")
    assert build_projects(tmp_path / "projects.json", sets, say=said.append, force=True) == 0
    assert f"removed {errs.tree}: no set links to it" in said
    assert not errs.tree.exists() and load_tree_set(sets / "errs").tree.is_dir()


def test_cli_builds_an_error_set_and_scores_it_with_the_real_model(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    build = ["build-set", "--in-place", "--queries", "errors", "--from-folder", str(source)]
    assert bench_main([*build, "--out", str(tmp_path / "sets" / "errors")]) == 0
    out = tmp_path / "quality.json"
    quality = ["quality", "--data", str(tmp_path / "sets"), "--pipelines", "hybrid"]
    assert bench_main([*quality, "--out", str(out)]) == 0
    entry = json.loads(out.read_text())["sets"]["errors"]
    assert entry["queries"] == 4
    # Four distinct messages, each raised in code whose words it repeats: all found first.
    assert entry["pipelines"]["hybrid"]["mrr"] == 1.0
    assert bench_main(["build-set", "--queries", "errors", "--from-folder", str(source),
                       "--out", str(tmp_path / "x")]) == 1  # fmt: skip


def test_a_project_list_builds_error_sets_beside_doc_sets(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    row = {"source": "folder", "spec": str(source), "language": "python", "role": "tune"}
    listed = {"projects": [{**row, "name": "docs"}, {**row, "name": "errs", "queries": "errors"}]}
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    said: list[str] = []
    assert build_projects(tmp_path / "projects.json", tmp_path / "sets", say=said.append) == 0
    errors = load_tree_set(tmp_path / "sets" / "errs")
    assert errors.meta["queries"] == "errors" and {q.ask for q in errors.questions} == {"selection"}
    assert {q.ask for q in load_tree_set(tmp_path / "sets" / "docs").questions} == {"search"}
    assert build_projects(tmp_path / "projects.json", tmp_path / "sets", say=said.append) == 0
    assert said[-1] == f"{tmp_path / 'sets' / 'errs'}: up to date"
    listed["projects"][1]["queries"] = "docs"  # the same source asked another way: rebuilt
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    assert build_projects(tmp_path / "projects.json", tmp_path / "sets", say=said.append) == 0
    assert said[-2].startswith(f"wrote {tmp_path / 'sets' / 'errs'}")
    assert said[-1].startswith(f"removed {tmp_path / 'sets' / '.trees'}")  # its held tree
    listed["projects"][1]["queries"] = "stack traces"
    (tmp_path / "projects.json").write_text(json.dumps(listed))
    with pytest.raises(ValueError, match="errs: queries must be one of"):
        build_projects(tmp_path / "projects.json", tmp_path / "sets")
