"""Split a source file into chunks: one per definition, plus blocks for the code around them.

Languages with a tree-sitter grammar are split by syntax; everything else by line windows.

Positions are 0-based (line, column) with an exclusive end, as in LSP, but columns count
Python ``str`` characters (code points), not UTF-16 units: the server converts when a client
wants UTF-16. Lines are split on ``\\r\\n``, ``\\n`` and ``\\r``, the rule LSP clients use.

Nothing here recurses over the syntax tree: definitions are found by a tree-sitter query (run in
C) and nested by a stack over their byte ranges, so deeply nested input cannot hit Python's
recursion limit.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import import_module
from itertools import accumulate
from pathlib import Path

from tree_sitter import Language, Node, Parser, Point, Query, QueryCursor, Range

from lsp_server.engine.chunks import NAMES_JOINT, Chunk
from lsp_server.engine.language_specs import (
    BODY_VALUES,
    COMMENTS,
    CPP_HINT,
    DEFAULT_EXPORT,
    DEFAULT_EXPORTS,
    DOC_COMMENT_GAP,
    FILE_PREAMBLE,
    JS_DEFINE_CALLEE,
    JS_EXPORT_OBJECTS,
    JS_FUNCTION_VALUES,
    JS_GUARDS,
    JS_OBJECT_MEMBERS,
    KEYWORD_NAMED,
    LICENCE_PHRASE,
    LOCAL_SCOPES,
    SHARED_WRAPPERS,
    SIGNATURE_SKIP,
    SPECS,
    LanguageSpec,
)
from lsp_server.engine.languages import GRAMMAR_MODULES

# Bump when the same file would be cut into other chunks: an index made by another version
# re-chunks every file on its next sync (vectors of unchanged chunk texts stay cached).
# 5: code between definitions cut between statements, imports apart; 6: a Rust impl for a
# reference type is named by the type (`&'a mut Deserializer<R>` -> Deserializer); 7: Python
# `@overload` stubs are one unit with their definition, Rust `macro_rules!` are definitions,
# signatures leave comments out; 8: top-level `@overload` stubs two blank lines apart too;
# 9: JavaScript functions behind a guard (`export default ok && function () {}`) are
# definitions, anonymous default exports are named by their module, Python's
# `if __name__ == "__main__":` is one unit (kind "script"); 10: JavaScript/TypeScript test
# calls are units named by their title (`describe` a class, `it`/`test` its methods); 11:
# JavaScript/TypeScript routes (`app.get('/users', (req, res) => {})`) are units (`GET /users`);
# 12: code between definitions is named by the names it declares (`DEFAULT_LIMITS, ...`);
# 13: a comment right above a statement between definitions stays in its window; 14: Java
# interface and abstract methods (no body) are units with their Javadoc; 15: a C function
# with a syntax error inside stays one unit when its header spans lines (BSD/GNU style),
# `LUA_API type name(...)` is named `name`, PHP interface and abstract methods are units,
# a Ruby class's first method keeps the comments above it; 16: C++ `friend` belongs to its
# function, a C/C++ "definition" named by a keyword (a macro misread) is none; 17: a C++
# function is named past a macro that split its header (`localtime_r FMT_NOMACRO` is
# `localtime_r`), a conversion operator `operator bool` (was `operator bool() const`); 18:
# code between PHP definitions is also named by the properties it declares (17 labelled the
# chunks of C++ in a `.h` file C++; 18 labels them C again, as before 17); 19: C# properties,
# indexers and events with code in their accessors are units (were their class's header),
# auto-properties name the code between definitions
CHUNKER_VERSION = 19


def _source_fingerprint(*names: str) -> str:
    """A hash of the source files that decide how a file is cut, beside CHUNKER_VERSION: an
    index made by other chunking code re-chunks even when the version was not bumped (a
    forgotten bump, or a development tree between two versions)."""
    digest = hashlib.blake2b(digest_size=8)
    for name in names:
        try:
            digest.update(Path(__file__).with_name(name).read_bytes())
        except OSError:  # no source beside the module (a frozen build): the version decides
            return ""
    return digest.hexdigest()


CHUNKER_CODE = _source_fingerprint("chunker.py", "language_specs.py", "languages.py")
MAX_SIGNATURE_CHARS = 200
_SIGNATURE_SCAN_BYTES = 2000  # never decode more than this to build one signature
# Files this large whose lines average this long are treated as minified: line windows only.
_MINIFIED_MIN_CHARS = 100_000
_MINIFIED_LINE_CHARS = 1_000

# ---------------------------------------------------------------------------------------------
# Grammar loading: Language and Query objects are shared, Parser objects are per thread.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grammar:
    lang: Language
    query: Query
    fragment_lang: Language
    fragment_query: Query
    declarations: Query | None  # LanguageSpec.declarations, on the file's grammar
    fragment_declarations: Query | None  # and on the fragment's (a chunk parsed alone)


_lock = threading.Lock()
_grammars: dict[str, _Grammar | None] = {}
_local = threading.local()


def _grammar(language: str) -> _Grammar | None:
    with _lock:
        if language not in _grammars:
            _grammars[language] = _load_grammar(language)
        return _grammars[language]


def _load_grammar(language: str) -> _Grammar | None:
    module_name, func = GRAMMAR_MODULES[language]
    try:
        module = import_module(module_name)
        lang = Language(getattr(module, func)())
        spec = SPECS[language]
        query = Query(lang, spec.query)
        declarations = Query(lang, spec.declarations) if spec.declarations else None
        if not spec.fragment_function:
            return _Grammar(lang, query, lang, query, declarations, declarations)
        fragment = Language(getattr(module, spec.fragment_function)())
        return _Grammar(
            lang,
            query,
            fragment,
            Query(fragment, spec.query),
            declarations,
            Query(fragment, spec.declarations) if spec.declarations else None,
        )
    except Exception:  # a missing or ABI-incompatible wheel: fall back to line windows
        return None


def _parser(language: str, lang: Language) -> Parser:
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = Parser(lang)
    return parser


# ---------------------------------------------------------------------------------------------
# Lines and character offsets
# ---------------------------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as an LSP client counts them.

    Unlike str.splitlines(), form feeds, U+2028 and friends are not line breaks: a file
    with them would otherwise be off by a line or more from the editor's view.
    """
    return _NEWLINE.split(text)


def slice_lines(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> list[str]:
    """The lines of an LSP range (start and end as (line, character)); an end past the last
    line is clamped to it."""
    end_line = min(end[0], len(lines) - 1)
    picked = lines[start[0] : end_line + 1]
    if end_line == end[0]:
        picked[-1] = picked[-1][: end[1]]
    picked[0] = picked[0][start[1] :]
    return picked


class _Lines:
    """Line starts/ends of a text (LSP rule) and conversion of char offsets to positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []  # offset just past each line's content, before its newline
        if "\r" not in text:  # the common case, about 5x faster than the regex
            lengths = [len(line) for line in text.split("\n")]
            self.starts = list(accumulate((n + 1 for n in lengths[:-1]), initial=0))
            self.ends = [s + n for s, n in zip(self.starts, lengths, strict=True)]
            return
        for m in _NEWLINE.finditer(text):
            self.ends.append(m.start())
            self.starts.append(m.end())
        self.ends.append(len(text))

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def position(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        return line, offset - self.starts[line]

    def segments(self, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
        """The lines of [start, end) as (start, end) offsets; over-long lines are hard-cut."""
        segs: list[tuple[int, int]] = []
        for line in range(self.line_of(start), self.line_of(max(start, end - 1)) + 1):
            s, e = max(start, self.starts[line]), min(end, self.ends[line])
            if e - s <= max_chars:
                segs.append((s, max(s, e)))
            else:
                segs.extend((k, min(k + max_chars, e)) for k in range(s, e, max_chars))
        return segs


def _byte_to_char(data: bytes, offsets: set[int]) -> dict[int, int]:
    """Map UTF-8 byte offsets to str offsets, decoding each stretch between them only once."""
    result: dict[int, int] = {}
    prev_byte = prev_char = 0
    for b in sorted(offsets):
        snapped = b
        while snapped < len(data) and 0x80 <= data[snapped] < 0xC0:
            snapped += 1  # never split a character: move to the next one's first byte
        prev_char += len(data[prev_byte:snapped].decode("utf-8", "surrogatepass"))
        prev_byte = snapped
        result[b] = prev_char
    return result


# ---------------------------------------------------------------------------------------------
# Packing lines into chunks
# ---------------------------------------------------------------------------------------------


def _pack(
    text: str,
    segs: list[tuple[int, int]],
    max_chars: int,
    max_lines: int,
    overlap: int,
    breaks: list[int] | None = None,
) -> Iterator[tuple[int, int]]:
    """Yield trimmed (start, end) char spans of consecutive segments, skipping blank ones.

    ``breaks``: sorted indexes of the segments a statement starts on. A window that must end
    before its limit then ends before the last of them it holds, so that the next window
    starts on a statement rather than inside one; without one it ends at the limit.
    """
    i, n = 0, len(segs)
    while i < n:
        while i < n and _blank(text, segs[i]):
            i += 1  # never start a window on a blank line
        if i == n:
            return
        j, start = i, segs[i][0]
        while j + 1 < n and j + 1 - i < max_lines and segs[j + 1][1] - start <= max_chars:
            j += 1
        if breaks and j + 1 < n and not _holds(breaks, j + 1):
            last = bisect_right(breaks, j) - 1
            if last >= 0 and breaks[last] > i:
                j = breaks[last] - 1
        span = _trim(text, start, segs[j][1])
        if span is not None:
            yield span
        if j == n - 1:
            return
        i = max(i + 1, j + 1 - overlap)


def _holds(ordered: list[int], value: int) -> bool:
    at = bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


def _blank(text: str, seg: tuple[int, int]) -> bool:
    s, e = seg
    return s == e or text[s:e].isspace()


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Shrink [start, end) to its first and last non-whitespace characters."""
    chunk = text[start:end]
    stripped = chunk.lstrip()
    if not stripped:
        return None
    start += len(chunk) - len(stripped)
    return start, start + len(stripped.rstrip())


# ---------------------------------------------------------------------------------------------
# Definitions found in the syntax tree
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Def:
    start: int  # byte extent of the chunk (decorators, leading comments and wrappers included)
    end: int
    node_end: int  # end of the definition node itself; what nested definitions must lie within
    kind: str  # "function" | "class"
    name: str
    scope: str  # container known from the definition itself (Go receiver, C++ `A::f`)
    signature: str
    node_start: int
    body_start: int  # where its body begins (its header lies before; node_start if none)
    col: int  # indentation (byte column) where the definition with its wrappers starts
    broken: bool  # contains a syntax error
    parent: _Def | None = None  # the class it is a member of
    symbol: str = ""
    container: str = ""
    cut: int = -1  # for classes: start of the first member chunk, where the class chunk ends


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _strip_templates(name: str) -> str:
    if "operator" in name:
        return name
    previous = None
    while previous != name:
        previous, name = name, re.sub(r"<[^<>]*>", "", name)
    return name


_IDENTIFIERS = re.compile(r"(?<!['\w])[A-Za-z_]\w*")  # a lifetime ('a) is none


def _last_path(name: str) -> str:
    """`crate::a::Foo<T>` -> `Foo`, `&'a mut de::Deserializer<R>` -> `Deserializer` (for Rust
    impl targets: the type's own name, not its reference's lifetime and `mut`)."""
    last = _strip_templates(name).rsplit("::", 1)[-1]
    words = _IDENTIFIERS.findall(last)
    return words[-1] if words else last.strip("&* ")


def _c_name(node: Node) -> tuple[str, str]:
    """Name and `Class` scope of a C/C++ function_definition from its declarator chain."""
    d = node.child_by_field_name("declarator")
    while d is not None and d.type.endswith("declarator"):
        if d.type == "function_declarator" and (name := _name_after_macro(d)):
            return name, ""
        d = d.child_by_field_name("declarator") or d.named_child(0)
    if (cast := _operator_cast(d)) is not None:
        return cast
    parts = _strip_templates(_text(d)).split("::")
    return _without_macros(parts[-1].strip()), (parts[-2].strip() if len(parts) > 1 else "")


def _operator_cast(declarator: Node | None) -> tuple[str, str] | None:
    """Name and scope of a conversion operator: `explicit operator bool() const` is
    `operator bool`, `A::operator std::string() const` is `operator std::string` of `A`
    (None for any other declarator)."""
    scope = None
    while declarator is not None and declarator.type == "qualified_identifier":
        scope = declarator.child_by_field_name("scope")
        declarator = declarator.child_by_field_name("name")
    if declarator is None or declarator.type != "operator_cast":
        return None
    rest = declarator.child_by_field_name("declarator")  # `() const`: not the name
    end = (rest.start_byte if rest is not None else declarator.end_byte) - declarator.start_byte
    name = (declarator.text or b"")[:end].decode("utf-8", "replace")
    return " ".join(name.split()), _last_path(_text(scope)) if scope is not None else ""


_MACRO_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _without_macros(name: str) -> str:
    """A function's name where a macro the grammar cannot expand split its header: with
    `FMT_CONSTEXPR ansi_color_escape<Char> make_emphasis(...)` the grammar reads the return
    type and the name as one scoped name missing its `::` (`ansi_color_escape
    make_emphasis`), with `localtime_r FMT_NOMACRO(...)` the name and the macro. The name is
    the last word that is not written as a macro; operators keep their words."""
    words = name.split()
    if len(words) < 2 or words[0].startswith("operator"):
        return name
    named = [word for word in words if not _MACRO_NAME.fullmatch(word)]
    return (named or words)[-1]


def _name_after_macro(declarator: Node) -> str:
    """The name of `LUA_API lua_CFunction lua_atpanic (...)`: after an export macro, the
    grammar takes the return type for the name and leaves the name in an error node before
    the parameters ("" where there is none)."""
    for child in declarator.children:
        if child.type == "parameter_list":
            return ""
        if child.type == "ERROR":
            names = [n for n in child.named_children if n.type == "identifier"]
            return _text(names[-1]) if names else ""
    return ""


def _go_receiver(node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    stack = [receiver] if receiver is not None else []
    while stack:  # the receiver is tiny; look for its type's name
        n = stack.pop()
        if n.type == "type_identifier":
            return _text(n)
        stack.extend(reversed(n.named_children))
    return ""


def _name(node: Node, module: str = "") -> tuple[str, str]:
    """(name, scope) of a captured definition; name is "" when it has none.

    ``module`` names a JavaScript module's anonymous default export (``_module_name``).
    """
    t = node.type
    if t in JS_FUNCTION_VALUES and node.parent is not None and node.parent.type in JS_GUARDS:
        return _guarded_name(node, module)
    if t == "variable_declarator":
        return _text(node.child_by_field_name("name")), ""
    if t in ("field_definition", "public_field_definition"):
        prop = node.child_by_field_name("property") or node.child_by_field_name("name")
        return _text(prop), ""
    if t == "assignment_expression":
        return _default_export_named(_assigned_name(node), module)
    if t == "call_expression":
        return _defined_property(node)
    if t in JS_OBJECT_MEMBERS and node.parent is not None and node.parent.type == "object":
        return _object_member_name(node)
    if t == "impl_item":
        return _last_path(_text(node.child_by_field_name("type"))), ""
    if t in DEFAULT_EXPORTS and node.parent is not None and node.parent.type == "export_statement":
        return _export_name(node, module)
    if t == "method_declaration" and node.child_by_field_name("receiver") is not None:
        return _text(node.child_by_field_name("name")), _go_receiver(node)
    name = node.child_by_field_name("name")
    if name is not None:
        return _text(name).replace("::", "."), ""
    if t == "function_definition":
        return _c_name(node)
    if t in KEYWORD_NAMED:
        return KEYWORD_NAMED[t], ""
    parent = node.parent
    if parent is not None and parent.type == "type_definition":  # typedef struct { } Name;
        return _text(parent.child_by_field_name("declarator")), ""
    return "", ""


# ---------------------------------------------------------------------------------------------
# JavaScript / TypeScript names: assignments, property definitions, object literal members
# ---------------------------------------------------------------------------------------------


def _module_name(path: str) -> str:
    """What a module's default export is imported as by convention: its file's name
    (`lib/helpers/parseHeaders.js` -> parseHeaders), or its folder's for an `index` file."""
    folder, _, file = path.rpartition("/")  # chunk paths are '/'-separated
    stem = file.split(".", 1)[0]
    return folder.rpartition("/")[2] if stem == "index" and folder else stem


def _default_export_named(named: tuple[str, str], module: str) -> tuple[str, str]:
    """`exports.default = function () {}` is the module's default export, named by it."""
    name, scope = named
    return (module or name, scope) if name == DEFAULT_EXPORT and not scope else named


def _guarded_name(function: Node, module: str) -> tuple[str, str]:
    """A function that a condition guards (`export default isSupported && function () {}`,
    `const f = a || (() => {})`) is named as it would be without the guard."""
    holder = function.parent
    while holder is not None and holder.type in JS_GUARDS:
        holder = holder.parent
    if holder is None:
        return "", ""
    if holder.type == "variable_declarator":
        return _text(holder.child_by_field_name("name")), ""
    if holder.type == "assignment_expression":
        return _default_export_named(_assigned_name(holder, function), module)
    if holder.type == "export_statement":
        return _export_name(function, module)
    return "", ""


def _export_name(value: Node, module: str) -> tuple[str, str]:
    """A module's default export is named by itself (`function httpAdapter`), else by the
    module (``_module_name``)."""
    return _text(value.child_by_field_name("name")) or module or DEFAULT_EXPORT, ""


def _assigned_name(node: Node, function: Node | None = None) -> tuple[str, str]:
    """`a.b = c.d = function () {}` is named by its outermost target, `var x = a = f` by x."""
    function = function or node.child_by_field_name("right")
    while (parent := node.parent) is not None and parent.type == "assignment_expression":
        node = parent
    if parent is not None and parent.type == "variable_declarator":
        return _text(parent.child_by_field_name("name")), ""
    return _member_name(_text(node.child_by_field_name("left")), function)


def _member_name(target: str, function: Node | None = None) -> tuple[str, str]:
    """(name, scope) of a function assigned to ``target``.

    `A.prototype.f` is (f, A); `module.exports.f` and `exports.f` are f; `module.exports`
    itself takes the function's own name.
    """
    target = "".join(target.split())  # `a\n  .b` -> `a.b`
    owner, sep, member = target.rpartition(".prototype.")
    if sep:
        return member, owner
    for exports in JS_EXPORT_OBJECTS:
        if target == exports:
            own = _text(function.child_by_field_name("name")) if function is not None else ""
            return own or target, ""
        if target.startswith(exports + "."):
            return target[len(exports) + 1 :], ""
    return target, ""


def _object_owner(target: str) -> str:
    """The name an object literal assigned to ``target`` gives its members' container."""
    if target in JS_EXPORT_OBJECTS:
        return ""
    name, scope = _member_name(target.removesuffix(".prototype"))
    return f"{scope}.{name}" if scope else name


def _key(member: Node) -> str:
    key = member.child_by_field_name("key" if member.type == "pair" else "name")
    value = _string_value(key)
    return _text(key) if value is None else value


def _string_value(node: Node | None) -> str | None:
    """A string literal's text without its quotes (`'fresh'` -> fresh); None for anything
    else."""
    if node is None or node.type not in ("string", "template_string"):
        return None
    return _text(node)[1:-1]


def _object_member_name(member: Node) -> tuple[str, str]:
    """`const api = { run() {}, stop: () => {} }` -> (run, api); nested objects add their keys."""
    path: list[str] = []
    holder = member.parent.parent if member.parent is not None else None
    while holder is not None and holder.type == "pair":
        path.append(_key(holder))
        up = holder.parent
        holder = up.parent if up is not None and up.type == "object" else None
    if holder is not None and holder.type == "variable_declarator":
        path.append(_text(holder.child_by_field_name("name")))
    elif holder is not None and holder.type == "assignment_expression":
        path.append(_object_owner("".join(_text(holder.child_by_field_name("left")).split())))
    return _key(member), ".".join(p for p in reversed(path) if p)


def _call_arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [c for c in arguments.named_children if c.type not in COMMENTS]


def _defined_property(call: Node) -> tuple[str, str]:
    """`defineGetter(req, 'fresh', function () {})` and
    `Object.defineProperty(obj, 'name', { get() {} })` define `req.fresh` and `obj.name`."""
    callee = _text(call.child_by_field_name("function")).rsplit(".", 1)[-1]
    arguments = _call_arguments(call)
    if not JS_DEFINE_CALLEE.fullmatch(callee) or len(arguments) != 3:
        return "", ""
    target, prop, value = arguments
    if value.type == "object" and not any(_is_function_member(c) for c in value.named_children):
        return "", ""  # a plain value (`{ value: true }`), not code
    return _member_name(f"{_text(target)}.{_string_value(prop) or ''}")


def _callee_names(call: Node) -> list[str]:
    """The names a call's callee is made of, first name first: `describe.each(rows)(...)` is
    [describe, each], `test.describe.serial(...)` [test, describe, serial]."""
    names: list[str] = []
    callee = call.child_by_field_name("function")
    while callee is not None and callee.type in ("member_expression", "call_expression"):
        if callee.type == "member_expression":
            names.append(_text(callee.child_by_field_name("property")))
            callee = callee.child_by_field_name("object")
        else:
            callee = callee.child_by_field_name("function")
    if callee is None or callee.type != "identifier":
        return []
    return [_text(callee), *reversed(names)]


def _called_unit(node: Node, spec: LanguageSpec) -> tuple[str, str] | None:
    """(kind, name) of a call that defines a unit, else None: a test suite (class) or a test
    (function) named by its title (LanguageSpec.test_suites / test_cases), a web route
    (function) named by its method and path (LanguageSpec.route_methods)."""
    if node.type != "call_expression" or not (spec.test_cases or spec.route_methods):
        return None
    names = _callee_names(node)
    title = _call_title(node)
    if not names or not title:
        return None
    if names[0] in spec.test_suites | spec.test_cases:
        # Playwright's `test.describe` is a suite though `test` alone is a test.
        return ("class" if not spec.test_suites.isdisjoint(names) else "function"), title
    if len(names) > 1 and names[-1] in spec.route_methods and (title[0] == "/" or title == "*"):
        method = "DELETE" if names[-1] == "del" else names[-1].upper()
        return "function", f"{method} {title}"
    return None


def _call_title(call: Node) -> str:
    """A test's title or a route's path: the first argument without its quotes, when it is a
    string."""
    arguments = _call_arguments(call)
    return (_string_value(arguments[0]) if arguments else None) or ""


def _is_function_member(node: Node) -> bool:
    if node.type == "pair":
        value = node.child_by_field_name("value")
        return value is not None and value.type in JS_FUNCTION_VALUES
    return node.type in JS_FUNCTION_VALUES


# ---------------------------------------------------------------------------------------------
# Extent of a definition: wrappers, documentation above it
# ---------------------------------------------------------------------------------------------


def _body(node: Node) -> Node | None:
    if node.type == "call_expression":  # a property definition, a test or a route: the
        arguments = _call_arguments(node)  # function's body, or the object of accessors
        functions = [a for a in arguments if a.type in JS_FUNCTION_VALUES]
        if functions:  # `it('waits', function (done) {}, 5000)`: the function, not the timeout
            return functions[-1].child_by_field_name("body")
        return arguments[-1] if arguments and arguments[-1].type == "object" else None
    body = node.child_by_field_name("body")
    if body is None:  # C#'s properties, indexers and events: `{ get { ... } set { ... } }`
        body = node.child_by_field_name("accessors")
    if body is None:
        for name in ("value", "right"):  # `f = () => {}`: the body is the function's
            value = node.child_by_field_name(name)
            if value is not None:
                return value if value.type in BODY_VALUES else value.child_by_field_name("body")
    return body


def _extent_node(node: Node, spec: LanguageSpec) -> Node:
    """The definition node widened to the wrappers that belong to it alone."""
    while (parent := node.parent) is not None and parent.type in spec.wrappers:
        if (
            parent.type in SHARED_WRAPPERS
            and sum(c.type == node.type for c in parent.named_children) != 1
        ):
            break
        node = parent
    return node


def _leading_start(node: Node, data: bytes, spec: LanguageSpec, name: str = "") -> int:
    """Start of the comments, decorators and attributes above ``node`` that belong to it.

    They touch it; or one gap of blank lines separates them from it: a doc comment (`/**`,
    `///`...) up to DOC_COMMENT_GAP lines, a plain comment block one line when no code sits
    right above that block. A licence header (comments that open the file and speak of
    copyright or a licence) never belongs.
    """
    row = node.start_point.row
    attached: list[Node] = []
    gap_at = -1  # len(attached) where a gap was crossed
    sib = node.prev_named_sibling
    if sib is None and node.parent is not None and node.parent.type in spec.hoisted_bodies:
        sib = node.parent.prev_named_sibling  # Ruby: the comments above a body's first method
    while sib is not None and sib.type in spec.leading and not _trails_code(sib, data):
        if _starts_with(sib, data, spec.module_comments):
            break  # `//!` documents the module around it
        blank_lines = row - _last_row(sib) - 1
        if blank_lines > 0:
            if gap_at >= 0 or blank_lines > _gap_allowed(sib, data, spec):
                break
            gap_at = len(attached)
        attached.append(sib)
        row = sib.start_point.row
        sib = sib.prev_named_sibling
    if (
        gap_at >= 0
        and not _is_doc_comment(attached[gap_at], data, spec)
        and sib is not None
        and _last_row(sib) >= row - 1
    ):
        del attached[gap_at:]  # a comment right under code is about that code
    licence = _top_comments(attached)
    if licence and _licence_header(licence, data):
        del attached[len(attached) - len(licence) :]
    first = attached[-1] if attached else node
    top = _topmost_overload(first, name, spec)
    # Overloads above: the unit starts with them, and with the doc comment above them.
    return first.start_byte if top is first else _leading_start(top, data, spec)


# Blank lines that may stand between overloads and the definition they type (PEP 8 puts two
# between top-level functions, `@overload` stubs included).
_OVERLOAD_GAP = 2


def _topmost_overload(first: Node, name: str, spec: LanguageSpec) -> Node:
    """The first of the bodyless signatures of the same name right above a definition
    (TypeScript overloads, with the comments between them); `first` when there are none."""
    earliest = first
    row = first.start_point.row
    sib = first.prev_named_sibling
    has_overloads = spec.overloads or spec.overload_decorator
    while has_overloads and name and sib is not None and row - _last_row(sib) - 1 <= _OVERLOAD_GAP:
        if _overload_name(sib, spec) == name:
            earliest = sib
        elif sib.type not in COMMENTS:
            break
        row = sib.start_point.row
        sib = sib.prev_named_sibling
    return earliest


def _overload_name(node: Node, spec: LanguageSpec) -> str | None:
    """The name of an overload signature (bare, exported, or a stub marked by the language's
    overload decorator), None for other nodes."""
    if spec.overload_decorator and node.type in spec.wrappers:
        marked = any(_decorator_name(c) == spec.overload_decorator for c in node.children)
        inner = node.child_by_field_name("definition")
        return _text(inner.child_by_field_name("name")) if marked and inner is not None else None
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        node = declaration if declaration is not None else node
    if node.type not in spec.overloads:
        return None
    return _text(node.child_by_field_name("name"))


def _decorator_name(node: Node) -> str:
    """`overload` for `@overload`, `@typing.overload` and `@t.overload`; "" for non-decorators."""
    if node.type != "decorator":
        return ""
    return _text(node).lstrip("@").split("(", 1)[0].strip().rsplit(".", 1)[-1]


def _is_overload_stub(outer: Node, name: str, spec: LanguageSpec) -> bool:
    """A stub marked by the overload decorator that the definition below it takes into its
    unit (`_topmost_overload` from there reaches it). Stubs with no definition after them
    (a `.pyi` file, a Protocol) stay definitions of their own."""
    if not spec.overload_decorator or _overload_name(outer, spec) != name:
        return False
    sib = outer.next_named_sibling
    while sib is not None and (sib.type in COMMENTS or _overload_name(sib, spec) == name):
        sib = sib.next_named_sibling
    if sib is None:
        return False
    definition = sib.child_by_field_name("definition") if sib.type in spec.wrappers else sib
    if definition is None or _name(definition)[0] != name:
        return False
    return _topmost_overload(sib, name, spec).start_byte <= outer.start_byte


def _trails_code(comment: Node, data: bytes) -> bool:
    """True for a comment that starts on a line after code (`x = 1  # why`)."""
    line_start = data.rfind(b"\n", 0, comment.start_byte) + 1
    return bool(data[line_start : comment.start_byte].strip())


def _gap_allowed(node: Node, data: bytes, spec: LanguageSpec) -> int:
    """How many blank lines may separate ``node`` from the definition it belongs to."""
    if node.type not in COMMENTS:
        return 0  # decorators and attributes touch their definition
    return DOC_COMMENT_GAP if _is_doc_comment(node, data, spec) else 1


def _last_row(node: Node) -> int:
    """The row of a node's last character (a Rust line comment ends after its newline)."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _is_doc_comment(node: Node, data: bytes, spec: LanguageSpec) -> bool:
    return _starts_with(node, data, spec.doc_comments) and not _starts_with(
        node, data, ("/**/", "////")
    )


def _starts_with(node: Node, data: bytes, prefixes: tuple[str, ...]) -> bool:
    """True for a comment that starts with one of ``prefixes``."""
    if not prefixes or node.type not in COMMENTS:
        return False
    return data[node.start_byte : node.start_byte + 4].decode("ascii", "replace").startswith(
        prefixes
    )


def _top_comments(attached: list[Node]) -> list[Node]:
    """The topmost block of comments (no blank line within) among what is attached above a
    definition (``attached`` is nearest first)."""
    top: list[Node] = []
    for n in reversed(attached):
        if n.type not in COMMENTS or (top and n.start_point.row > _last_row(top[-1]) + 1):
            break
        top.append(n)
    return top


_LICENCE_BYTES = re.compile(LICENCE_PHRASE.pattern.encode(), LICENCE_PHRASE.flags & re.IGNORECASE)
_PREAMBLE_BYTES = re.compile(FILE_PREAMBLE.pattern.encode())


def _licence_header(comments: list[Node], data: bytes) -> bool:
    """True when ``comments`` open the file and hold a licence or copyright notice."""
    opens_file = _PREAMBLE_BYTES.match(data).end() >= comments[0].start_byte
    return opens_file and any(
        _LICENCE_BYTES.search(data, n.start_byte, n.end_byte) for n in comments
    )


def _trailing_end(outer: Node, data: bytes) -> int:
    """Take in a `;` right after the definition (`struct a { };`, `class A { };`), or the `,`
    after a member of an object literal."""
    end = i = outer.end_byte
    while i < len(data) and data[i] in b" \t":
        i += 1
    if i < len(data) and (
        data[i] == 0x3B
        or (data[i] == 0x2C and outer.parent is not None and outer.parent.type == "object")
    ):
        return i + 1
    return end


_BRACKET_SPACE = re.compile(r"([(\[]) ")
_CLOSE_SPACE = re.compile(r",? ([)\]])")


def _signature(core: Node, outer: Node, data: bytes) -> str:
    # Decorators stay out: they are in the chunk text, the signature is the header.
    head = core if outer.type == "decorated_definition" else outer
    start = head.start_byte
    for child in head.children:
        if child.type not in SIGNATURE_SKIP:
            start = child.start_byte
            break
    body = _body(core)
    stop = min(start + _SIGNATURE_SCAN_BYTES, core.end_byte)
    if body is not None and start < body.start_byte:
        raw = _without_comments(core, data, start, min(body.start_byte, stop))
    else:
        # No body node (Go types, TS type aliases): the first line, up to an opening brace.
        raw = _without_comments(core, data, start, stop).split("\n", 1)[0].split("{", 1)[0]
    # One line; drop the space that line breaks leave inside brackets: `f( a, b, )` -> `f(a, b)`.
    sig = _BRACKET_SPACE.sub(r"\1", _CLOSE_SPACE.sub(r"\1", " ".join(raw.split())))
    if len(sig) > MAX_SIGNATURE_CHARS:
        sig = sig[: MAX_SIGNATURE_CHARS - 3].rstrip() + "..."
    return sig


def _without_comments(node: Node, data: bytes, start: int, stop: int) -> str:
    """The text of ``data[start:stop]`` with the comments in it left out: a comment on a
    parameter (`canRunAsDerivation, // true for autoAction`) or the one that opens a Python
    body (it lies before the body's node) is no part of the header a reader scans."""
    kept: list[bytes] = []
    cursor = start
    for comment in _comments_within(node, start, stop):
        kept.append(data[cursor : comment.start_byte])
        cursor = comment.end_byte
    kept.append(data[cursor:stop])
    return b" ".join(kept).decode("utf-8", "replace")


def _comments_within(node: Node, start: int, stop: int) -> list[Node]:
    """Comment nodes under ``node`` that lie wholly in [start, stop), in order."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        for child in reversed(current.children):
            if child.end_byte <= start or child.start_byte >= stop:
                continue
            if child.type in COMMENTS:
                if child.start_byte >= start and child.end_byte <= stop:
                    found.append(child)
            elif child.child_count:
                stack.append(child)
    return sorted(found, key=lambda n: n.start_byte)


def _describe(node: Node, data: bytes, spec: LanguageSpec, module: str) -> _Def | None:
    called = _called_unit(node, spec)
    if node.type in spec.scripts:
        kind, (name, scope) = "script", (spec.script_name, "")
    elif called is not None:
        kind, (name, scope) = called[0], (called[1], "")
    else:
        kind = "class" if node.type in spec.classes else "function"
        name, scope = _name(node, module)
    name = " ".join(name.split())
    if not name or name in spec.keywords:
        return None  # anonymous, or a broken node from error recovery
    body = _body(node)
    declared_only = body is None and node.type not in spec.bodyless and not spec.bodyless_ok
    if kind == "function" and declared_only:
        return None  # a declaration (abstract, interface or prototype), not a definition
    outer = _extent_node(node, spec)
    if _is_overload_stub(outer, name, spec):
        return None  # its unit is the definition it types (see _topmost_overload)
    return _Def(
        start=_leading_start(outer, data, spec, name),
        end=_trailing_end(outer, data),
        node_end=node.end_byte,
        kind=kind,
        name=name,
        scope=scope,
        signature=_signature(node, outer, data),
        node_start=node.start_byte,
        body_start=node.start_byte if body is None else max(node.start_byte, body.start_byte),
        col=outer.start_point.column,
        broken=node.has_error,
    )


def _find_definitions(
    root: Node,
    query: Query,
    data: bytes,
    spec: LanguageSpec,
    module: str,
    parent: _Def | None = None,
) -> list[_Def]:
    """Definitions that get their own chunk, with symbol/container/kind resolved.

    ``module`` is the file's ``_module_name``; ``parent`` is the class a re-parsed fragment of
    the file lies in, if any.
    """
    nodes = {(n.start_byte, -n.end_byte, n.type): n for n in _captures(query, root)}
    found: list[_Def] = []
    stack: list[_Def] = [parent] if parent is not None else []  # innermost last
    for key in sorted(nodes):
        node = nodes[key]
        while stack and stack[-1].node_end <= node.start_byte:
            stack.pop()
        if stack and stack[-1].kind != "class":
            continue  # nested in a function: stays part of it
        d = _describe(node, data, spec, module)
        if d is None:
            continue
        _resolve(d, stack[-1] if stack else None)
        stack.append(d)
        found.append(d)
    return found


# ---------------------------------------------------------------------------------------------
# Error recovery
# ---------------------------------------------------------------------------------------------

# Bounds on recovery work: at most this many re-parses, of at most this many times the file.
_MAX_REPARSES = 32
_REPARSE_BYTES_FACTOR = 2


@dataclass(frozen=True, slots=True)
class _Region:
    """A stretch of the file to parse again on its own, from the start of a line."""

    start: int
    end: int
    owner_start: int  # earlier definitions from here that reach past `start` are replaced
    parent: _Def | None  # the class the stretch lies in
    source: tuple[int, int] | None  # the re-parsed stretch this one was found in

    def replaces(self, d: _Def) -> bool:
        return self.owner_start <= d.start < self.end and d.end > self.start


@lru_cache(maxsize=64)
def _restart_line(indent: int) -> re.Pattern[bytes]:
    """A line indented at most ``indent`` that could start a new definition or statement.

    Brackets, `end`, comments, preprocessor lines and labels (`out:`, `public:`, `else:`) do
    not count: they are usually still part of the construct being closed (or, for `{` on a
    line of its own, the body being opened).
    """
    return re.compile(rb"\n[ \t]{0,%d}(?=\S)(?![{})\]#/]|end\b|\w+:(?!:))" % indent)


def _recover(
    defs: list[_Def], root: Node, grammar: _Grammar, data: bytes, spec: LanguageSpec, module: str
) -> list[_Def]:
    """Find definitions that a syntax error hid, by parsing parts of the file again.

    Error recovery often turns everything from a broken line to the end of the file into one
    top-level ERROR node, or (after an unclosed brace) nests all later definitions in the broken
    one. In both cases the next line that is indented no deeper than the broken construct
    usually starts sound code again, so that stretch is parsed on its own.
    """
    todo = _error_regions(root, data, None) + _broken_regions(defs, data, None)
    done: list[tuple[int, int]] = []
    budget, byte_budget = _MAX_REPARSES, _REPARSE_BYTES_FACTOR * len(data)
    while todo and budget > 0 and byte_budget > 0:
        todo.sort(key=lambda r: r.start, reverse=True)
        region = todo.pop()
        if any(s <= region.start < e for s, e in done if (s, e) != region.source):
            continue  # already re-parsed as part of an enclosing broken construct
        end = min([region.end] + [s for s, _ in done if s > region.start])
        budget -= 1
        byte_budget -= end - region.start
        done.append((region.start, end))
        defs = [d for d in defs if not region.replaces(d)]
        span = Range(_point(data, region.start), _point(data, end), region.start, end)
        sub = Parser(grammar.fragment_lang, included_ranges=[span]).parse(data).root_node
        found = _find_definitions(sub, grammar.fragment_query, data, spec, module, region.parent)
        defs.extend(found)
        source = (region.start, end)
        todo.extend(_error_regions(sub, data, source) + _broken_regions(found, data, source))
    return defs


def _point(data: bytes, offset: int) -> Point:
    """Tree-sitter's (row, byte column) of a byte offset."""
    return Point(data.count(b"\n", 0, offset), offset - data.rfind(b"\n", 0, offset) - 1)


def _error_regions(root: Node, data: bytes, source: tuple[int, int] | None) -> list[_Region]:
    """Stretches of broken top-level statements that start an unindented line."""
    broken = [root] if root.type == "ERROR" else [c for c in root.children if c.has_error]
    regions = []
    for node in broken:
        body = node.child_by_field_name("body")  # a header over several lines is no restart
        start = (node if body is None else body).start_byte
        m = _restart_line(0).search(data, start, node.end_byte)
        if m is not None:
            regions.append(_Region(m.start() + 1, node.end_byte, node.start_byte, None, source))
    return regions


def _broken_regions(defs: list[_Def], data: bytes, source: tuple[int, int] | None) -> list[_Region]:
    """Stretches of broken definitions that start a line indented no deeper than the definition.

    The search starts at the body: a header written over several lines at the definition's
    indent (C's `static void` above `name(args)`, BSD and GNU style) is not a restart.
    """
    regions = []
    for d in defs:
        if not d.broken:
            continue
        m = _restart_line(d.col).search(data, d.body_start, d.node_end)
        if m is not None:
            d.end = min(d.end, m.start() + 1)  # the definition ends before that line
            regions.append(_Region(m.start() + 1, d.node_end, d.start, d.parent, source))
    return regions


def _captures(query: Query, root: Node) -> list[Node]:
    """The `@def` nodes (other captures only test a pattern's predicates)."""
    return QueryCursor(query).captures(root).get("def", [])


def _resolve(d: _Def, parent: _Def | None) -> None:
    d.parent = parent
    if parent is not None:
        d.container = parent.symbol
        if parent.cut < 0:
            parent.cut = d.start  # the class chunk ends where its first member begins
    elif d.scope:
        d.container = d.scope
    if d.kind == "function" and d.container:
        d.kind = "method"
    # A test suite titled by the member it tests (`describe('.stale')` in `describe('req')`)
    # reads `req.stale`, not `req..stale`.
    joint = "" if d.name.startswith(".") else "."
    d.symbol = f"{d.container}{joint}{d.name}" if d.container else d.name


# ---------------------------------------------------------------------------------------------
# Building chunks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Opts:
    path: str
    language: str
    max_chars: int
    overlap_lines: int
    window_lines: int


def chunk_text(
    path: str,
    text: str,
    language: str,
    *,
    max_chars: int = 1500,
    overlap_lines: int = 3,
    window_lines: int = 40,
) -> list[Chunk]:
    """Split ``text`` (the content of ``path``) into chunks, ordered by position."""
    if not text or text.isspace():
        return []
    # Labelled by its path's language: a `.h` file holding C++ is parsed as C++ but stays C
    # (labelling it C++ changes the header its vectors are embedded with, and cost fmt's
    # held-out questions 0.014 MRR: BENCHMARKS.md).
    syntax = grammar_language(language, text)
    opts = _Opts(path, language, max(1, max_chars), max(0, overlap_lines), max(1, window_lines))
    lines = _Lines(text)
    grammar = _grammar(syntax) if syntax in SPECS and not _minified(text) else None
    if grammar is None:
        return _windows(lines, opts)
    return _syntax_chunks(lines, opts, syntax, grammar)


@dataclass(frozen=True, slots=True)
class NestedDefinition:
    """A definition inside another, in the text it was found in: rows and columns from 0,
    LSP style (the end is exclusive), columns in characters."""

    kind: str  # "function" | "class"
    signature: str
    start: tuple[int, int]
    end: tuple[int, int]


@lru_cache(maxsize=2048)
def nested_definition(
    text: str, language: str, name: str, in_class: bool = False
) -> NestedDefinition | None:
    """The definition named ``name`` within a chunk's text that is not named so itself: a
    closure, a local class or struct, a callback assigned to a name, a method of a class
    small enough to be one chunk; else, in a class's text (``in_class``), the statement that
    declares ``name`` outside its methods (LanguageSpec.declarations): a field, a property
    or a class attribute, as kind "block" (a function's text parsed alone declares only
    locals, which name nothing, whatever the parse makes of them). The chunker keeps those
    inside the unit that holds them; a name typed alone still lands on them
    (ranking.naming_tier). The text is parsed on its own (a method without its class, a
    function's part), so definitions are looked for wherever the parse finds them, not only
    inside another. None when there is none, or when the text never writes the name (most
    texts: no parse)."""
    if _word(name).search(text) is None:
        return None
    syntax = grammar_language(language, text)
    grammar = _grammar(syntax) if syntax in SPECS else None
    if grammar is None:
        return None
    spec, data = SPECS[syntax], text.encode("utf-8", "surrogatepass")
    # A fragment: PHP's text has no `<?php` tag here.
    root = _parser(f"{syntax}-fragment", grammar.fragment_lang).parse(data).root_node
    for node in sorted(_captures(grammar.fragment_query, root), key=lambda n: n.start_byte):
        found = _describe(node, data, spec, "")
        if found is not None and found.name == name:
            outer = _extent_node(node, spec)
            return NestedDefinition(
                found.kind,
                found.signature,
                (outer.start_point.row, _char_column(data, outer.start_byte)),
                (node.end_point.row, _char_column(data, node.end_byte)),
            )
    if not in_class:
        return None
    return _declaring_statement(root, grammar.fragment_declarations, data, name)


def _declaring_statement(
    root: Node, declarations: Query | None, data: bytes, name: str
) -> NestedDefinition | None:
    """The statement that declares ``name`` outside any function of the parsed text (its
    locals name nothing), as kind "block" (nested_definition)."""
    for offset, scope, declared in _declared_names(root, declarations):
        if declared != name or scope != -1:
            continue
        node = root.named_descendant_for_byte_range(offset, offset + len(name.encode()))
        statement = _statement_around(node) if node is not None else None
        if statement is None:
            continue
        first_line = _text(statement).split("\n", 1)[0].strip()
        return NestedDefinition(
            "block",
            first_line,
            (statement.start_point.row, _char_column(data, statement.start_byte)),
            (statement.end_point.row, _char_column(data, statement.end_byte)),
        )
    return None


def _statement_around(node: Node) -> Node:
    """The statement a declared name is in: up from the name while the node above starts on
    the same line and holds nothing that starts on another (`private $x = [...];` whole,
    never the class body around it)."""
    row = node.start_point.row
    while (parent := node.parent) is not None and parent.start_point.row == row:
        if any(child.start_point.row != row for child in parent.named_children):
            break
        node = parent
    return node


@lru_cache(maxsize=256)
def _word(name: str) -> re.Pattern[str]:
    """``name`` written as a whole word, or as a PHP variable (`$name`, a property) (compiled
    once: a query tries every candidate)."""
    return re.compile(rf"(?<![\w$])\$?{re.escape(name)}(?![\w$])")


def nested_chunk(chunk: Chunk, name: str) -> Chunk | None:
    """The part of ``chunk`` that is a definition named ``name`` within it
    (nested_definition), as a chunk of its own: where a result for that name lands, with
    its own signature as the preview. None when the chunk holds none."""
    if name not in chunk.text:
        return None  # most candidates: a substring test before the cache, which hashes the text
    found = nested_definition(chunk.text, chunk.language, name, chunk.kind == "class")
    if found is None:
        return None
    (first, first_col), (last, last_col) = found.start, found.end
    lines = chunk.text.split("\n")[first : last + 1]
    lines[-1] = lines[-1][:last_col]  # before the first line's cut: the same line when one
    lines[0] = lines[0][first_col:]
    start_col = first_col + (chunk.start_col if first == 0 else 0)
    end_col = last_col + (chunk.start_col if last == 0 else 0)
    owner = chunk.symbol if chunk.kind != "block" else chunk.container
    return replace(
        chunk,
        kind=found.kind,
        symbol=f"{owner}.{name}" if owner else name,
        container=owner,
        signature=found.signature,
        start_line=chunk.start_line + first,
        start_col=start_col,
        end_line=chunk.start_line + last,
        end_col=end_col,
        text="\n".join(lines),
        part=0,
        unit_start_line=chunk.start_line + first,
        unit_end_line=chunk.start_line + last,
    )


def _char_column(data: bytes, offset: int) -> int:
    """The column, in characters, of a byte offset (tree-sitter's columns are bytes)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return len(data[line_start:offset].decode("utf-8", "surrogatepass"))


def grammar_language(language: str, text: str) -> str:
    """The language a file's text is written in, given the one its path says: a `.h` file
    is C by its path, C++ when its text holds C++ (CPP_HINT). Chunks are parsed with it,
    and the benchmark set builders read files by it."""
    if language == "c" and CPP_HINT.search(text, 0, 200_000):
        return "cpp"
    return language


def _minified(text: str) -> bool:
    """Bundles and minified files: parsing them is slow and their definitions are unreadable."""
    return len(text) > _MINIFIED_MIN_CHARS and len(text) > _MINIFIED_LINE_CHARS * (
        text.count("\n") + 1
    )


def _syntax_chunks(lines: _Lines, opts: _Opts, syntax: str, grammar: _Grammar) -> list[Chunk]:
    data = lines.text.encode("utf-8", "surrogatepass")
    tree = _parser(syntax, grammar.lang).parse(data)
    spec = SPECS[syntax]
    module = _module_name(opts.path)
    defs = _find_definitions(tree.root_node, grammar.query, data, spec, module)
    if tree.root_node.has_error:
        defs = _recover(defs, tree.root_node, grammar, data, spec, module)
    spans = _def_spans(defs, data)
    statement_bytes = _statement_starts(tree.root_node, defs, data)
    declared_bytes = _declared_names(tree.root_node, grammar.declarations)
    if len(data) == len(lines.text):
        to_char: dict[int, int] | None = None  # ASCII: byte and char offsets agree
    else:
        offsets = {o for s, e, _ in spans for o in (s, e)} | _class_ends(defs)
        offsets |= {o for at, scope, _ in declared_bytes for o in (at, scope) if o >= 0}
        to_char = _byte_to_char(data, offsets | set(statement_bytes))

    def conv(b: int) -> int:
        return b if to_char is None else to_char[b]

    chunks: list[Chunk] = []
    classes = _Containers(
        [(conv(d.start), conv(d.end), d.symbol) for d in defs if d.kind == "class"]
    )
    statements = [conv(b) for b in statement_bytes]
    declared = _Declared(
        [(conv(at), conv(scope) if scope >= 0 else -1, name) for at, scope, name in declared_bytes]
    )
    pos = 0
    for start, end, d in spans:
        s, e = conv(start), conv(end)
        chunks.extend(_blocks(lines, opts, pos, s, classes, spec, statements, declared))
        chunks.extend(_definition_chunks(lines, opts, s, e, d))
        pos = max(pos, e)
    chunks.extend(
        _blocks(lines, opts, pos, len(lines.text), classes, spec, statements, declared)
    )
    return chunks


def _declared_names(root: Node, query: Query | None) -> list[tuple[int, int, str]]:
    """(offset, scope, name) of each name a statement declares, by offset; the scope is
    where the function that holds the name starts (-1 at the top level). A block that holds
    the start of that function holds its locals, which name nothing (`process.on('exit', ()
    => { const code })`); a function invoked where it is written (`(function () { var
    VERSION = ... })()`, a library wrapped whole) holds the module's names, and is no scope."""
    if query is None:
        return []
    found = []
    for node in QueryCursor(query).captures(root).get("name", []):
        scope = node.parent
        while scope is not None and (scope.type not in LOCAL_SCOPES or _invoked_at_once(scope)):
            scope = scope.parent
        found.append((node.start_byte, scope.start_byte if scope else -1, _text(node)))
    return sorted(found)


def _invoked_at_once(function: Node) -> bool:
    """`(function () {...})();` as a statement of its own: the wrapper of a whole module. An
    IIFE whose value is kept (`var x = (function () { var _ref })()`) is a closure, whose
    names are its own."""
    callee = function
    if callee.parent is not None and callee.parent.type == "parenthesized_expression":
        callee = callee.parent
    call = callee.parent
    return (
        call is not None
        and call.type == "call_expression"
        and call.child_by_field_name("function") == callee
        and call.parent is not None
        and call.parent.type == "expression_statement"
    )


class _Declared:
    """The declared names of a file, looked up by the span of a block."""

    def __init__(self, names: list[tuple[int, int, str]]) -> None:
        self._names = names
        self._offsets = [at for at, _, _ in names]

    def symbol(self, start: int, end: int) -> str:
        """The block's name: the names declared in [start, end) but in functions that start
        in it, in order, each once ("A, B, C"; Chunk.shown_symbol shortens a long list)."""
        first, last = bisect_left(self._offsets, start), bisect_left(self._offsets, end)
        names = dict.fromkeys(n for _, scope, n in self._names[first:last] if scope < start)
        return NAMES_JOINT.join(names)


def _statement_starts(root: Node, defs: list[_Def], data: bytes) -> list[int]:
    """Byte offsets of the statements that begin a line: the file's own, and those inside
    whatever holds definitions (class bodies, object literals, namespaces). The code between
    definitions is cut there, never inside a statement (`from x import (` and its names)."""
    inner = sorted(d.node_start for d in defs)
    starts: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.named_children:
            if _begins_line(data, child.start_byte):
                starts.append(child.start_byte)
            first = bisect_right(inner, child.start_byte)
            if first < len(inner) and inner[first] < child.end_byte:
                stack.append(child)  # holds a definition: its statements count too
    return sorted(set(starts))


def _begins_line(data: bytes, offset: int) -> bool:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return not data[line_start:offset].strip()


def _class_ends(defs: list[_Def]) -> set[int]:
    return {o for d in defs if d.kind == "class" for o in (d.start, d.end)}


def _def_spans(defs: list[_Def], data: bytes) -> list[tuple[int, int, _Def]]:
    """Non-overlapping byte spans, in order; a class span stops before its first member."""
    spans: list[tuple[int, int, _Def]] = []
    for d in sorted(defs, key=lambda d: d.start):
        end = min(d.end, d.cut) if d.cut >= 0 else d.end
        end = d.start + len(data[d.start : end].rstrip())
        start = max(d.start, spans[-1][1]) if spans else d.start
        if end > start:
            spans.append((start, end, d))
    return spans


def _definition_chunks(lines: _Lines, opts: _Opts, start: int, end: int, d: _Def) -> list[Chunk]:
    span = _trim(lines.text, start, end)
    if span is None:
        return []
    start, end = span
    parts = [(start, end)]
    if end - start > opts.max_chars:
        segs = lines.segments(start, end, opts.max_chars)
        parts = list(_pack(lines.text, segs, opts.max_chars, len(segs), opts.overlap_lines))
    if len(parts) == 1:
        return [_make(lines, opts, start, end, d.kind, d.symbol, d.signature, d.container, 0)]
    unit = (lines.line_of(start), lines.line_of(end))
    return [
        _make(lines, opts, s, e, d.kind, d.symbol, d.signature, d.container, i, unit)
        for i, (s, e) in enumerate(parts, 1)
    ]


def _blocks(
    lines: _Lines,
    opts: _Opts,
    start: int,
    end: int,
    classes: _Containers,
    spec: LanguageSpec,
    statements: list[int],
    declared: _Declared,
) -> list[Chunk]:
    """Code between definitions, in windows that do not overlap, each named by the names
    its statements declare (imports are found by what they import, and are left unnamed).

    Windows start on statements (``statements``: their char offsets), never between a
    comment and the statement right below it (`// Lookup table of bytes that must be
    escaped.` above `static ESCAPE: [bool; 256]`: what the table is for, which a question
    asks in its words), and a run of imports is a window of its own, apart from the code
    around it, so that it is an `imports` chunk. A window of comments alone is left out
    when it is a licence header or a banner (a few words: `# ----- Helpers -----`,
    `/** Module exports. */`): not code, it would only compete with the code around it.
    """
    if start >= end or lines.text[start:end].isspace():
        return []
    chunks: list[Chunk] = []
    # Only this stretch's statements: a file of thousands of one-line properties
    # (KeePass's KPRes.Generated.cs) has as many stretches between them.
    inside = statements[bisect_left(statements, start) : bisect_left(statements, end)]
    window_starts = [s for s in inside if not _below_a_comment(lines, s, spec)]
    for run_start, run_end in _import_runs(lines, start, end, statements, spec):
        segs = lines.segments(run_start, run_end, opts.max_chars)
        breaks = _segments_starting(segs, window_starts, run_start, run_end)
        for s, e in _pack(lines.text, segs, opts.max_chars, opts.window_lines, 0, breaks):
            if not _banner_or_licence(lines.text, s, e, spec):
                kind = _block_kind(lines.text[s:e], spec)
                name = declared.symbol(s, e) if kind == "block" else ""
                chunks.append(_make(lines, opts, s, e, kind, name, "", classes.of(s, e), 0))
    return chunks


def _below_a_comment(lines: _Lines, offset: int, spec: LanguageSpec) -> bool:
    """Whether the line above the one `offset` is on is a comment's (no blank line between)."""
    line = lines.line_of(offset)
    if line == 0:
        return False
    above = lines.text[lines.starts[line - 1] : lines.ends[line - 1]].strip()
    return above.startswith(spec.comment_openers) or above.endswith("*/")


def _import_runs(
    lines: _Lines, start: int, end: int, statements: list[int], spec: LanguageSpec
) -> list[tuple[int, int]]:
    """[start, end) cut around its runs of imports of _MIN_IMPORT_LINES lines or more (fewer
    stay with the code around them: `import os` above `DEBUG = ...` is one block). Comments
    and docstrings go with the statements after them (a module's docstring with its imports:
    apart, a Go package comment or a Rust `//!` outranked the definitions that questions
    ask for; measured in BENCHMARKS.md)."""
    if spec.import_line is None:
        return [(start, end)]
    runs: list[tuple[str, int]] = []  # (kind, start offset)
    pending = -1  # where the comments before the next statement began
    for offset in statements[bisect_left(statements, start) : bisect_left(statements, end)]:
        kind = _statement_kind(lines, offset, spec)
        if kind == "neutral":
            pending = offset if pending < 0 else pending
            continue
        if not runs or kind != runs[-1][0]:
            runs.append((kind, start if not runs else (pending if pending >= 0 else offset)))
        pending = -1
    if not runs:
        return [(start, end)]
    ends = [run_start for _, run_start in runs[1:]] + [end]
    bounds = [start]
    for (kind, run_start), run_end in zip(runs, ends, strict=True):
        if kind != "import":
            continue
        trimmed = _trim(lines.text, run_start, run_end) or (run_start, run_start + 1)
        if lines.line_of(trimmed[1] - 1) - lines.line_of(trimmed[0]) + 1 >= _MIN_IMPORT_LINES:
            # The imports begin a window, and the code after them another.
            bounds.extend(b for b in (run_start, run_end) if start < b < end)
    bounds.append(end)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _statement_kind(lines: _Lines, offset: int, spec: LanguageSpec) -> str:
    """`import`, `neutral` (a comment, a docstring) or `code`, by a statement's first line."""
    line = lines.line_of(offset)
    head = lines.text[offset : lines.ends[line]].strip()
    if head.startswith(spec.comment_openers) or head[:1] in ("'", '"', "*"):
        return "neutral"
    assert spec.import_line is not None
    return "import" if spec.import_line.match(head) else "code"


def _segments_starting(
    segs: list[tuple[int, int]], statements: list[int], start: int, end: int
) -> list[int]:
    """Sorted indexes of the segments that statements in [start, end) start on."""
    seg_starts = [s for s, _ in segs]
    first, last = bisect_left(statements, start), bisect_left(statements, end)
    found = {bisect_right(seg_starts, offset) - 1 for offset in statements[first:last]}
    return sorted(index for index in found if index > 0)


_MIN_IMPORT_LINES = 3  # a run of imports this long is a window of its own


_DOCSTRING_HEAD = re.compile(r'\s*[rRbBuU]?("""|\'\'\')(?:.|\n)*?\1', re.MULTILINE)


def _block_kind(text: str, spec: LanguageSpec) -> str:
    """`imports` for a block of imports, includes and module declarations alone (with the
    module's docstring or comments), else `block`."""
    if spec.import_line is None:
        return "block"
    head = _DOCSTRING_HEAD.match(text)
    body = text[head.end() :] if head else text
    depth, saw_import = 0, False
    for raw in body.splitlines():
        line = raw.strip()
        if not line or line.startswith(spec.comment_openers) or line.startswith("*"):
            continue
        if depth == 0:
            if spec.import_line.match(line) is None:
                return "block"
            saw_import = True
        # Inside `from x import (`, `import {` or `use a::{`: names until the brackets close.
        opened = sum(line.count(c) for c in "({[") - sum(line.count(c) for c in ")}]")
        depth = max(0, depth + opened)
    return "imports" if saw_import else "block"


_WORD = re.compile(r"[^\W\d_]{2,}")
BANNER_WORDS = 5  # comment blocks with fewer words than this are banners


def _banner_or_licence(text: str, start: int, end: int, spec: LanguageSpec) -> bool:
    comment = text[start:end]
    if not comment.startswith(spec.comment_openers):
        return False  # the common case: a window that starts with code
    if not _comments_only(comment, spec):
        return False
    if len(_WORD.findall(comment)) < BANNER_WORDS:
        return True
    opens_file = FILE_PREAMBLE.match(text).end() >= start
    return opens_file and LICENCE_PHRASE.search(comment) is not None


def past_boilerplate_comments(text: str, language: str) -> str:
    """``text`` from its first line past the comments that open it when they say nothing of
    the code below: a licence, a tool directive or a banner of a few words (`/*** parser
    ***/`, `// eslint-disable-next-line`, `* Copyright (c) 2009 ...`). Comments that do say
    something (documentation among them), a docstring, and text of comments alone are kept."""
    spec = SPECS.get(language)
    if spec is None:
        return text
    lines = [*_comment_lines(text, spec), ("", False)]  # a sentinel ends the last group
    start = 0  # the first line of the comment group being read
    for index, (raw, comment) in enumerate(lines):
        if comment and raw.strip():
            continue  # the group goes on
        group = "".join(line for line, _ in lines[start:index])
        if group.strip() and not _says_nothing(group, spec):
            return "".join(line for line, _ in lines[start:])  # a comment worth showing
        if raw.strip():
            return "".join(line for line, _ in lines[index:])  # code
        start = index + 1  # a blank line ends a group of boilerplate
    return text


def _says_nothing(comment: str, spec: LanguageSpec) -> bool:
    """A licence, or a few words that are not documentation (`/** Module dependencies. */`,
    a package's one-line Javadoc and `//! The DFA engine.` say something; `/*** parser ***/`
    does not)."""
    if LICENCE_PHRASE.search(comment) is not None:
        return True
    head = comment.lstrip()
    documents = any(
        head.startswith(prefix) and head[len(prefix) : len(prefix) + 1] in ("", " ", "\n")
        for prefix in (*spec.doc_comments, *spec.module_comments)
    )
    return not documents and len(_WORD.findall(comment)) < BANNER_WORDS


def is_commentary(text: str, language: str) -> bool:
    """Text that is comments or a docstring alone: prose in a code file (a module's
    docstring before its definitions), no answer to "find similar code"."""
    spec = SPECS.get(language)
    if spec is None:
        return False
    head = _DOCSTRING_HEAD.match(text)
    rest = (text[head.end() :] if head else text).strip()
    return not rest or _comments_only(rest, spec)


# One line of a list of quoted names: `"post",`, its brackets, `__all__ = [`, a comment.
_NAME_LIST_LINE = re.compile(
    r"""(?:["'][\w.$-]*["'],?|[\])}][,;]?|__all__\s*\+?=\s*[\[(])?\s*(?:#.*)?"""
)


def is_name_list(text: str) -> bool:
    """Quoted names and nothing else: an export list (`__all__ = [...]`, or the part of one
    past a window's length, previewed `"post",`), no answer to "find similar code"."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_NAME_LIST_LINE.fullmatch(line) for line in lines)


def _comments_only(text: str, spec: LanguageSpec) -> bool:
    """True when every line of ``text`` is (part of) a comment, by the language's markers."""
    return all(comment for _, comment in _comment_lines(text, spec))


def _comment_lines(text: str, spec: LanguageSpec) -> Iterator[tuple[str, bool]]:
    """Each line of ``text`` (with its line end) and whether it is blank or (part of) a
    comment, by the language's markers; read in one pass, block comments across lines."""
    opener, closer = spec.block_comment
    inside = False
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        if inside or (opener and line.startswith(opener)):
            _, found, after = line[len(opener) if not inside else 0 :].partition(closer)
            inside = not found
            yield raw, not (found and after.strip())  # `/* why */ code();` is code
        else:
            yield raw, not line or line.startswith(spec.line_comments)


class _Containers:
    """Innermost class holding a span, for spans asked about in increasing start order.

    A sweep with a stack of open classes (they nest like the tree they came from) keeps
    this linear for files with thousands of classes.
    """

    def __init__(self, classes: list[tuple[int, int, str]]) -> None:
        self._classes = sorted(classes)
        self._next = 0
        self._open: list[tuple[int, int, str]] = []

    def of(self, start: int, end: int) -> str:
        while self._next < len(self._classes) and self._classes[self._next][0] <= start:
            self._push(self._classes[self._next])
            self._next += 1
        while self._open and self._open[-1][1] <= start:
            self._open.pop()
        for _, class_end, symbol in reversed(self._open):
            if end <= class_end:
                return symbol
        return ""

    def _push(self, cls: tuple[int, int, str]) -> None:
        while self._open and self._open[-1][1] <= cls[0]:
            self._open.pop()
        self._open.append(cls)


def _make(
    lines: _Lines,
    opts: _Opts,
    start: int,
    end: int,
    kind: str,
    symbol: str,
    signature: str,
    container: str,
    part: int,
    unit: tuple[int, int] | None = None,
) -> Chunk:
    sl, sc = lines.position(start)
    el, ec = lines.position(end)
    return Chunk(
        path=opts.path,
        language=opts.language,
        kind=kind,
        symbol=symbol,
        start_line=sl,
        start_col=sc,
        end_line=el,
        end_col=ec,
        text=lines.text[start:end],
        signature=signature,
        container=container,
        part=part,
        # Whole definitions leave the unit at -1: Chunk makes it the chunk's own lines.
        unit_start_line=unit[0] if unit else -1,
        unit_end_line=unit[1] if unit else -1,
    )


# ---------------------------------------------------------------------------------------------
# Line windows for languages without a grammar
# ---------------------------------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(```|~~~)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t#]*$")


def _windows(lines: _Lines, opts: _Opts) -> list[Chunk]:
    sections = _markdown_sections(lines) if opts.language == "markdown" else None
    if sections is None:
        sections = [(0, len(lines.text), "")]
    chunks: list[Chunk] = []
    for start, end, heading in sections:
        segs = lines.segments(start, end, opts.max_chars)
        for s, e in _pack(lines.text, segs, opts.max_chars, opts.window_lines, opts.overlap_lines):
            chunks.append(_make(lines, opts, s, e, "window", heading, "", "", 0))
    return chunks


def _markdown_sections(lines: _Lines) -> list[tuple[int, int, str]]:
    """(start, end, heading) char spans, a new one at each ATX heading outside code fences."""
    text, bounds = lines.text, [(0, "")]
    fence = ""
    for line, (s, e) in enumerate(zip(lines.starts, lines.ends, strict=True)):
        content = text[s:e]
        m = _FENCE.match(content)
        if m:
            fence = "" if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence or not content.lstrip().startswith("#"):
            continue
        h = _HEADING.match(content)
        if h and line > 0:
            bounds.append((s, (h.group(1) or "").strip()))
        elif h:
            bounds[0] = (0, (h.group(1) or "").strip())
    ends = [b[0] for b in bounds[1:]] + [len(text)]
    return [(s, e, heading) for (s, heading), e in zip(bounds, ends, strict=True)]
