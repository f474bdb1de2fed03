"""The multi-line `context` of a search result: signature line, then the lines that matched."""

from __future__ import annotations

from dataclasses import replace

from lsp_server.engine.chunker import chunk_text
from lsp_server.engine.chunks import Chunk
from lsp_server.engine.results import (
    ContextLine,
    context_of,
    matching_line,
    preview_of,
    selection_of,
)


def _chunk(
    text: str, start_line: int = 10, start_col: int = 4, language: str = "python", **extra: object
) -> Chunk:
    lines = text.split("\n")
    return Chunk(
        path="pkg/mod.py",
        language=language,
        kind="method",
        symbol="Client.fetch",
        start_line=start_line,
        start_col=start_col,
        end_line=start_line + len(lines) - 1,
        end_col=len(lines[-1]),
        text=text,
        **extra,  # type: ignore[arg-type]
    )


LONG = "\n".join(
    [
        "@retry",
        "    def fetch(self, url: str) -> bytes:",
        '        """Fetch a url."""',
        "        session = self.session",
        "        headers = {}",
        "        headers['Accept'] = 'text/html'",
        "        prepared = session.prepare(url, headers)",
        "        answer = session.send(prepared)",
        "        if answer.status == 429:",
        "            time.sleep(backoff_delay(answer))",
        "        return answer.content",
    ]
)


def test_long_definition_shows_signature_then_the_best_matching_lines():
    context = context_of(_chunk(LONG), ["backoff", "delay"])
    assert context[0] == ContextLine(11, "def fetch(self, url: str) -> bytes:")
    # The body window is centred on the line with the most query terms (line 19).
    assert [c.line for c in context[1:]] == [17, 18, 19, 20]
    assert context[3].text == "        time.sleep(backoff_delay(answer))"
    assert context[2].text == "    if answer.status == 429:"  # dedented with the signature


def test_without_a_match_the_body_starts_under_the_signature():
    context = context_of(_chunk(LONG), ["nothing", "matches"])
    assert [c.line for c in context] == [11, 12, 13, 14, 15]


def test_a_named_line_wins_over_terms():
    # A stack frame's line (0-based in the file) is the line to show.
    context = context_of(_chunk(LONG), ["backoff"], focus_line=14)
    assert [c.line for c in context[1:]] == [13, 14, 15, 16]


def test_short_chunk_is_shown_whole_without_blank_lines():
    text = "def add(a, b):\n\n    return a + b\n"
    context = context_of(_chunk(text, start_col=0), ["add"])
    assert context == (ContextLine(10, "def add(a, b):"), ContextLine(12, "    return a + b"))


def test_later_part_of_a_split_definition_carries_its_signature_first():
    text = "        x = compute()\n        return x"
    part = _chunk(text, start_col=0, signature="def fetch(self, url)", part=2)
    context = context_of(part, ["compute"])
    assert context[0] == ContextLine(None, "def fetch(self, url)")
    assert context[1] == ContextLine(10, "x = compute()")


def test_a_doc_comment_is_not_the_header_in_code_but_a_heading_is_in_markdown():
    js = "/** Formats a byte count. */\nexport function formatBytes(bytes) {\n  return bytes;\n}"
    context = context_of(_chunk(js, start_col=0, language="javascript"))
    assert context[0] == ContextLine(11, "export function formatBytes(bytes) {")
    doc = "# Install\n\n* run the script\n* restart"
    assert context_of(_chunk(doc, start_col=0, language="markdown"))[0].text == "# Install"
    licence = "// Copyright 2024\n// MIT licence"
    assert context_of(_chunk(licence, start_col=0, language="go"))[0].text == "// Copyright 2024"


def test_json_shape():
    line = context_of(_chunk("def f():\n    pass", start_col=0))[0]
    assert line.to_json() == {"line": 10, "text": "def f():"}


def test_results_without_context_rank_the_same(tmp_path, open_index):
    # Benchmarks read only locations (EngineSettings.result_context=False); the order must
    # not depend on it.
    (tmp_path / "client.py").write_text(
        "def fetch(url):\n    session = open_session()\n    return session.get(url)\n\n\n"
        "def backoff_delay(answer):\n    wait = answer.retry_after\n    return min(wait, 60)\n"
    )
    shown = open_index(tmp_path)
    shown.index()
    with_context = shown.search("retry after delay", limit=5).results
    bare = open_index(tmp_path, result_context=False).search("retry after delay", limit=5).results
    assert with_context and with_context[0].symbol == "backoff_delay"
    assert any(r.context for r in with_context) and not any(r.context for r in bare)
    assert [(r.path, r.start_line) for r in bare] == [(r.path, r.start_line) for r in with_context]


# -- where the cursor lands (selectionRange) -------------------------------------------------------


def test_the_cursor_lands_on_the_name_past_decorators_and_their_arguments():
    # LONG starts at line 10, column 4 with `@retry`; `def fetch(` is line 11.
    assert selection_of(_chunk(LONG)) == (11, 8, 11, 13)
    decorated = "@app.route(\n    '/fetch',\n    methods=['GET'])\ndef fetch(url):\n    return url"
    chunk = _chunk(decorated, start_col=0, signature="def fetch(url):")
    assert selection_of(chunk) == (13, 4, 13, 9)


def test_the_cursor_lands_on_the_name_past_doc_comments_in_each_language():
    rust = "/// Computes the CRC-32.\n/// IEEE polynomial.\npub fn crc32(data: &[u8]) -> u32 {\n}"
    signature = "pub fn crc32(data: &[u8]) -> u32 {"
    chunk = _chunk(rust, 0, 0, "rust", signature=signature)
    assert selection_of(replace(chunk, symbol="crc32")) == (2, 7, 2, 12)
    java = (
        "/**\n     * Parses a date.\n     */\n    @Override\n"
        "    public Date parseDate(String text) {\n        return null;\n    }"
    )
    chunk = _chunk(java, 20, 4, "java", signature="public Date parseDate(String text) {")
    assert selection_of(replace(chunk, symbol="DateUtils.parseDate")) == (24, 16, 24, 25)
    js = "/** Formats a byte count. */\nexport function formatBytes(bytes) {\n  return bytes;\n}"
    chunk = _chunk(js, 2, 0, "javascript", signature="export function formatBytes(bytes) {")
    assert selection_of(replace(chunk, symbol="formatBytes")) == (3, 16, 3, 27)
    go = "// Serve answers.\nfunc (s *Server) Serve(l net.Listener) error {\n}"
    chunk = _chunk(go, 0, 0, "go", signature="func (s *Server) Serve(l net.Listener) error {")
    assert selection_of(replace(chunk, symbol="Server.Serve")) == (1, 17, 1, 22)


def test_the_cursor_lands_on_the_name_a_line_below_where_the_signature_starts():
    """GNU and BSD C put the return type on the line above the name (tmux, libyaml): the
    cursor was left on `static struct window *`, or (no line held the joined signature) at
    the chunk's first line, its doc comment; a Java generic method's the same."""
    c_text = (
        "/* Find a window by index. */\nstatic struct window *\n"
        "window_find(struct session *s, int idx)\n{\n\treturn NULL;\n}\n\n"
        "YAML_DECLARE(int)\nyaml_parser_initialize(yaml_parser_t *parser)\n{\n    return 1;\n}\n"
    )
    chunks = {c.symbol: c for c in chunk_text("window.c", c_text, "c")}
    assert selection_of(chunks["window_find"]) == (2, 0, 2, 11)
    assert selection_of(chunks["yaml_parser_initialize"]) == (8, 0, 8, 22)
    context = context_of(chunks["window_find"], ["window"])
    assert [line.text for line in context][:2] == [
        "static struct window *",
        "window_find(struct session *s, int idx)",
    ]
    # ... and on the first part of such a function cut in parts (no part was found to hold
    # its signature: the cursor went to the doc comment).
    body = "".join(f"\tcount += step_{i}(s, idx);\n" for i in range(30))
    long_text = c_text.split("{", 1)[0] + "{\n\tint count = 0;\n" + body + "\treturn NULL;\n}\n"
    first, *rest = chunk_text("window.c", long_text, "c", max_chars=400)
    assert first.part == 1 and rest and selection_of(first) == (2, 0, 2, 11)
    java = (
        "class A {\n  public static <T extends Comparable<T>>\n  T max(T a, T b) { return a; }\n}\n"
    )
    method = next(c for c in chunk_text("A.java", java, "java") if c.symbol == "A.max")
    assert selection_of(method) == (2, 4, 2, 7)


def test_the_cursor_lands_on_the_name_past_annotations_on_its_line():
    # jsoup's tests: `@Test public void padding() {` put the cursor on the body's first line.
    java = (
        "class StringUtilTest {\n    @Test public void padding() {\n"
        '        assertEquals("", StringUtil.padding(0));\n    }\n}\n'
    )
    method = next(c for c in chunk_text("T.java", java, "java") if c.symbol.endswith("padding"))
    assert selection_of(method) == (1, 22, 1, 29)
    assert preview_of(method) == "public void padding()"


def test_a_cpp_template_shows_and_lands_on_the_line_that_names_it():
    """`template <...>` above a definition is no line that names it: the cursor landed on
    it, and the preview spent its length on the parameters (fmt's headers)."""
    text = (
        "namespace fmt {\n"
        "template <typename Char, FMT_ENABLE_IF(std::is_same<Char, char>::value)>\n"
        "FMT_CONSTEXPR ansi_color_escape<Char> make_emphasis(emphasis em) noexcept {\n"
        "  return ansi_color_escape<Char>(em);\n}\n\n"
        "template <typename T, std::enable_if_t<(sizeof(T) > 4), int> = 0> T widest(T a) {\n"
        "  return a;\n}\n}\n"
    )
    chunks = {c.symbol: c for c in chunk_text("color.h", text, "cpp")}
    emphasis, widest = chunks["make_emphasis"], chunks["widest"]
    assert emphasis.text.startswith("template <typename Char, FMT_ENABLE_IF(")
    assert preview_of(emphasis) == (
        "FMT_CONSTEXPR ansi_color_escape<Char> make_emphasis(emphasis em) noexcept"
    )
    assert selection_of(emphasis) == (2, 38, 2, 51)
    assert preview_of(widest) == "T widest(T a)"
    assert selection_of(widest) == (6, 68, 6, 74)


def test_without_its_name_on_the_line_the_cursor_lands_on_the_line_text():
    # A JavaScript getter assigned through a call names itself in a string; a block by the
    # first name it declares; a window (no name) on its first line past comments.
    getter = "defineGetter(req, 'fresh', function(){\n  return true;\n})"
    chunk = replace(_chunk(getter, 5, 0, "javascript"), symbol="req.fresh", kind="function")
    assert selection_of(chunk) == (5, 19, 5, 24)
    block = "# Limits.\nDEFAULT_TIMEOUT = 10.0\nMAX_RETRIES = 3"
    chunk = replace(_chunk(block, 7, 0), kind="block", symbol="DEFAULT_TIMEOUT, MAX_RETRIES")
    assert selection_of(chunk) == (8, 0, 8, 15)
    window = "    # keep going\n    total += step\n"
    chunk = replace(_chunk(window, 30, 0), kind="window", symbol="")
    assert selection_of(chunk) == (31, 4, 31, 17)


def test_a_stack_frame_line_is_where_the_cursor_lands():
    assert selection_of(_chunk(LONG), focus_line=19) == (19, 12, 19, 45)
    assert selection_of(_chunk(LONG), focus_line=99) == (11, 8, 11, 13)  # not in the chunk


def test_code_between_definitions_lands_on_the_first_name_it_declares():
    go = "const (\n\tactiveHelpMarker = \"_activeHelp_ \"\n\tactiveHelpEnvVar = \"ACTIVE_HELP\"\n)"
    names = "activeHelpMarker, activeHelpEnvVar"
    chunk = replace(_chunk(go, 22, 0, "go"), kind="block", symbol=names)
    assert selection_of(chunk) == (23, 1, 23, 17)
    ts = "import { Observable } from '../Observable';\n\nexport const NEVER = new Observable(noop);"
    chunk = replace(_chunk(ts, 0, 0, "typescript"), kind="block", symbol="NEVER")
    assert selection_of(chunk) == (2, 13, 2, 18)


HEADER = (
    "json_t *json_loads(const char *input, size_t flags, json_error_t *error);\n"
    "json_t *json_loadf(FILE *input, size_t flags, json_error_t *error);\n"
    "\n"
    "/* encoding */\n"
    "\n"
    "#define JSON_COMPACT 0x20\n"
    "#define JSON_ENSURE_ASCII 0x40\n"
    "#define JSON_ESCAPE_SLASH 0x400\n"
    "\n"
    "char *json_dumps(const json_t *json, size_t flags);\n"
)


def test_a_block_found_by_its_names_shows_the_line_where_the_cursor_lands():
    """jansson's header: the flags block opens with prototypes that declare no unit; the
    result showed `json_t *json_loads(...)` and its context there, the cursor landed on
    `JSON_COMPACT` eleven lines below."""
    (block,) = [c for c in chunk_text("src/jansson.h", HEADER, "c") if c.kind == "block"]
    assert block.start_line == 0 and block.names[0] == "JSON_COMPACT"
    assert selection_of(block) == (5, 8, 5, 20)
    assert preview_of(block) == "#define JSON_COMPACT 0x20"
    assert context_of(block)[0] == ContextLine(5, "#define JSON_COMPACT 0x20")
    # A comment right above the first name says what the block is: the preview shows it.
    commented = HEADER.replace("/* encoding */\n\n", "/* Flags that json_dumps() reads. */\n")
    (block,) = [c for c in chunk_text("src/jansson.h", commented, "c") if c.kind == "block"]
    assert selection_of(block) == (4, 8, 4, 20)
    assert preview_of(block) == "/* Flags that json_dumps() reads. */"
    assert context_of(block)[0] == ContextLine(4, "#define JSON_COMPACT 0x20")


def test_a_first_part_that_a_long_doc_comment_fills_has_no_name_of_its_own():
    docs = "/**\n" + " * Emits after a quiet time.\n" * 3 + " */"
    part = _chunk(docs, 6, 0, "typescript", signature="export function debounceTime<T>(", part=1)
    assert selection_of(part) is None


def test_a_later_part_of_a_split_definition_has_no_name_of_its_own():
    text = "        x = compute()\n        return x"
    part = _chunk(text, signature="def fetch(self, url)", part=2)
    assert selection_of(part) is None


def test_a_result_from_a_later_part_lands_on_the_name_in_the_first(tmp_path, open_index):
    body = "\n".join(f"    step_{i} = compute_{i}(records)" for i in range(80))
    (tmp_path / "stages.py").write_text(
        "import functools\n\n\n@functools.cache\ndef run_stages(records):\n"
        f"{body}\n    return finalize_quarterly_ledger(step_79)\n"
    )
    index = open_index(tmp_path)
    index.index()
    parts = [c.chunk for c in index.store.chunks_of_file("stages.py") if c.chunk.part]
    assert len(parts) > 1  # the precondition: the definition is split
    result = index.search("finalize_quarterly_ledger", limit=1).results[0]
    assert result.symbol == "run_stages" and result.match_lines[0] > parts[0].end_line
    assert (result.start_line, result.selection) == (3, (4, 4, 4, 14))


def test_a_definition_under_a_doc_comment_longer_than_a_part_lands_on_its_name(
    tmp_path, open_index
):
    step = " * Step {}: what the parser does with the {}th token kind.\n"
    doc = "".join(step.format(i, i) for i in range(150))
    (tmp_path / "parse.js").write_text(
        f"/**\n{doc} */\nfunction parseTokens(tokens) {{\n  return tokens.map(String);\n}}\n"
    )
    index = open_index(tmp_path)
    index.index()
    parts = [c.chunk for c in index.store.chunks_of_file("parse.js") if c.chunk.part]
    assert parts and "function parseTokens" not in parts[0].text  # the precondition
    result = next(r for r in index.search("parser steps for each token kind").results
                  if r.symbol == "parseTokens")
    assert result.start_line == 0 and result.selection == (152, 9, 152, 20)


def test_code_between_definitions_lands_on_the_line_that_matches_the_query(tmp_path, open_index):
    """A table's result landed on the table's name, however far below it the entry that
    answers the question is (tmux's options table: "how long tmux waits after an escape
    byte" is its `escape-time` entry, thirty lines down)."""
    entries = "".join(
        f'\t{{ .name = "{name}",\n\t  .default_num = {i} }},\n'
        for i, name in enumerate(["buffer-limit", "display-time", "escape-time", "history-limit"])
    )
    (tmp_path / "options.c").write_text(
        "static const struct options_table_entry options_table[] = {\n" + entries + "};\n"
    )
    index = open_index(tmp_path)
    index.index()
    [table] = [c.chunk for c in index.store.chunks_of_file("options.c")]
    assert table.kind == "block" and table.start_line == 0  # the precondition
    escape = index.search("escape time default", limit=1).results[0]
    assert (escape.start_line, escape.selection) == (0, (5, 1, 5, 25))
    named = index.search("options table entry", limit=1).results[0]
    assert named.selection == (0, 40, 0, 53)  # no line holds more terms than the name's


def test_code_between_definitions_shows_the_line_it_lands_on(tmp_path, open_index):
    """The context of a block result is centred on the line the cursor lands on. It was
    centred on the line with the most query terms, comments included, so a comment that
    names the entry lines away from it took the preview, and the line opened was not
    shown."""
    entries = [
        f'\t{{ .name = "{name}",\n\t  .default_num = {i} }},\n'
        for i, name in enumerate(
            ["buffer-limit", "display-time", "history-limit", "message-limit", "repeat-time"]
        )
    ]
    note = "\t/* escape time: how long to wait after an escape, the escape time default */\n"
    escape = '\t{ .name = "escape-time",\n\t  .default_num = 500 },\n'
    body = [entries[0], note, *entries[1:], escape]
    (tmp_path / "options.c").write_text(
        "static const struct options_table_entry options_table[] = {\n" + "".join(body) + "};\n"
    )
    index = open_index(tmp_path)
    index.index()
    [table] = [c.chunk for c in index.store.chunks_of_file("options.c")]
    assert table.kind == "block" and table.start_line == 0  # the precondition
    result = index.search("escape time default", limit=1).results[0]
    assert result.selection == (12, 1, 12, 25)  # the entry, not the comment (line 3)
    # The list shows the line it opens on, not the table's first line thirteen above.
    assert result.preview == '{ .name = "escape-time",'
    shown = [(line.line, line.text) for line in result.context]
    assert shown[0] == (0, "static const struct options_table_entry options_table[] = {")
    assert (12, '\t{ .name = "escape-time",') in shown
    assert all(line != 3 for line, _ in shown)  # the comment is not what is shown


def test_code_between_definitions_does_not_land_above_the_name_it_declares():
    """A block's imports above its first name are not where it lands: the context shows
    that name's line and the lines below, and the cursor went to an import it hid."""
    text = "import os\nfrom net import retry_helpers\nRETRY_LIMIT = 3\nTIMEOUT = 4\n"
    [block] = chunk_text("settings.py", text, "python")
    assert block.kind == "block" and block.start_line == 0  # the precondition
    assert matching_line(block, ["retry", "helpers"]) is None  # lands on RETRY_LIMIT
    assert context_of(block, ["retry", "helpers"])[0] == ContextLine(2, "RETRY_LIMIT = 3")
    assert matching_line(block, ["timeout"]) == 3  # a line below the name still can
