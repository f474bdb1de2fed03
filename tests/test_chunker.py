"""Chunking source files into definitions, blocks and windows."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.engine import chunker
from lsp_server.engine.chunker import chunk_text
from lsp_server.engine.chunks import Chunk

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

Row = tuple[str, str, str, int, int]  # kind, symbol, container, start_line, end_line


def rows(chunks: list[Chunk]) -> list[Row]:
    return [(c.kind, c.symbol, c.container, c.start_line, c.end_line) for c in chunks]


def by_symbol(chunks: list[Chunk], symbol: str) -> Chunk:
    [found] = [c for c in chunks if c.symbol == symbol and c.part <= 1]
    return found


def offsets(text: str) -> list[int]:
    """Line start offsets with the LSP newline rule (\\r\\n, \\n, \\r)."""
    starts = [0]
    i = 0
    while i < len(text):
        if text[i] == "\r":
            i += 2 if text[i + 1 : i + 2] == "\n" else 1
            starts.append(i)
        elif text[i] == "\n":
            i += 1
            starts.append(i)
        else:
            i += 1
    return starts


def check_invariants(text: str, chunks: list[Chunk], max_chars: int = 1500) -> None:
    """Text is the exact slice; no overlaps but split parts and windows; all code covered."""
    starts = offsets(text)
    covered = [False] * len(text)
    previous: tuple[int, int, Chunk] | None = None
    for c in chunks:
        s = starts[c.start_line] + c.start_col
        e = starts[c.end_line] + c.end_col
        assert text[s:e] == c.text, c
        assert c.text and c.text == c.text.strip(), c
        assert len(c.text) <= max_chars or c.part == 0, c
        if c.part:
            assert len(c.text) <= max_chars, c
        if previous is not None:
            ps, pe, pc = previous
            assert s >= ps, "chunks are ordered by position"
            same_definition = c.part > 1 and (pc.symbol, pc.kind) == (c.symbol, c.kind)
            if not same_definition and c.kind != "window":
                assert s >= pe, f"overlap: {pc} / {c}"
        previous = (s, e, c)
        covered[s:e] = [True] * (e - s)
    for i, ch in enumerate(text):
        assert ch.isspace() or covered[i], f"uncovered {text[max(0, i - 20) : i + 20]!r}"


def chunk(text: str, language: str, path: str = "f", **kwargs: int) -> list[Chunk]:
    chunks = chunk_text(path, text, language, **kwargs)
    check_invariants(text, chunks, kwargs.get("max_chars", 1500))
    return chunks


# --------------------------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------------------------

PYTHON = '''\
"""Module docstring."""
import os
from typing import Any

LIMIT = 10


# Decorated class, with a comment above it.
@dataclass
class Parser(Base):
    """Parses things."""

    mode: str = "fast"

    # Parse the data.
    def parse(self, data: bytes) -> Tree:
        def helper(x):
            return x * 2

        return helper(data)

    cache = {}

    @staticmethod
    def build(
        a: int,
        b: int,
    ) -> "Parser":
        return Parser()

    class Options:
        depth = 1

        def validate(self) -> bool:
            return True


def main(argv: list[str] | None = None) -> int:
    return 0


if __name__ == "__main__":
    main()
'''


def test_python_definitions() -> None:
    chunks = chunk(PYTHON, "python", "pkg/parser.py")
    assert rows(chunks) == [
        ("block", "", "", 0, 4),
        ("class", "Parser", "", 7, 12),
        ("method", "Parser.parse", "Parser", 14, 19),
        ("block", "", "Parser", 21, 21),
        ("method", "Parser.build", "Parser", 23, 28),
        ("class", "Parser.Options", "Parser", 30, 31),
        ("method", "Parser.Options.validate", "Parser.Options", 33, 34),
        ("function", "main", "", 37, 38),
        ("block", "", "", 41, 42),
    ]
    assert {c.path for c in chunks} == {"pkg/parser.py"}
    assert {c.language for c in chunks} == {"python"}
    assert all(c.part == 0 for c in chunks)


def test_python_texts_and_signatures() -> None:
    chunks = chunk(PYTHON, "python")
    cls = by_symbol(chunks, "Parser")
    assert cls.text == (
        "# Decorated class, with a comment above it.\n@dataclass\nclass Parser(Base):\n"
        '    """Parses things."""\n\n    mode: str = "fast"'
    )
    assert cls.signature == "class Parser(Base):"
    assert (cls.start_col, cls.end_col) == (0, 22)

    parse = by_symbol(chunks, "Parser.parse")
    assert parse.text.startswith("# Parse the data.\n    def parse(self, data: bytes) -> Tree:")
    assert "def helper(x):" in parse.text  # nested functions stay in their parent
    assert parse.text.endswith("return helper(data)")
    assert (parse.start_col, parse.end_col) == (4, 27)
    assert parse.signature == "def parse(self, data: bytes) -> Tree:"

    build = by_symbol(chunks, "Parser.build")
    assert build.text.startswith("@staticmethod\n    def build(")
    assert build.signature == 'def build(a: int, b: int) -> "Parser":'

    assert by_symbol(chunks, "main").signature == "def main(argv: list[str] | None = None) -> int:"
    module_header = '"""Module docstring."""\nimport os\nfrom typing import Any\n\nLIMIT = 10'
    assert chunks[0].text == module_header
    assert chunks[-1].text == 'if __name__ == "__main__":\n    main()'
    assert all(c.signature == "" for c in chunks if c.kind == "block")


def test_python_class_without_methods_is_whole() -> None:
    text = "class Point:\n    x: int\n    y: int\n"
    [c] = chunk(text, "python")
    assert (c.kind, c.symbol, c.start_line, c.end_line, c.text) == (
        "class",
        "Point",
        0,
        2,
        "class Point:\n    x: int\n    y: int",
    )


def test_definitions_inside_functions_are_not_chunks() -> None:
    text = (
        "def outer():\n    class Local:\n        def m(self):\n            pass\n    return Local\n"
    )
    assert rows(chunk(text, "python")) == [("function", "outer", "", 0, 4)]


def test_python_definitions_under_if_are_found() -> None:
    text = "import sys\nif sys.platform == 'win32':\n    def path():\n        return 'C:'\n"
    assert rows(chunk(text, "python")) == [
        ("block", "", "", 0, 1),
        ("function", "path", "", 2, 3),
    ]


# --------------------------------------------------------------------------------------------
# JavaScript / TypeScript
# --------------------------------------------------------------------------------------------

JAVASCRIPT = """\
import fs from "fs";

/** Reads a file. */
export function read(path) {
  return fs.readFileSync(path);
}

const double = (x) => x * 2;
let a = 1, triple = function (x) { return x * 3; };

Widget.prototype.render = function () {
  return this.el;
};

export class Store extends Base {
  items = [];
  add = (item) => { this.items.push(item); };

  // Finds an item.
  find(id) {
    const match = (item) => item.id === id;
    return this.items.find(match);
  }

  static get size() {
    return 0;
  }
}

export default function () {
  return 42;
}
"""


def test_javascript_definitions() -> None:
    chunks = chunk(JAVASCRIPT, "javascript", "src/store.js")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("function", "read", "", 2, 5),
        ("function", "double", "", 7, 7),
        ("block", "", "", 8, 8),
        ("function", "triple", "", 8, 8),
        ("method", "Widget.render", "Widget", 10, 12),
        ("class", "Store", "", 14, 15),
        ("method", "Store.add", "Store", 16, 16),
        ("method", "Store.find", "Store", 18, 22),
        ("method", "Store.size", "Store", 24, 26),
        ("block", "", "Store", 27, 27),
        ("function", "default", "", 29, 31),
    ]
    read = by_symbol(chunks, "read")
    assert read.text.startswith("/** Reads a file. */\nexport function read(path) {")
    assert read.signature == "export function read(path)"
    assert by_symbol(chunks, "double").signature == "const double = (x) =>"
    assert by_symbol(chunks, "double").text == "const double = (x) => x * 2;"
    triple = by_symbol(chunks, "triple")
    assert (triple.start_col, triple.text[:8]) == (11, "triple =")
    assert chunks[3].text == "let a = 1,"
    assert by_symbol(chunks, "Store").signature == "export class Store extends Base"
    assert by_symbol(chunks, "Store").text == "export class Store extends Base {\n  items = [];"
    assert "const match" in by_symbol(chunks, "Store.find").text
    assert by_symbol(chunks, "Store.size").signature == "static get size()"
    assert by_symbol(chunks, "default").signature == "export default function ()"


TYPESCRIPT = """\
export interface Options {
  depth: number;
  run(): void;
}

export type Point = { x: number; y: number };
type Alias = string | number;

enum Color { Red, Green }

@Component({ selector: "app" })
export class AppComponent implements OnInit {
  private count = 0;

  constructor(private readonly http: HttpClient) {}

  @Input()
  ngOnInit(): void {
    this.count++;
  }

  abstract reset(): void;
  handler = (e: Event): boolean => true;
}

export const load = async <T,>(url: string): Promise<T> => {
  return fetch(url) as T;
};
"""


def test_typescript_definitions() -> None:
    chunks = chunk(TYPESCRIPT, "typescript", "src/app.ts")
    assert rows(chunks) == [
        ("class", "Options", "", 0, 3),
        ("class", "Point", "", 5, 5),
        ("block", "", "", 6, 6),
        ("class", "Color", "", 8, 8),
        ("class", "AppComponent", "", 10, 12),
        ("method", "AppComponent.constructor", "AppComponent", 14, 14),
        ("method", "AppComponent.ngOnInit", "AppComponent", 16, 19),
        ("block", "", "AppComponent", 21, 21),
        ("method", "AppComponent.handler", "AppComponent", 22, 22),
        ("block", "", "AppComponent", 23, 23),
        ("function", "load", "", 25, 27),
    ]
    assert by_symbol(chunks, "Options").signature == "export interface Options"
    assert by_symbol(chunks, "Point").signature == "export type Point ="
    app = by_symbol(chunks, "AppComponent")
    assert app.text.startswith('@Component({ selector: "app" })\nexport class AppComponent')
    assert app.signature == "export class AppComponent implements OnInit"
    on_init = by_symbol(chunks, "AppComponent.ngOnInit")
    assert on_init.text.startswith("@Input()\n  ngOnInit(): void {")
    assert on_init.signature == "ngOnInit(): void"
    assert chunks[7].text == "abstract reset(): void;"
    assert by_symbol(chunks, "load").signature == (
        "export const load = async <T,>(url: string): Promise<T> =>"
    )


def test_tsx_component() -> None:
    text = (
        'import React from "react";\n\n'
        "export const Button = ({ label }: Props) => {\n"
        "  return <button>{label}</button>;\n"
        "};\n\n"
        "export default function App() {\n"
        "  const inner = () => 1;\n"
        '  return <div><Button label="x" /></div>;\n'
        "}\n"
    )
    chunks = chunk(text, "tsx", "App.tsx")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("function", "Button", "", 2, 4),
        ("function", "App", "", 6, 9),
    ]
    assert by_symbol(chunks, "App").signature == "export default function App()"


def test_jsx_in_javascript() -> None:
    text = "function Hello({ name }) {\n  return <h1>Hello {name}</h1>;\n}\n"
    assert rows(chunk(text, "javascript")) == [("function", "Hello", "", 0, 2)]


# --------------------------------------------------------------------------------------------
# Other grammars
# --------------------------------------------------------------------------------------------

GO = """\
package server

import "context"

// Server serves requests.
type Server struct {
	addr string
}

type (
	ID      int
	Handler interface{ Handle() }
)

// Serve runs until ctx is done.
func (s *Server) Serve(ctx context.Context) error {
	return nil
}

func (c Cache[K]) Get(k K) int { return 0 }

func New(addr string) *Server {
	return &Server{addr: addr}
}
"""


def test_go_definitions() -> None:
    chunks = chunk(GO, "go", "server.go")
    assert rows(chunks) == [
        ("block", "", "", 0, 2),
        ("class", "Server", "", 4, 7),
        ("block", "", "", 9, 9),
        ("class", "ID", "", 10, 10),
        ("class", "Handler", "", 11, 11),
        ("block", "", "", 12, 12),
        ("method", "Server.Serve", "Server", 14, 17),
        ("method", "Cache.Get", "Cache", 19, 19),
        ("function", "New", "", 21, 23),
    ]
    serve = by_symbol(chunks, "Server.Serve")
    assert serve.signature == "func (s *Server) Serve(ctx context.Context) error"
    assert serve.text.startswith("// Serve runs until ctx is done.\nfunc (s *Server)")
    assert by_symbol(chunks, "Server").signature == "type Server struct"


RUST = """\
use std::fmt;

/// A point.
#[derive(Debug, Clone)]
pub struct Point<T> {
    x: T,
}

impl<T: fmt::Display> fmt::Display for Point<T> {
    type Output = ();

    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.x)
    }
}

pub trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> String {
        String::from("shape")
    }
}

mod util {
    pub fn helper() -> u8 {
        let inner = |x: u8| x + 1;
        inner(1)
    }
}

enum Kind { A, B }
"""


def test_rust_definitions() -> None:
    chunks = chunk(RUST, "rust", "src/lib.rs")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("class", "Point", "", 2, 6),
        ("class", "Point", "", 8, 9),
        ("method", "Point.fmt", "Point", 11, 13),
        ("block", "", "Point", 14, 14),
        ("class", "Shape", "", 16, 17),
        ("method", "Shape.name", "Shape", 18, 20),
        ("block", "", "", 21, 23),
        ("function", "helper", "", 24, 27),
        ("block", "", "", 28, 28),
        ("class", "Kind", "", 30, 30),
    ]
    point = chunks[1]
    assert point.text.startswith("/// A point.\n#[derive(Debug, Clone)]\npub struct Point<T>")
    assert point.signature == "pub struct Point<T>"
    assert chunks[2].signature == "impl<T: fmt::Display> fmt::Display for Point<T>"
    assert by_symbol(chunks, "Point.fmt").signature == (
        "fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result"
    )


JAVA = """\
package app;

import java.util.List;

/** A service. */
@Service
public class UserService extends Base {
    private final Repo repo;

    /** Creates it. */
    public UserService(Repo repo) {
        this.repo = repo;
    }

    @Override
    public List<User> findAll() throws IOException {
        return repo.all();
    }

    abstract void reset();

    static class Cache {
        void clear() {}
    }
}

interface Named {
    String name();
    default String upper() { return name().toUpperCase(); }
}
"""


def test_java_definitions() -> None:
    chunks = chunk(JAVA, "java", "UserService.java")
    assert rows(chunks) == [
        ("block", "", "", 0, 2),
        ("class", "UserService", "", 4, 7),
        ("method", "UserService.UserService", "UserService", 9, 12),
        ("method", "UserService.findAll", "UserService", 14, 17),
        ("block", "", "UserService", 19, 19),
        ("class", "UserService.Cache", "UserService", 21, 21),
        ("method", "UserService.Cache.clear", "UserService.Cache", 22, 22),
        ("block", "", "UserService", 23, 24),
        ("class", "Named", "", 26, 27),
        ("method", "Named.upper", "Named", 28, 28),
        ("block", "", "Named", 29, 29),
    ]
    find_all = by_symbol(chunks, "UserService.findAll")
    assert find_all.signature == "@Override public List<User> findAll() throws IOException"
    assert by_symbol(chunks, "UserService").signature == (
        "@Service public class UserService extends Base"
    )
    assert chunks[4].text == "abstract void reset();"


C_SOURCE = """\
#include <stdio.h>

typedef struct {
    int x;
} Point;

struct node {
    struct node *next;
};

enum color { RED, GREEN };

int add(int a, int b);

/* Makes a point. */
static Point *make_point(int x) {
    return NULL;
}
"""


def test_c_definitions() -> None:
    chunks = chunk(C_SOURCE, "c", "point.c")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("class", "Point", "", 2, 4),
        ("class", "node", "", 6, 8),
        ("class", "color", "", 10, 10),
        ("block", "", "", 12, 12),
        ("function", "make_point", "", 14, 17),
    ]
    assert by_symbol(chunks, "node").text.endswith("};")  # the `;` belongs to the struct
    assert by_symbol(chunks, "make_point").signature == "static Point *make_point(int x)"


CPP = """\
#include <string>

namespace geo {

template <typename T>
class Shape : public Base {
 public:
  int sides = 0;
  double area() const { return 0.0; }
  Shape();
};

}  // namespace geo

template <typename T>
void Shape<T>::resize(int factor) {
  sides *= factor;
}

Shape::~Shape() {}
"""


def test_cpp_definitions() -> None:
    chunks = chunk(CPP, "cpp", "shape.cpp")
    assert rows(chunks) == [
        ("block", "", "", 0, 2),
        ("class", "Shape", "", 4, 7),
        ("method", "Shape.area", "Shape", 8, 8),
        ("block", "", "", 9, 12),
        ("method", "Shape.resize", "Shape", 14, 17),
        ("method", "Shape.~Shape", "Shape", 19, 19),
    ]
    shape = by_symbol(chunks, "Shape")
    assert shape.signature == "template <typename T> class Shape : public Base"
    assert by_symbol(chunks, "Shape.resize").signature == (
        "template <typename T> void Shape<T>::resize(int factor)"
    )


CSHARP = """\
using System;

namespace App.Models;

/// <summary>A user.</summary>
[Serializable]
public class User : Entity
{
    public string Name { get; set; }

    public User(string name) { Name = name; }

    public string Greet(string other) => $"Hi {other}";

    public abstract void Reset();
}

public record Point(int X, int Y);
"""


def test_csharp_definitions() -> None:
    chunks = chunk(CSHARP, "csharp", "User.cs")
    assert rows(chunks) == [
        ("block", "", "", 0, 2),
        ("class", "User", "", 4, 8),
        ("method", "User.User", "User", 10, 10),
        ("method", "User.Greet", "User", 12, 12),
        ("block", "", "User", 14, 15),
        ("class", "Point", "", 17, 17),
    ]
    assert by_symbol(chunks, "User").signature == "public class User : Entity"
    assert by_symbol(chunks, "User.Greet").signature == "public string Greet(string other)"


RUBY = """\
require "json"

# Billing things.
module Billing
  class Invoice < Base
    TAX = 0.2

    def total(items, discount = 0)
      items.sum - discount
    end

    def self.build; end

    class << self
      def load(id)
        find(id)
      end
    end
  end
end
"""


def test_ruby_definitions() -> None:
    chunks = chunk(RUBY, "ruby", "lib/billing.rb")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("class", "Billing", "", 2, 3),
        ("class", "Billing.Invoice", "Billing", 4, 5),
        ("method", "Billing.Invoice.total", "Billing.Invoice", 7, 9),
        ("method", "Billing.Invoice.build", "Billing.Invoice", 11, 11),
        ("block", "", "Billing.Invoice", 13, 13),
        ("method", "Billing.Invoice.load", "Billing.Invoice", 14, 16),
        ("block", "", "Billing", 17, 19),
    ]
    assert by_symbol(chunks, "Billing.Invoice.total").signature == "def total(items, discount = 0)"
    assert by_symbol(chunks, "Billing.Invoice").signature == "class Invoice < Base"


PHP = """\
<?php
namespace App;

/** A controller. */
#[Route('/users')]
final class UserController extends Controller
{
    private int $limit = 10;

    public function index(Request $request): Response
    {
        return new Response();
    }

    abstract protected function guard();
}

function helper(string $s): string { return trim($s); }
"""


def test_php_definitions() -> None:
    chunks = chunk(PHP, "php", "src/UserController.php")
    assert rows(chunks) == [
        ("block", "", "", 0, 1),
        ("class", "UserController", "", 3, 7),
        ("method", "UserController.index", "UserController", 9, 12),
        ("block", "", "UserController", 14, 15),
        ("function", "helper", "", 17, 17),
    ]
    assert by_symbol(chunks, "UserController.index").signature == (
        "public function index(Request $request): Response"
    )


# --------------------------------------------------------------------------------------------
# Splitting long definitions and windows
# --------------------------------------------------------------------------------------------


def long_function(lines: int) -> str:
    body = "".join(f"    value_{i} = compute({i}) + offset  # step {i}\n" for i in range(lines))
    return f"import os\n\n\ndef process(data: bytes, *, strict: bool = True) -> int:\n{body}"


def test_long_definition_is_split_into_overlapping_parts() -> None:
    text = long_function(120)  # body lines of ~48 chars: 5,739 chars in all
    chunks = chunk(text, "python", max_chars=1000, overlap_lines=3)
    assert rows(chunks)[0] == ("block", "", "", 0, 0)
    parts = chunks[1:]
    assert [(p.part, p.start_line, p.end_line) for p in parts] == [
        (1, 3, 23),
        (2, 21, 41),
        (3, 39, 59),
        (4, 57, 77),
        (5, 75, 95),
        (6, 93, 112),
        (7, 110, 123),
    ]
    for p in parts:
        assert (p.kind, p.symbol, p.container) == ("function", "process", "")
        assert p.signature == "def process(data: bytes, *, strict: bool = True) -> int:"
        assert len(p.text) <= 1000
    assert (parts[0].start_line, parts[0].start_col) == (3, 0)
    assert parts[0].text.startswith("def process(")
    assert parts[-1].end_line == 123
    assert parts[-1].text.endswith("# step 119")
    for before, after in zip(parts, parts[1:], strict=False):
        assert after.start_line == before.end_line - 2  # three lines shared
        assert after.end_line > before.end_line


def test_split_without_overlap() -> None:
    chunks = chunk(long_function(60), "python", max_chars=500, overlap_lines=0)
    parts = [c for c in chunks if c.part]
    assert len(parts) >= 5
    for before, after in zip(parts, parts[1:], strict=False):
        assert after.start_line == before.end_line + 1


def test_definition_just_under_limit_is_not_split() -> None:
    text = "def f():\n    return 1\n"
    [c] = chunk(text, "python", max_chars=len(text.strip()))
    assert c.part == 0
    [*parts] = chunk(text, "python", max_chars=len(text.strip()) - 1)
    assert [p.part for p in parts] == [1, 2]


def test_top_level_blocks_are_windows_of_lines() -> None:
    text = "".join(f"CONSTANT_{i} = {i}\n" for i in range(100)) + "\ndef f():\n    pass\n"
    chunks = chunk(text, "python", window_lines=40)
    assert rows(chunks) == [
        ("block", "", "", 0, 39),
        ("block", "", "", 40, 79),
        ("block", "", "", 80, 99),
        ("function", "f", "", 101, 102),
    ]


def test_blocks_skip_blank_lines_and_respect_max_chars() -> None:
    text = "\n\n\nx = 1\n\n\n\ny = 2\n" + "z = '" + "a" * 300 + "'\n"
    chunks = chunk(text, "python", max_chars=100)
    assert rows(chunks)[0] == ("block", "", "", 3, 7)
    assert all(len(c.text) <= 100 for c in chunks)
    assert [c.start_line for c in chunks] == [3, 8, 8, 8, 8]  # the long line is hard-cut


def test_markdown_windows_use_headings() -> None:
    text = (
        "Intro line.\n\n# Install\n\nRun pip.\n\n```sh\n# not a heading\npip install x\n```\n\n"
        "## Usage ##\n\nCall it.\n"
    )
    chunks = chunk(text, "markdown", "README.md")
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("window", "", 0, 0),
        ("window", "Install", 2, 9),
        ("window", "Usage", 11, 13),
    ]


def test_yaml_windows_overlap() -> None:
    text = "".join(f"key_{i}: value {i}\n" for i in range(100))
    chunks = chunk(text, "yaml", "ci.yml", window_lines=40, overlap_lines=3)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("window", "", 0, 39),
        ("window", "", 37, 76),
        ("window", "", 74, 99),
    ]
    assert all(c.container == "" and c.signature == "" and c.part == 0 for c in chunks)


def test_windows_cap_characters() -> None:
    text = "".join("word " * 30 + "\n" for _ in range(50))  # 151 chars a line
    chunks = chunk(text, "text", max_chars=500, overlap_lines=1)
    assert all(len(c.text) <= 500 for c in chunks)
    assert [c.start_line for c in chunks[:3]] == [0, 2, 4]  # 3 lines a window, 1 shared


def test_unknown_language_falls_back_to_windows() -> None:
    text = 'fun main() {\n    println("hi")\n}\n'
    assert rows(chunk(text, "kotlin")) == [("window", "", "", 0, 2)]


def test_failed_grammar_falls_back_to_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunker, "_grammar", lambda language: None)
    assert rows(chunk("def f():\n    pass\n", "python")) == [("window", "", "", 0, 1)]


# --------------------------------------------------------------------------------------------
# Syntax errors
# --------------------------------------------------------------------------------------------


def test_python_syntax_error_keeps_valid_definitions() -> None:
    text = (
        "import os\n\n\ndef good_one(a):\n    return a + 1\n\n\n"
        "def broken(a:\n    return (a +\n\n\n"
        "class Keeper:\n    def method(self):\n        return 2\n\n\n"
        "def good_two():\n    return 3\n"
    )
    assert rows(chunk(text, "python")) == [
        ("block", "", "", 0, 0),
        ("function", "good_one", "", 3, 4),
        ("block", "", "", 7, 8),
        ("class", "Keeper", "", 11, 11),
        ("method", "Keeper.method", "Keeper", 12, 13),
        ("function", "good_two", "", 16, 17),
    ]


def test_javascript_syntax_error_keeps_valid_definitions() -> None:
    text = (
        "function ok1() { return 1; }\n"
        "function bad( { return\n"
        "const ok2 = () => 2;\n"
        "class K { m() { return 3 } }\n"
    )
    chunks = chunk(text, "javascript")
    assert [(c.kind, c.symbol) for c in chunks] == [
        ("function", "ok1"),
        ("block", ""),
        ("function", "ok2"),
        ("class", "K"),
        ("method", "K.m"),
        ("block", ""),
    ]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "typescript",
            "export function one(a: number) {\n  if (a) {\n    return 1;\n}\n\n"
            "export function two() {\n  return 2;\n}\n",
            [("function", "one", "", 0, 3), ("function", "two", "", 5, 7)],
        ),
        (
            "javascript",
            "function one() {\n  if (a) {\n}\n\nfunction two() {\n  if (b) {\n}\n\n"
            "function three() {\n  return 3;\n}\n",
            [
                ("function", "one", "", 0, 2),
                ("function", "two", "", 4, 6),
                ("function", "three", "", 8, 10),
            ],
        ),
        (
            "go",
            "package b\n\nfunc one() {\n\tif x {\n}\n\nfunc two() int {\n\treturn 2\n}\n",
            [
                ("block", "", "", 0, 0),
                ("function", "one", "", 2, 4),
                ("function", "two", "", 6, 8),
            ],
        ),
        (
            "java",
            "class B {\n  void m() {\n    if (x) {\n  }\n\n  void n() {\n    return;\n  }\n}\n",
            [
                ("class", "B", "", 0, 0),
                ("method", "B.m", "B", 1, 3),
                ("method", "B.n", "B", 5, 7),
                ("block", "", "B", 8, 8),
            ],
        ),
    ],
)
def test_unclosed_brace_does_not_swallow_later_definitions(
    language: str, text: str, expected: list[Row]
) -> None:
    assert rows(chunk(text, language)) == expected


def test_cpp_in_a_c_header_is_parsed_as_cpp() -> None:
    text = (
        "#pragma once\n#include <vector>\n\nnamespace util {\n"
        "class Buffer {\n public:\n  int size() const { return n_; }\n private:\n  int n_;\n};\n"
        "}  // namespace util\n"
    )
    chunks = chunk(text, "c", "buffer.h")
    assert rows(chunks) == [
        ("block", "", "", 0, 3),
        ("class", "Buffer", "", 4, 5),
        ("method", "Buffer.size", "Buffer", 6, 6),
        ("block", "", "", 7, 10),
    ]
    assert {c.language for c in chunks} == {"c"}


def test_plain_c_header() -> None:
    text = "#include <stdio.h>\n\nstruct pair { int a; int b; };\nint sum(struct pair p);\n"
    assert rows(chunk(text, "c", "pair.h")) == [
        ("block", "", "", 0, 0),
        ("class", "pair", "", 2, 2),
        ("block", "", "", 3, 3),
    ]


# --------------------------------------------------------------------------------------------
# Positions, newlines, odd input
# --------------------------------------------------------------------------------------------


def test_empty_and_blank_files() -> None:
    assert chunk_text("a.py", "", "python") == []
    assert chunk_text("a.py", "  \n\n\t\n", "python") == []
    assert chunk_text("a.md", "", "markdown") == []
    assert chunk_text("a.txt", "\r\n\r\n", "text") == []


def test_crlf_ranges() -> None:
    text = "import os\r\n\r\ndef f():\r\n    return 1\r\n\r\nclass A:\r\n    x = 1\r\n"
    chunks = chunk(text, "python")
    assert [(c.kind, c.start_line, c.start_col, c.end_line, c.end_col) for c in chunks] == [
        ("block", 0, 0, 0, 9),
        ("function", 2, 0, 3, 12),
        ("class", 5, 0, 6, 9),
    ]
    assert chunks[1].text == "def f():\r\n    return 1"


def test_lone_cr_is_a_line_break() -> None:
    text = "alpha\rbeta\r\rgamma"
    [c] = chunk(text, "text")
    assert (c.start_line, c.end_line, c.end_col) == (0, 3, 5)


def test_columns_count_code_points() -> None:
    text = "let s = '✓😀'; function f() { return 'é'; }\nconst t = '😀';\n"
    chunks = chunk(text, "javascript")
    f = by_symbol(chunks, "f")
    assert (f.start_line, f.start_col, f.end_col) == (0, 14, 42)  # 😀 is one column
    assert f.text == "function f() { return 'é'; }"
    assert chunks[0].text == "let s = '✓😀';"
    assert (chunks[-1].start_line, chunks[-1].end_col) == (1, 14)


def test_non_ascii_python_offsets() -> None:
    text = "# Ünïcödé header ✓\nNAME = 'naïve'\n\n\ndef grüß(x):\n    return '日本語'\n"
    chunks = chunk(text, "python")
    assert rows(chunks) == [("block", "", "", 0, 1), ("function", "grüß", "", 4, 5)]
    assert chunks[1].text == "def grüß(x):\n    return '日本語'"
    assert chunks[1].end_col == 16


def test_lone_surrogates_do_not_crash() -> None:
    text = "def f():\n    return '\ud800'\n"
    [c] = chunk(text, "python")
    assert c.symbol == "f"


def test_deeply_nested_javascript() -> None:
    text = "const x = " + "[" * 5000 + "]" * 5000 + ";\nfunction after() { return 1; }\n"
    started = time.perf_counter()
    chunks = chunk(text, "javascript")
    assert time.perf_counter() - started < 5
    assert chunks[-1].symbol == "after"


def test_deeply_nested_python() -> None:
    text = "x = " + "(" * 5000 + ")" * 5000 + "\n\ndef after():\n    return 1\n"
    started = time.perf_counter()
    chunks = chunk(text, "python")
    assert time.perf_counter() - started < 5
    assert chunks[-1].symbol == "after"


def test_deeply_nested_definitions() -> None:
    text = "function f() {" * 3000 + "}" * 3000 + "\n"
    chunks = chunk(text, "javascript")
    assert {c.symbol for c in chunks} == {"f"}


@pytest.mark.parametrize("language", ["javascript", "python", "text"])
def test_two_megabyte_single_line(language: str) -> None:
    text = "var a = [" + "1234567," * 262_144 + "];"
    assert len(text) > 2_000_000
    started = time.perf_counter()
    chunks = chunk(text, language, max_chars=1500)
    assert time.perf_counter() - started < 5
    assert all(len(c.text) <= 1500 and c.start_line == c.end_line == 0 for c in chunks)
    assert sum(len(c.text) for c in chunks) == len(text)  # hard-cut pieces, no overlap


def test_long_line_in_definition_is_hard_cut() -> None:
    text = "def f():\n    return '" + "x" * 5000 + "'\n"
    chunks = chunk(text, "python", max_chars=1000)
    assert [c.part for c in chunks] == [1, 2, 3, 4, 5, 6, 7]
    assert all(c.symbol == "f" and c.signature == "def f():" for c in chunks)
    assert chunks[0].text == "def f():"  # the long line does not fit beside it
    assert [len(c.text) for c in chunks[1:]] == [996, 1000, 1000, 1000, 1000, 13]
    assert all(c.start_line == c.end_line == 1 for c in chunks[1:])


# --------------------------------------------------------------------------------------------
# Real code, threads, speed, random input
# --------------------------------------------------------------------------------------------


def stdlib_source() -> str:
    return Path(argparse.__file__).read_text(encoding="utf-8")


def test_stdlib_module() -> None:
    text = stdlib_source()
    chunks = chunk(text, "python", "argparse.py")
    parse_args = by_symbol(chunks, "ArgumentParser.parse_args")
    assert parse_args.kind == "method"
    assert parse_args.container == "ArgumentParser"
    assert parse_args.signature.startswith("def parse_args(self, args=None, namespace=None)")
    assert by_symbol(chunks, "ArgumentParser").kind == "class"
    assert sum(c.kind == "class" for c in chunks) >= 20


def test_chunking_1000_lines_is_fast() -> None:
    text = "".join(stdlib_source().splitlines(keepends=True)[:1000])
    chunk_text("a.py", text, "python")  # load the grammar outside the timing
    started = time.perf_counter()
    for _ in range(5):
        chunk_text("a.py", text, "python")
    assert (time.perf_counter() - started) / 5 < 0.1  # a few ms in practice


def test_threads_get_the_same_result() -> None:
    text = stdlib_source()
    expected = chunk_text("a.py", text, "python")
    results: list[list[Chunk]] = []

    def work() -> None:
        for _ in range(3):
            results.append(chunk_text("a.py", text, "python"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert all(r == expected for r in results)


FRAGMENTS = [
    "def f(a, b):",
    "    return a",
    "class C:",
    "    x = 1",
    "    def m(self):",
    "        pass",
    "@decorator",
    "# comment",
    "",
    "   ",
    "if x:",
    "import os",
    "function g() {",
    "}",
    "const h = () => {",
    "  return 1;",
    "class K {",
    "  m() { return 2 }",
    '"""',
    "(((",
    "é😀",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    language=st.sampled_from(["python", "javascript", "typescript", "markdown"]),
    max_chars=st.integers(min_value=8, max_value=200),
)
def test_random_input_keeps_invariants(
    lines: list[str], newline: str, language: str, max_chars: int
) -> None:
    text = newline.join(lines)
    chunks = chunk_text("r", text, language, max_chars=max_chars, window_lines=5)
    check_invariants(text, chunks, max_chars)
