"""How a query's wording sets BM25's weight in the fusion (engine.ranking, engine.searcher)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lsp_server.engine.chunker import chunk_text
from lsp_server.engine.chunks import Chunk
from lsp_server.engine.ranking import (
    DECLARED,
    LONE_STATEMENT,
    NAMED_SECOND,
    NAMED_SO,
    GlobFilter,
    Hit,
    Intent,
    agreed_first,
    declares_asked,
    dense_among_neighbours,
    documented,
    is_declaration,
    is_lone_statement,
    is_marked_test,
    is_named,
    merge_overlapping,
    named_as,
    naming_tier,
    raise_declared_blocks,
    role_weight,
    text_kind,
)
from lsp_server.engine.searcher import _lexical_weight, _outside_classes, _phrases
from lsp_server.engine.settings import EngineSettings
from lsp_server.engine.tokens import (
    FILE_WORDS_LEAST,
    MAX_QUERY_PHRASES,
    code_tokens,
    file_words,
    index_text,
    looks_like_code,
    most_telling,
    query_phrases,
    query_terms,
)


@pytest.mark.parametrize(
    "query",
    [
        "NewRouter returns a new Mux object",  # Go: the doc starts with the name
        "where is parse_args called",
        "FileServer sets up a http.FileServer handler",
        "override configureHelp() to change the help",
        "what calls getActiveHelpConfig",
    ],
)
def test_a_question_that_names_an_identifier_is_told_apart(query):
    assert Intent.of(query, code=False).names_identifier


@pytest.mark.parametrize(
    "query",
    [
        "where do we retry failed HTTP requests",
        "Create a new Iterator adaptor",
        "python convert a list to a string",
        "Return the e.g. first item",
        "version 2.0 changes",
    ],
)
def test_plain_words_are_not_identifiers(query):
    assert not Intent.of(query, code=False).names_identifier


@pytest.mark.parametrize(
    ("query", "asks_for_tests"),
    [
        ("test for retrying failed requests", True),
        ("test that a deprecated command prints its notice", True),
        ("unit tests of the router", True),
        ("benchmark of the k-way merge", True),
        ("Test if this Node has an attribute.", False),  # "test" as "check"
        ("Tests whether the predicate holds for all elements", False),
        ("Tests to see if the object is an RxJS Observable", False),
        ("test if the path is absolute, and its tests", True),  # asked for as well
        ("where do we retry failed HTTP requests", False),
    ],
)
def test_a_question_asks_for_tests_by_name_not_by_the_verb(query, asks_for_tests):
    assert ("test" in Intent.of(query, code=False).asked_roles) is asks_for_tests


@pytest.mark.parametrize(
    ("query", "roles"),
    [
        ("Parses a JSON string as bytes.", set()),  # data, not a config file
        ("read proxy settings from environment variables", set()),
        ("where is tsconfig.json read", {"config"}),
        ("load the options from a YAML file", {"config"}),
        ("merge the defaults with the configuration of one request", {"config"}),
        ("the redirect history of a response", set()),
        ("release history of the client", {"changelog"}),
        ("Return True for absolute URLs such as 'http://example.com/path'", set()),
        ("Normalize the given type, for example html becomes text/html", set()),
        ("examples of streaming a response", {"example"}),
        ("the storybook story of a busy button", {"example"}),
        ("stories of the date picker", {"example"}),
        ("An interop point defined by the es7-observable spec", set()),
        ("For testing purposes only; breaks the internal state", set()),
        ("spec files of the router", {"test"}),
        ("see https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Link", set()),
        ("the parameter `history` of send", set()),  # code in a question is not its words
        ("docs for the retry option", {"docs"}),
        ("the hover colour of a menu item", {"style"}),  # how things look
        ("keyboard navigation between menu items", set()),
        ("the generated accessors of the pull request fields", {"generated"}),
        ("sign the request with the generated token", set()),  # a value, not code
    ],
)
def test_a_question_names_a_file_role_in_its_own_words(query, roles):
    assert Intent.of(query, code=False).asked_roles == roles


@pytest.mark.parametrize(
    ("query", "roles"),
    [
        ("return the value of this fixture", set()),  # the project's own word
        ("tests of the fixture cache", {"test"}),  # "tests" is not its word
        ("unit tests of the fixture cache", {"test"}),  # a phrase asks whatever the code
        ("examples of a fixture", {"example"}),
        ("where is tsconfig.json read", {"config"}),  # a file name asks
    ],
)
def test_a_role_word_that_names_the_projects_own_code_asks_for_no_role(query, roles):
    intent = Intent.of(query, code=False).asking_only_by(lambda word: word == "fixture")
    assert intent.asked_roles == roles


def test_code_and_selections_ask_for_no_file_role():
    # A pasted message's quoted values and a signature's names are not requests for files.
    message = "InvalidURL: Invalid URL component 'config.yaml', see https://example.com/docs"
    assert Intent.of(message, code=True, selected=True).asked_roles == frozenset()
    signature = "def _send_handling_redirects(self, request, history: list[Response]):"
    assert Intent.of(signature, code=True).asked_roles == frozenset()


@pytest.mark.parametrize(
    ("chunk", "role", "unasked", "asked"),
    [
        (  # a config file, for a question about JSON data
            Chunk("package.json", "json", "block", "", 0, 0, 9, 0, '{"name": "app"}'),
            "config",
            "parse the JSON body of a request",
            "where is the JSON config file loaded",
        ),
        (  # a component's `.scss` holds the words of questions about the component ("menu
            # items", "display") and answers only those about how it looks
            Chunk("src/menu/_menu.scss", "scss", "window", "", 0, 0, 9, 0, ".menu { }"),
            "style",
            "keyboard navigation between menu items",
            "the hover colour of a menu item",
        ),
        (  # a component's description in a comment alone, prose as a module's docstring is
            chunk_text(
                "builtin/AutoFitText.vue",
                "<!--\nText that shrinks to fit its box.\n-->\n"
                "<script setup>\nconst x = 1\n</script>\n",
                "vue",
            )[0],
            "docs",
            "shrink the text to fit its box",
            "docs for the text that fits its box",
        ),
        (  # a Vue component's `<style>`, in a file whose role is code
            chunk_text(
                "src/Menu.vue",
                "<template><ul /></template>\n"
                "<style>\n.menu-item:hover { color: red; }\n</style>\n",
                "vue",
            )[-1],
            "style",
            "keyboard navigation between menu items",
            "the hover colour of a menu item",
        ),
    ],
)
def test_a_file_of_a_role_ranks_down_unless_the_question_asks_for_it(chunk, role, unasked, asked):
    weights = dict(EngineSettings().role_weights)
    other = Intent.of(unasked, code=False)
    wanted = Intent.of(asked, code=False)
    assert role_weight(chunk.path, chunk, other, weights, True) == weights[role] < 1
    assert role_weight(chunk.path, chunk, wanted, weights, True) == 1.0


def test_the_code_of_a_component_keeps_the_weight_of_code():
    script, markup = chunk_text(
        "src/Menu.vue",
        "<script>\nexport function onKeyDown(event) { move(event.key) }\n</script>\n"
        "<template><ul @keydown=\"onKeyDown\" /></template>\n",
        "vue",
    )
    weights = dict(EngineSettings().role_weights)
    question = Intent.of("keyboard navigation between menu items", code=False)
    assert (script.language, script.symbol) == ("javascript", "Menu.onKeyDown")
    assert markup.language == "vue"
    assert role_weight(script.path, script, question, weights, True) == 1.0
    assert role_weight(markup.path, markup, question, weights, True) == 1.0


def test_a_filter_on_a_component_language_keeps_the_code_in_its_scripts():
    script = Chunk("src/Menu.vue", "typescript", "function", "onKeyDown", 1, 0, 3, 1, "x")
    assert GlobFilter(languages=["vue"]).accepts(script.path, script.language)
    assert GlobFilter(languages=["ts"]).accepts(script.path, script.language)
    assert not GlobFilter(languages=["python"]).accepts(script.path, script.language)
    assert not GlobFilter(languages=["vue"]).accepts("src/menu.ts", "typescript")


def test_a_stylesheet_keeps_its_weight_for_code_queries():
    """A selection of CSS, or Find Similar on a rule, asks for other rules: a stylesheet is
    weighed for questions in words only (a test file, for every query)."""
    sheet = Chunk("src/menu/_menu.scss", "scss", "window", "", 0, 0, 9, 0, ".menu { }")
    test = Chunk("tests/test_menu.py", "python", "function", "test_menu", 0, 0, 9, 0, "def f(): 1")
    weights = dict(EngineSettings().role_weights)
    selection = Intent.of(".menu-item { display: flex; }", code=True, selected=True)
    similar = Intent.similar_to_code(text_kind=text_kind(sheet.path, sheet))
    for intent in (selection, similar):
        assert role_weight(sheet.path, sheet, intent, weights, True) == 1.0
    for intent in (selection, Intent.similar_to_code()):
        assert role_weight(test.path, test, intent, weights, True) == weights["test"] < 1


def test_find_similar_answers_code_with_code_markup_with_markup_and_styles_with_styles():
    source = (
        "<script>\nexport function onKeyDown(event) { move(event.key) }\n</script>\n"
        '<template><ul @keydown="onKeyDown" /></template>\n<style>\nul { margin: 0; }\n</style>\n'
    )
    script, markup, style = chunk_text("src/Menu.vue", source, "vue")
    sheet = Chunk("src/menu/_menu.scss", "scss", "window", "", 0, 0, 9, 0, ".menu { }")
    code = Chunk("src/menu.ts", "typescript", "function", "move", 0, 0, 9, 0, "function move() {}")
    weights = dict(EngineSettings().role_weights)
    answers = {}
    for asked in (script, markup, style):
        intent = Intent.similar_to_code(text_kind=text_kind(asked.path, asked))
        answers[asked.language] = [
            chunk.path + ":" + chunk.language
            for chunk in (script, markup, style, sheet, code)
            if role_weight(chunk.path, chunk, intent, weights, True) is not None
        ]
    assert answers == {
        "javascript": ["src/Menu.vue:javascript", "src/menu.ts:typescript"],
        "vue": ["src/Menu.vue:vue"],
        "css": ["src/Menu.vue:css", "src/menu/_menu.scss:scss"],
    }


def test_code_queries_keep_their_own_weight():
    settings = replace(EngineSettings(), lexical_weight=2.0, named_lexical_weight=0.7)
    assert _lexical_weight(settings, Intent.of("def parse_args(argv):", code=True)) == 2.0
    assert not Intent.of("def parse_args(argv):", code=True).names_identifier


def test_find_similar_has_a_weight_of_its_own():
    settings = replace(EngineSettings(), lexical_weight=2.0, similar_lexical_weight=0.5)
    assert _lexical_weight(settings, Intent.similar_to_code()) == 0.5
    assert Intent.similar_to_code(["src/**"]).placed
    assert _lexical_weight(settings, Intent.of("raise ValueError(", code=True)) == 2.0


def test_a_class_asked_about_names_its_supertypes_by_their_last_name():
    asked = Intent.similar_to_code(classes=True, bases={"abc.Base", "Mixin"})
    base = Chunk("a.py", "python", "class", "Base", 0, 0, 3, 0, "class Base:")
    member = replace(base, kind="method", symbol="Mixin.close", container="Mixin")
    sibling = replace(base, symbol="Other")
    function = replace(base, kind="function", symbol="helper", container="")
    assert asked.names_as_base(base) and asked.names_as_base(member)
    assert not asked.names_as_base(sibling) and not asked.names_as_base(function)
    assert not Intent.similar_to_code(classes=True).names_as_base(base)


def test_find_similar_on_a_class_has_a_weight_of_its_own():
    settings = replace(EngineSettings(), similar_lexical_weight=0.5, class_lexical_weight=3.0)
    assert _lexical_weight(settings, Intent.similar_to_code(classes=True)) == 3.0
    assert _lexical_weight(settings, Intent.similar_to_code(classes=False)) == 0.5


def test_the_weight_follows_the_question():
    settings = replace(EngineSettings(), prose_lexical_weight=0.2, named_lexical_weight=0.9)
    assert _lexical_weight(settings, Intent.of("NewRouter returns a Mux", code=False)) == 0.9
    assert _lexical_weight(settings, Intent.of("retry failed requests", code=False)) == 0.2
    unset = replace(settings, named_lexical_weight=None)
    assert _lexical_weight(unset, Intent.of("NewRouter returns a Mux", code=False)) == 0.2


@pytest.mark.parametrize(
    "query",
    [
        "Proxy `Router#use()` to add middleware to the app router.",
        "Return an iterator that groups the items in tuples of a specific size (up to 12).",
        "selectEncoder returns the encoder, the name of the encoder, and a closer function.",
        "This function combines :func:`echo` and :func:`style` into one call.",
        "Multiply two small integers (with carry) (and return the overflow contribution).",
    ],
)
def test_a_sentence_with_brackets_or_inline_code_is_a_question(query):
    assert not looks_like_code(query)
    assert looks_like_code(query, sentences=False)  # what the marks alone would say


@pytest.mark.parametrize(
    "query",
    [
        "return self._cache.get(key, default)",
        "if err != nil { return err }",
        "const rows = await fetchRows(cursor, query)",
        "public static void main(String[] args)",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "parse_args",
        "def fetch(url):\n    return get(url)",
    ],
)
def test_code_stays_code(query):
    assert looks_like_code(query)


@pytest.mark.parametrize("identifier", ["map_ok", "MapOk", "mapOk", "MAP_OK", "_map_ok_"])
def test_an_identifier_is_indexed_as_its_words_and_its_words_joined_in_any_style(identifier):
    tokens = index_text(f"x = {identifier}(y)").split()
    assert tokens[1:3] == ["map", "ok"] and tokens.count("mapok") == 1
    # A question's name is matched in any style; code keeps its names as written.
    assert "mapok" in query_terms(f"Create a new `{identifier}`.", joined=True)
    as_code = query_terms(f"{identifier}(y)")
    assert ("mapok" in as_code) == (identifier.lower() == "mapok")


def test_joined_names_come_after_the_texts_own_tokens():
    # A code query's word pairs are read from the text's own tokens: they stay adjacent.
    text = "return map_ok(items)"
    assert index_text(text) == "return map ok map_ok items mapok"
    assert all(pair in index_text(text) for pair in query_phrases(text))
    assert list(code_tokens("self.items = Items()")) == ["self", "items", "items"]


def test_a_code_query_is_also_matched_by_its_word_pairs():
    # Pairs in the query's order, each with a word that means something ("on a" and one-letter
    # words make none), as BM25 phrases: the message's words in sequence, not scattered.
    assert query_phrases("Called Execute() on a nil Command") == [
        "called execute",
        "execute on",
        "nil command",
    ]
    assert query_phrases("it is in the 42 x y") == []
    # Read from the token stream the index stores, so a pair is adjacent on both sides.
    pairs = query_phrases("parseArgs(argv) failed")
    assert all(pair in index_text("parseArgs(argv) failed") for pair in pairs)
    assert "parse args" in pairs and "argv failed" in pairs
    long_snippet = " ".join(f"word{i}x" for i in range(100))
    assert len(query_phrases(long_snippet)) == MAX_QUERY_PHRASES


def test_word_pairs_are_matched_for_code_from_the_workspace_or_a_terminal_only():
    message = "Called Execute() on a nil Command"
    shipped = EngineSettings()
    assert _phrases(shipped, message, Intent.of(message, code=True, selected=True)) == [
        "called execute",
        "execute on",
        "nil command",
    ]
    assert _phrases(shipped, "def run(a, b): pass", Intent.similar_to_code())
    # Typed queries are not: doc-like questions judged code ("Return `(key, value)` items
    # of headers.") lost a little with them.
    assert _phrases(shipped, message, Intent.of(message, code=True)) == []
    assert _phrases(shipped, "retry failed requests", Intent.of("retry", code=False)) == []
    everything = replace(shipped, lexical_phrases="all")
    assert _phrases(everything, "retry failed requests", Intent.of("retry", code=False))
    only_selections = replace(shipped, lexical_phrases="selections")
    assert _phrases(only_selections, "def run(a, b): pass", Intent.similar_to_code()) == []
    pasted = Intent.of(message, code=True, selected=True)
    assert _phrases(replace(shipped, lexical_phrases="none"), message, pasted) == []


def test_code_queries_leave_out_a_docstring_alone():
    # A module's docstring is a block of its own (chunker): prose, though in a .py file.
    docstring = Chunk("pkg/transports.py", "python", "block", "", 0, 0, 0, 30, '"""Transports."""')
    code = replace(docstring, text="LIMIT = 10")
    similar, question = Intent.similar_to_code(), Intent.of("custom transports", code=False)
    assert role_weight(docstring.path, docstring, similar, {}, code_only=True) is None
    assert role_weight(code.path, code, similar, {}, code_only=True) == 1.0
    assert role_weight(docstring.path, docstring, question, {}, code_only=True) == 1.0


def test_prose_alone_in_a_code_file_ranks_as_docs_for_a_question():
    # serde_json's `//!` crate docs and rxjs's long JSDoc fall into nameless windows of
    # prose: documentation, ranked after the code as a docs file is, unless docs are asked.
    crate_docs = Chunk(
        "src/lib.rs", "rust", "block", "", 0, 0, 3, 0, "//! Serde JSON\n//!\n//! JSON is a..."
    )
    statement = replace(crate_docs, text="pub use crate::de::from_str;")
    weights = dict(EngineSettings().role_weights)
    question = Intent.of("deserialize a struct from a JSON string", code=False)
    asked = Intent.of("docs of the JSON deserializer", code=False)
    assert role_weight(crate_docs.path, crate_docs, question, weights, True) == weights["docs"]
    assert role_weight(statement.path, statement, question, weights, True) == 1.0
    assert role_weight(crate_docs.path, crate_docs, asked, weights, True) == 1.0
    # Code queries never get it back (prose), as before.
    assert role_weight(crate_docs.path, crate_docs, Intent.similar_to_code(), weights, True) is None


_RUST_UNIT_TESTS = """\
/// Follows at most `max` redirects. Mark a test with `#[test]` to check it.
pub fn limited(max: usize) -> Policy {
    Policy { max }
}

#[cfg(not(test))]
fn system_proxies() -> Proxies {
    Proxies::from_registry()
}

#[test]
fn test_redirect_policy_limit() {
    assert!(limited(2).redirect(&[a(), b()]).is_error());
}

#[tokio::test(flavor = "multi_thread")]
async fn follows_until_the_limit() {
    serve_redirects(3).await;
}

#[cfg(test)]
fn serve_redirects(count: usize) {}

#[cfg(feature = "nightly")]
#[bench]
fn bench_redirect(b: &mut test::Bencher) {}

#[wasm_bindgen_test] fn sends_from_the_browser() {}

/* Used in client/tests.rs, kept for later:
#[cfg(test)]
fn h1_key(&self) -> Key {}
*/
pub fn pooled(&self, key: Key) -> Pooled {
    Pooled::new(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirects_to(count: usize) -> Vec<Url> {
        (0..count).map(|i| url(i)).collect()
    }

    #[test]
    fn limit_zero_stops_at_once() {
        assert!(limited(0).redirect(&redirects_to(1)).is_error());
    }
}

mod imp {
    pub fn resolve(base: &Url, location: &str) -> Url {
        base.join(location)
    }
}
"""


def test_a_rust_unit_test_is_a_test_though_its_file_is_code():
    # Rust's unit tests sit in the file they test (`src/redirect.rs`), which the path calls
    # code: an attribute that marks a test gives the definition the test role.
    chunks = {c.symbol: c for c in chunk_text("src/redirect.rs", _RUST_UNIT_TESTS, "rust")}
    marked = {symbol for symbol, chunk in chunks.items() if is_marked_test(chunk)}
    assert marked == {
        "test_redirect_policy_limit",
        "follows_until_the_limit",
        "serve_redirects",
        "bench_redirect",
        "sends_from_the_browser",
        # The test module, and all it holds: a helper has no attribute of its own.
        "tests",
        "tests.redirects_to",
        "tests.limit_zero_stops_at_once",
    }  # not `limited` (its doc quotes `#[test]`), `pooled` (a comment above quotes
    # `#[cfg(test)]`: hyper's client/pool.rs), `#[cfg(not(test))]` code, nor `resolve` in a
    # module of the crate's code
    weights = dict(EngineSettings().role_weights)
    question = Intent.of("follow redirects up to a limit", code=False)
    asked = Intent.of("test for the redirect limit", code=False)
    test, code = chunks["test_redirect_policy_limit"], chunks["limited"]
    assert role_weight(test.path, test, question, weights, True) == weights["test"] < 1
    assert role_weight(code.path, code, question, weights, True) == 1.0
    assert role_weight(test.path, test, asked, weights, True) == 1.0
    # Other languages name their tests by path: an attribute-like line is no mark there.
    python = Chunk("pkg/a.py", "python", "function", "f", 0, 0, 2, 0, "#[test]\ndef f(): pass",
                   signature="def f(): pass")  # fmt: skip
    assert not is_marked_test(python)


def test_a_method_without_a_body_answers_questions_but_not_code_queries():
    declaration = Chunk(
        "src/Connection.java", "java", "method", "Connection.maxBodySize", 9, 8, 12, 40,
        "/**\n * Update the maximum body size, in bytes.\n */\nConnection maxBodySize(int bytes);",
        signature="Connection maxBodySize(int bytes);",
    )  # fmt: skip
    part = replace(declaration, text="        total += read;", part=2)  # ends a long method's part
    # A JavaScript function whose text goes on past its signature.
    arrow = replace(declaration, text="const f = (x) => x * 2;", signature="const f = (x) =>")
    assert is_declaration(declaration) and not is_declaration(part) and not is_declaration(arrow)
    question = Intent.of("update the maximum body size", code=False)
    assert role_weight(declaration.path, declaration, question, {}, True) == 1.0
    assert role_weight(declaration.path, declaration, Intent.similar_to_code(), {}, True) is None
    assert role_weight(part.path, part, Intent.similar_to_code(), {}, True) == 1.0


def test_a_script_entry_point_ranks_as_an_example_unless_examples_are_asked_for():
    demo = Chunk("rich/markup.py", "python", "script", "__main__", 0, 0, 9, 0, "if __name__ ...")
    shipped = EngineSettings()
    weights, kinds = dict(shipped.role_weights), dict(shipped.kind_weights)
    library = Intent.of("parse console markup", code=False)
    asked = Intent.of("example of console markup", code=False)
    assert role_weight(demo.path, demo, library, weights, True, kinds) == kinds["script"] < 1
    assert role_weight(demo.path, demo, asked, weights, True, kinds) == 1.0
    # Still code: Find Similar may answer with it.
    similar = Intent.similar_to_code()
    assert role_weight(demo.path, demo, similar, weights, True, kinds) == kinds["script"]


KRAMDOWN_PARSER = """\
module Kramdown
  module Parser
    class Kramdown

      BLANK_LINE = /(?>^\\s*\\n)+/

      # Parse the blank line at the current position.
      def parse_blank_line
        @src.pos += @src.matched_size
        true
      end
      define_parser(:blank_line, BLANK_LINE)

    end
  end
end
"""


def test_a_nameless_statement_alone_weighs_less_for_a_typed_question():
    """kramdown ends each parser file with its registration and the closing `end`s; the
    model ranked those five lines first for questions about parsing they do not answer."""
    chunks = chunk_text("lib/kramdown/parser/kramdown/blank_line.rb", KRAMDOWN_PARSER, "ruby")
    [lone] = [c for c in chunks if is_lone_statement(c)]
    assert lone.text.startswith("define_parser(:blank_line, BLANK_LINE)")
    assert [c.kind for c in chunks if c is not lone] == ["class", "class", "class", "method"]
    named = replace(lone, text="MAX = 5\n  end\nend", symbol="MAX")  # found by its name
    two = replace(lone, text="include Parser\nextend Helpers\n  end\nend")
    assert not is_lone_statement(named) and not is_lone_statement(two)
    shipped = EngineSettings()
    assert 0 < shipped.lone_statement_weight < 1
    weights = dict(shipped.role_weights)
    kinds = {**dict(shipped.kind_weights), LONE_STATEMENT: shipped.lone_statement_weight}
    question = Intent.of("normalize line endings of the input before parsing", code=False)
    factor = role_weight(lone.path, lone, question, weights, True, kinds)
    assert factor == shipped.lone_statement_weight
    assert role_weight(two.path, two, question, weights, True, kinds) == 1.0
    # A pasted line and Find Similar ask for code like themselves: no weight.
    pasted = Intent.of("define_parser(:blank_line, BLANK_LINE)", True, selected=True)
    assert role_weight(lone.path, lone, pasted, weights, True, kinds) == 1.0
    assert role_weight(lone.path, lone, Intent.similar_to_code(), weights, True, kinds) == 1.0


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("DEFAULT_LIMITS", "DEFAULT_LIMITS"),
        ("  resolve_redirects ", "resolve_redirects"),
        ("Client.send", "Client.send"),
        ("Error::new", "Error.new"),
        ("Router#use", "Router.use"),
        ("$http", "$http"),
        ("where is DEFAULT_LIMITS set", ""),  # a question that names it: not a bare name
        ("send()", ""),
        ("a.b(c)", ""),
    ],
)
def test_a_typed_bare_identifier_is_a_name_asked_for(query, name):
    assert Intent.of(query, looks_like_code(query)).name == name
    assert Intent.of(query, True, selected=True).name == ""  # a selection is code, not a name


def test_what_a_name_asks_for():
    def made(kind: str, symbol: str) -> Chunk:
        return Chunk("a.py", "python", kind, symbol, 0, 0, 1, 0, "x = 1")

    assert is_named(made("function", "send"), "send")
    assert is_named(made("method", "Client.send"), "send")  # a member of that name
    assert is_named(made("method", "Client.send"), "Client.send")
    assert not is_named(made("method", "Client.resend"), "send")
    assert not is_named(made("method", "Client.send"), "lient.send")
    assert is_named(made("block", "DEFAULT_TIMEOUT, DEFAULT_LIMITS"), "DEFAULT_LIMITS")
    assert not is_named(made("block", "DEFAULT_TIMEOUT, DEFAULT_LIMITS"), "DEFAULT")
    assert not is_named(made("block", ""), "")


@pytest.mark.parametrize(
    ("path", "language", "text", "tiers"),
    [
        (
            "src/coalesce.rs",
            "rust",
            "pub struct CoalesceBy<I> {\n    iter: I,\n}\n\n"
            "impl<I> Clone for CoalesceBy<I> {\n    fn clone(&self) -> Self { todo!() }\n}\n\n"
            "unsafe impl<I> Send for CoalesceBy<I> {}\n",
            {"pub struct CoalesceBy<I>": NAMED_SO, "impl<I> Clone for CoalesceBy<I>": NAMED_SECOND,
             "unsafe impl<I> Send for CoalesceBy<I>": NAMED_SECOND},
        ),
        (
            "src/ParseError.java",
            "java",
            "class ParseError {\n    ParseError(int pos) {\n        this.pos = pos;\n    }\n\n"
            "    String ParseErrorText() {\n        return null;\n    }\n}\n",
            {"class ParseError": NAMED_SO, "ParseError(int pos)": NAMED_SECOND,
             "String ParseErrorText()": 0},
        ),
        (  # an Expo module's `Class(...)` adds to the type, as a Swift extension does
            "ios/NativeDatabase.swift",
            "swift",
            "final class NativeDatabase: SharedObject {}\n\n"
            "public final class SQLiteModule: Module {\n"
            "  public func definition() -> ModuleDefinition {\n"
            "    Class(NativeDatabase.self) {\n"
            "      Function(\"execSync\") { (database: NativeDatabase) in\n"
            "        database.exec()\n      }\n    }\n  }\n}\n",
            {"final class NativeDatabase: SharedObject": NAMED_SO,
             "Class(NativeDatabase.self)": NAMED_SECOND},
        ),
    ],
)
def test_a_type_ranks_above_its_constructors_and_impl_blocks(
    path: str, language: str, text: str, tiers: dict[str, int]
) -> None:
    """Typed alone, a type's name asks for the type: a constructor named after its class and
    a Rust `impl` block are named so in second place."""
    name = path.rsplit("/", 1)[1].split(".")[0].replace("coalesce", "CoalesceBy")
    chunks = [c for c in chunk_text(path, text, language) if c.signature in tiers]
    assert {c.signature: naming_tier(c, name) for c in chunks} == tiers


def test_a_declaration_ranks_between_definitions_and_what_is_named_after_them() -> None:
    """A name only declared (a C# auto-property, a Rust type alias in an `impl`, a Java
    interface's method) answers after a definition of that name (NAMED_SO) and before a
    constructor or an `impl` block named after one (NAMED_SECOND)."""
    offsets = chunk_text(
        "TypeOffset.cs",
        "static class TypeOffset\n{\n    public static int tp_name { get; set; }\n}\n",
        "csharp",
    )  # fmt: skip
    method = chunk_text(
        "OperatorMethod.cs",
        "class OperatorMethod\n{\n    public TypeOffset TypeOffset { get; }\n\n"
        "    public void Run() { }\n}\n",
        "csharp",
    )  # fmt: skip
    assert [naming_tier(c, "TypeOffset") for c in offsets + method if c.kind == "class"] == [
        NAMED_SO, DECLARED
    ]  # fmt: skip
    serializer = chunk_text(
        "src/ser.rs",
        "impl<'a, W> ser::Serializer for &'a mut Serializer<W> {\n"
        "    type SerializeMap = Compound<'a, W>;\n\n"
        "    fn serialize_map(self) -> Compound<'a, W> {\n        todo!()\n    }\n}\n\n"
        "impl<'a, W> ser::SerializeMap for Compound<'a, W> {\n"
        "    fn end(self) -> Result<()> {\n        Ok(())\n    }\n}\n",
        "rust",
    )  # fmt: skip
    tiers = {c.signature: naming_tier(c, "SerializeMap") for c in serializer if c.signature}
    assert tiers["impl<'a, W> ser::Serializer for &'a mut Serializer<W>"] == DECLARED
    assert tiers["impl<'a, W> ser::SerializeMap for Compound<'a, W>"] == 0  # named Compound
    # A method without a body declares its name; the code that implements it defines it.
    connection = chunk_text(
        "Connection.java",
        "interface Connection {\n    /** Update the maximum body size, in bytes. */\n"
        "    Connection maxBodySize(int bytes);\n}\n\n"
        "class HttpConnection implements Connection {\n"
        "    public Connection maxBodySize(int bytes) {\n        max = bytes;\n"
        "        return this;\n    }\n}\n",
        "java",
    )  # fmt: skip
    assert {c.symbol: naming_tier(c, "maxBodySize") for c in connection if c.kind == "method"} == {
        "Connection.maxBodySize": DECLARED, "HttpConnection.maxBodySize": NAMED_SO
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "language", "text"),
    [
        (
            "Record.kt",
            "kotlin",
            "interface Record {\n  /** Saves it at [path]. */\n  fun save(path: String)\n}\n\n"
            "class FileRecord : Record {\n  override fun save(path: String) {\n"
            "    File(path).writeText(body)\n  }\n\n  fun size() = body.length\n}\n",
        ),
        (
            "Record.swift",
            "swift",
            "protocol Record {\n  /// Saves it at `path`.\n  func save(path: String)\n}\n\n"
            "final class FileRecord: Record {\n  func save(path: String) {\n"
            "    try? body.write(toFile: path, atomically: true, encoding: .utf8)\n  }\n\n"
            "  func size() -> Int { body.count }\n}\n",
        ),
    ],
)
def test_a_kotlin_or_swift_requirement_is_a_declaration(path: str, language: str, text: str):
    """Kotlin and Swift declare a method without a body and without a `;`: the interface's
    or protocol's requirement declares the name, the class's method defines it, and only the
    requirement is a declaration (never an answer to Find Similar)."""
    chunks = [c for c in chunk_text(path, text, language) if c.kind == "method"]
    assert {c.symbol: naming_tier(c, "save") for c in chunks if c.symbol.endswith("save")} == {
        "Record.save": DECLARED, "FileRecord.save": NAMED_SO
    }  # fmt: skip
    assert [c.symbol for c in chunks if is_declaration(c)] == ["Record.save"]


def test_a_definition_inside_another_is_named_so_and_landed_on() -> None:
    """A local helper answers its name, as a module's own definition does (both in the
    first tier: a test's `var router` must not outrank express's inner `function router`)."""
    text = (
        "def parse_header(line):\n    return line.split(':', 1)\n\n\n"
        "def read_headers(lines):\n"
        "    def parse_pair(line):\n        return parse_header(line)\n"
        "    return [parse_pair(line) for line in lines]\n"
    )
    top, outer = chunk_text("pkg/headers.py", text, "python")
    assert naming_tier(top, "parse_header") == NAMED_SO
    tier, landed = named_as(outer, "parse_pair")
    assert (tier, landed.symbol, landed.start_line, landed.signature) == (
        NAMED_SO,
        "read_headers.parse_pair",
        5,
        "def parse_pair(line):",
    )
    # Only what it defines: a unit that calls a name does not answer it.
    assert named_as(outer, "parse_header") == (0, outer)


def _lines(path: str, start: int, end: int) -> Chunk:
    return Chunk(path, "python", "function", "f", start, 0, end, 1, "x")


def test_chunks_overlap_only_in_one_file_and_on_a_shared_line() -> None:
    part = _lines("a.py", 10, 20)
    assert part.overlaps(_lines("a.py", 20, 30))  # sharing the last line
    assert part.overlaps(_lines("a.py", 12, 14))  # inside
    assert not part.overlaps(_lines("a.py", 21, 30))
    assert not part.overlaps(_lines("b.py", 10, 20))  # the same lines of another file


def test_parts_of_one_definition_merge_into_one_result_across_files_kept_apart() -> None:
    first, second, elsewhere = _lines("a.py", 0, 9), _lines("a.py", 9, 19), _lines("b.py", 0, 9)
    hits = [Hit(1, first, 0.9), Hit(2, elsewhere, 0.8), Hit(3, second, 0.7)]
    merged = merge_overlapping(hits)
    assert [(h.chunk.path, h.chunk.start_line, h.chunk.end_line) for h in merged] == [
        ("a.py", 0, 19),
        ("b.py", 0, 9),
    ]


# -- a documented neighbour and the undocumented answer ------------------------------------------


def _definitions(path: str, text: str, language: str) -> dict[str, Chunk]:
    return {c.symbol: c for c in chunk_text(path, text, language) if c.kind != "imports"}


@pytest.mark.parametrize(
    ("path", "language", "text", "expected"),
    [
        (
            "a.py",
            "python",
            'def doc(x):\n    """Says what."""\n    return x\n\n\n'
            "# A comment says what.\ndef commented(x):\n    return x\n\n\n"
            "@cache\ndef bare(x):\n    y = 'not a docstring'\n    return y\n\n\n"
            "def long_signature(\n    a: int,\n    b: int,\n) -> int:\n    r\"\"\"Raw.\"\"\"\n"
            "    return a\n",
            {"doc": True, "commented": True, "bare": False, "long_signature": True},
        ),
        (
            "a.rs",
            "rust",
            "/// Doc.\npub fn doc() {}\n\n#[inline]\npub fn bare() -> u8 {\n    1\n}\n",
            {"doc": True, "bare": False},
        ),
        (
            "a.go",
            "go",
            "package a\n\n// Doc says what.\nfunc Doc() int {\n\treturn 1\n}\n\n"
            "func Bare() int {\n\treturn 2\n}\n",
            {"Doc": True, "Bare": False},
        ),
        (
            "a.js",
            "javascript",
            "/** Doc. */\nfunction doc() {\n  return 1;\n}\n\nfunction bare() {\n  return 2;\n}\n",
            {"doc": True, "bare": False},
        ),
    ],
)
def test_documented_tells_definitions_with_words_of_their_own(path, language, text, expected):
    chunks = _definitions(path, text, language)
    assert {name: documented(chunks[name]) for name in expected} == expected


def test_documented_cannot_tell_for_code_that_is_no_definition_or_a_later_part():
    block = Chunk("a.py", "python", "block", "LIMIT", 0, 0, 0, 9, "# Max.\nLIMIT = 5")
    assert documented(block) is None
    part = Chunk("a.py", "python", "function", "f", 40, 4, 60, 0, "x = 1", part=2)
    assert documented(part) is None
    assert documented(replace(part, language="cobol", part=0)) is None


def _hit(chunk_id: int, path: str, score: float) -> Hit:
    chunk = Chunk(path, "python", "function", f"f{chunk_id}", chunk_id, 0, chunk_id, 1, "")
    return Hit(chunk_id, chunk, score)


def test_undocumented_neighbours_the_model_prefers_move_above_a_documented_one():
    hits = [_hit(1, "a.py", 0.9), _hit(2, "b.py", 0.8), _hit(3, "a.py", 0.7), _hit(4, "a.py", 0.6)]
    dense = {1: 0.50, 2: 0.70, 3: 0.55, 4: 0.60}  # the model puts 3 and 4 above 1
    own_words = {1: True, 2: False, 3: False, 4: False}
    dense_among_neighbours(hits, dense, own_words, depth=10)
    # a.py's places (0.9, 0.7, 0.6) go to 3, 4, 1: the undocumented keep their own order;
    # b.py's hit keeps its place.
    assert [(h.chunk_id, h.score) for h in hits] == [(3, 0.9), (2, 0.8), (4, 0.7), (1, 0.6)]


def test_a_documented_neighbour_the_model_also_prefers_keeps_its_place():
    hits = [_hit(1, "a.py", 0.9), _hit(2, "a.py", 0.8), _hit(3, "a.py", 0.7)]
    dense = {1: 0.60, 2: 0.50, 3: 0.55}  # 3 is above the documented 2, not above 1
    own_words = {1: True, 2: True, 3: False}
    dense_among_neighbours(hits, dense, own_words, depth=10)
    assert [(h.chunk_id, h.score) for h in hits] == [(1, 0.9), (3, 0.8), (2, 0.7)]


@pytest.mark.parametrize(
    ("own_words", "depth"),
    [
        ({1: False, 3: False}, 10),  # the first has no words of its own: BM25 read its code
        ({1: True, 3: True}, 10),  # both documented: BM25 compared words with words
        ({1: True, 3: None}, 10),  # a later part: cannot tell
        ({1: True, 3: False}, 2),  # the neighbour is below the depth
    ],
)
def test_the_order_stays_unless_a_documented_first_hides_an_undocumented_neighbour(
    own_words, depth
):
    hits = [_hit(1, "a.py", 0.9), _hit(2, "b.py", 0.8), _hit(3, "a.py", 0.7)]
    dense = {1: 0.50, 2: 0.70, 3: 0.60}
    dense_among_neighbours(hits, dense, own_words, depth)
    assert [h.chunk_id for h in hits] == [1, 2, 3]


def _block(names: str, kind: str = "block") -> Chunk:
    return Chunk("m.py", "python", kind, names, 0, 0, 1, 0, f"{names} = 1\n")


def test_a_block_declares_a_question_word_when_one_of_its_names_holds_it():
    asked = frozenset(["force", "fixed", "width", "timeouts"])
    assert declares_asked(_block("FORCED_WIDTH"), asked)
    assert declares_asked(_block("DEFAULT_TIMEOUT_CONFIG, DEFAULT_LIMITS"), asked)  # plural
    assert declares_asked(_block("Client.maxWidth"), asked)  # a member: its own name
    assert not declares_asked(_block("FORCED_HEIGHT"), asked)  # "forced" is not "force"
    assert not declares_asked(_block(""), asked)  # code that declares nothing
    assert not declares_asked(_block("fixed_width", kind="function"), asked)  # a definition


def test_declared_blocks_among_bm25s_first_gain_the_weight_the_coverage_took():
    fused = [("f", 0.90), ("g", 0.80), ("b", 0.70), ("c", 0.60)]
    lexical = {"f": 10.0, "b": 8.0, "g": 4.0, "c": 3.0}  # BM25's order, best first
    # b: 0.70 + 0.3 / 1.5 * 8 / 10 = 0.86, above g; c is not among BM25's first two.
    raised = raise_declared_blocks(fused, lexical, {"b", "c"}, 0.3, 1.5, depth=2)
    assert [key for key, _ in raised] == ["f", "b", "g", "c"]
    assert dict(raised)["b"] == pytest.approx(0.86) and dict(raised)["c"] == 0.60
    assert raise_declared_blocks(fused, lexical, {"b", "c"}, 0.3, 1.5, depth=1) == fused
    assert raise_declared_blocks(fused, lexical, {"b"}, 0.0, 1.5, depth=2) == fused


def test_a_raised_block_stays_below_a_kept_first_once_priors_weigh_both():
    fused = [("f", 0.80), ("b", 0.70), ("g", 0.60)]
    lexical = {"f": 10.0, "b": 8.0, "g": 4.0}
    # Unkept, b gains 0.3 / 1.5 * 8 / 10 = 0.16: 0.86, above f.
    unkept = raise_declared_blocks(fused, lexical, {"b"}, 0.3, 1.5, depth=2)
    assert [key for key, _ in unkept] == ["b", "f", "g"]
    factors = {"f": 0.9, "b": 1.0, "g": 1.0}  # f weighs 0.72 once its prior applies
    kept = dict(raise_declared_blocks(fused, lexical, {"b"}, 0.3, 1.5, 2, ("f", factors)))
    assert kept["b"] == pytest.approx(0.72) and kept["b"] * 1.0 < kept["f"] * 0.9
    # The ceiling never takes from what a block had before it was raised.
    low = {"f": 0.5, "b": 1.0, "g": 1.0}
    held = dict(raise_declared_blocks(fused, lexical, {"b"}, 0.3, 1.5, 2, ("f", low)))
    assert held["b"] == pytest.approx(0.70)
    # A ceiling above the raised score changes nothing; neither does a first with no prior.
    roomy = {"f": 2.0, "b": 1.0, "g": 1.0}
    assert raise_declared_blocks(fused, lexical, {"b"}, 0.3, 1.5, 2, ("f", roomy)) == unkept
    dropped = {"f": None, "b": 1.0, "g": 1.0}
    assert raise_declared_blocks(fused, lexical, {"b"}, 0.3, 1.5, 2, ("f", dropped)) == unkept


def test_the_agreed_first_is_the_unit_both_rankings_put_first_after_priors():
    dense = {"test": 0.9, "f": 0.8, "b": 0.7}
    lexical = {"f": 10.0, "b": 9.0}
    assert agreed_first([dense, lexical], {"test": 0.6, "f": 1.0, "b": 1.0}) == "f"
    assert agreed_first([dense, lexical], {"test": 1.0, "f": 1.0, "b": 1.0}) is None
    assert agreed_first([dense, lexical], {"test": None, "f": None, "b": 1.0}) == "b"
    assert agreed_first([dense, {}], {"test": 1.0, "f": 1.0, "b": 1.0}) is None


def test_a_long_code_query_keeps_its_rare_and_repeated_terms_in_its_own_order():
    terms = ["self", "value", "slerp", "return", "quaternion", "angle"]
    frequencies = {"self": 900, "value": 600, "slerp": 2, "return": 800, "quaternion": 5}
    counts = {"angle": 1, "value": 1, "quaternion": 1}
    # "angle" no chunk holds: it can match nothing and takes no place.
    assert most_telling(terms, counts, frequencies, 2000, 3) == ["value", "slerp", "quaternion"]
    # A word the query repeats says more about it than one it uses once.
    assert most_telling(terms, {"return": 30}, frequencies, 2000, 3) == [
        "slerp", "return", "quaternion"
    ]  # fmt: skip
    # Find Similar: a word only the definition asked about holds finds nothing else.
    assert most_telling(terms, counts, frequencies, 2000, 2, least=3) == ["value", "quaternion"]


def test_words_most_chunks_hold_are_left_out_unless_nothing_else_is_asked():
    """FTS5 gives a term held by more than half the chunks an IDF of 1e-6: it changes no
    score, and BM25 still reads every chunk holding it."""
    terms = ["self", "value", "slerp", "return", "quaternion"]
    frequencies = {"self": 900, "value": 600, "slerp": 2, "return": 800, "quaternion": 5}
    assert most_telling(terms, {}, frequencies, 1000, 24) == ["slerp", "quaternion"]
    assert most_telling(["self", "return"], {}, frequencies, 1000, 24) == ["self", "return"]


def test_a_word_most_of_its_files_other_chunks_hold_is_the_files_not_the_definitions():
    # 12 other chunks in the file: more than a quarter is 4 or more.
    holders = {"canvas": 11, "layers": 4, "dirty": 3, "clear": 1, "pixels": 0}
    assert file_words(holders, 12, 0.25) == {"canvas", "layers"}
    assert file_words(holders, 12, 0.5) == {"canvas"}
    # A file of a few definitions has no vocabulary of its own to tell apart: what two of
    # its three alternatives share is the likeness asked for (C's `getprogname` under #if).
    assert FILE_WORDS_LEAST == 3
    assert file_words({"getprogname": 2, "progname": 2}, 3, 0.25) == set()
    assert file_words({"getprogname": 3}, 4, 0.25) == {"getprogname"}


def test_find_similar_on_a_class_reads_a_function_held_by_a_function_as_outside_classes() -> None:
    # Functions in a function larger than a chunk are units with the function as their
    # container (chunker 25); they are code that uses classes, ranked after them, as the
    # function is; a method, a class and a class's fields are in a class.
    body = "".join(f"    step_{i} = run(step_{i - 1})\n" for i in range(1, 70))
    text = (
        "def build(config):\n"
        f"{body}"
        "    def receive():\n        return config.read()\n\n"
        "    return receive\n\n\n"
        "class Stream:\n    size = 0\n\n    def read(self):\n        return self.size\n"
    )
    chunks = chunk_text("a.py", text, "python")
    outside = {c.symbol: _outside_classes(c) for c in chunks}
    assert outside == {
        "build": True, "build.receive": True, "Stream": False, "Stream.read": False
    }  # fmt: skip


def test_a_name_typed_alone_answers_the_implementation_before_an_example_named_so(
    tmp_path, open_index
) -> None:
    # express 4.18.2: `format` typed alone answered `function format(path)` of
    # examples/content-negotiation first (short, all about its name), `res.format` second.
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "response.js").write_text(
        "var res = module.exports = {};\n\n"
        "res.format = function(obj){\n"
        "  var req = this.req;\n"
        "  var next = req.next;\n"
        "  var keys = Object.keys(obj).filter(function(v){ return v !== 'default'; });\n"
        "  var key = keys.length > 0 ? req.accepts(keys) : false;\n"
        "  this.vary('Accept');\n"
        "  if (key) {\n"
        "    this.set('Content-Type', normalizeType(key).value);\n"
        "    obj[key](req, this, next);\n"
        "  } else if (obj.default) {\n"
        "    obj.default(req, this, next);\n"
        "  }\n"
        "  return this;\n"
        "};\n"
    )
    examples = tmp_path / "examples" / "content-negotiation"
    examples.mkdir(parents=True)
    (examples / "index.js").write_text(
        "function format(path) {\n  var format = require(path);\n  return format;\n}\n"
    )
    index = open_index(tmp_path)
    index.refresh()
    results = index.search("format").results
    assert [(r.path, r.symbol) for r in results[:2]] == [
        ("lib/response.js", "res.format"),
        ("examples/content-negotiation/index.js", "format"),
    ]
