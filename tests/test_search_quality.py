"""Search quality on the fixture workspace with the real, bundled model (offline)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lsp_server.engine import scanner
from lsp_server.engine.embedder import Encoder, bundled_model_path, make_encoder
from lsp_server.engine.ranking import Intent
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.workspace import WorkspaceIndex

from .conftest import FIXTURE_WORKSPACE


@pytest.fixture(scope="module")
def real_encoder() -> Encoder:
    """The encoder the editor ships with (ONNX Runtime over the bundled weights)."""
    encoder = make_encoder(EngineSettings())
    encoder.load()
    return encoder


@pytest.fixture(scope="module")
def index(tmp_path_factory, real_encoder):
    cache = tmp_path_factory.mktemp("quality-cache")
    with WorkspaceIndex(
        FIXTURE_WORKSPACE, encoder=real_encoder, index_dir=cache / "index"
    ) as built:
        built.index()
        yield built


def test_default_model_is_bundled_and_gives_unit_vectors(real_encoder):
    assert bundled_model_path().is_dir()
    assert real_encoder.dim == 384
    vectors = real_encoder.encode(["def add(a, b):\n    return a + b", "sum two numbers"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.3  # related texts are near


def test_model_loads_with_the_hub_unreachable(tmp_path):
    """A fresh process with every network route closed still loads and encodes."""
    script = (
        "from lsp_server.engine.embedder import make_encoder\n"
        "from lsp_server.engine.settings import EngineSettings\n"
        "encoder = make_encoder(EngineSettings())\n"
        "print(encoder.identity.split('|')[1], encoder.encode(['retry with backoff']).shape)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HF_HOME": str(tmp_path / "hf"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "onnx-fp32 (1, 384)"


@pytest.mark.parametrize(
    ("query", "path", "symbol"),
    [
        (
            "where do we retry failed HTTP requests?",
            "http/client.py",
            "HttpClient.fetch_with_retry",
        ),
        ("evict the least recently used entry", "storage/cache.py", "LRUCache"),
        ("write every cache entry to a file", "storage/cache.py", "save_snapshot"),
        ("edit distance between two strings", "textutil/strings.py", "levenshtein_distance"),
        ("read KEY=VALUE lines from a dotenv file", "src/config.go", "LoadEnvFile"),
        ("CRC-32 checksum of bytes", "src/checksum.rs", "crc32"),
        ("publish an event to its subscribers", "web/api.js", "EventBus.publish"),
    ],
)
def test_natural_language_query_finds_the_function(index, query, path, symbol):
    top = index.search(query).results[0]
    assert (top.path, top.symbol) == (path, symbol)


def test_code_snippet_query_finds_the_function(index):
    snippet = "clearTimeout(timer);\ntimer = setTimeout(() => fn(...args), waitMs);"
    top = index.search(snippet).results[0]
    assert (top.path, top.symbol) == ("web/api.js", "debounce")


def test_similar_finds_the_near_duplicate_and_not_itself(index):
    response = index.similar("textutil/strings.py", 6, 4)  # inside slugify()
    top = response.results[0]
    assert (top.path, top.symbol) == ("legacy/old_helpers.py", "make_slug")
    assert all(r.symbol != "slugify" for r in response.results)
    assert not top.duplicate  # the name differs


def test_similar_marks_exact_duplicates(tmp_path, real_encoder):
    project = tmp_path / "dup"
    project.mkdir()
    body = (
        "def normalise(values):\n    total = sum(values)\n    return [v / total for v in values]\n"
    )
    (project / "a.py").write_text(body)
    (project / "b.py").write_text("import math\n\n\n" + body.replace("    ", "        "))
    with WorkspaceIndex(project, encoder=real_encoder, index_dir=tmp_path / "idx") as index:
        index.index()
        top = index.similar("a.py", 1, 0).results[0]
    assert (top.path, top.symbol, top.duplicate) == ("b.py", "normalise", True)


def test_traceback_selection_ranks_the_named_frame_first(index):
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/home/ci/build/app/main.py", line 11, in main\n'
        '  File "/home/ci/build/http/client.py", line 27, in fetch_with_retry\n'
        "urllib.error.URLError: <urlopen error timed out>\n"
    )
    results = index.search_text(trace).results
    assert (results[0].path, results[0].symbol) == ("http/client.py", "HttpClient.fetch_with_retry")
    assert (results[1].path, results[1].symbol) == ("app/main.py", "main")


def test_a_pasted_message_lands_on_the_part_of_a_long_function_that_raises_it(
    tmp_path, real_encoder
):
    # axios's 525-line HTTP adapter: "maxContentLength size of 2000 exceeded" named the
    # adapter first but showed and landed on the part the model liked best, 200 lines above
    # the `reject(...)` that says it.
    limits = "".join(  # what the model matches a size error with: limits, sizes, lengths
        f"    if len(body_{i}) > config.max_body_length:\n"
        f"        log.warning('request body {i} is larger than the size limit')\n"
        for i in range(12)
    )
    steps = "".join(
        f"    part_{i} = decode_chunk(stream, {i})\n    buffer.append(part_{i})\n"
        for i in range(40)
    )
    raising = (
        "    if total > config.max_content_length:\n"
        "        raise ResponseTooLarge('maxContentLength size of %d exceeded' % total)\n"
    )
    text = "def read_response(stream, config):\n    buffer = []\n" + limits + steps + raising
    text += "    return b''.join(buffer)\n"
    root = tmp_path / "tree"
    root.mkdir()
    (root / "adapter.py").write_text(text)
    (root / "other.py").write_text("def helper(x):\n    return x + 1\n")
    raise_line = text.splitlines().index(raising.splitlines()[1])
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        pasted = "ResponseTooLarge: maxContentLength size of 2000 exceeded"
        top = built.search_text(pasted).results[0]
    assert (top.symbol, top.start_line) == ("read_response", 0)  # the whole function...
    assert top.match_lines is not None
    assert top.match_lines[0] <= raise_line <= top.match_lines[1]  # ...shown where it raises
    assert raise_line in [line.line for line in top.context]


def test_filters_and_json_shape(index):
    response = index.search("parse", languages=["go"], limit=3)
    assert response.results and all(r.language == "go" for r in response.results)
    only_py = index.search("checksum", include=["*.py"]).results
    assert all(r.path.endswith(".py") for r in only_py)
    result = json.loads(json.dumps(response.results[0].to_json()))
    assert set(result) == {
        *("path", "uri", "range", "score", "symbol", "kind", "language", "preview", "context"),
        "selectionRange",
    }
    start, end = result["range"]["start"]["line"], result["range"]["end"]["line"]
    assert result["context"] and all(start <= c["line"] <= end for c in result["context"])
    # The cursor lands on the name on the signature line, which the context shows first.
    name = result["selectionRange"]
    assert name["start"]["line"] == name["end"]["line"] == result["context"][0]["line"]
    line = (Path(result["uri"].removeprefix("file://")).read_text().splitlines())[
        name["start"]["line"]
    ]
    assert line[name["start"]["character"] : name["end"]["character"]] == result["symbol"]
    assert Path(result["uri"].removeprefix("file://")).name == "config.go"


LONG_BODY = "\n".join(
    f"    step_{i} = compute_{i}(records, threshold={i})  # stage {i} of the pipeline"
    for i in range(60)
)


@pytest.fixture(scope="module")
def real_tree(tmp_path_factory, real_encoder):
    """A small tree as real ones are: a README and a changelog that name the code, tests
    beside it, blocks of imports, and a definition long enough to be split in parts."""
    root = tmp_path_factory.mktemp("real-tree")
    (root / "pkg").mkdir()
    (root / "tests").mkdir()
    (root / "pkg" / "retry.py").write_text(
        "import random\nimport time\nimport urllib.request\n\n\n"
        "def fetch_with_backoff(url, attempts=5):\n"
        "    delay = 0.5\n"
        "    for attempt in range(attempts):\n"
        "        try:\n"
        "            return urllib.request.urlopen(url).read()\n"
        "        except OSError:\n"
        "            time.sleep(delay + random.random())\n"
        "            delay *= 2\n"
        "    raise TimeoutError(url)\n"
    )
    (root / "pkg" / "pipeline.py").write_text(
        "import os\nimport sys\n\n\ndef run_stages(records):\n"
        + LONG_BODY
        + "\n    return step_59\n"
    )
    (root / "tests" / "test_retry.py").write_text(
        "from pkg.retry import fetch_with_backoff\n\n\n"
        "def test_fetch_with_backoff_retries_failed_requests(monkeypatch):\n"
        "    calls = []\n"
        "    monkeypatch.setattr('time.sleep', calls.append)\n"
        "    assert fetch_with_backoff('http://x', attempts=1) is None or calls == []\n"
    )
    (root / "README.md").write_text(
        "# pkg\n\nRetry failed HTTP requests with exponential backoff: `fetch_with_backoff`.\n"
    )
    (root / "CHANGELOG.md").write_text(
        "## 1.2\n\n- fetch_with_backoff now retries failed HTTP requests with backoff.\n"
    )
    index_dir = tmp_path_factory.mktemp("real-tree-index")
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=index_dir) as built:
        built.index()
        yield built


def test_a_question_gets_the_implementation_before_tests_docs_and_changelog(real_tree):
    results = real_tree.search("where do we retry failed HTTP requests with backoff?").results
    assert (results[0].path, results[0].symbol) == ("pkg/retry.py", "fetch_with_backoff")
    asked = real_tree.search("test for retrying failed HTTP requests").results
    assert asked[0].path == "tests/test_retry.py"  # a question about tests gets the test


def test_a_question_gets_the_implementation_before_its_benchmark(tmp_path, real_encoder):
    # Cargo's benches/ (asv's benchmarks/) drive the code as tests do and say what it does.
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "benches").mkdir()
    (root / "src" / "slices.py").write_text(
        "def partition_in_place(items, pred):\n"
        '    """Moves the items for which pred holds before the others."""\n'
        "    lo, hi = 0, len(items) - 1\n"
        "    while lo <= hi:\n"
        "        if pred(items[lo]):\n"
        "            lo += 1\n"
        "        else:\n"
        "            items[lo], items[hi] = items[hi], items[lo]\n"
        "            hi -= 1\n"
        "    return lo\n"
    )
    (root / "benches" / "partition.py").write_text(
        "from src.slices import partition_in_place\n\n\n"
        "def bench_partition_in_place(timer):\n"
        "    # even items come first\n"
        "    items = list(range(10_000))\n"
        "    timer(lambda: partition_in_place(items, lambda item: item % 2 == 0))\n"
    )
    question = "partition items in place so matching ones come first"
    firsts = {}
    for priors in (False, True):
        settings = EngineSettings(role_priors=priors)
        index_dir = tmp_path / f"index-{priors}"
        with WorkspaceIndex(root, settings, encoder=real_encoder, index_dir=index_dir) as built:
            built.index()
            found = built.search(question).results
            firsts[priors] = (found[0].path, found[0].symbol)
            if priors:
                asked = built.search("benchmark of partition in place").results
                assert asked[0].path == "benches/partition.py"  # asked for, it comes first
    assert firsts[False] == ("benches/partition.py", "bench_partition_in_place")  # contested
    assert firsts[True] == ("src/slices.py", "partition_in_place")


def test_a_question_gets_the_rust_implementation_before_the_unit_tests_in_its_file(
    tmp_path, real_encoder
):
    # Rust's unit tests sit in the file they test, and say what it does in its own words.
    root = tmp_path / "crate"
    (root / "src").mkdir(parents=True)
    (root / "src" / "redirect.rs").write_text(
        "/// A redirect policy: how many redirects a client follows.\n"
        "pub struct Policy {\n    max: usize,\n}\n\n"
        "impl Policy {\n"
        "    /// Follows at most `max` redirects, then stops with an error.\n"
        "    pub fn limited(max: usize) -> Policy {\n        Policy { max }\n    }\n\n"
        "    fn redirect(&self, previous: &[Url]) -> Action {\n"
        "        if previous.len() >= self.max {\n"
        "            Action::Error(Box::new(TooManyRedirects))\n"
        "        } else {\n            Action::Follow\n        }\n    }\n}\n\n"
        "#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
        "    #[test]\n    fn test_redirect_policy_limit() {\n"
        "        let policy = Policy::limited(10);\n"
        "        let mut previous = (0..9).map(|i| url(i)).collect::<Vec<_>>();\n"
        "        assert!(matches!(policy.redirect(&previous), Action::Follow));\n"
        "        previous.push(url(9));\n"
        "        // the tenth redirect is one too many: the policy stops with an error\n"
        "        assert!(matches!(policy.redirect(&previous), Action::Error(_)));\n"
        "    }\n\n"
        "    #[test]\n    fn test_redirect_policy_limit_to_0() {\n"
        "        let policy = Policy::limited(0);\n"
        "        assert!(matches!(policy.redirect(&[url(0)]), Action::Error(_)));\n"
        "    }\n}\n"
    )
    question = "where do we follow redirects up to a limit and then stop with an error"
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        found = [(r.symbol, r.preview) for r in built.search(question).results]
        # Before, `test_redirect_policy_limit` came first; ranked after the code, not dropped.
        assert found[0][0] in ("Policy.redirect", "Policy.limited"), found
        assert any(symbol.startswith("tests.test_") for symbol, _ in found), found
        asked = built.search("test for the redirect limit").results
        # Named in its module, as a method is in its class.
        assert asked[0].symbol.startswith("tests.test_redirect_policy_limit"), asked[0]
        assert asked[0].preview.startswith("fn test_redirect_policy_limit")  # not `#[test]`


def test_find_similar_never_returns_a_bare_class_header(tmp_path, real_encoder):
    # Solutions to two problems, as a competitive-programming repository holds them: each
    # class header is chunked apart from its methods, and every header reads the same.
    root = tmp_path / "tree"
    root.mkdir()
    solutions = {
        "two_sum.py": "    def twoSum(self, nums, target):\n        seen = {}\n"
        "        for i, n in enumerate(nums):\n            if target - n in seen:\n"
        "                return [seen[target - n], i]\n            seen[n] = i\n",
        "two_sum_2.py": "    def twoSum(self, nums, target):\n"
        "        order = sorted(range(len(nums)), key=nums.__getitem__)\n"
        "        lo, hi = 0, len(nums) - 1\n        while lo < hi:\n"
        "            total = nums[order[lo]] + nums[order[hi]]\n"
        "            if total == target:\n                return [order[lo], order[hi]]\n"
        "            lo, hi = (lo + 1, hi) if total < target else (lo, hi - 1)\n",
        "reverse.py": "    def reverseList(self, head):\n        prev = None\n"
        "        while head:\n            head.next, prev, head = prev, head, head.next\n"
        "        return prev\n",
    }
    for name, body in solutions.items():
        (root / name).write_text(f"class Solution(object):\n{body}")
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        headers = [c for c in built.store.chunks_of_file("reverse.py") if c.chunk.kind == "class"]
        assert headers and headers[0].chunk.text == "class Solution(object):"  # chunked apart
        lines = (root / "two_sum.py").read_text().splitlines()
        for response in (
            built.similar("two_sum.py", 1, 8, limit=50),
            built.similar("two_sum.py", 0, 0, end=(len(lines) - 1, len(lines[-1])), limit=50),
        ):
            found = [(r.path, r.kind, r.start_line, r.end_line) for r in response.results]
            assert found[0] == ("two_sum_2.py", "method", 1, 8), found
            assert not [r for r in found if r[1] == "class" and r[2] == r[3]], found


def test_find_similar_never_returns_prose_or_imports_and_each_definition_once(real_tree):
    response = real_tree.similar("pkg/retry.py", 6, 4, limit=50)
    assert response.results
    for result in response.results:
        assert result.language not in ("markdown", "text"), result
        assert result.kind != "imports", result
    search = real_tree.search("stages of the records pipeline", limit=50).results
    units = [(r.path, r.start_line, r.end_line) for r in search]
    assert len(units) == len(set(units))
    split = [r for r in search if r.symbol == "run_stages"]
    assert len(split) == 1  # one result for the whole split definition...
    assert split[0].start_line == 4 and split[0].end_line >= 64  # ...with its whole range


_STREAMS = {
    "streams.py": "class FileStream:\n"
    "    def __init__(self, path):\n        self.handle = open(path, 'rb')\n\n"
    "    def read_chunks(self, size=4096):\n        while True:\n"
    "            block = self.handle.read(size)\n            if not block:\n"
    "                break\n            yield block\n\n"
    "    def close(self):\n        self.handle.close()\n",
    "sockets.py": "class SocketStream:\n"
    "    def __init__(self, sock):\n        self.sock = sock\n\n"
    "    def read_chunks(self, size=4096):\n        while True:\n"
    "            data = self.sock.recv(size)\n            if not data:\n"
    "                break\n            yield data\n\n"
    "    def close(self):\n        self.sock.close()\n",
    "geometry.py": "class Rectangle:\n"
    "    def __init__(self, width, height):\n        self.width, self.height = width, height\n\n"
    "    def area(self):\n        return self.width * self.height\n\n"
    "    def scaled(self, factor):\n"
    "        return Rectangle(self.width * factor, self.height * factor)\n",
    # An export list longer than a window: its tail is a block of quoted names.
    "__init__.py": "__all__ = [\n"
    + "".join(f'    "FileStream{i}",\n    "SocketStream{i}",\n' for i in range(40))
    + "]\n",
}


@contextmanager
def _indexed_tree(tmp_path: Path, files: dict[str, str], encoder) -> Iterator[WorkspaceIndex]:
    """The files written into a tree, indexed (index in tmp_path / "index")."""
    root = tmp_path / "tree"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    with WorkspaceIndex(root, encoder=encoder, index_dir=tmp_path / "index") as built:
        built.index()
        yield built


def test_find_similar_on_a_class_answers_with_whole_classes_once(tmp_path, real_encoder):
    with _indexed_tree(tmp_path, _STREAMS, real_encoder) as built:
        results = built.similar("streams.py", 0, 0, limit=20).results
        found = [(r.path, r.kind, r.symbol, r.start_line, r.end_line) for r in results]
        # The other stream class first, as one result: its header to its last line.
        assert found[0] == ("sockets.py", "class", "SocketStream", 0, 12), found
        assert results[0].preview == "class SocketStream:"
        # ...and says which member matched (`match` in the JSON): a method, not the header.
        assert results[0].match_lines is not None and results[0].match_lines[0] >= 1, found
        assert results[0].match_lines[1] <= 12
        # No class is listed twice (once per method that matched), no export list at all.
        assert len({(r.path, r.symbol) for r in results}) == len(results), found
        assert all(r.kind == "class" for r in results), found
        # A method under the cursor still gets methods.
        method = built.similar("streams.py", 4, 4, limit=5).results
        assert (method[0].path, method[0].kind, method[0].symbol) == (
            "sockets.py",
            "method",
            "SocketStream.read_chunks",
        )


_COPY_FILE = (
    "def copy_file(path, out):\n    stream = FileStream(path)\n"
    "    for block in stream.read_chunks(size=4096):\n        out.write(block)\n"
    "    stream.close()\n"
)


def test_find_similar_on_a_class_ranks_classes_before_the_code_that_uses_it(
    tmp_path, real_encoder
):
    # A function that uses the class shares its words and often its vector; asked about a
    # class, the user wants classes of its kind, then other classes, and such code after
    # them (not dropped: a tree may hold no other class).
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("streams.py", "sockets.py", "geometry.py"):
        (root / name).write_text(_STREAMS[name])
    (root / "copying.py").write_text(_COPY_FILE)
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        results = built.similar("streams.py", 0, 0, limit=20).results
        found = [(r.path, r.kind, r.symbol) for r in results]
        assert found == [
            ("sockets.py", "class", "SocketStream"),
            ("geometry.py", "class", "Rectangle"),
            ("copying.py", "function", "copy_file"),
        ], found
        assert results[1].score > results[2].score  # in score order, as the server merges
        # Every definition answering as itself (the ablation) puts the user of the class
        # above the unrelated class: what the prior changes.
        members = replace(EngineSettings(), class_results=False)
        with WorkspaceIndex(
            root, members, encoder=real_encoder, index_dir=tmp_path / "index", mode="read"
        ) as plain:
            paths = [r.path for r in plain.similar("streams.py", 0, 0, limit=20).results]
        assert paths.index("copying.py") < paths.index("geometry.py"), paths


_BYTE_STREAMS = {
    "types.py": (
        "class SyncByteStream:\n"
        "    def __iter__(self):\n"
        "        raise NotImplementedError('The __iter__() method must be implemented.')\n"
        "        yield b''\n\n"
        "    def close(self):\n"
        "        pass\n\n\n"
        "class AsyncByteStream:\n"
        "    async def __aiter__(self):\n"
        "        raise NotImplementedError('The __aiter__() method must be implemented.')\n"
        "        yield b''\n\n"
        "    async def aclose(self):\n"
        "        pass\n"
    ),
    "content.py": (
        "from types import AsyncByteStream, SyncByteStream\n\n\n"
        "class ByteStream(AsyncByteStream, SyncByteStream):\n"
        "    def __init__(self, stream):\n"
        "        self._stream = stream\n\n"
        "    def __iter__(self):\n"
        "        yield self._stream\n\n"
        "    async def __aiter__(self):\n"
        "        yield self._stream\n"
    ),
    "unattached.py": (
        "from types import AsyncByteStream, SyncByteStream\n\n\n"
        "class UnattachedStream(AsyncByteStream, SyncByteStream):\n"
        "    def __iter__(self):\n"
        "        raise StreamConsumed()\n"
        "        yield b''\n\n"
        "    async def __aiter__(self):\n"
        "        raise StreamConsumed()\n"
        "        yield b''\n"
    ),
}


def test_find_similar_on_a_class_ranks_its_own_supertypes_after_classes_of_its_kind(
    tmp_path, real_encoder
):
    # Asked about `UnattachedStream(AsyncByteStream, SyncByteStream)`, the user wants the
    # other streams; the two it names in its header share its method names and more, and
    # without the prior the abstraction comes first (httpx's class set: BENCHMARKS.md).
    with _indexed_tree(tmp_path, _BYTE_STREAMS, real_encoder) as built:
        results = built.similar("unattached.py", 3, 0, limit=5).results
        found = [(r.path, r.symbol) for r in results]
        assert found[0] == ("content.py", "ByteStream"), found
        assert {("types.py", "SyncByteStream"), ("types.py", "AsyncByteStream")} <= set(found)
        assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    before = replace(EngineSettings(), asked_supertype_weight=1.0)
    with WorkspaceIndex(
        tmp_path / "tree", before, encoder=real_encoder, index_dir=tmp_path / "index", mode="read"
    ) as plain:
        first = plain.similar("unattached.py", 3, 0, limit=5).results[0]
    assert (first.path, first.symbol) != ("content.py", "ByteStream")


_JAVA_CONNECTION = {
    "Connection.java": (
        "package org.example;\n\n"
        "public interface Connection {\n"
        "    /**\n"
        "     * Update the maximum body size, in bytes.\n"
        "     */\n"
        "    Connection maxBodySize(int bytes);\n\n"
        "    /**\n"
        "     * Set the request timeout, in milliseconds.\n"
        "     */\n"
        "    Connection timeout(int millis);\n"
        "}\n"
    ),
    "HttpConnection.java": (
        "package org.example;\n\n"
        "public class HttpConnection implements Connection {\n"
        "    private int maxBodySizeBytes;\n"
        "    private int timeoutMillis;\n\n"
        "    public Connection maxBodySize(int bytes) {\n"
        '        if (bytes < 0) throw new IllegalArgumentException("maxSize must be >= 0");\n'
        "        maxBodySizeBytes = bytes;\n"
        "        return this;\n"
        "    }\n\n"
        "    public Connection timeout(int millis) {\n"
        '        if (millis < 0) throw new IllegalArgumentException("timeout must be >= 0");\n'
        "        timeoutMillis = millis;\n"
        "        return this;\n"
        "    }\n"
        "}\n"
    ),
}


def test_an_interface_method_is_a_result_of_its_own_for_a_question_not_for_find_similar(
    tmp_path, real_encoder
):
    # jsoup's Connection declares ~80 methods, each with its Javadoc: they were lines of the
    # interface's 40-line windows; now each lands on its own line (BENCHMARKS.md).
    with _indexed_tree(tmp_path, _JAVA_CONNECTION, real_encoder) as built:
        asked = built.search("update the maximum body size in bytes", limit=5).results
        declared = [(r.path, r.start_line, r.symbol) for r in asked if r.path == "Connection.java"]
        assert declared[0] == ("Connection.java", 3, "Connection.maxBodySize"), declared
        assert asked[[r.path for r in asked].index("Connection.java")].end_line == 6
        # Find Similar on the implementation: other code, never a signature without a body.
        similar = built.similar("HttpConnection.java", 6, 4, limit=10).results
        assert [(r.path, r.symbol) for r in similar][:1] == [
            ("HttpConnection.java", "HttpConnection.timeout")
        ], similar
        assert all(r.path != "Connection.java" or r.kind == "class" for r in similar), similar


def _go_pool(name: str, helper: str) -> str:
    return (
        f"package work\n\ntype {name} struct {{\n\tjobs chan func()\n\tsize int\n}}\n\n"
        f"func {helper}() int {{\n\treturn 4\n}}\n\n"
        f"func (p *{name}) Submit(job func()) {{\n\tp.jobs <- job\n}}\n\n"
        f"func (p *{name}) Run() {{\n\tfor i := 0; i < p.size; i++ {{\n\t\tgo func() {{\n"
        "\t\t\tfor job := range p.jobs {\n\t\t\t\tjob()\n\t\t\t}\n\t\t}()\n\t}\n}\n"
    )


def test_find_similar_on_a_go_type_points_at_the_type_not_at_code_between(
    tmp_path, real_encoder
):
    # Go methods sit beside the type, with other functions between them: a result for the
    # type is the type's own lines, not a range over `defaultSize`.
    root = tmp_path / "tree"
    root.mkdir()
    (root / "pool.go").write_text(_go_pool("WorkerPool", "defaultSize"))
    (root / "queue.go").write_text(_go_pool("TaskQueue", "queueLength"))
    (root / "rect.go").write_text(
        "package work\n\ntype Rect struct {\n\tw, h float64\n}\n\n"
        "func (r Rect) Area() float64 {\n\treturn r.w * r.h\n}\n"
    )
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        results = built.similar("pool.go", 2, 5, limit=10).results
        found = [(r.path, r.kind, r.symbol, r.start_line, r.end_line) for r in results]
        assert found[0] == ("queue.go", "class", "TaskQueue", 2, 5), found
        assert [r.symbol for r in results].count("TaskQueue") == 1, found


_TOKENS = """\
class Token:
    def reset(self):
        self.name = None
        self.attributes = {}
        return self

    class StartTag:
        def reset(self):
            self.name = None
            self.attributes = {}
            self.self_closing = False
            return self

        def normal_name(self):
            return self.name.lower()

    class EndTag:
        def reset(self):
            self.name = None
            self.attributes = {}
            return self

        def normal_name(self):
            return self.name.lower()
"""


def test_find_similar_on_an_inner_class_never_answers_with_its_outer_class(
    tmp_path, real_encoder
):
    # jsoup's Token.StartTag got `Token` (lines 8-500, itself inside) among its answers: the
    # outer class's own `reset` matched, and its range holds the question.
    root = tmp_path / "tree"
    root.mkdir()
    (root / "token.py").write_text(_TOKENS)
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        results = built.similar("token.py", 6, 4, limit=10).results
        found = [(r.symbol, r.start_line, r.end_line) for r in results]
        assert found == [("Token.EndTag", 16, 23)], found


_RUST_READERS = {
    "src/read.rs": "pub struct SliceRead<'a> {\n    slice: &'a [u8],\n    index: usize,\n}\n\n"
    "impl<'a> SliceRead<'a> {\n    pub fn new(slice: &'a [u8]) -> Self {\n"
    "        SliceRead { slice, index: 0 }\n    }\n}\n\n"
    "pub struct IoRead<R> {\n    inner: R,\n    buffered: Vec<u8>,\n}\n\n"
    "impl<R: io::Read> IoRead<R> {\n    pub fn new(inner: R) -> Self {\n"
    "        IoRead { inner, buffered: Vec::new() }\n    }\n}\n",
    "src/impls.rs": "impl<'de, 'a> Read<'de> for SliceRead<'a> {\n"
    "    fn next(&mut self) -> Option<u8> {\n        let byte = self.slice.get(self.index);\n"
    "        self.index += 1;\n        byte.copied()\n    }\n}\n\n"
    "impl<'de, R: io::Read> Read<'de> for IoRead<R> {\n"
    "    fn next(&mut self) -> Option<u8> {\n        let mut byte = [0u8];\n"
    "        self.inner.read_exact(&mut byte).ok()?;\n        Some(byte[0])\n    }\n}\n",
}


def test_find_similar_on_a_rust_type_skips_its_own_impls_and_lists_a_type_once(
    tmp_path, real_encoder
):
    # Rust writes a type's trait impls anywhere in the crate: SliceRead's `impl Read` in
    # impls.rs is SliceRead itself (it was the first answer), and IoRead, defined in read.rs
    # with its `impl Read` in impls.rs, is one answer, not two.
    root = tmp_path / "tree"
    for rel, text in _RUST_READERS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with WorkspaceIndex(root, encoder=real_encoder, index_dir=tmp_path / "index") as built:
        built.index()
        results = built.similar("src/read.rs", 0, 0, limit=10).results
        found = [(r.path, r.symbol) for r in results]
        assert found == [("src/read.rs", "IoRead")], found
        assert results[0].preview == "pub struct IoRead<R>"


_LONG_PARSER = """\
    def read_rows(self, path, delimiter=","):
        rows = []
        with open(path, newline="") as handle:
            header = None
            for number, line in enumerate(handle):
                line = line.rstrip()
                if not line or line.startswith("#"):
                    continue
                fields = [field.strip() for field in line.split(delimiter)]
                if header is None:
                    header = fields
                    continue
                if len(fields) != len(header):
                    raise ValueError(f"line {number}: {len(fields)} fields, {len(header)} wanted")
                record = {}
                for name, value in zip(header, fields):
                    if value.isdigit():
                        value = int(value)
                    elif value.replace(".", "", 1).isdigit():
                        value = float(value)
                    elif value.lower() in ("true", "false"):
                        value = value.lower() == "true"
                    record[name] = value
                rows.append(record)
        return rows

    def reverse_list(self, head):
        previous = None
        while head:
            head.next, previous, head = previous, head, head.next
        return previous
"""
_NEIGHBOURS = {
    "csv_reader.py": "def load_table(filename, sep=';'):\n    table = []\n"
    "    with open(filename) as f:\n        names = f.readline().strip().split(sep)\n"
    "        for raw in f:\n            values = raw.strip().split(sep)\n"
    "            table.append(dict(zip(names, values)))\n    return table\n",
    "ini_parser.py": "def parse_ini(path):\n    sections, current = {}, None\n"
    "    with open(path) as fh:\n        for line in fh:\n            line = line.strip()\n"
    "            if not line or line.startswith(';'):\n                continue\n"
    "            if line.startswith('['):\n"
    "                current = sections.setdefault(line[1:-1], {})\n            else:\n"
    "                key, _, value = line.partition('=')\n"
    "                current[key.strip()] = value.strip()\n    return sections\n",
    "config_values.py": "def coerce(value):\n    if value.isdigit():\n"
    "        return int(value)\n"
    "    if value.lower() in ('yes', 'true'):\n        return True\n    try:\n"
    "        return float(value)\n    except ValueError:\n        return value\n",
    "linked.py": "def invert(node):\n    last = None\n    while node is not None:\n"
    "        following = node.next\n        node.next = last\n        last = node\n"
    "        node = following\n    return last\n",
}


def test_a_long_selection_finds_code_like_each_of_its_definitions(tmp_path, real_encoder):
    # The class's first method fills the model's 256 tokens: its text alone as the query
    # ranked the linked-list code last, below every parser.
    root = tmp_path / "tree"
    root.mkdir()
    (root / "tools.py").write_text("class Tools:\n" + _LONG_PARSER)
    for name, text in _NEIGHBOURS.items():
        (root / name).write_text(text)
    dense_only = EngineSettings(lexical_weight=0.0, class_lexical_weight=0.0)
    with WorkspaceIndex(
        root, settings=dense_only, encoder=real_encoder, index_dir=tmp_path / "index"
    ) as built:
        built.index()
        lines = (root / "tools.py").read_text().splitlines()
        for response in (
            built.similar("tools.py", 0, 0, end=(len(lines) - 1, len(lines[-1]))),
            built.similar("tools.py", 0, 0),  # the cursor on the class: the whole class
        ):
            found = [r.path for r in response.results]
            assert "linked.py" in found[:3], found
            assert found.index("linked.py") < found.index("config_values.py"), found


# The raise site is a small part of a long method, beside methods named after the words of
# its message (cobra's "Called Execute() on a nil Command" ranked third like this).
_COMMANDS_GO = """package cli

// Execute runs the root command with the process arguments.
func (c *Command) Execute() error {
	_, err := c.ExecuteC()
	return err
}

// ExecuteContext runs the command with a context that its Run functions can read.
func (c *Command) ExecuteContext(ctx context.Context) error {
	c.ctx = ctx
	return c.Execute()
}

// ExecuteC runs the command and returns the command that ran.
func (c *Command) ExecuteC() (cmd *Command, err error) {
	if c.HasParent() {
		return c.Root().ExecuteC()
	}
	args := c.args
	if args == nil {
		args = os.Args[1:]
	}
	cmd, flags, err := c.Find(args)
	if err != nil {
		return c, err
	}
	cmd.commandCalledAs.called = true
	if cmd.commandCalledAs.name == "" {
		cmd.commandCalledAs.name = cmd.Name()
	}
	err = cmd.execute(flags)
	return cmd, err
}

func (c *Command) execute(a []string) (err error) {
	if c == nil {
		return fmt.Errorf("Called Execute() on a nil Command")
	}
	if len(c.Deprecated) > 0 {
		c.Printf("Command %q is deprecated, %s\\n", c.Name(), c.Deprecated)
	}
	c.InitDefaultHelpFlag()
	err = c.ParseFlags(a)
	if err != nil {
		return c.FlagErrorFunc()(c, err)
	}
	if c.Runnable() {
		c.preRun()
		c.Run(c, a)
	}
	return nil
}
"""


def _canvas_file() -> str:
    """A class whose methods all speak of its own fields, `clear` last."""
    bodies = {
        "resize": "self._canvas_width, self._canvas_height = width, height\n"
        "        for layer in self._canvas_layers:\n"
        "            layer.resize(self._canvas_width, self._canvas_height)\n"
        "        self._canvas_dirty = True",
        "add_layer": "layer = CanvasLayer(self._canvas_width, self._canvas_height)\n"
        "        self._canvas_layers.append(layer)\n        self._canvas_dirty = True\n"
        "        return layer",
        "remove_layer": "self._canvas_layers.remove(layer)\n        self._canvas_dirty = True",
        "render": "if self._canvas_dirty:\n            for layer in self._canvas_layers:\n"
        "                self._canvas_surface.blit(layer, 0, 0)\n"
        "            self._canvas_dirty = False\n        return self._canvas_surface",
        "visible_layers": "return [layer for layer in self._canvas_layers if layer.visible]",
        "layer_at": "for layer in reversed(self._canvas_layers):\n"
        "            if layer.contains(x, y) and layer.visible:\n                return layer\n"
        "        return None",
    }
    methods = "".join(
        f"    def {name}(self, width=0, height=0, layer=None, x=0, y=0):\n        {body}\n\n"
        for name, body in bodies.items()
    )
    return (
        "class Canvas:\n    def __init__(self, width, height):\n"
        "        self._canvas_width = width\n        self._canvas_height = height\n"
        "        self._canvas_layers = []\n"
        "        self._canvas_surface = CanvasSurface(width, height)\n"
        "        self._canvas_dirty = False\n\n"
        f"{methods}"
        "    def clear(self):\n        for layer in self._canvas_layers:\n"
        "            layer.pixels = [0] * (self._canvas_width * self._canvas_height)\n"
        "        self._canvas_dirty = True\n"
    )


_BITMAP = """class Bitmap:
    def __init__(self, size):
        self.data = bytearray(size)
        self.modified = False

    def clear(self):
        self.data = bytearray(len(self.data))
        self.modified = True

    def save(self, path):
        with open(path, "wb") as out:
            out.write(self.data)
"""


def _shop_files() -> dict[str, str]:
    """Code of other topics, so that the canvas's words are rare in the workspace."""
    topics = ("invoice", "tariff", "shipment", "customer", "ledger", "warehouse", "payroll",
              "coupon", "refund", "supplier", "receipt", "voucher")  # fmt: skip
    return {
        f"shop/{topic}.py": "".join(
            f"def {verb}_{topic}({topic}_id, amount):\n    record = load_{topic}({topic}_id)\n"
            f"    record.{verb}(amount)\n    return save_{topic}(record)\n\n\n"
            for verb in ("create", "update", "cancel", "audit")
        )
        for topic in topics
    }


def test_find_similar_finds_another_implementation_before_the_neighbours_sharing_its_fields(
    tmp_path, real_encoder
):
    """Words that most of the definition's file holds (its class's name and fields) are
    left out of Find Similar's BM25: they find the neighbours the user has in view."""
    canvas = _canvas_file()
    files = {"gfx/canvas.py": canvas, "gfx/bitmap.py": _BITMAP, **_shop_files()}
    line = canvas.splitlines().index("    def clear(self):")
    firsts = {}
    for name, share in (("before", 0.0), ("shipped", EngineSettings().similar_file_words)):
        root = tmp_path / name
        root.mkdir()
        settings = EngineSettings(similar_file_words=share)
        with indexed_tree(root, real_encoder, files, settings) as built:
            results = built.similar("gfx/canvas.py", line, 8, limit=6).results
            firsts[name] = [(r.path, r.symbol) for r in results]
    # What the file's words gave: its neighbours only.
    assert all(path == "gfx/canvas.py" for path, _ in firsts["before"])
    assert firsts["shipped"][0] == ("gfx/bitmap.py", "Bitmap.clear")
    assert all(path == "gfx/canvas.py" for path, _ in firsts["shipped"][1:])


def test_a_pasted_error_message_finds_the_code_that_raises_it(tmp_path, real_encoder):
    """BM25 also matches a selection's adjacent words as phrases: the message's words in
    their order find the literal, where its words one by one favour the methods named
    after them."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "command.go").write_text(_COMMANDS_GO)
    firsts = {}
    for phrases in ("none", EngineSettings().lexical_phrases):
        settings = EngineSettings(lexical_phrases=phrases)
        index_dir = tmp_path / f"index-{phrases}"
        with WorkspaceIndex(root, settings, encoder=real_encoder, index_dir=index_dir) as built:
            built.index()
            results = built.search_text("Called Execute() on a nil Command").results
            firsts[phrases] = [(r.symbol, r.start_line) for r in results[:2]]
    assert firsts.pop("none")[0] == ("Command.ExecuteC", 14)  # what the words alone gave
    assert list(firsts.values()) == [[("Command.execute", 35), ("Command.ExecuteC", 14)]]


@contextmanager
def indexed_tree(
    root: Path, encoder: Encoder, files: dict[str, str], settings: EngineSettings | None = None
) -> Iterator[WorkspaceIndex]:
    """The files written under root, indexed with the real model."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    index_dir = root.parent / f"{root.name}-index"
    with WorkspaceIndex(root, settings, encoder=encoder, index_dir=index_dir) as built:
        built.index()
        yield built


CLIENT_WITH_CONSTANTS = (
    "import random\nimport time\nimport urllib.request\n\n"
    "DEFAULT_RETRY_ATTEMPTS = 5\nBACKOFF_FACTOR = 0.5\n\n\n"
    "def fetch(url, attempts=DEFAULT_RETRY_ATTEMPTS):\n"
    "    # try DEFAULT_RETRY_ATTEMPTS times, sleeping BACKOFF_FACTOR * 2 ** attempt\n"
    "    for attempt in range(attempts or DEFAULT_RETRY_ATTEMPTS):\n"
    "        time.sleep(BACKOFF_FACTOR * 2 ** attempt)\n"
    "    return url\n"
)
TEST_OF_CONSTANTS = (
    "from pkg.client import DEFAULT_RETRY_ATTEMPTS, fetch\n\n\n"
    "def test_fetch_retries_default_retry_attempts_times():\n"
    "    assert DEFAULT_RETRY_ATTEMPTS == 5\n"
    "    assert fetch('x', attempts=DEFAULT_RETRY_ATTEMPTS) == 'x'\n"
)


SETTINGS = (
    "CONNECT_TIMEOUT = 5.0\nREAD_TIMEOUT = 30.0\nWRITE_TIMEOUT = 30.0\nPOOL_SIZE = 10\n"
    "MAX_RETRIES = 3\nBACKOFF_FACTOR = 0.5\nRETRY_JITTER = 0.1\n"
)
CLIENT_OF_SETTINGS = (
    "import random\n\nfrom pkg.settings import BACKOFF_FACTOR, RETRY_JITTER\n\n\n"
    "def retry_delay(attempt):\n"
    "    # BACKOFF_FACTOR doubled per attempt, plus up to RETRY_JITTER of noise\n"
    "    return BACKOFF_FACTOR * 2**attempt + random.uniform(0, RETRY_JITTER)\n"
)
POLICY = (
    "import random\n\n\nclass RetryPolicy:\n"
    "    def __init__(self, attempts: int = 5) -> None:\n        self.attempts = attempts\n\n"
    "    def delay(self, attempt: int) -> float:\n"
    "        return 0.5 * 2**attempt + random.random()\n"
)
CLIENT_OF_POLICY = (
    "from pkg.policy import RetryPolicy\n\n\n"
    "def fetch(url, policy: RetryPolicy | None = None):\n"
    "    policy = policy or RetryPolicy()\n    for attempt in range(policy.attempts):\n"
    "        time.sleep(policy.delay(attempt))\n    return url\n"
)

# A type and the blocks that add to it, each named like it: the struct is what its name
# asks for, as go-to-definition lands there; the `impl` blocks hold more of the name.
COALESCE = (
    "use std::fmt;\n\n"
    "pub struct CoalesceBy<I, F> {\n    iter: I,\n    f: F,\n}\n\n"
    "impl<I: fmt::Debug, F> fmt::Debug for CoalesceBy<I, F> {\n"
    "    fn fmt(&self, out: &mut fmt::Formatter) -> fmt::Result {\n"
    "        write!(out, \"CoalesceBy {:?}\", self.iter)\n    }\n}\n\n"
    "impl<I: Iterator, F> Iterator for CoalesceBy<I, F> {\n    type Item = I::Item;\n"
    "    fn next(&mut self) -> Option<I::Item> {\n        self.iter.next()\n    }\n}\n\n"
    "impl<I: Clone, F: Clone> Clone for CoalesceBy<I, F> {\n"
    "    fn clone(&self) -> CoalesceBy<I, F> {\n"
    "        CoalesceBy { iter: self.iter.clone(), f: self.f.clone() }\n    }\n}\n"
)
USES_COALESCE = (
    "use crate::coalesce::CoalesceBy;\n\n"
    "pub fn coalesce<I, F>(iter: I, f: F) -> CoalesceBy<I, F> {\n"
    "    CoalesceBy { iter, f }\n}\n"
)
# A class and its constructors, named after it: `ParseError` asks for the class.
PARSE_ERROR = (
    "package org.example;\n\n"
    "public class ParseError {\n"
    "    private final int pos;\n    private final String errorMsg;\n\n"
    "    ParseError(int pos, String errorMsg) {\n"
    "        this.pos = pos;\n        this.errorMsg = errorMsg;\n    }\n\n"
    "    ParseError(int pos, String format, Object... args) {\n"
    "        this.pos = pos;\n        this.errorMsg = String.format(format, args);\n    }\n\n"
    "    public String getErrorMessage() {\n        return errorMsg;\n    }\n}\n"
)
USES_PARSE_ERROR = (
    "package org.example;\n\n"
    "public class Parser {\n"
    "    ParseError fail(int pos) {\n        return new ParseError(pos, \"at %d\", pos);\n"
    "    }\n}\n"
)

# Definitions inside others, which the chunker leaves in the unit that holds them.
COLUMNS = (
    "class Columns:\n"
    "    def render(self, cells, width):\n"
    "        column_count = max(1, width // 10)\n\n"
    "        def iter_renderables(count: int):\n"
    "            for index, cell in enumerate(cells):\n"
    "                yield index % count, cell\n\n"
    "        return [cell for _, cell in iter_renderables(column_count)]\n"
)
COMMAND = (
    "class Command {\n"
    "  action(fn) {\n"
    "    const actionListener = (args) => {\n"
    "      const expected = this.registeredArguments.length;\n"
    "      return fn.apply(this, args.slice(0, expected));\n"
    "    };\n"
    "    this._actionHandler = actionListener;\n"
    "    return this;\n"
    "  }\n"
    "}\n"
)
USES_COMMAND = (
    "// the action's listener (actionListener) is called with the parsed arguments\n"
    "const { Command } = require('./command');\n"
    "module.exports = new Command().action(() => {});\n"
)

ERROR_HANDLER = (
    "<?php\n\nnamespace Monolog;\n\n"
    "class ErrorHandler\n{\n"
    "    /** @var LoggerInterface */\n"
    "    private $logger;\n"
    "    /** @var callable|true|null */\n"
    "    private $previousErrorHandler = null;\n\n"
    "    public function __construct(LoggerInterface $logger)\n    {\n"
    "        $this->logger = $logger;\n    }\n\n"
    "    public function restore(): void\n    {\n"
    "        set_error_handler($this->previousErrorHandler);\n"
    "        $this->previousErrorHandler = null;\n    }\n"
    "}\n"
)
USES_ERROR_HANDLER = (
    "<?php\n\n// chains to the previousErrorHandler of ErrorHandler\n"
    "function register(ErrorHandler $handler): void\n{\n    $handler->restore();\n}\n"
)
ROUTE = (
    "package org.jsoup;\n\n"
    "public class Route {\n"
    "    private final String pathPattern;\n"
    "    private int matchCount = 0;\n\n"
    "    public Route(String pathPattern) {\n        this.pathPattern = pathPattern;\n    }\n\n"
    "    public boolean matches(String path) {\n"
    "        matchCount++;\n        return path.startsWith(pathPattern);\n    }\n"
    "}\n"
)
USES_ROUTE = (
    "package org.jsoup;\n\n"
    "class Router {\n    // each route's pathPattern is matched in order\n"
    "    boolean any(Route route, String path) {\n        return route.matches(path);\n    }\n}\n"
)

GROUP = (
    "namespace KeePassLib\n{\n"
    "    public sealed class PwGroup\n    {\n"
    "        private PwGroup m_pParentGroup = null;\n\n"
    "        /// <summary>The default auto-type sequence of this group.</summary>\n"
    "        public string DefaultAutoTypeSequence { get; set; }\n\n"
    "        /// <summary>\n        /// Reference to the group to which this group belongs.\n"
    "        /// </summary>\n"
    "        public PwGroup ParentGroup\n        {\n"
    "            get { return m_pParentGroup; }\n"
    "            internal set { m_pParentGroup = value; }\n        }\n\n"
    "        public void Touch(bool bTouchParents)\n        {\n"
    "            if (bTouchParents && m_pParentGroup != null) { m_pParentGroup.Touch(true); }\n"
    "        }\n    }\n}\n"
)
USES_GROUP = (
    "namespace KeePass\n{\n    public static class GroupUtil\n    {\n"
    "        // walks up through each group's ParentGroup, using its DefaultAutoTypeSequence\n"
    "        public static string Sequence(PwGroup pg)\n        {\n"
    "            for (PwGroup g = pg; g != null; g = g.ParentGroup)\n"
    "                if (g.DefaultAutoTypeSequence.Length > 0) return g.DefaultAutoTypeSequence;\n"
    "            return string.Empty;\n        }\n    }\n}\n"
)
TYPE_OFFSET = (
    "namespace Python.Runtime\n{\n"
    "    static partial class TypeOffset\n    {\n"
    + "".join(
        f"        internal static int {slot} {{ get; private set; }}\n"
        for slot in ("tp_name", "tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_getattr",
                     "tp_setattr", "tp_repr", "tp_hash", "tp_call", "tp_str", "nb_add")
    )  # fmt: skip
    + "\n"
    "        public static int GetSlotOffset(string slotName)\n        {\n"
    "            return SlotOffsets[slotName];\n        }\n    }\n}\n"
)
OPERATOR_METHOD = (
    "namespace Python.Runtime\n{\n"
    "    internal class OperatorMethod\n    {\n"
    "        public string MethodName { get; }\n"
    "        public TypeOffset TypeOffset { get; }\n\n"
    "        public static int nb_add(BorrowedReference ob, BorrowedReference arg)\n"
    "        {\n            return Runtime.PyNumber_Add(ob, arg);\n        }\n    }\n}\n"
)

@pytest.mark.parametrize(
    ("files", "queries", "expected"),
    [
        # A module constant, the function that uses it and a test that names it: the name
        # (or its words) answers with its declaration, named as the block that declares it.
        (
            {"pkg/client.py": CLIENT_WITH_CONSTANTS, "tests/test_client.py": TEST_OF_CONSTANTS},
            ("DEFAULT_RETRY_ATTEMPTS", "default retry attempts"),
            ("pkg/client.py", "block", "DEFAULT_RETRY_ATTEMPTS, BACKOFF_FACTOR", 4,
             "DEFAULT_RETRY_ATTEMPTS = 5"),
        ),
        # A class whose members are chunked apart from its header, which code queries
        # otherwise leave out (a bare header says nothing): typed alone, its name asks for it.
        (
            {"pkg/policy.py": POLICY, "pkg/client.py": CLIENT_OF_POLICY},
            ("RetryPolicy",),
            ("pkg/policy.py", "class", "RetryPolicy", 3, "class RetryPolicy:"),
        ),
        # A constant past the first five that its block shows: still found by its name, and
        # previewed by its own line, where the result opens.
        (
            {"pkg/settings.py": SETTINGS, "pkg/client.py": CLIENT_OF_SETTINGS},
            ("RETRY_JITTER",),
            ("pkg/settings.py", "block",
             "CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT, POOL_SIZE, MAX_RETRIES, …", 0,
             "RETRY_JITTER = 0.1"),
        ),
        # A member by its own name.
        (
            {"pkg/policy.py": POLICY, "pkg/client.py": CLIENT_OF_POLICY},
            ("delay",),
            ("pkg/policy.py", "method", "RetryPolicy.delay", 7,
             "def delay(self, attempt: int) -> float:"),
        ),
        # A type typed alone, not the `impl` blocks named after it nor its constructors.
        (
            {"src/coalesce.rs": COALESCE, "src/lib.rs": USES_COALESCE},
            ("CoalesceBy",),
            ("src/coalesce.rs", "class", "CoalesceBy", 2, "pub struct CoalesceBy<I, F>"),
        ),
        (
            {"src/ParseError.java": PARSE_ERROR, "src/Parser.java": USES_PARSE_ERROR},
            ("ParseError",),
            ("src/ParseError.java", "class", "ParseError", 2, "public class ParseError"),
        ),
        # A closure and an arrow function assigned in a method: the result lands on them.
        (
            {"pkg/columns.py": COLUMNS},
            ("iter_renderables",),
            ("pkg/columns.py", "function", "Columns.render.iter_renderables", 4,
             "def iter_renderables(count: int):"),
        ),
        (
            {"lib/command.js": COMMAND, "index.js": USES_COMMAND},
            ("actionListener",),
            ("lib/command.js", "function", "Command.action.actionListener", 2,
             "const actionListener = (args) =>"),
        ),
        # A property or a field declared in its class's header (which holds no member): the
        # result lands on the line that declares it, not on the class or a method using it.
        (
            {"src/ErrorHandler.php": ERROR_HANDLER, "src/register.php": USES_ERROR_HANDLER},
            ("previousErrorHandler",),
            ("src/ErrorHandler.php", "block", "ErrorHandler.previousErrorHandler", 9,
             "private $previousErrorHandler = null;"),
        ),
        (
            {"src/Route.java": ROUTE, "src/Router.java": USES_ROUTE},
            ("pathPattern",),
            ("src/Route.java", "block", "Route.pathPattern", 3,
             "private final String pathPattern;"),
        ),
        # A C# property with code in its accessors is a member of its own; one without
        # (an auto-property) is declared in the class's header, as a field is.
        (
            {"KeePassLib/PwGroup.cs": GROUP, "KeePass/GroupUtil.cs": USES_GROUP},
            ("ParentGroup",),
            ("KeePassLib/PwGroup.cs", "method", "PwGroup.ParentGroup", 9,
             "public PwGroup ParentGroup"),
        ),
        (
            {"KeePassLib/PwGroup.cs": GROUP, "KeePass/GroupUtil.cs": USES_GROUP},
            ("DefaultAutoTypeSequence",),
            ("KeePassLib/PwGroup.cs", "block", "PwGroup.DefaultAutoTypeSequence", 7,
             "public string DefaultAutoTypeSequence { get; set; }"),
        ),
        # A definition before what only declares its name: the class `TypeOffset` before a
        # property of that type and name, the method `nb_add` before the slot of that name.
        (
            {"src/TypeOffset.cs": TYPE_OFFSET, "src/OperatorMethod.cs": OPERATOR_METHOD},
            ("TypeOffset",),
            ("src/TypeOffset.cs", "class", "TypeOffset", 2, "static partial class TypeOffset"),
        ),
        (
            {"src/TypeOffset.cs": TYPE_OFFSET, "src/OperatorMethod.cs": OPERATOR_METHOD},
            ("nb_add",),
            ("src/OperatorMethod.cs", "method", "OperatorMethod.nb_add", 7,
             "public static int nb_add(BorrowedReference ob, BorrowedReference arg)"),
        ),
        # ... and the method that implements an interface's before the interface's, which
        # only declares it (its doc may say more of the name than the code does).
        (
            _JAVA_CONNECTION,
            ("maxBodySize",),
            ("HttpConnection.java", "method", "HttpConnection.maxBodySize", 6,
             "public Connection maxBodySize(int bytes)"),
        ),
    ],
    ids=["constant", "class", "sixth constant", "member", "rust impl", "java constructor",
         "closure", "arrow function", "php property", "java field", "c# property",
         "c# auto-property", "c# type before its namesake", "c# method before a slot",
         "java implementation before its interface's"],
)  # fmt: skip
def test_a_name_lands_on_what_is_named_so(tmp_path, real_encoder, files, queries, expected):
    with indexed_tree(tmp_path / "ws", real_encoder, files) as built:
        for query in queries:
            first = built.search(query).results[0]
            shown = (first.path, first.kind, first.symbol, first.start_line, first.preview)
            assert shown == expected, query


_DOCUMENTED_NEIGHBOUR = '''"""Picking one element of a sequence."""


def max_by(items, compare):
    """Return the element that gives the maximum value with respect to the specified
    comparison function. If several elements are equally maximum, the last is returned."""
    best = None
    for item in items:
        if best is None or compare(item, best) >= 0:
            best = item
    return best


def min_by_key(items, key):
    best, best_key = None, None
    for item in items:
        value = key(item)
        if best_key is None or value < best_key:
            best, best_key = item, value
    return best
'''


def test_an_undocumented_answer_is_not_buried_under_its_documented_neighbour(
    tmp_path, real_encoder
):
    """BM25 matches the question's words in `max_by`'s docstring; the model reads
    `min_by_key`'s code as the answer. Without the neighbour rule (depth 0) the documented
    neighbour comes first: the precondition that makes this test able to fail."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "selection.py").write_text(_DOCUMENTED_NEIGHBOUR)
    asked = "Return the element that gives the minimum value from the specified"
    # In words, and naming an identifier (`sort_fn`, not in the tree: BM25 kind "named").
    questions = [f"{asked} function", f"{asked} sort_fn"]
    assert Intent.of(questions[1], code=False).names_identifier
    firsts = {}
    # BM25 alone (a benchmark's baseline, dense weight 0) is left as BM25 ranks.
    runs = {"shipped": {}, "depth 0": {"neighbour_depth": 0}, "bm25": {"dense_weight": 0.0}}
    for run, changed in runs.items():
        settings = EngineSettings(**changed)
        index_dir = tmp_path / f"index-{run}"
        tree = tmp_path / "tree"
        with WorkspaceIndex(tree, settings, encoder=real_encoder, index_dir=index_dir) as index:
            index.index()
            for question in questions:
                found = index.search(question, limit=2).results
                firsts[run, question] = [r.symbol for r in found]
    for question in questions:
        assert firsts["shipped", question] == ["min_by_key", "max_by"], question
        assert firsts["depth 0", question] == ["max_by", "min_by_key"], question
        assert firsts["bm25", question] == ["max_by", "min_by_key"], question


_DECLARED_BLOCK = '''import textwrap
import typing as t

# Can force a width.  This is used by the test system.
FORCED_WIDTH: t.Optional[int] = None


def wrap_text(text: str, width: int = 78, preserve_paragraphs: bool = False) -> str:
    """Wrap the help output text to a fixed width, keeping paragraphs apart if asked."""
    return "\\n\\n".join(textwrap.fill(p, width) for p in text.split("\\n\\n"))


def measure_table(rows: list[tuple[str, ...]]) -> tuple[int, ...]:
    """Measure the width of each column of a help table."""
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths.get(index, 0), len(cell))
    return tuple(widths[index] for index in sorted(widths))
'''


def test_a_constant_asked_for_by_the_words_of_its_name_is_not_buried_under_functions(
    tmp_path, real_encoder
):
    """`FORCED_WIDTH` holds "force" and "width" of the question in its name; the model ranks
    module-level code low and prefers `wrap_text`, whose docstring shares the question's
    words, and the question's BM25 weight is scaled down by its coverage. Without the rule
    (depth 0) the function comes first: the precondition that makes this test able to fail."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "formatting.py").write_text(_DECLARED_BLOCK)
    question = "global setting to force a fixed width for help output"
    runs = {
        "shipped": {},
        "depth 0": {"declared_block_depth": 0},
        "dense alone": {"prose_lexical_weight": 0.0, "named_lexical_weight": 0.0},
    }
    firsts = {}
    for run, changed in runs.items():
        settings = EngineSettings(**changed)
        index_dir = tmp_path / f"index-{run}"
        with WorkspaceIndex(
            tmp_path / "tree", settings, encoder=real_encoder, index_dir=index_dir
        ) as index:
            index.index()
            firsts[run] = [r.symbol for r in index.search(question, limit=3).results][:2]
    assert firsts["shipped"] == ["FORCED_WIDTH", "wrap_text"]
    assert firsts["depth 0"][0] == "wrap_text"
    assert firsts["dense alone"][0] == "wrap_text"


_AGREED_FIRST = '''JSON_MAX_INDENT = 0x1F
JSON_COMPACT = 0x20
JSON_ENSURE_ASCII = 0x40
JSON_SORT_KEYS = 0x80
JSON_ESCAPE_SLASH = 0x400


def dump_string(text, write, flags):
    # Write the string quoted, with JSON escapes for a string in JSON text. Quotes and
    # backslashes always take a JSON escape; a slash, or a character that is not ASCII,
    # needs escaping only when the flags ask for it.
    write('"')
    for char in text:
        if char in '"\\\\':
            write("\\\\" + char)
        elif char == "/" and flags & JSON_ESCAPE_SLASH:
            write("\\\\/")
        elif ord(char) > 0x7F and flags & JSON_ENSURE_ASCII:
            write("\\\\u%04x" % ord(char))
        elif ord(char) < 0x20:
            write("\\\\u%04x" % ord(char))
        else:
            write(char)
    write('"')


def dump_number(value, write):
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("out of range float values are not JSON compliant")
    write(repr(value))


def dump_array(items, write, flags, depth):
    write("[")
    for position, item in enumerate(items):
        if position:
            write("," if flags & JSON_COMPACT else ", ")
        dump_value(item, write, flags, depth + 1)
    write("]")


def dump_value(value, write, flags, depth=0):
    if isinstance(value, str):
        dump_string(value, write, flags)
    elif isinstance(value, (int, float)):
        dump_number(value, write)
    else:
        dump_array(value, write, flags, depth)


def flush(buffer, stream):
    stream.write("".join(buffer))
    buffer.clear()
'''


def test_a_block_found_by_a_word_of_its_name_stays_below_what_both_rankings_put_first(
    tmp_path, real_encoder
):
    """The flags block declares `JSON_ESCAPE_SLASH` and `JSON_ENSURE_ASCII`, words of the
    question, and is BM25's second, so the block rule gives it BM25's whole weight back;
    but the model and BM25 both put `dump_string` first (jansson's `json_dumps` flags above
    its `dump_string`). Without the guard the block passes it: the precondition that makes
    this test able to fail. It holds where BM25's question weight is scaled down the most,
    so the coverage exponent is pinned at 2 (shipped until 2026-12-06); at the shipped 1.5
    the block's raise is smaller and `dump_string` stays first either way."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "encoder.py").write_text(_AGREED_FIRST)
    question = (
        "write a string with JSON escapes to the output buffer, optionally escaping "
        "non-ASCII and slashes"
    )
    squared = {"prose_lexical_coverage": 2.0}
    runs = {
        "kept": squared,
        "unkept": {**squared, "agreed_first_kept": False},
        "shipped": {},
        "bm25 alone": {"dense_weight": 0.0},
        "dense alone": {"prose_lexical_weight": 0.0, "named_lexical_weight": 0.0},
    }
    flags = "JSON_MAX_INDENT, JSON_COMPACT, JSON_ENSURE_ASCII, JSON_SORT_KEYS, JSON_ESCAPE_SLASH"
    firsts = {}
    for run, changed in runs.items():
        with WorkspaceIndex(
            tmp_path / "tree",
            EngineSettings(**changed),
            encoder=real_encoder,
            index_dir=tmp_path / f"index-{run}",
        ) as index:
            index.index()
            firsts[run] = [r.symbol for r in index.search(question, limit=3).results][:2]
    assert firsts["bm25 alone"] == ["dump_string", flags]
    assert firsts["dense alone"][0] == "dump_string"
    assert firsts["unkept"] == [flags, "dump_string"]
    assert firsts["kept"] == ["dump_string", flags]
    assert firsts["shipped"] == ["dump_string", flags]


def _overlay_component() -> str:
    """A React component written as `forwardRef((props, ref) => {...})`, longer than a
    window: its handlers are locals, most of them hooks with a callback."""
    handlers = "".join(
        f"  const handle{name} = React.useCallback((event) => {{\n"
        f"    if (props.{prop} && isOpen) {{\n"
        f"      props.onClose?.(event);\n"
        f"    }}\n"
        f"  }}, [props.{prop}, isOpen]);\n\n"
        for name, prop in (
            ("DocumentMousedown", "canOutsideClickClose"),
            ("ContainerKeyDown", "canEscapeKeyClose"),
            ("BackdropMouseDown", "canOutsideClickClose"),
            ("DocumentFocus", "enforceFocus"),
            ("TransitionExited", "onClosed"),
            ("TransitionAddEnd", "onOpened"),
        )
    )
    return (
        'import * as React from "react";\n\n'
        "/** A layer over the page that traps focus and closes on escape or outside click. */\n"
        "export const Overlay = React.forwardRef<HTMLDivElement, OverlayProps>((props, ref) => {\n"
        "  const { isOpen, children, className } = props;\n"
        "  const containerElement = React.useRef<HTMLDivElement>(null);\n\n"
        f"{handlers}"
        "  return (\n"
        '    <div ref={ref} className={className} onKeyDown={handleContainerKeyDown}>\n'
        "      {isOpen ? children : null}\n"
        "    </div>\n"
        "  );\n"
        "});\n"
        'Overlay.displayName = "Overlay";\n'
    )


_TAG = """import * as React from "react";

/** A small label with an optional remove button. */
export const Tag = React.forwardRef<HTMLSpanElement, TagProps>((props, ref) => {
  const { children, onRemove, interactive } = props;
  const removeButton = onRemove ? <button onClick={onRemove}>x</button> : null;
  return (
    <span ref={ref} tabIndex={interactive ? 0 : undefined}>
      {children}
      {removeButton}
    </span>
  );
});
"""


def test_a_component_that_forward_ref_wraps_is_one_result_named_and_shown_by_its_declaration(
    tmp_path, real_encoder
):
    """Before chunker 20 the component was three blocks named by its locals
    (`handleDocumentMousedown, ...`): one component listed three times, previewed
    `const handleTransitionExited = React.useCallback((event) => {`. Since chunker 25 a
    component larger than a chunk holds its handlers as units: the question lands on the
    handlers that close on an outside click, and the component is listed once, whole."""
    files = {"src/overlay.tsx": _overlay_component(), "src/tag.tsx": _TAG}
    last = files["src/overlay.tsx"].count("\n") - 2  # the component's `});`
    signature = (
        "export const Overlay = React.forwardRef<HTMLDivElement, OverlayProps>((props, ref) =>"
    )
    with indexed_tree(tmp_path / "ws", real_encoder, files) as built:
        asked = built.search("close the overlay when the user clicks outside it").results
        assert [(r.symbol, r.start_line, r.end_line, r.preview) for r in asked[:2]] == [
            (f"Overlay.handle{name}", line, line + 4,
             f"const handle{name} = React.useCallback((event) =>")
            for name, line in (("DocumentMousedown", 7), ("BackdropMouseDown", 19))
        ]  # fmt: skip
        component = [r for r in asked if r.symbol == "Overlay"]
        assert [(r.kind, r.start_line, r.end_line, r.preview) for r in component] == [
            ("function", 2, last, signature)
        ]
        named = [r.symbol for r in asked if r.symbol]
        assert len(set(named)) == len(named)  # each definition once
        named = built.search("Overlay").results[0]
        assert (named.path, named.kind, named.start_line, named.preview) == (
            "src/overlay.tsx", "function", 2, signature
        )
        similar = built.similar("src/tag.tsx", 4, 2).results
        assert [(r.path, r.symbol) for r in similar[:1]] == [("src/overlay.tsx", "Overlay")]


_MENU_TSX = """\
import * as React from "react";

export class Menu extends React.Component<MenuProps> {
    private itemElements(): HTMLElement[] {
        return Array.from(this.root?.querySelectorAll("[role=menuitem]") ?? []);
    }

    private handleKeyDown = (event: React.KeyboardEvent<HTMLElement>) => {
        const items = this.itemElements();
        const index = items.indexOf(document.activeElement as HTMLElement);
        if (event.key === "ArrowDown") {
            items[(index + 1) % items.length]?.focus();
        } else if (event.key === "ArrowUp") {
            items[(index - 1 + items.length) % items.length]?.focus();
        }
    };

    public render() {
        return <ul role="menu" onKeyDown={this.handleKeyDown}>{this.props.children}</ul>;
    }
}
"""

_MENU_SCSS = """\
// Menu items and keyboard navigation between them: the item that arrow keys move to
// gets the focus ring, so keyboard users see which menu item is active.
.menu {
  list-style: none;
  margin: 0;
}

.menu-item {
  display: flex;
  padding: 5px 7px;

  &:focus,
  &.menu-item-keyboard-focus {
    outline: 2px solid $focus-color;
  }

  .menu-item-arrow-key-hint {
    color: $gray3;
  }
}
"""


def test_a_question_about_behaviour_finds_the_code_before_its_stylesheet(tmp_path, real_encoder):
    """A component's stylesheet holds the words of questions about the component, and
    answers only those about how it looks: it ranks below the code (role `style`)."""
    files = {"src/menu/menu.tsx": _MENU_TSX, "src/menu/_menu.scss": _MENU_SCSS}
    question = "keyboard navigation between menu items with arrow keys"
    weights = EngineSettings().role_weights
    firsts = {}
    for name, roles in (("before", tuple(w for w in weights if w[0] != "style")),
                        ("shipped", weights)):
        root = tmp_path / name
        root.mkdir()
        with indexed_tree(root, real_encoder, files, EngineSettings(role_weights=roles)) as built:
            firsts[name] = [(r.path, r.symbol) for r in built.search(question, limit=3).results]
            looks = built.search("focus ring colour of a menu item", limit=1).results
            assert looks[0].path == "src/menu/_menu.scss"  # asked how it looks: the stylesheet
    assert firsts["before"][0][0] == "src/menu/_menu.scss"  # what the words alone gave
    assert firsts["shipped"][0] == ("src/menu/menu.tsx", "Menu.handleKeyDown")


_SEARCH_BOX_VUE = """<script setup lang="ts">
import { computed, ref } from 'vue'

const props = defineProps<{ pages: { title: string; url: string }[] }>()
const query = ref('')
const selected = ref(0)

const matches = computed(() =>
  props.pages.filter((page) => page.title.toLowerCase().includes(query.value.toLowerCase()))
)

function onKeydown(event: KeyboardEvent) {
  if (event.key === 'ArrowDown') {
    selected.value = (selected.value + 1) % matches.value.length
  } else if (event.key === 'ArrowUp') {
    selected.value = (selected.value - 1 + matches.value.length) % matches.value.length
  }
}

function clearQuery() {
  query.value = ''
  selected.value = 0
}
</script>

<template>
  <div class="search-box">
    <input v-model="query" placeholder="Search pages" @keydown="onKeydown" />
    <button class="clear" @click="clearQuery">Clear</button>
    <ul class="results">
      <li v-for="(page, i) in matches" :key="page.url" :class="{ selected: i === selected }">
        <a :href="page.url">{{ page.title }}</a>
      </li>
    </ul>
  </div>
</template>

<style scoped>
.search-box .results li.selected { background: var(--highlight); }
.search-box input { width: 100%; border: 1px solid #ccc; }
</style>
"""

_MENU_VUE = """<template>
  <ul class="menu" @keydown="onArrowKey">
    <li v-for="(item, i) in items" :key="item.id" :class="{ active: i === active }">
      {{ item.label }}
    </li>
  </ul>
</template>

<script>
export default {
  props: { items: { type: Array, required: true } },
  data() {
    return { active: 0 }
  },
  methods: {
    onArrowKey(event) {
      if (event.key === 'ArrowDown') {
        this.active = (this.active + 1) % this.items.length
      } else if (event.key === 'ArrowUp') {
        this.active = (this.active - 1 + this.items.length) % this.items.length
      }
    },
  },
}
</script>
"""


def test_the_code_of_vue_components_is_found_by_name_at_its_line(tmp_path, real_encoder):
    """A `.vue` file's script is chunked by its grammar: a question lands on the function in
    it, one about the markup on the template, and Find Similar on a method finds the other
    component's handler, not markup."""
    files = {"src/components/SearchBox.vue": _SEARCH_BOX_VUE, "src/components/Menu.vue": _MENU_VUE}
    with indexed_tree(tmp_path / "app", real_encoder, files) as built:
        first = built.search("pages whose title holds the typed text, ignoring case").results[0]
        assert (first.path, first.symbol, first.language) == (
            "src/components/SearchBox.vue",
            "SearchBox.matches",
            "typescript",
        )
        assert first.cursor == (7, 6)  # `matches` in `const matches = computed(() =>`
        cleared = built.search("reset the query and the selection", limit=1).results[0]
        assert (cleared.symbol, cleared.start_line) == ("SearchBox.clearQuery", 19)
        markup = built.search("input box and clear button of the search markup").results[0]
        assert (markup.symbol, markup.language, markup.start_line) == ("SearchBox", "vue", 25)
        similar = built.similar("src/components/Menu.vue", 15, 6, limit=5).results
        assert (similar[0].path, similar[0].symbol) == (
            "src/components/SearchBox.vue",
            "SearchBox.onKeydown",
        )
        assert all(r.kind != "window" for r in similar)  # neither markup nor styles


_CART_KT = """package shop.cart

import java.math.BigDecimal

/**
 * The items a shopper picked, with the coupon they applied.
 */
class Cart(private val items: MutableList<Item> = mutableListOf()) {
  private var coupon: Coupon? = null

  /** Adds [item], merging it with the same product already in the cart. */
  fun add(item: Item) {
    val same = items.indexOfFirst { it.sku == item.sku }
    if (same >= 0) items[same] = items[same].copy(quantity = items[same].quantity + item.quantity)
    else items.add(item)
  }

  fun applyCoupon(code: String, catalog: CouponCatalog): Boolean {
    val found = catalog.lookup(code.trim().uppercase()) ?: return false
    if (found.expired) return false
    coupon = found
    return true
  }

  val total: BigDecimal
    get() {
      val sum = items.fold(BigDecimal.ZERO) { acc, item ->
        acc + item.price * item.quantity.toBigDecimal()
      }
      return coupon?.let { sum - sum * it.percentOff.toBigDecimal() / 100.toBigDecimal() } ?: sum
    }
}

fun BigDecimal.asDollars(): String = "$" + setScale(2).toPlainString()
"""

_CART_SWIFT = """import Foundation

/// The items a shopper picked, with the coupon they applied.
struct Cart {
  private var items: [Item] = []
  private var coupon: Coupon?

  /// Applies a coupon by its code when the catalog knows it and it has not expired.
  mutating func applyCoupon(_ code: String, catalog: CouponCatalog) -> Bool {
    guard let found = catalog.lookup(code.trimmingCharacters(in: .whitespaces).uppercased()),
          !found.expired else { return false }
    coupon = found
    return true
  }

  var total: Decimal {
    let sum = items.reduce(Decimal(0)) { $0 + $1.price * Decimal($1.quantity) }
    guard let coupon else { return sum }
    return sum - sum * Decimal(coupon.percentOff) / 100
  }
}
"""

_CART_TEST_KT = """package shop.cart

import org.junit.Test
import kotlin.test.assertEquals

class CartTest {
  @Test
  fun totalSubtractsTheCouponFromTheSumOfPrices() {
    val cart = Cart()
    cart.add(Item("a", 10.toBigDecimal(), 2))
    assertEquals(20.toBigDecimal(), cart.total)
  }
}
"""


def test_kotlin_and_swift_code_is_found_by_question_at_its_name(tmp_path, real_encoder):
    """Kotlin and Swift are chunked by their grammars: a question lands on the property or
    function at its name, before the test; Find Similar from the Kotlin function finds the
    Swift one, which implements the same thing."""
    files = {
        "android/src/main/java/shop/cart/Cart.kt": _CART_KT,
        "android/src/test/java/shop/cart/CartTest.kt": _CART_TEST_KT,
        "ios/Cart.swift": _CART_SWIFT,
    }
    with indexed_tree(tmp_path / "app", real_encoder, files) as built:
        question = "sum of the item prices minus the coupon's percentage"
        results = built.search(question, languages=["kotlin"]).results
        assert (results[0].path, results[0].symbol) == (
            "android/src/main/java/shop/cart/Cart.kt",
            "Cart.total",
        )
        assert results[0].cursor == (24, 6)  # `total` in `val total: BigDecimal`
        assert results[0].preview.strip() == "val total: BigDecimal"
        merge = built.search("merge an added item with the same product", limit=1).results[0]
        assert (merge.symbol, merge.cursor) == ("Cart.add", (11, 6))
        swift = built.search(question, languages=["swift"]).results[0]
        assert (swift.path, swift.symbol, swift.cursor) == ("ios/Cart.swift", "Cart.total", (15, 6))
        similar = built.similar("android/src/main/java/shop/cart/Cart.kt", 17, 6, limit=3)
        assert (similar.results[0].path, similar.results[0].symbol) == (
            "ios/Cart.swift",
            "Cart.applyCoupon",
        )
        named = built.search("asDollars", limit=1).results[0]
        assert (named.symbol, named.kind) == ("BigDecimal.asDollars", "method")


_SQLITE_MODULE_KT = """package expo.modules.sqlite

class SQLiteModule : Module() {
  override fun definition() = ModuleDefinition {
    Name("ExpoSQLite")

    AsyncFunction("deleteDatabaseAsync") { databasePath: String ->
      val dbFile = File(pathForDatabaseName(databasePath))
      if (findCachedDatabase { it.databasePath == databasePath } != null) {
        throw DeleteDatabaseException(databasePath)
      }
      if (!dbFile.exists()) {
        throw DatabaseNotFoundException(databasePath)
      }
      dbFile.delete()
    }

    AsyncFunction("execAsync") { database: NativeDatabase, source: String ->
      maybeThrowForClosedDatabase(database)
      exec(database, source)
    }

    AsyncFunction("closeAsync") { database: NativeDatabase ->
      maybeThrowForClosedDatabase(database)
      removeCachedDatabase(database)
      closeDatabase(database)
    }
  }
}
"""

_SQLITE_MODULE_SWIFT = """import ExpoModulesCore

public final class SQLiteModule: Module {
  public func definition() -> ModuleDefinition {
    Name("ExpoSQLite")

    AsyncFunction("closeAsync") { (database: NativeDatabase) in
      try maybeThrowForClosedDatabase(database)
      removeCachedDatabase(of: database)
      try closeDatabase(database)
    }

    AsyncFunction("execAsync") { (database: NativeDatabase, source: String) in
      try maybeThrowForClosedDatabase(database)
      try exec(database: database, source: source)
    }

    AsyncFunction("deleteDatabaseAsync") { (databasePath: String) in
      let path = try pathForDatabaseName(databasePath)
      if findCachedDatabase(where: { $0.databasePath == databasePath }) != nil {
        throw DeleteDatabaseException(databasePath)
      }
      guard FileManager.default.fileExists(atPath: path.absoluteString) else {
        throw DatabaseNotFoundException(databasePath)
      }
      try FileManager.default.removeItem(atPath: path.absoluteString)
    }
  }
}
"""


def test_a_native_module_member_is_found_on_the_other_platform(tmp_path, real_encoder):
    """An Expo module's members (`AsyncFunction("deleteDatabaseAsync") { ... }`) are units:
    Find Similar from the Android one lands on the iOS one at its title, a question on the
    member, and its name typed alone finds both."""
    files = {
        "android/src/main/java/expo/modules/sqlite/SQLiteModule.kt": _SQLITE_MODULE_KT,
        "ios/SQLiteModule.swift": _SQLITE_MODULE_SWIFT,
    }
    with indexed_tree(tmp_path / "sqlite", real_encoder, files) as built:
        similar = built.similar(
            "android/src/main/java/expo/modules/sqlite/SQLiteModule.kt", 6, 4, limit=3
        ).results
        assert (similar[0].path, similar[0].symbol, similar[0].cursor) == (
            "ios/SQLiteModule.swift",
            "SQLiteModule.deleteDatabaseAsync",
            (17, 19),  # on its title, the name JavaScript calls it by
        )
        assert similar[0].preview.strip().startswith('AsyncFunction("deleteDatabaseAsync")')
        question = "refuse to delete a database file that is still open"
        found = built.search(question, languages=["swift"], limit=1).results[0]
        assert (found.symbol, found.cursor) == ("SQLiteModule.deleteDatabaseAsync", (17, 19))
        named = built.search("execAsync", limit=2).results
        assert sorted((r.path, r.symbol) for r in named) == [
            ("android/src/main/java/expo/modules/sqlite/SQLiteModule.kt", "SQLiteModule.execAsync"),
            ("ios/SQLiteModule.swift", "SQLiteModule.execAsync"),
        ]


_CART_SPEC_SWIFT = """import Quick
import Nimble

final class CartSpec: QuickSpec {
  override class func spec() {
    describe("applyCoupon") {
      it("takes a coupon the catalog knows") {
        var cart = Cart()
        expect(cart.applyCoupon("SAVE10", catalog: .fixture)) == true
      }

      it("rejects a coupon that has expired") {
        var cart = Cart()
        expect(cart.applyCoupon("OLD", catalog: .fixture)) == false
      }
    }
  }
}
"""


def test_a_quick_test_is_found_at_its_title(tmp_path, real_encoder):
    """A question that asks for a test finds the Quick test (`it("...") { }`), opened on its
    title, not `spec()`'s first line."""
    files = {"ios/Cart.swift": _CART_SWIFT, "ios/Tests/CartSpec.swift": _CART_SPEC_SWIFT}
    with indexed_tree(tmp_path / "cart", real_encoder, files) as built:
        found = built.search("test that an expired coupon is refused", limit=1).results[0]
        assert (found.path, found.symbol, found.cursor) == (
            "ios/Tests/CartSpec.swift",
            "CartSpec.applyCoupon.rejects a coupon that has expired",
            (11, 10),
        )


_THEME_SELECT_ASTRO = """---
import Select from './Select.astro';

const labels = { dark: 'Dark', light: 'Light', auto: 'Auto' };
---

<theme-select>
  <Select label="Theme" value="auto" options={Object.entries(labels)} />
</theme-select>

<script>
  type Theme = 'auto' | 'dark' | 'light';

  function storeTheme(theme: Theme): void {
    if (typeof localStorage !== 'undefined') {
      localStorage.setItem('theme', theme === 'auto' ? '' : theme);
    }
  }

  function applyTheme(theme: Theme): void {
    const system = matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
    document.documentElement.dataset.theme = theme === 'auto' ? system : theme;
    storeTheme(theme);
  }
</script>
"""

_PAGINATION_ASTRO = """---
const { prev, next, dir } = Astro.props;
const isRtl = dir === 'rtl';
---

<nav class="pagination">
  {prev && <a href={prev.href} rel="prev">{isRtl ? '→' : '←'} {prev.label}</a>}
  {next && <a href={next.href} rel="next">{next.label} {isRtl ? '←' : '→'}</a>}
</nav>
"""


def test_the_code_of_astro_components_is_found_at_its_line(tmp_path, real_encoder):
    """An `.astro` file (not indexed before) is read as a component: its `<script>` is
    TypeScript, found by a question at the function's name; its markup answers a question
    about the view."""
    files = {
        "src/components/ThemeSelect.astro": _THEME_SELECT_ASTRO,
        "src/components/Pagination.astro": _PAGINATION_ASTRO,
    }
    with indexed_tree(tmp_path / "site", real_encoder, files) as built:
        stored = built.search("save the chosen colour scheme in local storage").results[0]
        assert (stored.path, stored.symbol, stored.language) == (
            "src/components/ThemeSelect.astro",
            "ThemeSelect.storeTheme",
            "typescript",
        )
        assert stored.cursor == (13, 11)  # `storeTheme` in `function storeTheme(`
        links = built.search("links to the previous and next page", limit=1).results[0]
        assert (links.path, links.symbol, links.language) == (
            "src/components/Pagination.astro",
            "Pagination",
            "astro",
        )


# A Go assertion library's shape (as stretchr/testify writes it): the assertion written by
# hand, and a generated package that wraps it with its doc comment copied, one wrapper per
# assertion and a method form of each.
_ASSERTIONS_GO = """package assert

import "reflect"

// Same reports whether two values are deeply equal, []byte compared by content.
func Same(expected, actual interface{}) bool {
\tif expected == nil || actual == nil {
\t\treturn expected == actual
\t}
\treturn reflect.DeepEqual(expected, actual)
}

// Equal asserts that two objects are equal.
//
//	assert.Equal(t, 123, 123)
func Equal(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) bool {
\tif !Same(expected, actual) {
\t\treturn Fail(t, "Not equal: expected and actual differ", msgAndArgs...)
\t}
\treturn true
}
"""

_GENERATED_NOTICE_GO = """// Code generated by assertgen from assert/assertions.go; DO NOT EDIT.

"""

_REQUIRE_GO = _GENERATED_NOTICE_GO + """package require

import assert "example.com/check/assert"

// Equal asserts that two objects are equal.
//
//	require.Equal(t, 123, 123)
func Equal(t TestingT, expected interface{}, actual interface{}, msgAndArgs ...interface{}) {
\tif assert.Equal(t, expected, actual, msgAndArgs...) {
\t\treturn
\t}
\tt.FailNow()
}

// Equalf asserts that two objects are equal.
//
//	require.Equalf(t, 123, 123, "error message %s", "formatted")
func Equalf(t TestingT, expected interface{}, actual interface{}, msg string, args ...interface{}) {
\tif assert.Equalf(t, expected, actual, msg, args...) {
\t\treturn
\t}
\tt.FailNow()
}
"""

_FORWARD_GO = _GENERATED_NOTICE_GO + """package assert

// Equal asserts that two objects are equal.
//
//	a.Equal(123, 123)
func (a *Assertions) Equal(expected, actual interface{}, msgAndArgs ...interface{}) bool {
\treturn Equal(a.t, expected, actual, msgAndArgs...)
}
"""


def test_a_question_gets_the_code_written_by_hand_before_generated_copies_of_it(
    tmp_path, real_encoder
):
    """Files whose opening comment says a tool wrote them rank as generated files do,
    wherever they lie: the assertion written by hand comes before its generated wrappers,
    which repeat its doc comment word for word."""
    files = {
        "assert/assertions.go": _ASSERTIONS_GO,
        "assert/assertion_forward.go": _FORWARD_GO,
        "require/require.go": _REQUIRE_GO,
    }
    firsts = {}
    for by_content in (False, True):
        settings = EngineSettings(content_roles=by_content)
        with indexed_tree(tmp_path / f"tree-{by_content}", real_encoder, files, settings) as built:
            found = built.search("assert that two objects are equal").results
            firsts[by_content] = [(r.path, r.symbol) for r in found]
    assert firsts[False][0][0] in ("require/require.go", "assert/assertion_forward.go")
    assert firsts[True][0] == ("assert/assertions.go", "Equal")
    # The generated copies stay results, after it.
    assert ("require/require.go", "Equal") in firsts[True][1:]


def test_what_gitattributes_say_a_file_is_counts_at_the_next_search(
    tmp_path, real_encoder, monkeypatch
):
    """A file that `.gitattributes` marks `linguist-generated` ranks as generated code,
    though nothing in it says so; an edit to the attributes counts at once, with nothing
    indexed again."""
    monkeypatch.setattr(scanner, "_ATTRIBUTES_RECHECK_S", 0.0)
    files = {
        "assert/assertions.go": _ASSERTIONS_GO,
        "assert/assertion_forward.go": _FORWARD_GO.removeprefix(_GENERATED_NOTICE_GO),
        "require/require.go": _REQUIRE_GO.removeprefix(_GENERATED_NOTICE_GO),
        ".gitattributes": "require/** linguist-generated\nassert/*_forward.go linguist-generated\n",
    }
    question = "assert that two objects are equal"
    with indexed_tree(tmp_path / "tree", real_encoder, files) as built:
        marked = [(r.path, r.symbol) for r in built.search(question).results]
        (tmp_path / "tree" / ".gitattributes").write_text("# nothing marked\n")
        unmarked_first = built.search(question).results[0]
    assert marked[0] == ("assert/assertions.go", "Equal")
    assert unmarked_first.path in ("require/require.go", "assert/assertion_forward.go")


# A test runner's own code is about fixtures: the word names it, and asks for no tests.
_RUNNER_FIXTURES_PY = (
    '"""Fixtures: values a test asks for by name, made once per scope."""\n'
    '\n'
    '\n'
    'class FixtureLookupError(LookupError):\n'
    '    """No fixture of that name is visible from the requesting test."""\n'
    '\n'
    '\n'
    'class FixtureDef:\n'
    '    """A fixture function, its scope and the value it made."""\n'
    '\n'
    '    def __init__(self, name, func, scope="function"):\n'
    '        self.name = name\n'
    '        self.func = func\n'
    '        self.scope = scope\n'
    '        self.cached_result = None\n'
    '\n'
    '    def execute(self, request):\n'
    '        """Return the value of this fixture, calling its function on first use only."""\n'
    '        if self.cached_result is not None:\n'
    '            return self.cached_result\n'
    '        self.cached_result = self.func(**request.arguments_for(self.func))\n'
    '        return self.cached_result\n'
    '\n'
    '    def finish_fixture(self):\n'
    '        """Drop the value so that the next request calls the function again."""\n'
    '        self.cached_result = None\n'
    '\n'
    '\n'
    'class FixtureRequest:\n'
    '    """What a fixture function sees of the test that asked for it."""\n'
    '\n'
    '    def __init__(self, registry, node):\n'
    '        self.registry = registry\n'
    '        self.node = node\n'
    '\n'
    '    def fixture_value(self, name):\n'
    '        return self.registry.lookup_fixture(name).execute(self)\n'
    '\n'
    '    def arguments_for(self, func):\n'
    '        names = func.__code__.co_varnames[: func.__code__.co_argcount]\n'
    '        return {name: self.fixture_value(name) for name in names}\n'
    '\n'
    '\n'
    'class FixtureRegistry:\n'
    '    def __init__(self):\n'
    '        self.defs = {}\n'
    '\n'
    '    def add_fixture(self, fixture_def):\n'
    '        self.defs[fixture_def.name] = fixture_def\n'
    '\n'
    '    def lookup_fixture(self, name):\n'
    '        try:\n'
    '            return self.defs[name]\n'
    '        except KeyError:\n'
    '            raise FixtureLookupError(name) from None\n'
    '\n'
    '\n'
    'def fixture(func=None, *, scope="function"):\n'
    '    """Mark a function as a fixture."""\n'
    '    def mark(inner):\n'
    '        inner._fixture_scope = scope\n'
    '        return inner\n'
    '    return mark(func) if func is not None else mark\n'
    '\n'
    '\n'
    'def fixture_names(func):\n'
    '    return list(func.__code__.co_varnames[: func.__code__.co_argcount])\n'
    '\n'
    '\n'
    'def is_fixture(func):\n'
    '    return hasattr(func, "_fixture_scope")\n'
)

_RUNNER_TEST_PY = (
    'from runner.fixtures import FixtureDef, FixtureRegistry, FixtureRequest\n'
    '\n'
    '\n'
    'def test_fixture_value_is_cached_and_returned_on_next_use():\n'
    '    # the fixture function is called on first use only; its value is returned after that\n'
    '    calls = []\n'
    '\n'
    '    def make_value():\n'
    '        calls.append(1)\n'
    '        return 42\n'
    '\n'
    '    registry = FixtureRegistry()\n'
    '    registry.add_fixture(FixtureDef("value", make_value))\n'
    '    request = FixtureRequest(registry, node=None)\n'
    '    assert request.fixture_value("value") == 42\n'
    '    assert request.fixture_value("value") == 42  # cached: returned, not called again\n'
    '    assert calls == [1]\n'
    '\n'
    '\n'
    'def test_unknown_fixture_raises():\n'
    '    registry = FixtureRegistry()\n'
    '    request = FixtureRequest(registry, node=None)\n'
    '    try:\n'
    '        request.fixture_value("missing")\n'
    '    except LookupError:\n'
    '        pass\n'
)


def test_a_word_that_names_the_projects_own_code_asks_for_no_tests(tmp_path, real_encoder):
    """"fixture" asks for tests in most projects; in a test runner, whose own code names
    its definitions with it (FixtureDef, lookup_fixture, ...), it is what the code is about:
    the implementation comes before the test that reads like the question."""
    files = {"runner/fixtures.py": _RUNNER_FIXTURES_PY, "tests/test_fixtures.py": _RUNNER_TEST_PY}
    question = "return the value of a fixture, calling its function only on first use"
    firsts = {}
    for least in (0, EngineSettings().own_vocabulary_names):
        settings = EngineSettings(own_vocabulary_names=least)
        with indexed_tree(tmp_path / f"tree-{least}", real_encoder, files, settings) as built:
            first = built.search(question).results[0]
            firsts[least] = (first.path, first.symbol)
    the_test = "test_fixture_value_is_cached_and_returned_on_next_use"
    assert firsts[0] == ("tests/test_fixtures.py", the_test)  # "fixture" read as tests
    assert firsts[10] == ("runner/fixtures.py", "FixtureDef.execute")


# A Django app: its tests beside its code, in a `tests.py` that no path rule reads as tests.
_SHOP_DISCOUNTS_PY = (
    "from decimal import Decimal\n"
    "\n"
    "\n"
    "def apply_discount(order, code):\n"
    "    if code.expired:\n"
    "        raise ValueError('expired code')\n"
    "    order.total = max(Decimal(0), order.total - code.amount)\n"
    "    order.codes.append(code.name)\n"
    "    return order.total\n"
    "\n"
    "\n"
    "def order_summary(order):\n"
    "    return f'{len(order.lines)} lines, {order.total}'\n"
)

_SHOP_TESTS_PY = (
    "from django.test import TestCase\n"
    "\n"
    "from .discounts import apply_discount\n"
    "\n"
    "\n"
    "class DiscountTests(TestCase):\n"
    "    def test_apply_discount_code_lowers_order_total(self):\n"
    '        """Apply a discount code: the order\'s total is lowered by its amount."""\n'
    "        order = make_order(total=100)\n"
    "        apply_discount(order, make_code(amount=10))\n"
    "        self.assertEqual(order.total, 90)\n"
    "\n"
    "    def test_expired_discount_code_is_refused(self):\n"
    "        with self.assertRaises(ValueError):\n"
    "            apply_discount(make_order(total=100), make_code(expired=True))\n"
)


def test_a_django_apps_tests_py_ranks_as_tests(tmp_path, real_encoder):
    """Django keeps an app's tests in `tests.py` beside its code: a module that defines a
    `TestCase` ranks as tests, after the code a question asks about, which it tells by its
    content (content_roles=False reads its path alone); a question for tests still gets it."""
    files = {"shop/discounts.py": _SHOP_DISCOUNTS_PY, "shop/tests.py": _SHOP_TESTS_PY}
    question = "apply a discount code to lower the order's total"
    found = {}
    for by_content in (False, True):
        settings = EngineSettings(content_roles=by_content)
        with indexed_tree(tmp_path / f"tree-{by_content}", real_encoder, files, settings) as built:
            found[by_content] = [(r.path, r.symbol) for r in built.search(question).results]
            if by_content:
                asked = built.search("tests for applying a discount code").results
    the_test = ("shop/tests.py", "DiscountTests.test_apply_discount_code_lowers_order_total")
    assert found[False][0] == the_test
    assert found[True][0] == ("shop/discounts.py", "apply_discount")
    assert the_test in found[True][1:]
    assert [r.path for r in asked[:2]] == ["shop/tests.py", "shop/tests.py"]


# A component and its Storybook stories beside it, in the same words.
_BUTTON_JSX = """import React from 'react';
import { Spinner } from '../Spinner';

export const Button = ({ busy, label, onClick, disabled }) => {
  const inactive = busy || disabled;
  return (
    <button aria-busy={busy} disabled={inactive} onClick={inactive ? undefined : onClick}>
      {busy ? <Spinner size="small" /> : null}
      {label}
    </button>
  );
};
"""

_BUTTON_STORIES_JSX = """import React, { useState } from 'react';
import { Button } from './Button';

export default { title: 'Controls/Button' };

// Busy: the button while it saves, its spinner shown.
export const Busy = () => {
  const [busy, setBusy] = useState(false);
  return (
    <Button busy={busy} label="Save" onClick={() => setBusy(true)} />
  );
};

export const Disabled = () => <Button disabled label="Save" />;
"""


def test_a_components_stories_rank_as_examples(tmp_path, real_encoder):
    """Storybook's stories render the component beside them in its own words: a question
    about the behaviour gets the component first (the story did, weighed as code), and a
    question for the story gets the story."""
    files = {
        "src/Button/Button.jsx": _BUTTON_JSX,
        "src/Button/Button.stories.jsx": _BUTTON_STORIES_JSX,
    }
    question = "disable a button while its action is busy"
    firsts = {}
    for priors in (False, True):
        settings = EngineSettings(role_priors=priors)
        with indexed_tree(tmp_path / f"tree-{priors}", real_encoder, files, settings) as built:
            first = built.search(question).results[0]
            firsts[priors] = (first.path, first.symbol)
            if priors:
                asked = built.search("storybook story of a busy button").results[0]
    assert firsts[False] == ("src/Button/Button.stories.jsx", "Busy")
    assert firsts[True] == ("src/Button/Button.jsx", "Button")
    assert (asked.path, asked.symbol) == ("src/Button/Button.stories.jsx", "Busy")
