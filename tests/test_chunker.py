"""Chunking source files into definitions, blocks and windows."""

from __future__ import annotations

import argparse
import re
import threading
import time
from bisect import bisect_right
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.engine.chunker import (
    chunk_text,
    grammars,
    is_commentary,
    is_name_list,
    language_at,
    nested_chunk,
    says_something,
)
from lsp_server.engine.chunks import Chunk
from lsp_server.engine.ranking import is_declaration
from lsp_server.engine.results import preview_of
from lsp_server.engine.supertypes import supertypes

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

Row = tuple[str, str, str, int, int]  # kind, symbol, container, start_line, end_line


def rows(chunks: list[Chunk]) -> list[Row]:
    return [(c.kind, c.symbol, c.container, c.start_line, c.end_line) for c in chunks]


def definitions(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """(kind, symbol) of every chunk but the code between definitions."""
    return [(c.kind, c.symbol) for c in chunks if c.kind != "block"]


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


COMMENT_LINE = ("#", "//", "/*", "*")


def check_invariants(text: str, chunks: list[Chunk], max_chars: int = 1500) -> None:
    """Text is the exact slice; no overlaps but split parts and windows; all code covered
    (comment lines may be left out: licence headers and banners standing alone are)."""
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
        if ch.isspace() or covered[i]:
            continue
        line = starts[bisect_right(starts, i) - 1]
        assert text[line:].lstrip().startswith(COMMENT_LINE) or _in_block_comment(text, i), (
            f"uncovered {text[max(0, i - 20) : i + 20]!r}"
        )


def _in_block_comment(text: str, i: int) -> bool:
    return text.rfind("/*", 0, i) > text.rfind("*/", 0, i)


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
        ("imports", "", "", 0, 2),  # the docstring goes with the imports after it
        ("block", "LIMIT", "", 4, 4),
        ("class", "Parser", "", 7, 12),
        ("method", "Parser.parse", "Parser", 14, 19),
        ("block", "cache", "Parser", 21, 21),
        ("method", "Parser.build", "Parser", 23, 28),
        ("class", "Parser.Options", "Parser", 30, 31),
        ("method", "Parser.Options.validate", "Parser.Options", 33, 34),
        ("function", "main", "", 37, 38),
        ("script", "__main__", "", 41, 42),
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
    module_header = '"""Module docstring."""\nimport os\nfrom typing import Any'
    assert [c.text for c in chunks[:2]] == [module_header, "LIMIT = 10"]
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
        ("imports", "", "", 0, 0),
        ("function", "read", "", 2, 5),
        ("function", "double", "", 7, 7),
        ("block", "a", "", 8, 8),
        ("function", "triple", "", 8, 8),
        ("method", "Widget.render", "Widget", 10, 12),
        ("class", "Store", "", 14, 15),
        ("method", "Store.add", "Store", 16, 16),
        ("method", "Store.find", "Store", 18, 22),
        ("method", "Store.size", "Store", 24, 26),
        ("block", "", "Store", 27, 27),
        ("function", "store", "", 29, 31),
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
    # An anonymous default export is named as its importers name it: by its module.
    assert by_symbol(chunks, "store").signature == "export default function ()"


def test_javascript_functions_behind_a_guard_are_definitions() -> None:
    # axios 1.7: `export default isHttpAdapterSupported && function httpAdapter(config) {`
    # heads a 525-line adapter; unseen, its body was 20 nameless blocks.
    text = (
        "const supported = typeof process !== 'undefined';\n"
        "\n"
        "/** Sends the request. */\n"
        "export default supported && function httpAdapter(config) {\n"
        "  const lookup = (host) => host;\n"
        "  return lookup(config.host);\n"
        "}\n"
        "\n"
        "const later = window.requestIdleCallback || (function (cb) {\n"
        "  return setTimeout(cb, 1);\n"
        "});\n"
        "module.exports.polyfill = ok && ((x) => {\n"
        "  return x;\n"
        "});\n"
        "const plain = ok && other;\n"
    )
    chunks = chunk(text, "javascript", "lib/adapters/http.js")
    assert rows(chunks) == [
        ("block", "supported", "", 0, 0),
        ("function", "httpAdapter", "", 2, 6),
        ("function", "later", "", 8, 10),
        ("function", "polyfill", "", 11, 13),
        ("block", "plain", "", 14, 14),
    ]
    adapter = by_symbol(chunks, "httpAdapter")
    assert adapter.text.startswith("/** Sends the request. */\nexport default supported && ")
    assert adapter.signature == "export default supported && function httpAdapter(config)"
    assert "const lookup" in adapter.text  # nested, so part of it
    assert by_symbol(chunks, "later").signature == (
        "const later = window.requestIdleCallback || (function (cb)"
    )


@pytest.mark.parametrize(
    ("path", "text", "name"),
    [
        ("lib/adapters/xhr.js", "export default ok && function (c) {\n  return c;\n}\n", "xhr"),
        ("src/helpers/parseHeaders.ts", "export default (raw: string) => raw;\n", "parseHeaders"),
        ("lib/cancel/index.js", "export default class {\n  run() {}\n}\n", "cancel"),
        ("dist/lib.cjs", "exports.default = function () {\n  return 1;\n};\n", "lib"),
    ],
)
def test_anonymous_default_exports_are_named_by_their_module(path, text, name) -> None:
    language = "typescript" if path.endswith(".ts") else "javascript"
    chunks = chunk(text, language, path)
    assert [c.symbol for c in chunks if c.kind in ("function", "class")] == [name]


def test_javascript_tests_are_units_named_by_their_titles() -> None:
    # @tanstack/query-core's tests were nameless blocks, and every `queryFn: () =>` inside them
    # a function of its own.
    text = (
        "import { describe, it, test } from 'vitest'\n"
        "\n"
        "describe('query', () => {\n"
        "  let client\n"
        "  beforeEach(() => {\n"
        "    client = createClient()\n"
        "  })\n"
        "\n"
        "  it('retries after focus regain', async () => {\n"
        "    await client.fetchQuery({ queryFn: () => 'data' })\n"
        "  })\n"
        "\n"
        "  describe.each([1, 2])('with %i observers', (count) => {\n"
        "    test(`counts ${count}`, function (done) {\n"
        "      done()\n"
        "    }, 5000)\n"
        "  })\n"
        "})\n"
        "\n"
        "emitter.on('data', (chunk) => {\n"
        "  chunks.push(chunk)\n"
        "})\n"
    )
    chunks = chunk(text, "typescript", "src/__tests__/query.test.tsx")
    assert rows(chunks) == [
        ("imports", "", "", 0, 0),
        ("class", "query", "", 2, 6),
        ("method", "query.retries after focus regain", "query", 8, 10),
        ("class", "query.with %i observers", "query", 12, 12),
        ("method", "query.with %i observers.counts ${count}", "query.with %i observers", 13, 15),
        ("block", "", "", 16, 21),  # `emitter.on('data', fn)`: a title and a function, no test
    ]
    test = by_symbol(chunks, "query.retries after focus regain")
    assert test.signature == "it('retries after focus regain', async () =>"
    assert "queryFn" in test.text  # the function inside is part of the test
    suite = by_symbol(chunks, "query")
    assert suite.signature == "describe('query', () =>"
    assert "beforeEach" in suite.text  # the hooks head the suite, as fields head a class

    # Mocha, as express writes it: a suite titled by the member it tests.
    mocha = (
        "describe('req', function(){\n"
        "  describe('.stale', function(){\n"
        "    it('should return false when fresh', function(done){\n"
        "      done()\n"
        "    })\n"
        "  })\n"
        "})\n"
    )
    symbols = [c.symbol for c in chunk(mocha, "javascript", "test/req.stale.js") if c.symbol]
    assert symbols == ["req", "req.stale", "req.stale.should return false when fresh"]

    # Playwright: `test.describe` is a suite, though `test` alone is a test.
    playwright = (
        "test.describe.serial('login', () => {\n"
        "  test('shows an error', async ({ page }) => {\n"
        "    await page.goto('/')\n"
        "  })\n"
        "})\n"
    )
    chunks = chunk(playwright, "typescript", "e2e/login.spec.ts")
    assert [(c.kind, c.symbol) for c in chunks if c.symbol] == [
        ("class", "login"),
        ("method", "login.shows an error"),
    ]


def test_javascript_routes_are_units_named_by_method_and_path() -> None:
    # express's examples: every handler of `app.get('/', …)`, `app.post('/login', …)` was
    # packed into nameless blocks with its neighbours.
    text = (
        "app.get('/', function(req, res){\n"
        "  res.redirect('/login');\n"
        "});\n"
        "\n"
        "app.get('/restricted', restrict, function(req, res){\n"
        "  res.send('Wahoo!');\n"
        "});\n"
        "\n"
        "router.del('/user/:id', async (req, res) => {\n"
        "  await users.remove(req.params.id);\n"
        "});\n"
        "\n"
        "cache.get('key', function (err, value) {\n"
        "  use(value);\n"
        "});\n"
        "get('/x', function () {});\n"
    )
    chunks = chunk(text, "javascript", "server.js")
    assert rows(chunks) == [
        ("function", "GET /", "", 0, 2),
        ("function", "GET /restricted", "", 4, 6),
        ("function", "DELETE /user/:id", "", 8, 10),
        ("block", "", "", 12, 15),  # no path, no object: not a route
    ]
    route = by_symbol(chunks, "GET /restricted")
    assert route.signature == "app.get('/restricted', restrict, function(req, res)"


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
        ("block", "Alias", "", 6, 6),
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
        ("imports", "", "", 0, 0),
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
        ("imports", "", "", 0, 2),
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
        ("imports", "", "", 0, 0),
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


def test_a_rust_impl_for_a_reference_is_named_by_its_type() -> None:
    # serde_json writes `impl<'de, 'a, R: Read<'de>> de::Deserializer<'de> for &'a mut
    # Deserializer<R>`: its methods are Deserializer's, not "'a mut Deserializer"'s.
    source = (
        "impl<'de, 'a, R: Read<'de>> de::Deserializer<'de> for &'a mut Deserializer<R> {\n"
        "    fn deserialize_any(self) -> Result<()> {\n        Ok(())\n    }\n}\n"
        "impl<'a> Formatter for &'a mut [u8] {\n    fn flush(&self) {}\n}\n"
    )
    chunks = chunk(source, "rust", "src/de.rs")
    assert [(c.kind, c.symbol, c.container) for c in chunks if c.kind != "block"] == [
        ("class", "Deserializer", ""),
        ("method", "Deserializer.deserialize_any", "Deserializer"),
        ("class", "u8", ""),
        ("method", "u8.flush", "u8"),
    ]


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
        ("imports", "", "", 0, 2),
        ("class", "UserService", "", 4, 7),
        ("method", "UserService.UserService", "UserService", 9, 12),
        ("method", "UserService.findAll", "UserService", 14, 17),
        # An abstract or interface method is a unit with its Javadoc, as a question may ask
        # for it (a code query does not answer with it: ranking.is_declaration).
        ("method", "UserService.reset", "UserService", 19, 19),
        ("class", "UserService.Cache", "UserService", 21, 21),
        ("method", "UserService.Cache.clear", "UserService.Cache", 22, 22),
        ("block", "", "UserService", 23, 24),
        ("class", "Named", "", 26, 26),
        ("method", "Named.name", "Named", 27, 27),
        ("method", "Named.upper", "Named", 28, 28),
        ("block", "", "Named", 29, 29),
    ]
    find_all = by_symbol(chunks, "UserService.findAll")
    # The header a reader scans: annotations are in the text, not the signature.
    assert find_all.signature == "public List<User> findAll() throws IOException"
    assert by_symbol(chunks, "UserService").signature == "public class UserService extends Base"
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
        ("imports", "", "", 0, 0),
        ("class", "Point", "", 2, 4),
        ("class", "node", "", 6, 8),
        ("class", "color", "", 10, 10),
        ("block", "", "", 12, 12),
        ("function", "make_point", "", 14, 17),
    ]
    assert by_symbol(chunks, "node").text.endswith("};")  # the `;` belongs to the struct
    assert by_symbol(chunks, "make_point").signature == "static Point *make_point(int x)"


# BSD and GNU style (tmux, OpenBSD, coreutils): the return type on a line of its own, a macro
# loop (`TAILQ_FOREACH(...) {`) or a macro in the parameters that the grammar cannot parse.
BSD_C = """\
/* Tidy old jobs for all clients. */
void
format_tidy_jobs(void)
{
\tstruct client\t*c;

\tTAILQ_FOREACH(c, &clients, entry) {
\t\tif (c->jobs != NULL)
\t\t\tformat_job_tidy(c->jobs, 0);
\t}
}

static void
alerts_timer(__unused int fd, __unused short events, void *arg)
{
\tstruct window\t*w = arg;

\talerts_queue(w, WINDOW_SILENCE);
}

LUA_API lua_CFunction lua_atpanic (lua_State *L, lua_CFunction panicf) {
  lua_CFunction old = G(L)->panic;
  G(L)->panic = panicf;
  return old;
}
"""


def test_c_functions_with_syntax_errors_stay_whole_units() -> None:
    """A syntax error inside a function (a macro the grammar does not know) re-parses only
    what follows its body's start: a header on two lines is not cut at its second line."""
    chunks = chunk(BSD_C, "c", "format.c")
    assert rows(chunks) == [
        ("function", "format_tidy_jobs", "", 0, 10),
        ("function", "alerts_timer", "", 12, 18),
        ("function", "lua_atpanic", "", 20, 24),
    ]
    assert by_symbol(chunks, "format_tidy_jobs").signature == "void format_tidy_jobs(void)"
    # An export macro before a typedef'd return type: the name, not the type.
    assert by_symbol(chunks, "lua_atpanic").signature.startswith("LUA_API lua_CFunction")


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
        ("imports", "", "", 0, 2),
        ("class", "User", "", 4, 8),
        ("method", "User.User", "User", 10, 10),
        ("method", "User.Greet", "User", 12, 12),
        ("block", "", "User", 14, 15),
        ("class", "Point", "", 17, 17),
    ]
    assert by_symbol(chunks, "User").signature == "public class User : Entity"
    assert by_symbol(chunks, "User.Greet").signature == "public string Greet(string other)"


CSHARP_MEMBERS = """\
namespace KeePassLib
{
    public sealed class PwGroup
    {
        private string m_strName = string.Empty;

        /// <summary>Tags of this group.</summary>
        public List<string> Tags { get; set; }

        /// <summary>
        /// The name of this group. Cannot be <c>null</c>.
        /// </summary>
        public string Name
        {
            get { return m_strName; }
            set { m_strName = value ?? throw new ArgumentNullException("value"); }
        }

        public bool IsVirtual => m_strName.Length == 0;

        public PwEntry this[int index] { get { return m_entries[index]; } }

        public event EventHandler Changed { add { m_on += value; } remove { m_on -= value; } }

        public void Touch() { }
    }
}
"""


def test_csharp_properties_with_code_are_units_with_their_docs() -> None:
    # A property, indexer or event whose accessors hold code is a member as a method is
    # (it was part of its class's header); an auto-property is data, declared in the header
    # as a field is, and a bare name typed alone lands on its line.
    chunks = chunk(CSHARP_MEMBERS, "csharp", "PwGroup.cs")
    assert rows(chunks) == [
        ("block", "", "", 0, 1),
        ("class", "PwGroup", "", 2, 7),
        ("method", "PwGroup.Name", "PwGroup", 9, 16),
        ("method", "PwGroup.IsVirtual", "PwGroup", 18, 18),
        ("method", "PwGroup.this", "PwGroup", 20, 20),
        ("method", "PwGroup.Changed", "PwGroup", 22, 22),
        ("method", "PwGroup.Touch", "PwGroup", 24, 24),
        ("block", "", "", 25, 26),
    ]
    signatures = [by_symbol(chunks, f"PwGroup.{name}").signature for name in
                  ("Name", "IsVirtual", "this", "Changed")]  # fmt: skip
    assert signatures == [
        "public string Name",
        "public bool IsVirtual",
        "public PwEntry this[int index]",
        "public event EventHandler Changed",
    ]
    assert by_symbol(chunks, "PwGroup.Name").text.startswith("/// <summary>\n")
    tags = nested_chunk(by_symbol(chunks, "PwGroup"), "Tags")
    assert tags is not None
    assert (tags.kind, tags.symbol, tags.start_line, tags.text) == (
        "block", "PwGroup.Tags", 7, "public List<string> Tags { get; set; }"
    )


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
        ("imports", "", "", 0, 0),
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


def test_ruby_first_method_keeps_its_doc_comment() -> None:
    """The grammar hangs the comments above a body's first statement on the class, before
    the body: they are the method's documentation, not the class header's."""
    text = (
        "module Rack\n"
        "  # Builds an application from a config.\n"
        "  class Builder\n"
        "    # Parse the given config file to get a Rack application.\n"
        "    def self.parse_file(path)\n"
        "      new\n"
        "    end\n"
        "  end\n"
        "end\n"
    )
    chunks = chunk(text, "ruby", "lib/rack/builder.rb")
    assert rows(chunks) == [
        ("class", "Rack", "", 0, 0),
        ("class", "Rack.Builder", "Rack", 1, 2),
        ("method", "Rack.Builder.parse_file", "Rack.Builder", 3, 6),
        ("block", "", "Rack", 7, 8),
    ]
    assert by_symbol(chunks, "Rack.Builder.parse_file").text.startswith("# Parse the given")
    assert by_symbol(chunks, "Rack.Builder").text.startswith("# Builds an application")


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

interface Delimiters
{
    /**
     * Add the given delimiter processor to the collection
     */
    public function add(DelimiterProcessorInterface $processor): void;
}
"""


def test_php_definitions() -> None:
    chunks = chunk(PHP, "php", "src/UserController.php")
    assert rows(chunks) == [
        ("imports", "", "", 0, 1),
        ("class", "UserController", "", 3, 7),
        ("method", "UserController.index", "UserController", 9, 12),
        # Abstract and interface methods are units with their docblock, as in Java.
        ("method", "UserController.guard", "UserController", 14, 14),
        ("block", "", "UserController", 15, 15),
        ("function", "helper", "", 17, 17),
        ("class", "Delimiters", "", 19, 20),
        ("method", "Delimiters.add", "Delimiters", 21, 24),
        ("block", "", "Delimiters", 25, 25),
    ]
    assert by_symbol(chunks, "Delimiters.add").text.startswith("/**\n     * Add the given")
    # ... and never an answer to a code query (a declaration, not an implementation).
    assert is_declaration(by_symbol(chunks, "Delimiters.add"))
    assert not is_declaration(by_symbol(chunks, "UserController.index"))
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
    assert rows(chunks)[0] == ("imports", "", "", 0, 0)
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


# Code between definitions is named by what it declares: (language, path, source, the
# names of its blocks in order). Locals of a function the block holds whole, `require`s and
# imports name nothing.
DECLARED_NAMES = [
    (
        "python",
        "httpx/_config.py",
        "import os\n\nDEFAULT_TIMEOUT = Timeout(5.0)\nLOW, HIGH = 1, 2\n\n"
        "def f():\n    local = 1\n\nlog = logging.getLogger(__name__)\n",
        ["DEFAULT_TIMEOUT, LOW, HIGH", "log"],
    ),
    (
        "python",
        "httpx/_compat.py",
        "try:\n    import ssl\n    HAS_SSL = True\nexcept ImportError:\n    HAS_SSL = False\n"
        "if sys.platform == 'win32':\n    SEP = '\\\\'\n\n\ndef f():\n    pass\n",
        ["HAS_SSL, SEP"],
    ),
    (
        "javascript",
        "lib/defaults.js",
        "const fs = require('fs');\nconst PORT = 8080, HOST = 'localhost';\n"
        "process.on('exit', () => { const code = 1; });\nexports.VERSION = '1.0';\n"
        "function f() { const inner = 1; }\nmodule.exports.TIMEOUT = 5;\nexports.f = f;\n",
        ["PORT, HOST, VERSION", "TIMEOUT"],  # `exports.f = f` only exports f
    ),
    (
        "javascript",
        "umd.js",
        "(function (root) {\n  var VERSION = '2';\n  function helper() {}\n"
        "  root.v = VERSION;\n})(this);\n",
        ["VERSION", ""],
    ),
    (
        "typescript",
        "src/types.ts",
        "export type Mode = 'a' | 'b';\nexport const DEFAULT_MODE: Mode = 'a';\n",
        ["Mode, DEFAULT_MODE"],
    ),
    (
        "go",
        "mux.go",
        'package mux\n\nvar (\n\tErrMethodMismatch = errors.New("method is not allowed")\n'
        '\tErrNotFound = errors.New("no matching route was found")\n)\n\n'
        "const (\n\tregexpTypePath regexpType = iota\n\tregexpTypeHost\n)\n\n"
        "func f() { var local = 1; _ = local }\n",
        ["ErrMethodMismatch, ErrNotFound, regexpTypePath, regexpTypeHost"],
    ),
    (
        "rust",
        "src/error.rs",
        "use std::fmt;\n\npub type Result<T> = result::Result<T, Error>;\n"
        "static COUNT: u8 = 0;\nconst MAX: usize = 10;\n\nfn f() { const LOCAL: u8 = 1; }\n",
        ["Result, COUNT, MAX"],
    ),
    (
        "java",
        "A.java",
        "class A {\n  void m() { int local = 1; }\n  private static final int LIMIT = 3, "
        "MIN = 1;\n  void n() {}\n}\n",
        ["LIMIT, MIN", ""],
    ),
    (
        "c",
        "hashtable.c",
        "#include <stdlib.h>\n#define INITIAL_SIZE 8\n#define hash_str(s) jenkins(s)\n"
        "static const char *names[] = {0};\ntypedef int seed_t;\n"
        "int f(void) { int local = 1; return local; }\n",
        ["INITIAL_SIZE, hash_str, names, seed_t"],
    ),
    ("ruby", "lib/a.rb", "VERSION = '1'\nTIMEOUT = 5\nclass A\nend\n", ["VERSION, TIMEOUT"]),
    (  # a C# class's fields and the events it declares as fields
        "csharp",
        "FileTransaction.cs",
        "public sealed class FileTransaction {\n  public void Begin() { }\n"
        "  public static event EventHandler<FileSavingEventArgs> Saving, Saved;\n"
        "  private readonly bool m_bTransacted;\n  public void Commit() { }\n}\n",
        ["Saving, Saved, m_bTransacted", ""],
    ),
    (  # the attributes a class declares, by their symbols' names or plain strings (one
        # holding `#{...}` names nothing); other calls declare nothing
        "ruby",
        "lib/element.rb",
        "class Element\n  def initialize; end\n  attr_accessor :type, :value\n"
        "  attr_reader 'options', \"raw\"\n  attr_writer \"opt_#{n}\"\n"
        "  private_constant :TYPES\n  def each; end\nend\n",
        ["type, value, options, raw", ""],
    ),
    (  # an include guard names the file, not code: it declares nothing
        "cpp",
        "binary.h",
        "// Base64.\n#ifndef BASE64_H_62B2\n#define BASE64_H_62B2\n\n#pragma once\n\n"
        "int f(void) { return 0; }\n\n#ifndef BASE64_PAD\n#define BASE64_PAD\n#endif\n#endif\n",
        ["", "BASE64_PAD"],
    ),
    (  # a flag defined where it is not defined yet is a name, even first in a file
        "c",
        "win.h",
        "#pragma once\n\n#ifndef NOMINMAX\n#define NOMINMAX\n#endif\n\nint f(void) { return 0; }\n",
        ["NOMINMAX"],
    ),
    (  # a C++ class's data members, as Java's fields; its method prototypes are not names
        "cpp",
        "stream.h",
        "class Stream {\n public:\n  char peek() const { return m_buf[0]; }\n\n private:\n"
        "  std::istream& m_input;\n  mutable std::deque<char> m_readahead;\n"
        "  unsigned char* const m_pPrefetched;\n  char m_buf[16];\n  static const int kMax = 4;\n"
        "  void AdvanceCurrent();\n  bool ReadAheadTo(size_t i) const;\n};\n",
        ["m_input, m_readahead, m_pPrefetched, m_buf, kMax"],
    ),
]


@pytest.mark.parametrize(("language", "path", "text", "names"), DECLARED_NAMES)
def test_code_between_definitions_is_named_by_what_it_declares(
    language: str, path: str, text: str, names: list[str]
) -> None:
    chunks = chunk(text, language, path)
    assert [c.symbol for c in chunks if c.kind == "block"] == names
    assert all(c.symbol == "" for c in chunks if c.kind == "imports")


def test_a_block_that_declares_many_names_holds_them_all_and_shows_the_first_five() -> None:
    text = "".join(f"K{i} = {i}\n" for i in range(7))
    [block] = chunk(text, "python")
    assert block.symbol == "K0, K1, K2, K3, K4, K5, K6"  # all found by name
    assert block.shown_symbol == "K0, K1, K2, K3, K4, …"  # what a result and the model show
    [few] = chunk("A = 1\nB = 2\n", "python")
    assert few.shown_symbol == few.symbol == "A, B"


def test_imports_are_never_named_by_what_they_import() -> None:
    text = "const a = require('a');\nconst b = require('b');\nconst c = require('c');\n"
    [imports] = chunk(text, "javascript")
    assert (imports.kind, imports.symbol) == ("imports", "")


def test_declared_names_keep_their_offsets_past_non_ascii_text() -> None:
    text = "# ✓ 日本語\nNAÏVE = 'é'\n\n\ndef f():\n    pass\n\nLATER = 1\n"
    chunks = chunk(text, "python")
    assert [(c.kind, c.symbol) for c in chunks] == [
        ("block", "NAÏVE"),
        ("function", "f"),
        ("block", "LATER"),
    ]


def test_top_level_blocks_are_windows_of_lines() -> None:
    text = "".join(f"CONSTANT_{i} = {i}\n" for i in range(100)) + "\ndef f():\n    pass\n"
    chunks = chunk(text, "python", window_lines=40)
    assert rows(chunks) == [
        ("block", ", ".join(f"CONSTANT_{i}" for i in range(40)), "", 0, 39),
        ("block", ", ".join(f"CONSTANT_{i}" for i in range(40, 80)), "", 40, 79),
        ("block", ", ".join(f"CONSTANT_{i}" for i in range(80, 100)), "", 80, 99),
        ("function", "f", "", 101, 102),
    ]


def test_blocks_skip_blank_lines_and_respect_max_chars() -> None:
    text = "\n\n\nx = 1\n\n\n\ny = 2\n" + "z = '" + "a" * 300 + "'\n"
    chunks = chunk(text, "python", max_chars=100)
    assert rows(chunks)[0] == ("block", "x, y", "", 3, 7)
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
    text = 'def main() = {\n    println("hi")\n}\n'
    assert rows(chunk(text, "scala")) == [("window", "", "", 0, 2)]


def test_failed_grammar_falls_back_to_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammars, "_grammars", {})
    monkeypatch.setattr(grammars, "_load_grammar", lambda language: None)
    assert rows(chunk("def f():\n    pass\n", "python")) == [("window", "", "", 0, 1)]


# --------------------------------------------------------------------------------------------
# Documentation belongs to the definition it documents
# --------------------------------------------------------------------------------------------


def text_of(chunks: list[Chunk], symbol: str) -> str:
    return by_symbol(chunks, symbol).text


def nameless(chunks: list[Chunk]) -> list[str]:
    return [c.text for c in chunks if not c.symbol]


@pytest.mark.parametrize(
    ("language", "text", "symbol", "starts"),
    [
        # JSDoc right above, one blank line above (express), two (Babel's output)
        ("javascript", "/** Reads. */\nfunction read() {}\n", "read", "/** Reads. */\nfunction"),
        ("javascript", "/**\n * Reads.\n */\n\nfunction read() {}\n", "read", "/**\n * Reads."),
        ("javascript", "x();\n/** Reads. */\n\n\nfunction read() {}\n", "read", "/** Reads. */"),
        (
            "typescript",
            "/** Options. */\n\nexport interface Options { a: number }\n",
            "Options",
            "/** Options. */\n\nexport interface",
        ),
        (
            "java",
            "class A {\n  /** Runs. */\n\n  @Override\n  public void run() {}\n}\n",
            "A.run",
            "/** Runs. */\n\n  @Override",
        ),
        (
            "go",
            "package a\n\n// Serve serves.\n// It blocks.\nfunc Serve() {}\n",
            "Serve",
            "// Serve serves.\n// It blocks.\nfunc",
        ),
        (
            "rust",
            "/// A point.\n\n#[derive(Debug)]\npub struct P {}\n",
            "P",
            "/// A point.\n\n#[derive(Debug)]",
        ),
        ("rust", "/** A point. */\n\nfn f() {}\n", "f", "/** A point. */"),
        (
            "c",
            "int x;\n\n/**\n * Adds.\n */\n\nint add(int a) { return a; }\n",
            "add",
            "/**\n * Adds.",
        ),
        ("cpp", "/// Adds.\n\nint add(int a) { return a; }\n", "add", "/// Adds.\n\nint add"),
        (
            "csharp",
            "class C {\n  /// <summary>Runs.</summary>\n\n  [Obsolete]\n  void Run() {}\n}\n",
            "C.Run",
            "/// <summary>Runs.</summary>\n\n  [Obsolete]",
        ),
        ("php", "<?php\n/**\n * Helps.\n */\n\nfunction helper() {}\n", "helper", "/**\n * Helps."),
        ("ruby", "# Totals.\n# Twice.\ndef total\nend\n", "total", "# Totals.\n# Twice.\ndef"),
        ("python", "# Parses.\n@cache\ndef parse():\n    pass\n", "parse", "# Parses.\n@cache"),
        # A plain comment block standing alone one blank line above
        ("python", "x = 1\n\n# Parses.\n\ndef parse():\n    pass\n", "parse", "# Parses."),
        ("go", "package a\n\n// Serve serves.\n\nfunc Serve() {}\n", "Serve", "// Serve serves."),
    ],
)
def test_doc_comments_belong_to_their_definition(
    language: str, text: str, symbol: str, starts: str
) -> None:
    chunks = chunk(text, language)
    assert text_of(chunks, symbol).startswith(starts)
    assert not any(starts.split("\n")[0] in t for t in nameless(chunks))


@pytest.mark.parametrize(
    ("language", "text", "symbol"),
    [
        # too far: three blank lines under a doc comment, two under a plain one
        ("javascript", "/** About the module. */\n\n\n\nfunction read() {}\n", "read"),
        ("python", "# About the helpers below.\n\n\ndef helper():\n    pass\n", "helper"),
        # a plain comment right under code is about that code
        ("python", "x = compute()\n# x needs computing first.\n\ndef f():\n    pass\n", "f"),
        ("javascript", "run();\n// run must come first\n\nfunction f() {}\n", "f"),
        # Rust's `//!` documents the module, not the item below it
        ("rust", "//! The crate does this and that for you.\n\nfn f() {}\n", "f"),
        # trailing comments of the code above
        ("go", "package a\n\nvar x = 1 // why x\nfunc F() {}\n", "F"),
    ],
)
def test_comments_that_are_not_documentation_stay_apart(
    language: str, text: str, symbol: str
) -> None:
    chunks = chunk(text, language)
    definition = text_of(chunks, symbol)
    assert not definition.lstrip().startswith(("/", "#")), definition


LICENCE_HEADERS = [
    ("javascript", "/*!\n * mylib\n * Copyright(c) 2014 Jane Doe\n * MIT Licensed\n */\n\n"),
    (
        "go",
        "// Copyright 2009 The Go Authors. All rights reserved.\n// Use of this source code is"
        " governed by a BSD-style\n// license that can be found in the LICENSE file.\n",
    ),
    ("python", "# SPDX-License-Identifier: Apache-2.0\n\n"),
    (
        "c",
        "/*\n * Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        " */\n",
    ),
    ("rust", "// Licensed under the Apache License, Version 2.0 <LICENSE-APACHE>\n\n"),
]


@pytest.mark.parametrize(("language", "header"), LICENCE_HEADERS)
def test_licence_header_is_not_documentation_nor_a_chunk(language: str, header: str) -> None:
    definition = {
        "javascript": "/** Reads. */\nfunction read() {}\n",
        "go": "func Read() {}\n",
        "python": "def read():\n    pass\n",
        "c": "int read(void) { return 0; }\n",
        "rust": "fn read() {}\n",
    }[language]
    text = header + definition
    chunks = chunk_text("f", text, language)
    check_invariants(text, chunks)
    [only] = chunks  # the licence is not a chunk of its own either
    assert only.symbol in ("read", "Read")
    assert only.text == definition.strip()


@pytest.mark.parametrize(
    ("language", "text", "symbol", "definition"),
    [
        (
            "php",
            "<?php\n/**\n * Copyright 2020 Jane Doe. MIT License.\n */\n\nfunction read() {}\n",
            "read",
            "function read() {}",
        ),
        (
            "python",
            "#!/usr/bin/env python\n# Copyright 2020 Jane Doe\ndef read():\n    pass\n",
            "read",
            "def read():\n    pass",
        ),
    ],
)
def test_licence_header_after_a_preamble(
    language: str, text: str, symbol: str, definition: str
) -> None:
    assert text_of(chunk(text, language), symbol) == definition


def test_licence_header_before_code_stays_in_its_block() -> None:
    text = "/*\n * Copyright 2020 Jane Doe. Licensed under MIT.\n */\npackage a;\n\nclass A {}\n"
    chunks = chunk(text, "java")
    assert rows(chunks) == [("imports", "", "", 0, 3), ("class", "A", "", 5, 5)]


def test_a_licence_like_doc_comment_further_down_is_documentation() -> None:
    text = (
        "/** First. */\nfunction a() {}\n\n/** Returns the licence text (MIT). */\n"
        "function b() {}\n"
    )
    chunks = chunk(text, "javascript")
    assert text_of(chunks, "b").startswith("/** Returns the licence text (MIT). */")


def test_banners_standing_alone_are_not_chunks_but_longer_comments_are() -> None:
    text = (
        "def a():\n    pass\n\n\n"
        "# ----------------------------\n# Helpers\n# ----------------------------\n\n\n"
        "def b():\n    pass\n\n\n"
        "# The functions below talk to the database, so they must be called\n"
        "# inside a transaction that the caller opens.\n\n\n"
        "def c():\n    pass\n"
    )
    chunks = chunk(text, "python")
    assert [(c.kind, c.symbol) for c in chunks] == [
        ("function", "a"),
        ("function", "b"),
        ("block", ""),
        ("function", "c"),
    ]
    assert chunks[2].text.startswith("# The functions below talk to the database")
    assert "Helpers" not in "".join(c.text for c in chunks)


def test_code_starting_with_a_comment_is_never_left_out() -> None:
    text = "/* why */ free(p);\n*q = 0;\n\nint f(void) { return 0; }\n"
    chunks = chunk(text, "c")
    assert chunks[0].text == "/* why */ free(p);\n*q = 0;"


# --------------------------------------------------------------------------------------------
# JavaScript definitions as real code writes them
# --------------------------------------------------------------------------------------------

# In the style of express 4.21.2 (lib/request.js, lib/router/index.js).
EXPRESS_STYLE = """\
/*!
 * express
 * Copyright(c) 2009-2013 TJ Holowaychuk
 * MIT Licensed
 */

'use strict';

/**
 * Module dependencies.
 * @private
 */

var accepts = require('accepts');

/**
 * Return request header.
 *
 * @param {String} name
 * @return {String}
 * @public
 */

req.get =
req.header = function header(name) {
  return this.headers[name.toLowerCase()];
};

/**
 * Check if the request is fresh.
 *
 * @return {Boolean}
 * @public
 */

defineGetter(req, 'fresh', function(){
  return fresh(this.headers);
});

var proto = module.exports = function(options) {
  return router;
};

proto.handle = function handle(req, res, out) {
  next();
};

module.exports.parse = function (s) { return s; };
exports.format = function format(x) { return x; };
module.exports = function createApplication() {};
module.exports = function () {};
"""


def test_express_style_definitions() -> None:
    chunks = chunk(EXPRESS_STYLE, "javascript", "lib/request.js")
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("imports", "", 0, 13),
        ("function", "req.get", 15, 26),
        ("function", "req.fresh", 28, 37),
        ("function", "proto", 39, 41),
        ("function", "proto.handle", 43, 45),
        ("function", "parse", 47, 47),
        ("function", "format", 48, 48),
        ("function", "createApplication", 49, 49),
        ("function", "module.exports", 50, 50),
    ]
    header = by_symbol(chunks, "req.get")
    assert header.text.startswith("/**\n * Return request header.")
    assert header.text.endswith(
        "req.header = function header(name) {\n  return this.headers[name.toLowerCase()];\n};"
    )
    assert header.signature == "req.get = req.header = function header(name)"
    assert by_symbol(chunks, "req.fresh").text.startswith("/**\n * Check if the request is fresh.")


def test_property_definitions() -> None:
    text = (
        "Object.defineProperty(obj, 'name', {\n  get: function () { return 1; }\n});\n"
        "Object.defineProperty(Widget.prototype, 'size', {\n  get() { return 2; }\n});\n"
        "Object.defineProperty(exports, '__esModule', { value: true });\n"
        "app.get(req, '/users', function (req, res) {});\n"
    )
    chunks = chunk(text, "javascript")
    assert [(c.kind, c.symbol, c.container) for c in chunks] == [
        ("function", "obj.name", ""),
        ("method", "Widget.size", "Widget"),
        ("block", "", ""),  # a value, and a call that defines nothing
    ]


def test_object_literal_members_are_named_by_their_object() -> None:
    text = (
        "const api = {\n"
        "  /** Runs. */\n"
        "  run() {},\n"
        "  get size() { return 0; },\n"
        "  stop: () => 1,\n"
        "  'kebab-case': function () {},\n"
        "  nested: { deep: function () {} },\n"
        "};\n"
        "module.exports = { open: function () {} };\n"
        "exports.tools = { make() {} };\n"
    )
    chunks = chunk(text, "javascript")
    assert [(c.kind, c.symbol, c.container) for c in chunks if c.kind != "block"] == [
        ("method", "api.run", "api"),
        ("method", "api.size", "api"),
        ("method", "api.stop", "api"),
        ("method", "api.kebab-case", "api"),
        ("method", "api.nested.deep", "api.nested"),
        ("function", "open", ""),
        ("method", "tools.make", "tools"),
    ]
    assert text_of(chunks, "api.run") == "/** Runs. */\n  run() {},"
    assert text_of(chunks, "api.size") == "get size() { return 0; },"



def test_a_property_described_by_an_object_with_one_function_is_its_unit_with_its_doc() -> None:
    text = (
        "export default {\n"
        "  props: {\n"
        "    /**\n"
        "     * Generate a unique identifier for each option.\n"
        "     */\n"
        "    getOptionKey: {\n"
        "      type: Function,\n"
        "      default(option) {\n"
        "        return option.id\n"
        "      },\n"
        "    },\n"
        "  },\n"
        "  watch: {\n"
        "    value: { handler: (next) => next, deep: true },\n"
        "  },\n"
        "  methods: {\n"
        "    /** Select it. */\n"
        "    select(option) {},\n"
        "  },\n"
        "  computed: { both: { get() {}, set(v) {} } },\n"
        "}\n"
    )
    chunks = chunk(text, "javascript", path="mixins/select.js")
    units = [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks if c.kind != "block"]
    assert units == [
        ("method", "props.getOptionKey", 2, 10),  # the doc with the function
        ("method", "watch.value", 13, 13),
        ("method", "methods.select", 16, 17),  # an object of functions: each its own
        ("method", "computed.both.get", 19, 19),  # two functions: each its own
        ("method", "computed.both.set", 19, 19),
    ]
    key = by_symbol(chunks, "props.getOptionKey")
    assert key.text.startswith("/**\n     * Generate a unique identifier for each option.")
    assert key.signature == "getOptionKey: { type: Function, default(option)"
    # No nameless block holds the doc comment apart from its function.
    assert not any("unique identifier" in c.text for c in chunks if c.kind == "block")

WRAPPED_FUNCTIONS = """\
import React, { forwardRef, memo } from "react";

/** A card with a title. */
export const Card = React.memo(function Card({ title }) {
  return <div>{title}</div>;
});

export const List = memo(forwardRef((props, ref) => {
  return <ul ref={ref}>{props.children}</ul>;
}));

export const total = items.reduce((sum, item) => sum + item.price, 0);
export const labels = items.map((item) => {
  return item.label;
});

module.exports.handler = middy(async (event) => {
  return event.body;
});

class SearchBox extends React.Component {
  handleChange = debounce((event) => {
    this.setState({ query: event.target.value });
  }, 300);
}

export default React.memo(function SearchPage({ query }) {
  return <SearchBox query={query} />;
});
"""


@pytest.mark.parametrize("language, path", [("javascript", "a.jsx"), ("tsx", "a.tsx")])
def test_a_function_that_a_call_wraps_is_a_unit_named_by_what_holds_it(language, path) -> None:
    chunks = chunk(WRAPPED_FUNCTIONS, language, path)
    units = [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks if c.text != "}"]
    assert units == [
        ("imports", "", 0, 0),
        ("function", "Card", 2, 5),
        ("function", "List", 7, 9),
        # A callback that computes a value (on one line, or to `map`) defines nothing.
        ("block", "total, labels", 11, 14),
        ("function", "handler", 16, 18),
        ("class", "SearchBox", 20, 20),
        ("method", "SearchBox.handleChange", 21, 23),
        ("function", "SearchPage", 26, 28),
    ]
    card = by_symbol(chunks, "Card")
    assert card.text.startswith("/** A card with a title. */\nexport const Card")
    assert card.signature == "export const Card = React.memo(function Card({ title })"
    wrapped_twice = by_symbol(chunks, "List")
    assert wrapped_twice.signature == "export const List = memo(forwardRef((props, ref) =>"
    # An anonymous default export is named by its module, as its importers name it.
    exported = "export default forwardRef((props, ref) => {\n  return <input ref={ref} />;\n});\n"
    assert rows(chunk(exported, language, "components/TextInput/index.tsx")) == [
        ("function", "TextInput", "", 0, 2)
    ]


def test_a_long_wrapped_component_is_one_unit_in_parts_not_blocks_named_by_its_locals() -> None:
    line = "  const value{0} = useMemo(() => compute(props.item{0}), []);"
    hooks = "\n".join(line.format(i) for i in range(45))
    text = (
        "/** A select box with a search field. */\n"
        "export const Select = forwardRef((props, ref) => {\n"
        f"{hooks}\n"
        "  return <div ref={ref}>{value0}</div>;\n"
        "});\n"
    )
    chunks = chunk(text, "tsx", "select.tsx", max_chars=1200)
    assert len(chunks) > 1
    assert {(c.kind, c.symbol, c.unit_start_line, c.unit_end_line) for c in chunks} == {
        ("function", "Select", 0, 48)
    }
    assert [c.part for c in chunks] == list(range(1, len(chunks) + 1))


def test_getters_and_setters_in_classes() -> None:
    text = "class K {\n  get x() { return 1; }\n  set x(v) { this._x = v; }\n}\n"
    chunks = chunk(text, "javascript")
    assert [(c.kind, c.symbol, c.signature) for c in chunks if c.symbol] == [
        ("class", "K", "class K"),
        ("method", "K.x", "get x()"),
        ("method", "K.x", "set x(v)"),
    ]


def test_typescript_object_members_and_exports() -> None:
    text = (
        "export const handlers = {\n  onClick(e: Event): void {},\n};\n"
        "module.exports.load = async (url: string): Promise<void> => {};\n"
    )
    chunks = chunk(text, "typescript")
    assert definitions(chunks) == [
        ("method", "handlers.onClick"),
        ("function", "load"),
    ]


# --------------------------------------------------------------------------------------------
# The whole definition a part belongs to
# --------------------------------------------------------------------------------------------


def test_parts_carry_the_span_of_their_whole_definition() -> None:
    chunks = chunk(long_function(60), "python", max_chars=500, overlap_lines=2)
    parts = [c for c in chunks if c.part]
    assert len(parts) >= 5
    assert {(p.unit_start_line, p.unit_end_line) for p in parts} == {(3, 63)}
    assert parts[0].start_line == 3 and parts[-1].end_line == 63
    block = chunks[0]
    assert (block.unit_start_line, block.unit_end_line) == (block.start_line, block.end_line)


def test_whole_definitions_and_windows_are_their_own_unit() -> None:
    chunks = chunk(PYTHON, "python") + chunk("a: 1\nb: 2\n", "yaml")
    assert all((c.unit_start_line, c.unit_end_line) == (c.start_line, c.end_line) for c in chunks)


def test_a_chunk_made_without_a_unit_is_its_own_unit() -> None:
    c = Chunk("f.py", "python", "block", "", 4, 0, 9, 3, "x")
    assert (c.unit_start_line, c.unit_end_line) == (4, 9)
    split = Chunk(
        "f.py",
        "python",
        "function",
        "f",
        4,
        0,
        9,
        3,
        "x",
        part=2,
        unit_start_line=1,
        unit_end_line=20,
    )
    assert (split.unit_start_line, split.unit_end_line) == (1, 20)


# --------------------------------------------------------------------------------------------
# Previews
# --------------------------------------------------------------------------------------------


JMH_ANNOTATIONS = (
    "@BenchmarkMode(Mode.AverageTime)\n@OutputTimeUnit(TimeUnit.NANOSECONDS)\n"
    "@State(Scope.Thread)\n@Warmup(iterations = 5, time = 10, timeUnit = TimeUnit.SECONDS)\n"
    "@Measurement(iterations = 5, time = 10, timeUnit = TimeUnit.SECONDS)\n"
    '@Fork(value = 1, jvmArgs = {"-server", "-Xms1g", "-Xmx1g"})\n'
)


def previews(text: str, language: str, **kwargs: int) -> list[str]:
    return [preview_of(c) for c in chunk(text, language, **kwargs)]


def test_preview_of_a_parametrized_test_is_its_signature() -> None:
    text = (
        "import pytest\n\n\n"
        "@pytest.mark.parametrize(\n"
        '    "value, expected",\n'
        "    [(1, 2), (3, 4)],\n"
        ")\n"
        "def test_double(value, expected):\n"
        "    assert value * 2 == expected\n"
    )
    assert previews(text, "python") == ["import pytest", "def test_double(value, expected):"]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "javascript",
            "/**\n * Reads.\n */\n\nexport function read(path) {}\n",
            "export function read(path)",
        ),
        ("javascript", EXPRESS_STYLE, "req.get = req.header = function header(name)"),
        (
            "java",
            'class A {\n  /** Runs. */\n  @Override\n  @SuppressWarnings({"a", "b"})\n'
            "  public void run() {}\n}\n",
            "public void run()",
        ),
        # An interface's method has no body: its signature is past its annotations, not
        # `@Override` alone (commons-io's IOFileFilter.accept previewed an empty line).
        (
            "java",
            "interface F {\n  /** Checks. */\n  @Override\n  boolean accept(File file);\n}\n",
            "boolean accept(File file);",
        ),
        # Annotations longer than a signature's length do not push its name out of it.
        (
            "java",
            f"{JMH_ANNOTATIONS}public class Bench extends Base {{\n  int n;\n}}\n",
            "public class Bench extends Base",
        ),
        ("java", "/** Marks. */\n@interface Marker {\n  int value();\n}\n", "@interface Marker"),
        (
            "rust",
            "/// A point.\n#[derive(Debug, Clone)]\npub struct Point {\n    x: i32,\n}\n",
            "pub struct Point",
        ),
        (
            "go",
            "package a\n\n// Serve serves.\nfunc (s *Server) Serve() error {\n\treturn nil\n}\n",
            "func (s *Server) Serve() error",
        ),
        (
            "csharp",
            'class C {\n  /// <summary>Runs.</summary>\n  [Obsolete("no")]\n'
            "  public void Run() {}\n}\n",
            "public void Run()",
        ),
        (
            "php",
            "<?php\n/** Helps. */\n#[Pure]\nfunction helper(string $s): string { return $s; }\n",
            "function helper(string $s): string",
        ),
        (
            "typescript",
            "@Component({\n  selector: 'app',\n})\nexport class App {}\n",
            "export class App",
        ),
        ("ruby", "# Totals.\ndef total(items)\n  items.sum\nend\n", "def total(items)"),
        # A C++ template's parameters are, like a decorator, not the line that names it.
        (
            "cpp",
            "/// Adds.\ntemplate <typename T>\nT add(T a, T b) { return a + b; }\n",
            "T add(T a, T b)",
        ),
    ],
)
def test_preview_of_a_definition_is_its_signature_line(
    language: str, text: str, expected: str
) -> None:
    chunks = chunk(text, language)
    assert expected in [preview_of(c) for c in chunks if c.symbol]


def test_a_signature_holds_no_annotations_so_the_rules_that_read_it_see_the_header() -> None:
    """What reads a signature sees the definition's header: an annotated interface method
    is a declaration (its text ends with its signature), an annotated class's supertype is
    found though its annotations are longer than a signature may be."""
    method = chunk("interface F {\n  @Override\n  boolean accept(File file);\n}\n", "java")
    accept = next(c for c in method if c.symbol == "F.accept")
    assert accept.signature == "boolean accept(File file);"
    assert is_declaration(accept)
    cls = chunk(f"{JMH_ANNOTATIONS}public class Bench extends Base {{\n  int n;\n}}\n", "java")
    bench = next(c for c in cls if c.symbol == "Bench")
    assert bench.signature == "public class Bench extends Base"
    assert supertypes(bench.signature, "java") == {"Base"}


def test_every_part_of_a_split_definition_previews_its_signature() -> None:
    text = "def resolve_redirects(self, resp, req):\n" + "".join(
        f"    if resp.status == {i}:\n        send(\n            json=json,\n        )\n"
        "    else:\n        pass\n"
        for i in range(30)
    )
    chunks = chunk(text, "python", max_chars=300)
    assert len(chunks) > 5
    assert {preview_of(c) for c in chunks} == {"def resolve_redirects(self, resp, req):"}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", "import os\nfrom x import (\n    a,\n    b,\n)\n", "import os"),
        ("python", '"""\nHelpers for HTTP.\n"""\nimport os\n', "Helpers for HTTP."),
        ("python", ")\n\nLIMIT = 3\n", "LIMIT = 3"),
        ("javascript", "} else {\n  run();\n}\n", "run();"),
        (
            "javascript",
            "/**\n * Module dependencies.\n */\n\nvar a = require('a');\n",
            "* Module dependencies.",
        ),
        # Comments that say nothing of the code are passed over: a banner of a few words,
        # a tool directive, a licence (jansson, axios, mobx, serde_json previews)...
        ("c", "/*** parser ***/\n\nstatic json_t *parse_value(lex_t *lex);\n", "static json_t"),
        ("typescript", "// eslint-disable-next-line\nconst seen = new Set()\n", "const seen"),
        ("rust", "// MULTIPLICATION\n\ntype Limb = u64;\n", "type Limb = u64;"),
        (
            "c",
            "/*\n * Copyright (c) 2009-2016 Petri Lehtinen\n *\n * Jansson is free software.\n */"
            "\n\nstatic int seen;\n",
            "static int seen;",
        ),
        # ... a header's `#pragma once` is structure (nlohmann/json's headers) ...
        (
            "cpp",
            "#pragma once\n\n#include <array>\n#include <cstddef>\n#include <map>\n",
            "#include <array>",
        ),
        # ... and a scope macro alone on its line (fmt's, GLib's) ...
        (
            "cpp",
            "FMT_BEGIN_NAMESPACE\n\nusing memory_buffer = basic_memory_buffer<char>;\n",
            "using memory_buffer",
        ),
        # ... tool directives too, however many words they hold (gin's build constraints) ...
        (
            "go",
            "// Copyright 2022 Gin Core Team. All rights reserved.\n"
            "// license that can be found in the LICENSE file.\n\n"
            "//go:build !go1.18\n// +build !go1.18\n\npackage gin\n\ntype any = interface{}\n",
            "package gin",
        ),
        # ... a short notice that a tool wrote the file (date-fns's typings, protoc's code) ...
        (
            "typescript",
            "// This file is generated automatically by `scripts/build/typings.js`. Please, don't"
            " change it.\n\nimport { add } from 'date-fns'\nexport default add\n",
            "import { add }",
        ),
        # ... documentation of tags or links alone too (trpc's `/** @internal */` above a
        # type, a `@see URL` above imports) ...
        ("typescript", "/**\n * @internal\n */\nexport type Merge<T> = T;\n", "export type"),
        (
            "typescript",
            "/**\n * @see https://github.com/remix-run/remix/blob/0bc/formData.ts\n */\n"
            "import * as fs from 'fs';\nimport a from 'a';\nimport b from 'b';\n",
            "import * as fs",
        ),
        # ... a comment that says something is kept, as is a comment alone.
        (
            "typescript",
            "/**\n * @deprecated use `aws-lambda` instead\n */\nexport type Opts = A;\n",
            "* @deprecated use `aws-lambda` instead",
        ),
        ("java", "/** HTML nodes. */\n@NonnullByDefault\npackage a.b;\n", "/** HTML nodes. */"),
        (
            "javascript",
            "// Create the default instance to be exported\nconst axios = createInstance(d);\n",
            "// Create the default instance to be exported",
        ),
        ("python", "x = 1\n# Only notes here: the parser moves to its own module.\n", "x = 1"),
        ("python", "# Only notes here: the parser moves to its own module.\n", "# Only notes"),
        ("markdown", "---\n\n**Minor Improvements**\n", "**Minor Improvements**"),
    ],
)
def test_preview_of_a_block_is_its_first_line_with_content(
    language: str, text: str, expected: str
) -> None:
    assert previews(text, language)[0].startswith(expected)


def test_preview_of_documentation_passes_over_lines_of_markup() -> None:
    text = (
        "class Charsets {\n  void a() {}\n\n  /**\n   * <p>\n   * Sixteen-bit Unicode.\n"
        "   * </p>\n   */\n  public static final Charset UTF_16 = StandardCharsets.UTF_16;\n}\n"
    )
    assert "* Sixteen-bit Unicode." in previews(text, "java")


def test_preview_of_a_definition_without_signature_skips_its_decorators() -> None:
    c = Chunk(
        "a.py",
        "python",
        "function",
        "f",
        0,
        0,
        4,
        5,
        '@mark.parametrize(\n    "value, expected",\n    [(1, 2)],\n)\ndef f(value, expected): ...',
    )
    assert preview_of(c) == "def f(value, expected): ..."


def test_long_previews_are_cut() -> None:
    c = Chunk("a.txt", "text", "window", "", 0, 0, 0, 500, "word " * 100)
    assert len(preview_of(c)) == 160 and preview_of(c).endswith("…")


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
        ("imports", "", "", 0, 0),
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
                ("imports", "", "", 0, 0),
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


def test_csharp_class_with_a_syntax_error_keeps_its_namespace_and_members() -> None:
    """An `#if` inside an argument list (pythonnet, KeePass) breaks the parse inside a
    method: the namespace's `{` on a line of its own is not a restart, so the class and its
    methods stay what they are."""
    text = (
        "namespace Python.Runtime\n"
        "{\n"
        "    public partial class PyObject\n"
        "    {\n"
        "        public IntPtr Handle => rawPtr;\n"
        "\n"
        "        protected virtual void Dispose(bool disposing)\n"
        "        {\n"
        "            Finalizer.Instance.Add(ref rawPtr\n"
        "#if TRACE_ALLOC\n"
        "                , Traceback\n"
        "#endif\n"
        "            );\n"
        "        }\n"
        "    }\n"
        "}\n"
    )
    chunks = chunk(text, "csharp", "PyObject.cs")
    assert definitions(chunks) == [
        ("class", "PyObject"),
        ("method", "PyObject.Handle"),
        ("method", "PyObject.Dispose"),
    ]
    assert by_symbol(chunks, "PyObject.Dispose").end_line == 13


def test_cpp_friend_functions_and_macro_namespaces() -> None:
    """`friend` belongs to the function it declares; a macro that the grammar reads as a
    return type (`FMT_BEGIN_NAMESPACE` / `namespace detail {`) names no function."""
    text = (
        "FMT_BEGIN_NAMESPACE\n"
        "namespace detail {\n"
        "class uint128 {\n"
        " public:\n"
        "  friend constexpr auto operator==(const uint128& a, const uint128& b) -> bool {\n"
        "    return a.lo == b.lo;\n"
        "  }\n"
        "};\n"
        "}  // namespace detail\n"
        "FMT_END_NAMESPACE\n"
    )
    chunks = chunk(text, "cpp", "format.h")
    assert [c.symbol for c in chunks if c.kind != "block"] == ["uint128", "uint128.operator=="]
    assert by_symbol(chunks, "uint128.operator==").text.startswith("friend constexpr auto")
    assert "namespace" not in {c.symbol for c in chunks}
    assert not any(c.text.strip() == "friend" for c in chunks)


def test_cpp_names_past_macros_and_of_conversion_operators() -> None:
    # fmt's headers: a macro the grammar cannot expand makes it read the return type and the
    # name (or the name and a macro after it) as one scoped name missing its `::`.
    text = (
        "namespace fmt {\ntemplate <typename Char>\n"
        "FMT_CONSTEXPR ansi_color_escape<Char> make_emphasis(emphasis em) noexcept {\n"
        "  return ansi_color_escape<Char>(em);\n}\n\n"
        "struct spec_handler {\n"
        "  template <typename Id> FMT_CONSTEXPR arg_ref_type make_arg_ref(Id arg_id) {\n"
        "    return arg_ref_type(arg_id);\n  }\n\n"
        "  explicit operator bool() const noexcept {\n    return id_ != 0;\n  }\n"
        "  int id_;\n};\n\n"
        "inline null<> localtime_r FMT_NOMACRO(...) {\n  return null<>();\n}\n\n"
        "spec_handler::operator std::string() const {\n  return to_string(id_);\n}\n"
        "}  // namespace fmt\n"
    )
    named = [(c.kind, c.symbol) for c in chunk(text, "cpp", "color.h") if c.symbol]
    assert named == [
        ("function", "make_emphasis"),
        ("class", "spec_handler"),
        ("method", "spec_handler.make_arg_ref"),
        ("method", "spec_handler.operator bool"),
        ("block", "id_"),  # a data member
        ("function", "localtime_r"),
        ("method", "spec_handler.operator std::string"),
    ]


def test_cpp_classes_behind_export_macros_are_classes_with_their_methods() -> None:
    """`class SPDLOG_API logger {`: the grammar reads an export macro before the name as a
    function `logger` whose body stops at `public:`; left out of the parse, the class is a
    class, its methods units with their doc comments, and its text keeps the macro."""
    text = (
        "namespace spdlog {\n"
        "class SPDLOG_API logger\n{\npublic:\n"
        "    /// Logs a message at a level.\n"
        "    void log(int lvl, const char *msg)\n    {\n        do_log(lvl, msg);\n    }\n\n"
        "private:\n    std::string name_;\n};\n\n"
        "struct YAML_CPP_API Mark : public Base {\n"
        "  int line() const { return line_; }\n};\n\n"
        'class DLL_EXPORT DEPRECATED("use v2") Old final {\n  void run() {}\n};\n'
        "}  // namespace spdlog\n"
    )
    chunks = chunk(text, "cpp", "logger.h")
    assert definitions(chunks) == [
        ("class", "logger"),
        ("method", "logger.log"),
        ("class", "Mark"),
        ("method", "Mark.line"),
        ("class", "Old"),
        ("method", "Old.run"),
    ]
    assert by_symbol(chunks, "logger").text.startswith("class SPDLOG_API logger\n{")
    log = by_symbol(chunks, "logger.log")
    assert (log.start_line, log.end_line) == (4, 8)
    assert log.text.startswith("/// Logs a message at a level.\n    void log(")
    assert log.signature == "void log(int lvl, const char *msg)"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_qt_classes_keep_their_members(newline: str) -> None:
    """Qt's `Q_OBJECT` (no `;`), `public slots:` and `signals:` made the grammar read the
    class, up to its first slot, as one function named by that slot."""
    text = (
        "class Q_CORE_EXPORT Timer : public QObject\n{\n    Q_OBJECT // a comment\n"
        "    Q_PROPERTY(bool active READ isActive NOTIFY activeChanged)\n"
        "public:\n    void start(int msec)\n    {\n        m_interval = msec;\n    }\n\n"
        "public slots:\n    void stop() { m_active = false; }\n\n"
        "Q_SIGNALS:\n    void timeout();\n\n"
        "private:\n    int m_interval;\n};\n"
    ).replace("\n", newline)
    chunks = chunk(text, "cpp", "timer.h")
    assert definitions(chunks) == [
        ("class", "Timer"),
        ("method", "Timer.start"),
        ("method", "Timer.stop"),
    ]
    assert by_symbol(chunks, "Timer").text.startswith("class Q_CORE_EXPORT Timer")
    assert by_symbol(chunks, "Timer.stop").container == "Timer"
    # the section words stay in the text that is indexed and shown
    assert any(c.text.startswith(f"Q_SIGNALS:{newline}    void timeout();") for c in chunks)


def test_export_macro_classes_are_read_where_a_syntax_error_is_parsed_again() -> None:
    # An unclosed brace nests what follows in the broken function; the stretch parsed
    # again (chunker.recovery) leaves the macro out too.
    text = (
        "int broken(int a) {\n    if (a) {\n    return a;\n}\n\n"
        "class LIB_API Parser {\npublic:\n    /// Reads the next token.\n"
        "    int next() {\n        return pos_++;\n    }\n};\n"
    )
    named = [(c.kind, c.symbol) for c in chunk(text, "cpp", "parser.cpp") if c.symbol]
    assert named[-2:] == [("class", "Parser"), ("method", "Parser.next")]


def test_included_ranges_leave_out_overlapping_gaps_as_one() -> None:
    data = b"ab\ncdefgh\nij"
    hidden = (re.compile(rb"(cde)"), re.compile(rb"(d)"), re.compile(rb"(efg)"))
    ranges = grammars.included_ranges(data, 0, len(data), hidden)
    assert [(r.start_byte, r.end_byte) for r in ranges] == [(0, 3), (8, 12)]
    assert [tuple(r.end_point) for r in ranges] == [(1, 0), (2, 2)]
    assert tuple(ranges[1].start_point) == (1, 5)


def test_cpp_scope_macros_alone_on_a_line_are_left_out_of_the_parse() -> None:
    """fmt's `FMT_BEGIN_NAMESPACE` and `FMT_BEGIN_DETAIL_NAMESPACE` alone on a line: the
    grammar read each as the type of what follows (the struct under it became two functions
    `fits`, and `printer` no unit). Left out of the parse, the structs are classes, the
    macros stay in the text (chunks are cut from the file), the `#include` run above them
    is still an `imports` chunk, and the macros alone are structure, no chunk."""
    text = (
        '#include <limits>\n#include <string>\n#include "core.h"\n\n'
        "FMT_BEGIN_NAMESPACE\nFMT_MODULE_EXPORT_BEGIN\n\n"
        "template <typename T> struct printer { printer() = delete; };\n\n"
        "FMT_BEGIN_DETAIL_NAMESPACE\n\n"
        "// Whether a value fits in an int.\n"
        "template <bool IsSigned> struct range_checker {\n"
        "  template <typename T> static bool fits(T value) {\n    return value <= 100;\n  }\n"
        "  static bool fits(bool) { return true; }\n};\n\n"
        "FMT_END_DETAIL_NAMESPACE\nFMT_MODULE_EXPORT_END\nFMT_END_NAMESPACE\n"
    )
    chunks = chunk(text, "cpp", "printf.h")
    assert definitions(chunks) == [
        ("imports", ""),
        ("class", "printer"),
        ("class", "range_checker"),
        ("method", "range_checker.fits"),
        ("method", "range_checker.fits"),
    ]
    assert chunks[0].text == '#include <limits>\n#include <string>\n#include "core.h"'
    checker = by_symbol(chunks, "range_checker")
    assert checker.text.startswith("// Whether a value fits in an int.\ntemplate <bool IsSigned>")
    macros = [c.text for c in chunks if "FMT_" in c.text]
    assert macros == [
        "FMT_BEGIN_NAMESPACE\nFMT_MODULE_EXPORT_BEGIN",
        "FMT_BEGIN_DETAIL_NAMESPACE",
        "};\n\nFMT_END_DETAIL_NAMESPACE\nFMT_MODULE_EXPORT_END\nFMT_END_NAMESPACE",
    ]
    assert not any(says_something(text) for text in macros)


def test_c_scope_macros_keep_the_struct_under_them_a_class() -> None:
    # GLib's `G_BEGIN_DECLS`: the `typedef struct` after it was part of a block.
    text = (
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\nG_BEGIN_DECLS\n\n"
        "typedef struct {\n  int ref_count;\n} GThing;\n\n"
        "int g_thing_ref(GThing *thing)\n{\n  return ++thing->ref_count;\n}\n\nG_END_DECLS\n"
    )
    chunks = chunk(text, "c", "gthing.h")
    assert rows(chunks) == [
        ("imports", "", "", 0, 2),
        ("block", "", "", 4, 4),
        ("class", "GThing", "", 6, 8),
        ("function", "g_thing_ref", "", 10, 13),
        ("block", "", "", 15, 15),
    ]
    assert [says_something(c.text) for c in chunks] == [True, False, True, True, False]


def test_a_run_of_macro_lines_is_left_out_whole() -> None:
    # pybind11's `PYBIND11_WARNING_PUSH` above `PYBIND11_WARNING_DISABLE_GCC(...)`: leaving out
    # the second alone made the grammar read the first as the type of the template below.
    text = (
        'PYBIND11_WARNING_PUSH\nPYBIND11_WARNING_DISABLE_GCC("-Wtype-limits")\n\n'
        "template <typename T, int size>\n"
        "std::vector<T> to_vector(const Eigen::DSizes<T, size> &arr) {\n"
        "    return std::vector<T>(arr.begin(), arr.end());\n}\n\nPYBIND11_WARNING_POP\n"
    )
    chunks = chunk(text, "cpp", "tensor.h")
    assert definitions(chunks) == [("function", "to_vector")]
    assert by_symbol(chunks, "to_vector").text.startswith("template <typename T, int size>\n")


def test_c_macros_that_may_be_a_return_type_are_parsed() -> None:
    """A macro alone on its line above a function's name is its return type (libyaml's
    `YAML_DECLARE(int)`, Ruby's `VALUE`), and a line that continues a `#define` is the
    macro's: neither is left out of the parse."""
    text = (
        "YAML_DECLARE(int)\nyaml_parser_initialize(yaml_parser_t *parser)\n{\n    return 1;\n}\n\n"
        "VALUE\nrb_ary_new(void)\n{\n    return rb_ary_new_capa(0);\n}\n\n"
        "#define CHECK(x) \\\n    ASSERT_TRUE(x)\n\nint after(void) { return 0; }\n"
    )
    chunks = chunk(text, "c", "api.c")
    assert rows(chunks) == [
        ("function", "yaml_parser_initialize", "", 0, 4),
        ("function", "rb_ary_new", "", 6, 10),
        ("block", "CHECK", "", 12, 13),
        ("function", "after", "", 15, 15),
    ]
    assert by_symbol(chunks, "rb_ary_new").signature == "VALUE rb_ary_new(void)"


def test_a_template_whose_parameters_a_macro_broke_keeps_its_function() -> None:
    """`template <typename T, FMT_ENABLE_IF(...)>`, or a macro before the return type under
    the `template` line, is a syntax error; the stretch parsed again for it started at the
    function's own line, and the `template` line was a block apart from its function."""
    text = (
        "namespace fmt {\n"
        "template <typename T, FMT_ENABLE_IF(!is_signed<T>::value)>\n"
        "constexpr auto is_negative(T) -> bool {\n  return false;\n}\n\n"
        "template <typename OutputIt, typename Char>\n"
        "FMT_NOINLINE FMT_CONSTEXPR auto fill(OutputIt it, size_t n,\n"
        "                                     const fill_t<Char>& fill) -> OutputIt {\n"
        "  return it;\n}\n"
        "}  // namespace fmt\n"
    )
    chunks = chunk(text, "cpp", "format.h")
    assert rows(chunks) == [
        ("block", "", "", 0, 0),
        ("function", "is_negative", "", 1, 4),
        ("function", "fill", "", 6, 10),
        ("block", "", "", 11, 11),
    ]
    fill = by_symbol(chunks, "fill")
    assert fill.text.startswith("template <typename OutputIt, typename Char>\n")


def test_c_declarations_of_a_struct_type_are_not_read_as_macros() -> None:
    # `struct FOO_T item;` declares a variable of type `struct FOO_T`: nothing is left out.
    text = "struct FOO_T item;\nstruct FOO_T {\n  int a;\n};\n"
    assert [(c.kind, c.symbol) for c in chunk(text, "c", "item.c")] == [
        ("block", "item"),
        ("class", "FOO_T"),
    ]


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
        ("block", "n_", "", 7, 10),  # its data member, as C++'s are named
    ]
    # Parsed as C++, labelled by its path (a C++ label cost fmt's questions: BENCHMARKS.md).
    assert {c.language for c in chunks} == {"c"}


def test_plain_c_header() -> None:
    text = "#include <stdio.h>\n\nstruct pair { int a; int b; };\nint sum(struct pair p);\n"
    assert rows(chunk(text, "c", "pair.h")) == [
        ("imports", "", "", 0, 0),
        ("class", "pair", "", 2, 2),
        ("block", "", "", 3, 3),
    ]


def _limits_header(language_wrapper: tuple[str, str]) -> str:
    """A header of macros in the shape of lua's llimits.h: each a comment of two to five
    lines and a guarded `#define`, 14 of them (about 120 lines), all inside an include guard
    and `opener`/`closer` (an `extern "C"` block or a namespace), with no function."""
    opener, closer = language_wrapper
    macros = "".join(
        f"/*\n** Limit number {i} of the core, explained at some length\n"
        + "** over more lines of the comment,\n" * (i % 4)
        + f"*/\n#if !defined(LIMIT_{i})\n#define LIMIT_{i}\t{i * 8}\n#endif\n\n\n"
        for i in range(14)
    )
    return f"#ifndef limits_h\n#define limits_h\n\n{opener}{macros}{closer}#endif\n"


@pytest.mark.parametrize(
    ("language", "wrapper"),
    [
        ("c", ("", "")),
        ("c", ('#ifdef __cplusplus\nextern "C" {\n#endif\n\n', '#ifdef __cplusplus\n}\n#endif\n')),
        ("cpp", ("namespace core {\n\n", "}\n")),
    ],
)
def test_a_header_of_macros_is_cut_between_them_not_inside_a_comment(
    language: str, wrapper: tuple[str, str]
) -> None:
    """An include guard (an `#if` group, `extern "C" {}`, a namespace) that holds no function
    is cut between the statements it holds: every window starts on a comment's first line or
    on a statement, and each macro stays in one window with the comment that explains it."""
    text = _limits_header(wrapper)
    chunks = [c for c in chunk(text, language, "llimits.h") if c.kind == "block"]
    assert len(chunks) > 2  # more than one window of 40 lines
    lines = text.split("\n")
    for block in chunks:
        first = lines[block.start_line].strip()
        assert not first.startswith("**"), f"window starts inside a comment: {first!r}"
    for i in range(14):
        [holder] = [c for c in chunks if f"#define LIMIT_{i}\t" in c.text]
        assert f"Limit number {i} of the core" in holder.text
        assert f"LIMIT_{i}" in holder.symbol.split(", ")


def test_a_go_group_of_declarations_is_cut_between_them() -> None:
    """`var (` / `const (` holding more than a window: each declaration stays with the
    comment above it (cobra's `ShellCompDirective` constants were cut inside a comment)."""
    specs = "".join(
        f"\t// ErrNumber{i} is returned when step {i} of the handshake fails,\n"
        + "\t// which a longer comment explains at some length.\n" * (i % 3)
        + f'\tErrNumber{i} = errors.New("step {i} failed")\n\n'
        for i in range(16)
    )
    text = f'package tls\n\nimport "errors"\n\nvar (\n{specs})\n'
    blocks = [c for c in chunk(text, "go", "errors.go") if c.kind == "block"]
    assert len(blocks) > 1
    lines = text.split("\n")
    for block in blocks[1:]:
        assert lines[block.start_line].startswith("\t// ErrNumber"), block.text[:60]
    for i in range(16):
        [holder] = [c for c in blocks if f"\tErrNumber{i} = " in c.text]
        assert f"// ErrNumber{i} is returned" in holder.text


def test_a_guarded_define_is_never_cut_from_its_guard() -> None:
    """`#if !defined(X)` / `#define X` / `#endif` is one statement: a window that must end
    ends before it or after it, never between its lines."""
    text = "#ifndef h\n#define h\n" + "".join(
        f"#if !defined(K{i})\n#define K{i} {i}\n#endif\n" for i in range(30)
    ) + "#endif\n"
    lines = text.split("\n")
    for block in chunk(text, "c", "k.h"):
        assert not lines[block.start_line].startswith("#define K"), block.text[:40]
        assert not lines[block.end_line].startswith("#define K"), block.text[-40:]


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
        ("imports", 0, 0, 0, 9),
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
    assert rows(chunks) == [("block", "NAME", "", 0, 1), ("function", "grüß", "", 4, 5)]
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
    # Functions larger than a chunk hold units of their own, three deep at most.
    assert {c.symbol for c in chunks} == {"f", "f.f", "f.f.f", "f.f.f.f"}


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


@pytest.mark.parametrize(
    ("language", "path", "text", "kind"),
    [
        ("python", "a.py", '"""Doc."""\n\nimport os\nfrom x import (\n    a,\n)\n', "imports"),
        ("python", "a.py", "import os\n\nDEBUG = os.environ.get('DEBUG')\n", "block"),
        ("javascript", "a.js", "'use strict';\nvar a = require('a');\nvar b = require('b')('x');\n",
         "imports"),
        ("javascript", "a.js", "var a = require('a');\nvar app = a();\n", "block"),
        ("typescript", "a.ts", "import {\n  A,\n  B,\n} from './x';\nexport * from './y';\n",
         "imports"),
        ("go", "a.go", 'package a\n\nimport (\n\t"fmt"\n\t"os"\n)\n', "imports"),
        ("rust", "a.rs", "use std::io;\nuse crate::{\n    a,\n};\nmod parser;\n", "imports"),
        ("java", "A.java", "package a.b;\n\nimport java.util.List;\n", "imports"),
        ("c", "a.c", "#include <stdio.h>\n#include \"a.h\"\n", "imports"),
        ("c", "a.c", "#include <stdio.h>\nstatic int counter = 0;\n", "block"),
        ("csharp", "A.cs", "using System;\nusing System.Linq;\nnamespace A.B;\n", "imports"),
        ("ruby", "a.rb", "require 'json'\nrequire_relative 'b'\n", "imports"),
        ("php", "a.php", "<?php\nnamespace App;\nuse Foo\\Bar;\n", "imports"),
        # Imports for type checkers only (65 of 166 modules of click, httpx, rich and flask).
        ("python", "a.py", "if t.TYPE_CHECKING:  # pragma: no cover\n    from .app import (\n"
         "        Flask,\n    )\n    from .wrappers import Request\n", "imports"),
        ("python", "a.py", "if TYPE_CHECKING:\n    from .app import Flask\n\n"
         "    AppT = Flask\n", "block"),
        # ... but they do not make a short run long: click's `from threading import local`
        # stays with `_local = local()` ("thread local storage for the stack of contexts").
        ("python", "a.py", "import typing as t\nfrom threading import local\n\n"
         "if t.TYPE_CHECKING:\n    from .core import Context\n\n_local = local()\n", "block"),
    ],
)
def test_blocks_of_imports_alone_are_imports(language, path, text, kind):
    chunks = chunk_text(path, text, language)
    assert [c.kind for c in chunks] == [kind]


@pytest.mark.parametrize(
    ("language", "path", "head", "tail"),
    [
        ("python", "a.py", '"""Transports."""\nimport os\nfrom .models import (\n    Request,\n)\n',
         "LIMITS = {\n    'read': 5,\n}\n"),
        ("javascript", "a.js",
         "var a = require('a');\nvar b = require('b');\nvar c = require('c');\n",
         "var app = a();\napp.use(b);\n"),
        ("go", "a.go", 'package a\n\nimport (\n\t"fmt"\n\t"os"\n)\n',
         'var Debug = os.Getenv("D")\n'),
        # Its imports for type checkers are in the run (flask's sessions.py: a block of its
        # own, the fourth answer to "decide whether a template is autoescaped"), ...
        ("python", "a.py", "import typing as t\nfrom base64 import b64decode\nfrom datetime import"
         " datetime\n\nif t.TYPE_CHECKING:\n    from .app import Flask\n"
         "    from .wrappers import Request\n", "T = t.TypeVar('T')\n"),
        # ... but not a guard that holds code: the code after the imports.
        ("python", "a.py", "import os\nimport sys\nimport typing as t\n",
         "if t.TYPE_CHECKING:\n    from .app import Flask\n    AppT = Flask\n"),
    ],
)
def test_a_run_of_imports_is_apart_from_the_code_after_it(language, path, head, tail):
    # A window mixing the two was a `block`: "find similar" answered with the imports.
    chunks = chunk_text(path, head + "\n" + tail, language)
    assert [(c.kind, c.text) for c in chunks] == [
        ("imports", head.strip()),
        ("block", tail.strip()),
    ]


def test_a_docstring_or_comments_alone_are_commentary() -> None:
    # A module's docstring right above its first definition is a block of its own: prose,
    # which code queries leave out (engine.ranking).
    text = '"""Custom transports, with defaults."""\n\n\ndef send(request):\n    return request\n'
    chunks = chunk_text("t.py", text, "python")
    assert [(c.kind, c.start_line) for c in chunks] == [("block", 0), ("function", 3)]
    assert is_commentary(chunks[0].text, "python")
    assert not is_commentary("LIMIT = 10", "python")
    assert is_commentary("// Licensed to you.\n/* Helpers\n * for tests. */", "javascript")
    assert not is_commentary("/* why */ run();", "javascript")


def test_blocks_start_on_a_statement() -> None:
    # 10 constants, then a call over 15 lines: a 20-line window cut the call in two and the
    # second window's preview read `    "key_12": 12,`.
    call = "ITEMS = dict(\n" + "".join(f'    key_{i}={i},\n' for i in range(13)) + ")\n"
    text = "".join(f"C_{i} = {i}\n" for i in range(10)) + call + "DONE = True\n"
    chunks = chunk_text("a.py", text, "python", window_lines=20)
    assert [(c.start_line, c.end_line) for c in chunks] == [(0, 9), (10, 25)]
    assert chunks[1].text.startswith("ITEMS = dict(")
    # A statement longer than a window is still cut at the window's length.
    long_call = "ITEMS = dict(\n" + "".join(f"    key_{i}={i},\n" for i in range(30)) + ")\n"
    assert [c.start_line for c in chunk_text("b.py", long_call, "python", window_lines=20)] == [
        0,
        20,
    ]
    check_invariants(text, chunks)


@pytest.mark.parametrize(
    ("language", "comment"),
    [("python", "# Bytes that must be escaped, and what each becomes."),
     ("rust", "// Bytes that must be escaped, and what each becomes."),
     ("javascript", "/* Bytes that must be escaped,\n   and what each becomes. */")],
)  # fmt: skip
def test_a_comment_right_above_a_statement_stays_in_its_window(language, comment) -> None:
    """Serde's `// Lookup table of bytes that must be escaped.` above `static ESCAPE` was a
    nameless comment chunk when the table filled the window: the window now starts at the
    comment, and the table's chunk says what it is for."""
    table = {"python": "ESCAPE = [\n", "rust": "static ESCAPE: [u8; 12] = [\n",
             "javascript": "const ESCAPE = [\n"}[language]  # fmt: skip
    end = {"python": "]\n", "rust": "];\n", "javascript": "];\n"}[language]
    first = {"python": "LIMIT = 3\n", "rust": "const LIMIT: u8 = 3;\n",
             "javascript": "const LIMIT = 3;\n"}[language]  # fmt: skip
    body = "".join(f"    {i},\n" for i in range(12))
    text = first + comment + "\n" + table + body + end
    path = {"python": "a.py", "rust": "a.rs", "javascript": "a.js"}[language]
    chunks = chunk_text(path, text, language, window_lines=10)
    comment_line = 1
    holding = [c for c in chunks if "ESCAPE" in c.names]
    assert holding and holding[0].start_line == comment_line, [
        (c.start_line, c.end_line, c.symbol) for c in chunks
    ]
    assert not any(c.end_line < holding[0].start_line and "escaped" in c.text for c in chunks)
    assert chunks[0].names == ("LIMIT",) and chunks[0].end_line == 0
    check_invariants(text, chunks)


def test_typescript_overloads_are_one_unit_with_their_implementation():
    text = (
        "/** Converts a thing. */\n"
        "export function convert(a: string): string;\n"
        "export function convert(a: number): number;\n"
        "\n"
        "/** The implementation. */\n"
        "export function convert(a: any): any {\n"
        "  return a;\n"
        "}\n"
        "export function other(): void;\n"
        "\n"
        "\n"
        "export function unrelated(): void {}\n"
        "class Pipe {\n"
        "  /** Chains operators. */\n"
        "  pipe(): Pipe;\n"
        "  pipe(op: number): Pipe;\n"
        "  pipe(...ops: any[]): Pipe {\n"
        "    return this;\n"
        "  }\n"
        "}\n"
    )
    chunks = {c.symbol: c for c in chunk_text("a.ts", text, "typescript") if c.symbol}
    assert (chunks["convert"].start_line, chunks["convert"].end_line) == (0, 7)
    assert (chunks["unrelated"].start_line, chunks["unrelated"].end_line) == (11, 11)
    assert (chunks["Pipe.pipe"].start_line, chunks["Pipe.pipe"].end_line) == (13, 18)
    assert chunks["Pipe.pipe"].text.startswith("/** Chains operators. */")


def test_a_python_main_guard_is_one_script_unit() -> None:
    # rich 13.9 ends 46 modules with a demo under `if __name__ == "__main__":`; as blocks they
    # answered questions about the library (2nd for "parse console markup").
    text = (
        "def render(markup):\n"
        "    return markup\n"
        "\n"
        "\n"
        "if __name__ == '__main__':  # pragma: no cover\n"
        "    def demo():\n"
        "        return render('[b]x')\n"
        "\n"
        + "".join(f"    print(demo(), {i})\n" for i in range(100))
        + "\n"
        "if __name__ != '__main__':\n"
        "    LOADED = True\n"
    )
    chunks = chunk(text, "python", "rich/markup.py")
    script = [c for c in chunks if c.kind == "script"]
    assert {c.symbol for c in script} == {"__main__"}
    assert [c.part for c in script] == [1, 2]  # long: one unit in parts, demo() inside it
    assert all(c.signature == "if __name__ == '__main__':" for c in script)
    assert (script[0].unit_start_line, script[0].unit_end_line) == (4, 107)
    assert not any(c.symbol.endswith("demo") for c in chunks)
    assert rows(chunks)[-1] == ("block", "LOADED", "", 109, 110)  # another condition: plain code


def test_python_overload_stubs_are_one_unit_with_their_implementation():
    # click types `Context.invoke` and `get_default` with `@t.overload` stubs: one result,
    # not three, and its signature is the implementation's.
    text = (
        "import typing as t\n"
        "\n"
        "class Context:\n"
        "    @t.overload\n"
        "    def get_default(self, call: 'Literal[True]' = True) -> int: ...\n"
        "\n"
        "    @typing.overload\n"
        "    def get_default(self, call: bool = ...) -> object: ...\n"
        "\n"
        "    def get_default(self, call: bool = True) -> object:\n"
        "        return self.default() if call else self.default\n"
        "\n"
        "    @overload\n"
        "    def only_typed(self) -> int: ...\n"
        "\n"
        "    def other(self) -> None:\n"
        "        pass\n"
    )
    chunks = chunk(text, "python", "core.py")
    defined = [(c.symbol, c.start_line, c.end_line) for c in chunks if c.kind == "method"]
    # A stub with no definition of its name after it (a Protocol, a .pyi) stays on its own.
    assert defined == [
        ("Context.get_default", 3, 10),
        ("Context.only_typed", 12, 13),
        ("Context.other", 15, 16),
    ]
    unit = next(c for c in chunks if c.symbol == "Context.get_default")
    assert unit.signature == "def get_default(self, call: bool = True) -> object:"
    # Top-level stubs stand two blank lines apart (PEP 8); further apart, they stay apart.
    top_level = (
        "from typing import overload\n\n\n"
        "@overload\ndef echo(x: int) -> int: ...\n\n\n"
        "def echo(x):\n    return x\n\n\n\n"
        "@overload\ndef lone(x: int) -> int: ...\n\n\n\n"
        "def lone(x):\n    return x\n"
    )
    assert rows(chunk(top_level, "python", "m.py")) == [
        ("imports", "", "", 0, 0),
        ("function", "echo", "", 3, 8),
        ("function", "lone", "", 12, 13),
        ("function", "lone", "", 17, 18),
    ]


def test_signatures_leave_comments_out() -> None:
    # A comment on a parameter or the one that opens a Python body lies inside the header's
    # text range; previews showed it (`... -> t.Any: # If we're a non boolean flag ...`).
    python = (
        "def get_default(\n"
        "    self, ctx, call=True  # noqa: B902\n"
        ") -> object:\n"
        "    # If we're a non boolean flag our default is more complex\n"
        "    return None\n"
    )
    javascript = (
        "function startAction(name, canRunAsDerivation, // true for autoAction\n"
        "    scope, /* the this */ args) {\n"
        "  return name;\n"
        "}\n"
    )
    (py,) = [c for c in chunk(python, "python") if c.symbol]
    (js,) = [c for c in chunk(javascript, "javascript") if c.symbol]
    assert py.signature == "def get_default(self, ctx, call=True) -> object:"
    assert js.signature == "function startAction(name, canRunAsDerivation, scope, args)"
    assert preview_of(py) == py.signature


def test_rust_macro_rules_are_named_definitions() -> None:
    text = (
        "/// Fails when the depth limit is reached.\n"
        "macro_rules! check_recursion {\n"
        "    ($this:ident $($body:tt)*) => {\n"
        "        $this.remaining_depth -= 1;\n"
        "    };\n"
        "}\n"
        "\n"
        "fn parse() {}\n"
    )
    chunks = chunk(text, "rust", "src/de.rs")
    macro, function = ("function", "check_recursion", "", 0, 5), ("function", "parse", "", 7, 7)
    assert rows(chunks) == [macro, function]
    assert chunks[0].signature == "macro_rules! check_recursion"


def test_an_export_list_is_a_name_list_and_code_is_not():
    assert is_name_list('__all__ = [\n    "Client",\n    "get",  # the shortcut\n]\n')
    assert is_name_list('    "post",\n    "put",\n]')  # the tail of one, past a window
    assert not is_name_list('CODES = ["a", compute("b")]')
    assert not is_name_list('return "done"')
    assert not is_name_list("")


@pytest.mark.parametrize(
    ("path", "language", "text", "name", "expected"),
    [
        # A closure.
        (
            "pkg/cols.py",
            "python",
            "def render(cells):\n    sep = 'é'\n    def iter_cells(n):\n        return cells[:n]\n"
            "    return sep.join(iter_cells(2))\n",
            "iter_cells",
            ("function", "render.iter_cells", (2, 4), (3, 24),
             "def iter_cells(n):\n        return cells[:n]"),
        ),
        # An arrow function that is an object's member, on one line of a method, after a
        # character of two bytes: columns are characters, as the chunker's are.
        (
            "lib/command.js",
            "javascript",
            "class Command {\n  constructor() {\n"
            "    this.out = { label: 'é', writeOut: (str) => process.stdout.write(str) };\n"
            "  }\n}\n",
            "writeOut",
            ("function", "Command.constructor.writeOut", (2, 29), (2, 73),
             "writeOut: (str) => process.stdout.write(str)"),
        ),
        # A struct local to a function.
        (
            "src/number.rs",
            "rust",
            "fn deserialize() -> u8 {\n    struct NumberVisitor;\n    0\n}\n",
            "NumberVisitor",
            ("class", "deserialize.NumberVisitor", (1, 4), (1, 25), "struct NumberVisitor;"),
        ),
    ],
)  # fmt: skip
def test_a_definition_inside_another_is_its_own_chunk_for_its_name(
    path: str, language: str, text: str, name: str, expected: tuple
) -> None:
    outer = next(c for c in chunk_text(path, text, language) if c.kind in {"function", "method"})
    inner = nested_chunk(outer, name)
    assert inner is not None
    shown = (inner.kind, inner.symbol, (inner.start_line, inner.start_col),
             (inner.end_line, inner.end_col), inner.text)  # fmt: skip
    assert shown == expected
    first_line = text.split("\n")[inner.start_line]
    assert first_line[inner.start_col :].startswith(inner.text.split("\n")[0])
    assert nested_chunk(outer, "not_defined_here") is None


def test_a_class_header_declares_its_fields_and_a_method_only_locals() -> None:
    # A method's text parsed alone is a call and a block to JavaScript's grammar: its
    # `const option` must not read as a declaration that names the method's chunk.
    text = (
        "class Command {\n  name = 'cmd';\n\n"
        "  parseOptions(args) {\n    const option = this._findOption(args[0]);\n"
        "    return option;\n  }\n\n"
        "  option(flags) {\n    return this.createOption(flags);\n  }\n}\n"
    )
    chunks = chunk_text("lib/command.js", text, "javascript")
    header = next(c for c in chunks if c.kind == "class")
    method = next(c for c in chunks if c.symbol == "Command.parseOptions")
    field = nested_chunk(header, "name")
    assert field is not None
    assert (field.kind, field.symbol, field.start_line, field.text) == (
        "block", "Command.name", 1, "name = 'cmd'"
    )
    assert nested_chunk(method, "option") is None


@pytest.mark.parametrize(
    ("language", "path", "member", "declared"),
    [
        ("csharp", "MainForm.cs", "\t\tpublic event EventHandler Saved{i};\r\n", "Saved{i}"),
        ("java", "Settings.java", "    private int indent{i} = {i};\n", "indent{i}"),
        ("typescript", "store.ts", "  private limit{i}: number = {i};\n", "limit{i}"),
    ],
)  # fmt: skip
def test_a_member_in_a_later_part_of_a_split_class_header_is_found_by_its_name(
    language: str, path: str, member: str, declared: str
) -> None:
    # KeePass's `partial class MainForm` holds 40 events and no method: its header is split,
    # and a later part's text, parsed alone, starts inside the class body, where C#'s and
    # Java's grammars read no member: `FileSaved` typed alone found nothing there.
    newline = "\r\n" if "\r\n" in member else "\n"
    members = "".join(
        f"  /** Member {i}, documented. */{newline}" + member.format(i=i) for i in range(40)
    )
    text = f"public class Holder {{{newline}{members}}}{newline}"
    parts = [c for c in chunk(text, language, path, max_chars=600) if c.kind == "class"]
    assert len(parts) > 2 and parts[-1].part > 1
    for part in parts:
        for i in range(40):
            name = declared.format(i=i)
            if not re.search(rf"\b{name}\b", part.text):
                continue
            found = nested_chunk(part, name)
            assert found is not None, (part.part, name)
            assert (found.kind, found.symbol) == ("block", f"Holder.{name}")
            line = text.split(newline)[found.start_line]
            assert name in line and line[found.start_col :].startswith(found.text.split(newline)[0])


def test_a_member_of_a_split_qt_class_header_is_found_by_its_name() -> None:
    # A part of a split header is parsed again alone (chunker.nested_definition): that parse
    # leaves `Q_OBJECT` out too, or it reads the next line's section and member as one
    # declaration of type `Q_OBJECT`.
    member = "    /** Limit {i}, documented. */\n    int limit{i} = {i};\n"
    members = "".join(member.format(i=i) for i in range(40))
    text = f"class Holder : public QObject\n{{\n    Q_OBJECT\npublic:\n{members}}};\n"
    parts = [c for c in chunk(text, "cpp", "holder.h", max_chars=600) if c.kind == "class"]
    assert len(parts) > 2 and "Q_OBJECT" in parts[0].text
    for part in parts:
        for i in range(40):
            if re.search(rf"\blimit{i}\b", part.text):
                found = nested_chunk(part, f"limit{i}")
                assert found is not None, (part.part, i)
                assert text.split("\n")[found.start_line].strip() == f"int limit{i} = {i};"


def test_a_member_after_a_statement_the_split_cut_is_found_by_its_name() -> None:
    # jsoup's HtmlTreeBuilder: its header is cut inside a long string array, so a later
    # part starts `"section", "select", … "xmp"};`, which no parse reads past.
    tags = "".join(f'        "tag{i}", "other{i}", "more{i}",\n' for i in range(30))
    fields = "".join(f"    private int depth{i}; // note {i}\n" for i in range(6))
    text = (
        "public class Builder {\n    static final String[] Tags = {\n"
        f"{tags}    }};\n\n{fields}\n    void run() {{ }}\n}}\n"
    )
    parts = [c for c in chunk(text, "java", "Builder.java", max_chars=600) if c.kind == "class"]
    holder = next(c for c in parts if "depth0" in c.text)
    assert holder.part > 1 and holder.text.lstrip().startswith('"tag')  # the precondition
    for i in range(6):
        found = nested_chunk(holder, f"depth{i}")
        assert found is not None, i
        assert text.split("\n")[found.start_line].strip() == f"private int depth{i}; // note {i}"


def _plugin(helpers: int, body_lines: int) -> str:
    """immer's plugins/patches.ts in small: a function that builds a plugin out of the
    functions it holds, and registers them after the last one."""
    inner = "".join(
        f"\tfunction helper{i}(state, patches) {{\n"
        + "".join(f"\t\tpatches.push({{op: 'add', path: [{i}, {k}]}})\n" for k in range(body_lines))
        + "\t}\n\n"
        for i in range(helpers)
    )
    return (
        'import {loadPlugin} from "./plugins"\n\n'
        "export function enablePatches() {\n"
        "\tconst REPLACE = 'replace'\n\n"
        f"{inner}"
        '\tloadPlugin("Patches", {helper0, helper1})\n'
        "}\n"
    )


def test_a_function_larger_than_a_chunk_holds_its_functions_as_units() -> None:
    # immer's `enablePatches()` (290 lines) was one unit: "deep clone a value put in a patch"
    # answered `enablePatches` at its first line, 265 lines above `deepClonePatchValue`.
    text = _plugin(helpers=4, body_lines=12)
    chunks = chunk(text, "javascript", "patches.js")
    assert [(c.kind, c.symbol, c.container, c.part) for c in chunks if c.kind != "imports"] == [
        ("function", "enablePatches", "", 1),
        *[("function", f"enablePatches.helper{i}", "enablePatches", 0) for i in range(4)],
        ("function", "enablePatches", "", 2),
    ]
    own = [c for c in chunks if c.symbol == "enablePatches"]
    last = text.count("\n") - 1
    assert {(c.unit_start_line, c.unit_end_line) for c in own} == {(2, last)}
    assert own[0].text == "export function enablePatches() {\n\tconst REPLACE = 'replace'"
    assert own[1].text == '\tloadPlugin("Patches", {helper0, helper1})\n}'.lstrip()
    helper = by_symbol(chunks, "enablePatches.helper3")
    assert helper.text.startswith("function helper3(state, patches) {")
    assert (helper.start_line, helper.end_line) == (2 + 3 + 15 * 3, 2 + 3 + 15 * 3 + 13)


def test_a_function_that_fits_a_chunk_keeps_its_closures() -> None:
    # A decorator's wrapper, a small plugin: one unit, as before.
    text = _plugin(helpers=2, body_lines=2)
    assert [(c.kind, c.symbol, c.part) for c in chunk(text, "javascript", "p.js")] == [
        ("imports", "", 0),
        ("function", "enablePatches", 0),
    ]
    decorator = (
        "def retry(times):\n"
        "    def decorate(func):\n"
        "        def wrapper(*args):\n"
        "            return func(*args)\n"
        "        return wrapper\n"
        "    return decorate\n"
    )
    assert rows(chunk(decorator, "python")) == [("function", "retry", "", 0, 5)]


def test_python_and_typescript_functions_larger_than_a_chunk_hold_their_definitions() -> None:
    body = "".join(f"    value_{i} = compute(value_{i - 1}, {i})\n" for i in range(1, 60))
    python = (
        "def transport(request):\n"
        '    """Send the request through the application."""\n'
        f"{body}"
        "    def receive():\n"
        "        return {'type': 'http.request', 'body': request.read()}\n"
        "\n"
        "    return run(receive)\n"
    )
    chunks = chunk(python, "python")
    assert [(c.kind, c.symbol, c.container) for c in chunks if c.symbol.endswith("receive")] == [
        ("function", "transport.receive", "transport")
    ]
    assert chunks[-1].symbol == "transport" and chunks[-1].text == "return run(receive)"
    component = (
        "export function Overlay(props: Props) {\n"
        f"{''.join(f'  const part{i} = usePart(props, {i});{chr(10)}' for i in range(60))}"
        "  function handleDocumentMousedown(event: MouseEvent) {\n"
        "    props.onClose?.(event);\n"
        "  }\n"
        "  return <div onMouseDown={handleDocumentMousedown} />;\n"
        "}\n"
    )
    kinds = {c.symbol: c.kind for c in chunk(component, "tsx", "overlay.tsx")}
    assert kinds == {"Overlay": "function", "Overlay.handleDocumentMousedown": "function"}
    # In C a "function" holding others is the grammar's misreading of a macro (tmux's
    # input.c: `printflike(2, 3)` read as a function over the next 600 lines): left as it was.
    tables = (
        f"/* Table {i}. */\nstruct input_table_{i} {{\n\tint\tfirst;\n\tint\tsecond;\n}};\n\n"
        for i in range(60)
    )
    c_text = (
        "static int\tinput_split(struct input_ctx *);\n"
        "static void printflike(2, 3) input_reply(struct input_ctx *, const char *, ...);\n"
        "static void\tinput_reset_cell(struct input_ctx *);\n\n"
        + "".join(tables)
        + "static int\nafter(void)\n{\n\treturn 1;\n}\n"
    )
    assert not any("." in c.symbol for c in chunk(c_text, "c", "input.c"))


def test_a_rust_function_larger_than_a_chunk_holds_its_visitor_but_a_test_keeps_its_items() -> None:
    # serde's pattern: `fn deserialize` declares a visitor struct and its `impl Visitor`,
    # whose `visit_*` methods are the code a question asks for (serde_json's
    # `Value::deserialize`, 114 lines, holds `ValueVisitor.visit_map`).
    visits = "".join(
        f"        fn visit_kind_{i}<E>(self, value: u{i}) -> Result<Value, E> {{\n"
        f"            Ok(Value::from(value as u64 + {i}))\n"
        "        }\n"
        for i in range(12)
    )
    rust = (
        "impl<'de> Deserialize<'de> for Value {\n"
        "    fn deserialize<D>(deserializer: D) -> Result<Value, D::Error> {\n"
        "        struct ValueVisitor;\n"
        "\n"
        "        impl<'de> Visitor<'de> for ValueVisitor {\n"
        "            type Value = Value;\n"
        f"{visits}"
        "            fn visit_map<V>(self, mut visitor: V) -> Result<Value, V::Error> {\n"
        "                let mut values = Map::new();\n"
        "                while let Some((key, value)) = visitor.next_entry()? {\n"
        "                    values.insert(key, value);\n"
        "                }\n"
        "                Ok(Value::Object(values))\n"
        "            }\n"
        "        }\n"
        "\n"
        "        deserializer.deserialize_any(ValueVisitor)\n"
        "    }\n"
        "}\n"
    )
    chunks = chunk(rust, "rust", "de.rs")
    visit_map = next(c for c in chunks if c.symbol.endswith("visit_map"))
    assert (visit_map.kind, visit_map.symbol, visit_map.container) == (
        "method",
        "Value.deserialize.ValueVisitor.visit_map",
        "Value.deserialize.ValueVisitor",
    )
    assert chunks[-2].symbol == "Value.deserialize" and chunks[-2].text.strip() == (
        "deserializer.deserialize_any(ValueVisitor)\n    }"
    )
    # A test (`#[test]`) larger than a chunk declares its types to serialize: its own code.
    test = rust.replace("impl<'de> Deserialize<'de> for Value {\n", "").replace(
        "    fn deserialize<D>", "#[test]\nfn test_deserialize<D>"
    )
    units = {c.symbol for c in chunk(test, "rust", "de.rs") if c.kind != "block"}
    assert units == {"test_deserialize"}


def test_code_outside_a_function_that_holds_units_is_cut_as_in_a_file_without_one() -> None:
    # commander's help.js: a class, then `exports.Help = Help;`. A function elsewhere in the
    # file that holds units must not change the blocks around the class.
    text = (
        "class Help {\n"
        "  constructor() {\n"
        "    this.helpWidth = undefined;\n"
        "  }\n"
        "}\n"
        "\n"
        "exports.Help = Help;\n"
    )
    steps = "".join(f"  const step{i} = prepare(options, {i});\n" for i in range(60))
    holder = (
        f"function createStore(options) {{\n{steps}"
        "  function dispatch(action) {\n    return action;\n  }\n  return dispatch;\n}\n"
    )

    def blocks(source: str) -> list[tuple[int, str]]:
        chunks = chunk(source, "javascript", "help.js")
        return [(c.start_line, c.text) for c in chunks if c.kind == "block"]

    alone = blocks(text)
    assert any("exports.Help = Help;" in block for _, block in alone)
    assert blocks(text + "\n" + holder) == alone


def test_a_long_test_keeps_its_callbacks() -> None:
    # @tanstack/query's tests hold `queryFn: () =>` callbacks and small components: the
    # test's own code, not units of their own, however long the test.
    steps = "".join(f"    await step{i}(rendered)\n" for i in range(60))
    text = (
        "describe('useQuery', () => {\n"
        "  it('refetches on window focus', async () => {\n"
        "    function Page() {\n"
        "      const state = useQuery({ queryKey: key, queryFn: () => 'data' })\n"
        "      return <div>{state.data}</div>\n"
        "    }\n"
        f"{steps}"
        "  })\n"
        "})\n"
    )
    units = {c.symbol for c in chunk(text, "tsx", "useQuery.test.tsx") if c.kind != "block"}
    assert units == {"useQuery", "useQuery.refetches on window focus"}


# --------------------------------------------------------------------------------------------
# Kotlin and Swift
# --------------------------------------------------------------------------------------------

KOTLIN = """package expo.modules.camera

import expo.modules.kotlin.Promise

/**
 * Options of a picture.
 */
@Suppress("unused")
data class Options(val quality: Int = 1, val mute: Boolean) : Record {
  /** Twice the quality. */
  val size: Int
    get() = quality * 2

  init {
    check(quality > 0)
  }

  constructor(quality: Int) : this(quality, false)

  companion object {
    fun create(): Options = Options(1, true)
  }

  /**
   * Takes a picture.
   */
  override suspend fun takePicture(
    options: PictureOptions,
    promise: Promise
  ) {
    promise.resolve(null)
  }
}

interface Record {
  /** Saves it at [path]. */
  fun save(path: String)
}

fun String?.toSlug(): String = orEmpty().lowercase()

val onClick = fun(view: View) { view.hide() }

typealias Callback = (Int) -> Unit
"""


def test_kotlin_definitions_with_their_kdoc_and_names() -> None:
    chunks = chunk(KOTLIN, "kotlin")
    assert [r for r in rows(chunks) if r[0] != "block"] == [
        ("imports", "", "", 0, 2),
        ("class", "Options", "", 4, 8),  # its KDoc and annotation, up to its first member
        ("method", "Options.size", "Options", 9, 11),
        ("method", "Options.init", "Options", 13, 15),
        ("method", "Options.constructor", "Options", 17, 17),
        ("method", "Options.create", "Options", 20, 20),  # a companion's: called so
        ("method", "Options.takePicture", "Options", 23, 31),
        ("class", "Record", "", 34, 34),
        ("method", "Record.save", "Record", 35, 36),  # bodyless, with its KDoc
        ("method", "String.toSlug", "String", 39, 39),  # an extension, by its receiver
        ("function", "onClick", "", 41, 41),
    ]
    picture = by_symbol(chunks, "Options.takePicture")
    assert picture.text.startswith("/**\n   * Takes a picture.")
    assert picture.signature == (
        "override suspend fun takePicture(options: PictureOptions, promise: Promise)"
    )
    assert by_symbol(chunks, "Options").signature == (
        "data class Options(val quality: Int = 1, val mute: Boolean) : Record"
    )
    assert any(c.kind == "block" and c.symbol == "Callback" for c in chunks)


SWIFT = """import Foundation
@testable import ExpoModulesCore

/// A camera session.
///
/// Holds the capture session.
@objc
public final class CameraSession: NSObject {
  /// The preview layer.
  private var layer: CALayer?

  var isRunning: Bool {
    return session.isRunning
  }

  init(delegate: CameraDelegate) {
    self.delegate = delegate
  }

  /**
   Takes a photo.
   */
  @MainActor
  public func takePhoto(options: [String: Any]) async throws -> Photo {
    return try await capture(options)
  }

  subscript(index: Int) -> Int { return index }
}

extension CameraSession: AVCapturePhotoCaptureDelegate {
  func photoOutput(_ output: AVCapturePhotoOutput, error: Error?) {
    print(output)
  }
}

protocol CameraDelegate: AnyObject {
  /// Called on error.
  func onError(_ error: Error)
}

typealias Callback = (Int) -> Void
"""


def test_swift_definitions_with_their_docs_and_names() -> None:
    chunks = chunk(SWIFT, "swift")
    assert [r for r in rows(chunks) if r[0] != "block"] == [
        ("imports", "", "", 0, 1),
        ("class", "CameraSession", "", 3, 9),  # its `///` lines, attribute and fields
        ("method", "CameraSession.isRunning", "CameraSession", 11, 13),  # computed
        ("method", "CameraSession.init", "CameraSession", 15, 17),
        ("method", "CameraSession.takePhoto", "CameraSession", 19, 25),
        ("method", "CameraSession.subscript", "CameraSession", 27, 27),  # not its type
        ("class", "CameraSession", "", 30, 30),  # an extension, named by its type
        ("method", "CameraSession.photoOutput", "CameraSession", 31, 33),
        ("class", "CameraDelegate", "", 36, 36),
        ("method", "CameraDelegate.onError", "CameraDelegate", 37, 38),  # a requirement
    ]
    photo = by_symbol(chunks, "CameraSession.takePhoto")
    assert photo.text.startswith("/**\n   Takes a photo.")
    assert photo.signature == (
        "public func takePhoto(options: [String: Any]) async throws -> Photo"
    )
    assert chunks[1].text.startswith("/// A camera session.\n///\n/// Holds the capture")
    assert by_symbol(chunks, "CameraSession.subscript").signature == "subscript(index: Int) -> Int"
    assert any(c.kind == "block" and c.symbol == "Callback" for c in chunks)


SWIFT_CONDITIONS = """final class AppContext {
  public var appIdentifier: String? {
    #if RCT_NEW_ARCH_ENABLED
    return host?.identifier
    #else
    return nil
    #endif
  }

  func handle(_ note: Notification) {
    switch note.name {
    #if os(iOS)
    case UIApplication.willEnterForegroundNotification:
      post(.foreground)
    case UIApplication.didBecomeActiveNotification:
      post(.active)
    #elseif os(macOS)
    case NSApplication.didBecomeActiveNotification:
      post(.active)
    #endif
    default:
      return
    }
  }

  func post(_ event: Event) {}
}
"""


def test_swift_conditional_compilation_is_left_out_of_the_parse() -> None:
    """The grammar reads `#if` between declarations but not between a switch's cases, where
    the error it recovers from can end a class early (expo-modules-core's `AppContext`)."""
    grammar = grammars.grammar_for("swift")
    assert grammar is not None
    data = SWIFT_CONDITIONS.encode()
    assert not grammars.parse_source("swift", grammar.lang, data).root_node.has_error
    chunks = chunk(SWIFT_CONDITIONS, "swift")
    assert definitions(chunks) == [
        ("class", "AppContext"),
        ("method", "AppContext.appIdentifier"),
        ("method", "AppContext.handle"),
        ("method", "AppContext.post"),
    ]
    assert "#elseif os(macOS)" in by_symbol(chunks, "AppContext.handle").text  # still its text


KOTLIN_MODULE = """class ImagePickerModule : Module() {
  override fun definition() = ModuleDefinition {
    Name("ExponentImagePicker")

    /** Opens the camera to take a picture. */
    AsyncFunction("launchCameraAsync") Coroutine { options: ImagePickerOptions ->
      ensureCameraPermissionsAreGranted()
      launchContract({ cameraLauncher.launch(it) }, options)
    }

    AsyncFunction("getPendingResultAsync") { promise: Promise ->
      promise.resolve(pendingResult)
    }.runOnQueue(Queues.MAIN)

    Function("sync", this@ImagePickerModule::sync)

    AsyncFunction(name) { value: Int -> value }

    View(CameraView::class) {
      Events("onCameraReady")
      Prop("zoom") { view: CameraView, zoom: Float ->
        view.zoom = zoom
      }
    }
  }

  private fun sync() = Unit
}
"""


def test_kotlin_module_dsl_members_are_units() -> None:
    """Expo's `definition()` holds a module's whole API: each member the DSL declares with a
    title and a closure is a unit named by its title, a member of the module's class."""
    chunks = chunk(KOTLIN_MODULE, "kotlin")
    assert definitions(chunks) == [
        ("class", "ImagePickerModule"),
        ("method", "ImagePickerModule.definition"),
        ("method", "ImagePickerModule.launchCameraAsync"),  # with its KDoc
        ("method", "ImagePickerModule.getPendingResultAsync"),
        ("method", "ImagePickerModule.definition"),  # the module's own code between them
        ("class", "ImagePickerModule.CameraView"),  # a view: named by its type
        ("method", "ImagePickerModule.CameraView.zoom"),
        ("method", "ImagePickerModule.definition"),  # its own code after the members
        ("method", "ImagePickerModule.sync"),
    ]
    camera = by_symbol(chunks, "ImagePickerModule.launchCameraAsync")
    assert camera.text.startswith("/** Opens the camera to take a picture. */\n    Async")
    assert (camera.start_line, camera.end_line) == (4, 8)
    assert camera.signature == (
        'AsyncFunction("launchCameraAsync") Coroutine { options: ImagePickerOptions ->'
    )
    pending = by_symbol(chunks, "ImagePickerModule.getPendingResultAsync")
    assert pending.text.endswith("}.runOnQueue(Queues.MAIN)")  # the calls chained to it
    # A member given a function reference, or titled by a variable, stays the module's code.
    held = [c.text for c in chunks if c.symbol == "ImagePickerModule.definition"]
    assert any('Function("sync", this@ImagePickerModule::sync)' in text for text in held)
    assert any("AsyncFunction(name) { value: Int -> value }" in text for text in held)


KOTLIN_HOOKS = """class VideoModule : Module() {
  override fun definition() = ModuleDefinition {
    Name("ExpoVideo")

    OnCreate {
      VideoManager.onModuleCreated(appContext)
    }

    OnActivityEntersBackground {
      VideoManager.pauseAll()
    }

    Class(VideoPlayer::class) {
      Constructor { source: VideoSource ->
        VideoPlayer(source)
      }

      Property("volume")
        .get { ref: VideoPlayer -> ref.volume }
        .set { ref: VideoPlayer, volume: Float ->
          ref.volume = volume
        }
    }
  }
}
"""


def test_module_lifecycle_listeners_are_units_named_by_their_callee() -> None:
    """`OnCreate { ... }`, `OnActivityEntersBackground { ... }` and a class's `Constructor`
    are units named by what they listen to (they were `definition()`'s own code), and a
    property given its accessors (`Property("volume").get { ... }.set { ... }`) one unit."""
    chunks = chunk(KOTLIN_HOOKS, "kotlin")
    assert definitions(chunks) == [
        ("class", "VideoModule"),
        ("method", "VideoModule.definition"),
        ("method", "VideoModule.OnCreate"),
        ("method", "VideoModule.OnActivityEntersBackground"),
        ("class", "VideoModule.VideoPlayer"),
        ("method", "VideoModule.VideoPlayer.Constructor"),
        ("method", "VideoModule.VideoPlayer.volume"),  # given its accessors
        ("method", "VideoModule.definition"),
    ]
    background = by_symbol(chunks, "VideoModule.OnActivityEntersBackground")
    assert (background.start_line, background.end_line, background.signature) == (
        8, 10, "OnActivityEntersBackground"
    )
    assert by_symbol(chunks, "VideoModule.VideoPlayer.Constructor").signature == (
        "Constructor { source: VideoSource ->"
    )
    volume = by_symbol(chunks, "VideoModule.VideoPlayer.volume")
    assert (volume.start_line, volume.end_line) == (17, 21)  # both accessors
    swift = "final class M: Module {\n  func definition() -> ModuleDefinition {\n" + (
        "    OnAppEntersBackground {\n      pauseAll()\n    }\n  }\n}\n"
    )
    assert ("method", "M.OnAppEntersBackground") in definitions(chunk(swift, "swift"))


SWIFT_MODULE = """public final class SQLiteModule: Module {
  public func definition() -> ModuleDefinition {
    Name("ExpoSQLite")

    /// Deletes the database file.
    AsyncFunction("deleteDatabaseAsync", { (databasePath: String) in
      try deleteDatabase(databasePath: databasePath)
    })
    .runOnQueue(.main)

    Class(NativeDatabase.self) {
      Constructor { (path: String) -> NativeDatabase in
        NativeDatabase(path)
      }

      Function("execSync") { (database: NativeDatabase, source: String) in
        try exec(database: database, source: source)
      }
    }
  }

  private func exec(database: NativeDatabase, source: String) throws {}
}

final class NativeDatabase: SharedObject {}
"""


def test_swift_module_dsl_members_are_units() -> None:
    chunks = chunk(SWIFT_MODULE, "swift")
    assert definitions(chunks) == [
        ("class", "SQLiteModule"),
        ("method", "SQLiteModule.definition"),
        ("method", "SQLiteModule.deleteDatabaseAsync"),  # a closure among its arguments
        ("class", "SQLiteModule.NativeDatabase"),
        ("method", "SQLiteModule.NativeDatabase.Constructor"),
        ("method", "SQLiteModule.NativeDatabase.execSync"),
        ("method", "SQLiteModule.definition"),
        ("method", "SQLiteModule.exec"),
        ("class", "NativeDatabase"),
    ]
    delete = by_symbol(chunks, "SQLiteModule.deleteDatabaseAsync")
    assert (delete.start_line, delete.end_line) == (4, 8)  # its doc, and `.runOnQueue(.main)`
    assert delete.signature == 'AsyncFunction("deleteDatabaseAsync", { (databasePath: String) in'
    constructor = by_symbol(chunks, "SQLiteModule.NativeDatabase.Constructor")
    assert constructor.signature == "Constructor { (path: String) -> NativeDatabase in"


SWIFT_BOUND_TRY = """public final class SharedObjectRegistry {
  internal func add(native nativeObject: SharedObject) -> Int {
    if let runtime = try? appContext?.runtime {
      nativeObject.attach(runtime)
    }
    return nextId
  }

  internal func delete(_ id: Int) {
    pairs[id] = nil
  }
}
"""


def test_swift_try_in_an_if_let_is_left_out_of_the_parse() -> None:
    """The grammar reads `if let runtime = try? appContext?.runtime {` as a call of `runtime`
    given the block as a closure, and lost the class around it (expo-modules-core's
    SharedObjectRegistry); without the `try?` it reads the condition."""
    grammar = grammars.grammar_for("swift")
    assert grammar is not None
    data = SWIFT_BOUND_TRY.encode()
    assert not grammars.parse_source("swift", grammar.lang, data).root_node.has_error
    assert definitions(chunk(SWIFT_BOUND_TRY, "swift")) == [
        ("class", "SharedObjectRegistry"),
        ("method", "SharedObjectRegistry.add"),
        ("method", "SharedObjectRegistry.delete"),
    ]


def test_a_closure_s_signature_ends_at_its_arrow() -> None:
    """A member's signature is its call up to the closure's `in`: a `#if` line after it,
    which the parse leaves out, is not part of it (expo-camera's `takePicture`)."""
    text = (
        "final class M: Module {\n  public func definition() -> ModuleDefinition {\n"
        '    AsyncFunction("takePicture") { (options: Options) in\n'
        "      #if targetEnvironment(simulator) // simulator\n      return try simulate(options)\n"
        "      #endif\n      return try capture(options)\n    }\n  }\n}\n"
    )
    picture = by_symbol(chunk(text, "swift"), "M.takePicture")
    assert picture.signature == 'AsyncFunction("takePicture") { (options: Options) in'


QUICK_SPEC = """import Quick
import Nimble

final class EitherSpec: QuickSpec {
  override class func spec() {
    let appContext = AppContext.create()

    describe("Either") {
      beforeEach {
        appContext.reset()
      }

      // The value's own type comes first.
      it("is the first type") {
        let either = Either<String, Int>("string")
        expect(either.is(String.self)) == true
      }

      it("calls a module's function") {
        let holder = mockModuleHolder(appContext) {
          AsyncFunction("double") { (value: Int) in value * 2 }
        }
        expect(holder.call("double", 2)) == 4
      }

      it(title) { expect(true) == true }
    }
  }
}
"""


def test_swift_quick_suites_and_tests_are_units() -> None:
    """Quick's `describe("Either") { it("is the first type") { ... } }` are a suite and its
    tests, named by their titles as JavaScript's are; a module a test declares is its code."""
    chunks = chunk(QUICK_SPEC, "swift")
    assert definitions(chunks) == [
        ("imports", ""),
        ("class", "EitherSpec"),
        ("method", "EitherSpec.spec"),
        ("class", "EitherSpec.Either"),  # with its `beforeEach`
        ("method", "EitherSpec.Either.is the first type"),  # with its comment
        ("method", "EitherSpec.Either.calls a module's function"),
        ("method", "EitherSpec.spec"),
    ]
    first = by_symbol(chunks, "EitherSpec.Either.is the first type")
    assert (first.start_line, first.end_line) == (12, 16)
    assert first.signature == 'it("is the first type")'
    calls = by_symbol(chunks, "EitherSpec.Either.calls a module's function")
    assert 'AsyncFunction("double")' in calls.text  # the test's code, no unit of its own
    # A test titled by a variable stays its suite's code (after its tests, as a class's).
    rest = [c for c in chunks if c.kind == "block" and "it(title)" in c.text]
    assert [(c.start_line, c.end_line) for c in rest] == [(25, 26)]


# --------------------------------------------------------------------------------------------
# Single-file components (Vue, Svelte)
# --------------------------------------------------------------------------------------------

VUE_SETUP = """<script setup lang="ts">
import { ref } from 'vue'

const query = ref('')

function resetSearch(): void {
  query.value = ''
}
</script>

<template>
  <input v-model="query" @keydown.esc="resetSearch" />
</template>

<style scoped lang="scss">
.search { color: red; }
</style>
"""


def component_rows(text: str, path: str) -> list[tuple[str, str, str, int, int]]:
    """(language, kind, symbol, start line, end line) of each chunk; each chunk's text must be
    the file's at its position."""
    from lsp_server.engine.languages import detect_language

    language = detect_language(path)
    assert language is not None
    chunks = chunk_text(path, text, language)
    starts = offsets(text)
    for c in chunks:
        start = starts[c.start_line] + c.start_col
        assert text[start : starts[c.end_line] + c.end_col] == c.text, c
    return [(c.language, c.kind, c.symbol, c.start_line, c.end_line) for c in chunks]


def test_a_vue_components_script_is_chunked_by_its_grammar_at_its_place() -> None:
    assert component_rows(VUE_SETUP, "src/SearchBox.vue") == [
        ("typescript", "block", "query", 1, 3),  # one import stays with the code after it
        ("typescript", "function", "SearchBox.resetSearch", 5, 7),
        ("vue", "window", "SearchBox", 10, 12),
        ("scss", "window", "SearchBox", 14, 16),
    ]


def test_a_vue_options_component_names_its_methods() -> None:
    text = (
        "<template><button @click=\"select(option)\">{{ label }}</button></template>\n\n"
        "<script>\nexport default {\n  methods: {\n    select(option) {\n"
        "      this.$emit('input', option)\n    },\n  },\n}\n</script>\n"
    )
    rows_found = component_rows(text, "components/Select.vue")
    assert ("javascript", "method", "Select.methods.select", 5, 7) in rows_found
    assert rows_found[0] == ("vue", "window", "Select", 0, 0)


ASTRO_CARD = """---
import Icon from './Icon.astro';

interface Props { title: string; href: string }
const { title, href } = Astro.props;

function isExternal(url: string): boolean {
  return /^https?:\\/\\//.test(url);
}
---

<a class="card" href={href} target={isExternal(href) ? '_blank' : undefined}>
  <Icon name="arrow" />
  <h2>{title}</h2>
</a>

<script>
  function trackClick(event: MouseEvent) {
    navigator.sendBeacon('/clicks', String(event.timeStamp));
  }
  document.querySelectorAll('a.card').forEach((a) => a.addEventListener('click', trackClick));
</script>

<style>
  .card { display: block; }
</style>
"""


def test_an_astro_components_frontmatter_and_script_are_typescript_at_their_place() -> None:
    assert component_rows(ASTRO_CARD, "src/components/Card.astro") == [
        ("typescript", "imports", "", 1, 1),
        ("typescript", "class", "Card.Props", 3, 3),
        ("typescript", "block", "", 4, 4),
        ("typescript", "function", "Card.isExternal", 6, 8),
        ("astro", "window", "Card", 11, 14),
        ("typescript", "function", "Card.trackClick", 17, 19),
        ("typescript", "block", "", 20, 20),
        ("css", "window", "Card", 23, 25),
    ]
    assert language_at(ASTRO_CARD, "astro", (7, 4)) == "typescript"  # in the frontmatter
    assert language_at(ASTRO_CARD, "astro", (12, 4)) == "astro"  # in the markup


def test_a_file_of_another_component_language_has_no_frontmatter() -> None:
    text = "---\nconst x = 1;\n---\n<div>{x}</div>\n"
    assert [r[:2] for r in component_rows(text, "src/X.svelte")] == [("svelte", "window")]
    assert [r[:2] for r in component_rows(text, "src/X.astro")] == [
        ("typescript", "block"),
        ("astro", "window"),
    ]


def test_each_script_of_a_svelte_component_is_chunked_apart() -> None:
    text = (
        '<script context="module">\nexport const preload = () => fetchAll();\n</script>\n\n'
        '<script lang="ts">\nexport let items: string[] = [];\n'
        "function onSelection(item: string) {\n  dispatch('selection', item);\n}\n</script>\n\n"
        "<ul>{#each items as item}<li>{item}</li>{/each}</ul>\n"
    )
    assert component_rows(text, "Autocomplete.svelte") == [
        ("javascript", "function", "Autocomplete.preload", 1, 1),
        ("typescript", "block", "items", 5, 5),
        ("typescript", "function", "Autocomplete.onSelection", 6, 8),
        ("svelte", "window", "Autocomplete", 11, 11),
    ]


def test_a_component_element_in_a_language_without_a_grammar_stays_markup() -> None:
    text = (
        '<!-- <script lang="ts">function hidden() {}</script> -->\n'
        '<script lang="coffee">\nselect = (option) -> option\n</script>\n'
        "<template><p>hi</p></template>\n"
    )
    assert component_rows(text, "Legacy.vue") == [("vue", "window", "Legacy", 0, 4)]


def test_a_long_template_is_one_unit_of_parts_and_a_route_is_named_by_its_folder() -> None:
    rows_markup = "".join(f'  <li class="row-{i}">{{{{ rows[{i}] }}}}</li>\n' for i in range(60))
    text = f"<script>\nexport let rows = [];\n</script>\n<ul>\n{rows_markup}</ul>\n"
    chunks = chunk_text("src/routes/orders/+page.svelte", text, "svelte", max_chars=1200)
    windows = [c for c in chunks if c.kind == "window"]
    assert len(windows) > 1
    assert {c.symbol for c in windows} == {"orders"}
    assert [c.part for c in windows] == list(range(1, len(windows) + 1))
    assert {(c.unit_start_line, c.unit_end_line) for c in windows} == {(3, 64)}


def test_a_selection_in_a_component_is_in_the_language_of_its_element() -> None:
    assert language_at(VUE_SETUP, "vue", (6, 2)) == "typescript"  # in resetSearch
    assert language_at(VUE_SETUP, "vue", (11, 4)) == "vue"  # the template
    assert language_at(VUE_SETUP, "vue", (15, 0)) == "scss"
    assert language_at(VUE_SETUP, "vue", (0, 3)) == "vue"  # the `<script>` tag itself
    assert language_at("def f(): pass\n", "python", (0, 4)) == "python"


def test_a_component_with_crlf_lines_and_non_ascii_text_keeps_its_positions() -> None:
    text = (
        "<template>\r\n  <p>héllo ✓</p>\r\n</template>\r\n<script setup lang=\"ts\">\r\n"
        "// ünïcode ✓\r\nfunction grüße(name: string) {\r\n  return `hi ${name} ✓`\r\n}\r\n"
        "</script>\r\n<script>\r\nexport default {}\r\n"  # never closed: markup
    )
    assert component_rows(text, "a/Greet.vue") == [
        ("vue", "window", "Greet", 0, 2),
        ("typescript", "function", "Greet.grüße", 4, 7),
        ("vue", "window", "Greet", 9, 10),
    ]


def test_a_component_whose_text_changes_length_in_lower_case_keeps_its_positions() -> None:
    # "İ" is two characters in lower case: offsets found in a lowered copy would be off.
    text = "<p>İİİ</p>\n<SCRIPT>\nfunction shown() {\n  return 1\n}\n</Script >\n<p>İ</p>\n"
    assert component_rows(text, "Badge.vue") == [
        ("vue", "window", "Badge", 0, 0),
        ("javascript", "function", "Badge.shown", 2, 4),
        ("vue", "window", "Badge", 6, 6),
    ]


def test_a_window_of_markup_previews_the_first_element_or_block_it_opens() -> None:
    rows_markup = "".join(
        f'    <div\n      class="thumb-{i}"\n      @click="go({i})"\n    >\n'
        f"      {{#if shown}}<span>{i}</span>{{/if}}\n    </div>\n"
        for i in range(40)
    )
    text = f"<script>\nexport let shown = true;\n</script>\n<template>\n  <section>\n{rows_markup}"
    windows = [c for c in chunk_text("src/Grid.vue", text + "  </section>\n</template>\n", "vue")
               if c.kind == "window"]
    previews = [preview_of(c) for c in windows]
    assert previews[0] == "<section>"  # not the bare `<template>` root
    # A window that starts inside an element shows the next one it opens: never an
    # attribute (`@click` read as a decorator left `="go(3)"`), never `{/if}` or `>`.
    assert all(p.startswith(("<", "{#", "{:")) for p in previews), previews
