"""Class sets: classes that share a direct supertype, asked as Find Similar on their header."""

from __future__ import annotations

import json
from pathlib import Path

from lsp_server.bench.classsets import build_class_set, supertypes
from lsp_server.bench.cli import main as bench_main
from lsp_server.bench.treeset import load_tree_set

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

TEST = """class FakeStream(Base):
    def read(self, size):
        return b"x" * size
"""


def make_tree(root: Path) -> Path:
    files = {
        "pkg/streams.py": STREAMS,
        "src/Nodes.java": NODES,
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
    """The two streams of `Base` find each other, Java's two `Node`s too, each target the
    whole class; a marker class without members, a class without a base, a generic box and
    a test's fake are not asked, and the tree is copied unchanged."""
    source = make_tree(tmp_path / "src")
    asked = build_class_set(source, tmp_path / "set", sample=50, meta={})
    data = load_tree_set(tmp_path / "set")
    assert asked == len(data.questions) == 4
    assert asked_with_targets(data) == {
        ("ByteStream", "pkg/streams.py", 4): [("pkg/streams.py", 11, 18)],
        ("FileStream", "pkg/streams.py", 11): [("pkg/streams.py", 4, 8)],
        ("Element", "src/Nodes.java", 7): [("src/Nodes.java", 15, 21)],
        ("TextNode", "src/Nodes.java", 15): [("src/Nodes.java", 7, 13)],
    }
    by_symbol = {q.extra["symbol"]: q for q in data.questions}
    assert by_symbol["FileStream"].query == "class FileStream(Base):"
    assert by_symbol["Element"].extra["bases"] == ["Comparable", "Node"]
    assert {q.ask for q in data.questions} == {"similar"}
    assert data.meta["queries"] == "classes" and data.meta["counts"]["eligible"] == 4
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
    assert entry["queries"] == 4
    scores = {name: p["mrr"] for name, p in entry["pipelines"].items()}
    assert scores["hybrid"] == 1.0
    assert set(scores) == {"hybrid", "hybrid/class_results=off"}
