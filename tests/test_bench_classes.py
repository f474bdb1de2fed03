"""Class sets: classes that share a direct supertype, asked as Find Similar on their header."""

from __future__ import annotations

import json
from pathlib import Path

from lsp_server.bench.classsets import build_class_set
from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.treeset import load_tree_set
from lsp_server.engine.supertypes import supertypes

from .test_bench_similar import asked_with_targets

STREAMS = '''import typing


class ByteStream(Base):
    def read(self, size):
        data = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return data


class FileStream(Base):
    """Reads a file in chunks."""

    def read(self, size):
        return self._file.read(size)

    def close(self):
        self._file.close()


class Marker(Base):
    pass


class Plain:
    def read(self, size):
        return b""


class Box(typing.Generic[T], metaclass=Meta):
    def get(self):
        return self._value
'''

NODES = """package org.example;

public abstract class Node {
    abstract String name();
}

public class Element<T extends Node> extends Node implements Cloneable, Comparable<Element> {
    String tag;

    String name() {
        return tag;
    }
}

public class TextNode extends Node {
    String text;

    String name() {
        return "#text";
    }
}
"""

# Rust names a type's kind apart from it: the two readers implement `Read`, one in another
# file; `Debug` says nothing of a kind, and an impl is not a type to ask.
READERS = """/// Reads from a slice.
pub struct SliceRead<'a> {
    slice: &'a [u8],
    index: usize,
}

impl<'a> SliceRead<'a> {
    pub fn new(slice: &'a [u8]) -> Self {
        SliceRead { slice, index: 0 }
    }
}

impl<'a> private::Sealed for SliceRead<'a> {}

impl<'a> fmt::Debug for SliceRead<'a> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("SliceRead")
    }
}

pub struct IoRead<R> {
    inner: R,
}

impl<R: io::Read> IoRead<R> {
    pub fn new(inner: R) -> Self {
        IoRead { inner }
    }
}
"""

READ_IMPLS = """impl<'de, 'a> Read<'de> for SliceRead<'a> {
    fn next(&mut self) -> Option<u8> {
        None
    }
}

impl<'de, R: io::Read> crate::read::Read<'de> for IoRead<R> {
    fn next(&mut self) -> Option<u8> {
        None
    }
}
"""

TEST = """class FakeStream(Base):
    def read(self, size):
        return b"x" * size
"""


def make_tree(root: Path) -> Path:
    files = {
        "pkg/streams.py": STREAMS,
        "src/Nodes.java": NODES,
        "src/read.rs": READERS,
        "src/impls.rs": READ_IMPLS,
        "tests/test_streams.py": TEST,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_supertypes_are_read_from_headers_type_arguments_and_keywords_aside() -> None:
    assert supertypes("class A(Base[T], mixins.Loud, metaclass=M):", "python") == {
        "Base",
        "mixins.Loud",
    }
    assert supertypes("class A(object):", "python") == set()
    java = (
        "@Deprecated public final class S<T extends Node> extends Tag<T> "
        "implements Cloneable, Comparable<S<T>>"
    )
    assert supertypes(java, "java") == {"Tag", "Comparable"}
    assert supertypes("export class Foo<T> extends Bar<T> implements Baz, Qux", "typescript") == {
        "Bar",
        "Baz",
        "Qux",
    }
    # A call is no name to group by; Go and Rust write no supertype in a type's header.
    assert supertypes("class Foo extends mixin(Bar)", "javascript") == set()
    assert supertypes("type Router struct", "go") == set()


def test_classes_that_share_a_supertype_ask_for_each_other(tmp_path: Path) -> None:
    """The two streams of `Base` find each other, Java's two `Node`s and Rust's two
    `Read`ers too, each target the whole class (a Rust type: its own lines); a marker class
    without members, a class without a base, a generic box, a trait implemented once and a
    test's fake are not asked, and the tree is copied unchanged."""
    source = make_tree(tmp_path / "src")
    asked = build_class_set(source, tmp_path / "set", sample=50, meta={})
    data = load_tree_set(tmp_path / "set")
    assert asked == len(data.questions) == 6
    assert asked_with_targets(data) == {
        ("ByteStream", "pkg/streams.py", 4): [("pkg/streams.py", 11, 18)],
        ("FileStream", "pkg/streams.py", 11): [("pkg/streams.py", 4, 8)],
        ("Element", "src/Nodes.java", 7): [("src/Nodes.java", 15, 21)],
        ("TextNode", "src/Nodes.java", 15): [("src/Nodes.java", 7, 13)],
        ("SliceRead", "src/read.rs", 1): [("src/read.rs", 21, 23)],
        ("IoRead", "src/read.rs", 21): [("src/read.rs", 1, 5)],
    }
    by_symbol = {q.extra["symbol"]: q for q in data.questions}
    assert by_symbol["FileStream"].query == "class FileStream(Base):"
    assert by_symbol["Element"].extra["bases"] == ["Comparable", "Node"]
    assert by_symbol["SliceRead"].query == "pub struct SliceRead<'a>"
    assert by_symbol["SliceRead"].extra["bases"] == ["Read", "Sealed"]
    assert {q.ask for q in data.questions} == {"similar"}
    assert data.meta["queries"] == "classes" and data.meta["counts"]["eligible"] == 6
    for rel in ("pkg/streams.py", "tests/test_streams.py"):
        assert (data.tree / rel).read_text() == (source / rel).read_text()


def test_cli_builds_a_class_set_and_scores_whole_classes_with_the_real_model(
    tmp_path: Path,
) -> None:
    """Through the CLI and the real model: each class's sibling is its first answer; the
    ablation with members answering is scored beside it."""
    source = make_tree(tmp_path / "src")
    build = ["build-set", "--in-place", "--queries", "classes", "--from-folder", str(source)]
    assert bench_main([*build, "--out", str(tmp_path / "sets" / "classes")]) == 0
    out = tmp_path / "quality.json"
    pipelines = "hybrid,hybrid/class_results=off"
    quality = ["quality", "--data", str(tmp_path / "sets"), "--pipelines", pipelines]
    assert bench_main([*quality, "--out", str(out)]) == 0
    entry = json.loads(out.read_text())["sets"]["classes"]
    assert entry["queries"] == 6
    scores = {name: p["mrr"] for name, p in entry["pipelines"].items()}
    assert scores["hybrid"] == 1.0
    assert set(scores) == {"hybrid", "hybrid/class_results=off"}
