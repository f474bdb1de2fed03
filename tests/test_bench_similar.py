"""Find-similar sets: definitions that share a name and signature, asked as Find Similar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.quality import QualityRun
from lsp_server.bench.similarsets import build_similar_set
from lsp_server.bench.treeset import TreeSet, load_tree_set, read_questions
from lsp_server.engine.settings import EngineSettings

CLIENT = '''class Client:
    def send(self, request, *, stream=False, auth=None):
        """Send a request."""
        response = self._send_handling_auth(request, auth=auth)
        if not stream:
            response.read()
        return response

    @property
    def request(self):
        if self._request is None:
            raise RuntimeError("no request")
        return self._request

    def __init__(self, base_url=""):
        self.base_url = base_url
        self.headers = {}
        self.cookies = {}


class AsyncClient:
    async def send(self, request, *, stream=False, auth=None):
        response = await self._send_handling_auth(request, auth=auth)
        if not stream:
            await response.aread()
        return response

    def __init__(self, base_url=""):
        self.base_url = base_url
        self.timeout = None
        self.transport = None
'''

API = '''def request(method, url, *, params=None, headers=None):
    with Client() as client:
        response = client.request(method, url, params=params, headers=headers)
        response.raise_for_status()
        return response
'''

GO = """package web

func (w *basicWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code = code
		w.wroteHeader = true
		w.ResponseWriter.WriteHeader(code)
	}
}

func (f *flushWriter) WriteHeader(code int) {
	if f.wroteHeader {
		return
	}
	f.basicWriter.WriteHeader(code)
}
"""

# An interface's method is a unit with its Javadoc, four lines here, but no code to be like:
# never asked, never a target (Find Similar never answers with it).
JAVA = """package web;

public interface Sink {
    /**
     * Flushes the buffered rows to the sink's output stream.
     */
    void flushRows(List<Row> rows);
}

class FileSink implements Sink {
    public void flushRows(List<Row> rows) {
        for (Row row : rows) {
            out.write(row.toCsv());
        }
        out.flush();
    }
}

class SocketSink implements Sink {
    public void flushRows(List<Row> rows) {
        for (Row row : rows) {
            socket.send(row.toCsv());
        }
        socket.flush();
    }
}
"""

# Six definitions of one name: a convention (like Rust's `next`), not a likeness.
COMMON = "".join(
    f"class Step{n}:\n    def run(self, items):\n        total = {n}\n"
    f"        for item in items:\n            total += item * {n}\n        return total\n\n\n"
    for n in range(6)
)

TEST = '''def send(self, request, *, stream=False, auth=None):
    assert request is not None
    assert stream is False
    return auth
'''


def make_tree(root: Path) -> Path:
    files = {
        "pkg/client.py": CLIENT,
        "pkg/api.py": API,
        "pkg/steps.py": COMMON,
        "web/writer.go": GO,
        "web/Sink.java": JAVA,
        "tests/test_client.py": TEST,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def asked_with_targets(data: TreeSet) -> dict:
    """(symbol, path, line) of each question -> its targets as (path, start, end)."""
    return {
        (q.extra["symbol"], q.at.path, q.at.start): [(t.path, t.start, t.end) for t in q.targets]
        for q in data.questions
    }


def test_definitions_that_share_a_name_and_signature_ask_for_each_other(tmp_path: Path) -> None:
    """The sync and async `send` find each other, Go's two WriteHeader and Java's two
    flushRows too (not the interface's, which has no body); the property
    `request` and the function `request(method, url, ...)` share a name, not a signature;
    constructors, a name held by six definitions and tests are not asked."""
    source = make_tree(tmp_path / "src")
    asked = build_similar_set(source, tmp_path / "set", sample=50, meta={})
    data = load_tree_set(tmp_path / "set")
    assert asked == len(data.questions) == 6
    assert asked_with_targets(data) == {
        ("Client.send", "pkg/client.py", 2): [("pkg/client.py", 22, 26)],
        ("AsyncClient.send", "pkg/client.py", 22): [("pkg/client.py", 2, 7)],
        # Not `Sink.flushRows`, the interface's: no body (builder 4).
        ("FileSink.flushRows", "web/Sink.java", 11): [("web/Sink.java", 20, 25)],
        ("SocketSink.flushRows", "web/Sink.java", 20): [("web/Sink.java", 11, 16)],
        ("basicWriter.WriteHeader", "web/writer.go", 3): [("web/writer.go", 11, 16)],
        ("flushWriter.WriteHeader", "web/writer.go", 11): [("web/writer.go", 3, 9)],
    }
    by_symbol = {q.extra["symbol"]: q for q in data.questions}
    assert by_symbol["Client.send"].query == "def send(self, request, *, stream=False, auth=None):"
    assert {q.ask for q in data.questions} == {"similar"}
    assert data.meta["queries"] == "similar" and data.meta["counts"]["sharing_groups"] == 4
    for rel in ("pkg/client.py", "tests/test_client.py"):
        assert (data.tree / rel).read_text() == (source / rel).read_text()


def test_a_similar_question_needs_its_place(tmp_path: Path) -> None:
    target = {"path": "a.py", "start": 1, "end": 1}
    (tmp_path / "a.py").write_text("x = 1\n")
    rows = {
        "no place": {"query": "q", "ask": "similar", "targets": [target]},
        "past the end": {
            "query": "q", "ask": "similar", "targets": [target], "at": {"path": "a.py", "line": 9}
        },
    }  # fmt: skip
    for name, row in rows.items():
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match='ask "similar" needs "at"'):
        read_questions(tmp_path / "no place.jsonl")
    with pytest.raises(ValueError, match="a.py has 1 lines, the target ends at 9"):
        read_questions(tmp_path / "past the end.jsonl", tmp_path)


def test_similar_questions_go_through_find_similar(tmp_path: Path, encoder) -> None:
    """Asked at the sync `send`, Find Similar leaves it out and finds the async one first;
    the same label typed into the search box finds the sync one itself first."""
    tree = make_tree(tmp_path / "repo")
    label = "def send(self, request, *, stream=False, auth=None):"
    sync = {"path": "pkg/client.py", "start": 2, "end": 7}
    twin = {"path": "pkg/client.py", "start": 22, "end": 26}
    rows = [
        {"id": "typed", "query": label, "targets": [twin]},
        {"id": "similar", "query": label, "targets": [twin], "ask": "similar",
         "at": {"path": sync["path"], "line": sync["start"]}},
        {"id": "itself", "query": label, "targets": [sync], "ask": "similar",
         "at": {"path": sync["path"], "line": sync["start"]}},
    ]  # fmt: skip
    folder = tmp_path / "asked"
    folder.mkdir()
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "set.json").write_text(json.dumps({"tree": str(tree)}))
    run = QualityRun(tmp_path / "work", EngineSettings(), encoder=encoder, patterns=["hybrid"])
    typed, similar, itself = run.run(load_tree_set(folder)).per_query["hybrid"]
    assert similar == 1.0
    assert typed == 0.5  # the sync send, whose text is the label, first
    assert itself == 0.0  # the asked definition is never its own answer


def test_cli_builds_a_similar_set_and_scores_it_with_the_real_model(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    build = ["build-set", "--in-place", "--queries", "similar", "--from-folder", str(source)]
    assert bench_main([*build, "--out", str(tmp_path / "sets" / "similar")]) == 0
    out = tmp_path / "quality.json"
    quality = ["quality", "--data", str(tmp_path / "sets"), "--pipelines", "hybrid"]
    assert bench_main([*quality, "--out", str(out)]) == 0
    entry = json.loads(out.read_text())["sets"]["similar"]
    assert entry["queries"] == 6
    # Each twin is the other's nearest code in this tree.
    assert entry["pipelines"]["hybrid"]["mrr"] == 1.0
