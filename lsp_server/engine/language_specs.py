"""What the chunker knows about each language, as data: one table entry per language.

The algorithm that reads these tables is the ``chunker`` package. Node type names are those
of the tree-sitter grammar wheels listed in ``languages.GRAMMAR_MODULES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMENTS = frozenset({"comment", "line_comment", "block_comment", "multiline_comment"})

# Doc comments that may stand apart from the definition they document, by up to
# DOC_COMMENT_GAP blank lines (express writes one, Babel's output two): `/**` JSDoc, Javadoc,
# TSDoc, PHPDoc, Doxygen; `///` Rust, C#, Doxygen; `/*!`, `//!` Doxygen. Rust's `//!` is left
# out: it documents the enclosing module, not the item below it. Go, Python and Ruby have no
# such comments: theirs touch the definition (a plain comment block may stand one line apart).
DOC_COMMENT_GAP = 2
_SLASH_STAR_DOC = ("/**",)
_TRIPLE_SLASH_DOC = ("///",)
_DOXYGEN_DOC = ("/**", "/*!", "///", "//!")


@dataclass(frozen=True)
class LanguageSpec:
    """How definitions are found and where their chunks start and end, for one grammar."""

    query: str  # tree-sitter query; every `@def` capture is a definition
    classes: frozenset[str]  # captured node types that are class-like (the rest are functions)
    wrappers: frozenset[str] = frozenset()  # parent node types that belong to the definition
    # Properties whose value is an object that holds a single function, which then is the
    # property's code: Vue's `getOptionKey: { type: Function, default(option) {...} }`, a
    # watcher's `value: { handler() {...}, deep: true }`. The function's unit is the whole
    # property, with the doc comment above it (otherwise a nameless block of its own).
    function_holders: frozenset[str] = frozenset()
    leading: frozenset[str] = COMMENTS  # preceding sibling types that belong to it
    doc_comments: tuple[str, ...] = ()  # doc comment prefixes (see DOC_COMMENT_GAP)
    module_comments: tuple[str, ...] = ()  # comments about the module around them, never below
    line_comments: tuple[str, ...] = ("//",)  # how a comment line starts
    # Whether a string as a body's first statement documents the definition (a docstring).
    docstrings: bool = False
    block_comment: tuple[str, str] = ("/*", "*/")  # ("", "") where the language has none
    bodyless_ok: bool = False  # keep functions without a body (else they are declarations)
    # What ends a method declared without a body (Java's `int size();`); "" where the line
    # does (a Kotlin interface's `fun save(path: String)`, a Swift protocol's requirement):
    # such a chunk is a declaration to the ranking (ranking.is_declaration).
    declaration_end: str = ";"
    # Captured node types that define something though no body field (Rust's `macro_rules!`:
    # its rules follow the name).
    bodyless: frozenset[str] = frozenset()
    fragment_function: str = ""  # grammar for re-parsing a fragment, when the file's won't do
    # A line that imports, includes or declares the module: a block of nothing else is an
    # `imports` chunk (found by name, never an answer to "find similar code").
    import_line: re.Pattern[str] | None = None
    # A statement that holds imports only to guard them (Python's `if TYPE_CHECKING:`): an
    # import when all it holds is imports, code when it holds anything else. Its first line
    # must also be an `import_line`.
    import_guard: re.Pattern[str] | None = None
    # Named definitions in a function are units of their own when the function is larger
    # than a chunk (chunker.definitions.holds_units): JavaScript's module pattern (a plugin's
    # or a store's functions inside the function that builds it, a component's handlers) and
    # Python's inner functions, Rust's visitors (a `struct` and its `impl Visitor` inside
    # serde's `fn deserialize`). Off where a nested definition is a misreading of the grammar
    # (C's macros: tmux's `static void printflike(2, 3) input_reply(...)` read as one function
    # over 600 lines) or rare (a Java anonymous class's methods, C# local functions, Go).
    nested_units: bool = False
    # Bodyless signatures (TypeScript overloads) that belong to the definition after them of
    # the same name: one unit with it, as its documentation is.
    overloads: frozenset[str] = frozenset()
    # A decorator that marks a typed stub of a definition (Python's `@typing.overload`): the
    # stubs right above the definition of the same name are one unit with it, as above.
    overload_decorator: str = ""
    # Captured node types that are a script's entry point (Python's module-level
    # `if __name__ == "__main__":`): one unit of kind "script", named ``script_name``, apart
    # from the library code around it (demos, command lines), whose intent prior it gets.
    scripts: frozenset[str] = frozenset()
    script_name: str = ""
    # Test framework calls, by their callee's first name, that define a suite of tests
    # (`describe('parser', () => {})`) or one test (`it('parses flags', () => {})`), each
    # named by its title. A suite is class-like: its tests are its members, as a Python test
    # class's methods are. Other calls with a title and a function stay code, routes aside.
    test_suites: frozenset[str] = frozenset()
    test_cases: frozenset[str] = frozenset()
    # Methods that register a web route with a path and a handler
    # (`app.get('/users/:id', (req, res) => {})`): one unit named as the framework lists it,
    # `GET /users/:id`. The path must start with "/" (or be "*"): `cache.get(key, fn)` stays code.
    route_methods: frozenset[str] = frozenset()
    # Calls that declare a member of a native module in its definition DSL, by callee, each
    # with a title and a closure: the Expo Modules API's `AsyncFunction("takePictureAsync") {
    # ... }`, `Prop("zoom") { view, zoom -> }` (a module's whole API sits in its one
    # `definition()`, which was cut in parts). Each is a unit (a function) named by its
    # title, wherever it is written, a member of the module's class. ``member_types`` are
    # such calls that hold members (`Class(VideoPlayer::class) { ... }`, `View(...)`): class
    # units named by their type, ranked after the type's own definition (extension_header).
    member_calls: frozenset[str] = frozenset()
    member_types: frozenset[str] = frozenset()
    # Such calls given a closure and no title, named by their callee: a module's lifecycle
    # listeners (`OnCreate { ... }`, `OnAppEntersBackground { ... }`) and a class's
    # `Constructor { (url: URL) in ... }`.
    member_hooks: frozenset[str] = frozenset()
    # Where a type's methods may be written apart from it, so that a same-named type's code
    # there is the type itself: "" (a class is whole in its file), "package" (Go: any file of
    # its folder), "crate" (Rust: an `impl` anywhere).
    open_types: str = ""
    # A tree-sitter query whose `@name` captures are names that statements declare (module
    # constants and variables, type aliases, fields, `#define`s): the code between
    # definitions is named by those it declares, so `DEFAULT_TIMEOUT` finds its block by name.
    # Its `@guard` captures declare nothing: a C header's include guard (`#ifndef BASE64_H_` /
    # `#define BASE64_H_` opening the file) names the file, and a block named by it was
    # raised for any question with the file's topic in it ("base64") above that code.
    declarations: str = ""
    # Characters a captured name starts with that are not part of the name (Ruby's symbol
    # `:options` in `attr_reader :options`).
    name_sigils: str = ""
    # Whole lines that open a class's body and close it: a part of a split class's header,
    # parsed alone, starts inside that body (a later part) or leaves it open (every part but
    # the last), and its members read as members only inside one (chunker.nested_definition:
    # where a field's name typed alone lands; C#'s grammar reads an event that ends an open
    # body as an error, Java's reads no field outside a class).
    class_body: tuple[str, str] = ("", "")
    # Words that never name a definition: one named so is the grammar's misreading of a
    # macro (fmt's `FMT_BEGIN_NAMESPACE` / `namespace detail {` read as a function named
    # `namespace`), and its lines are left to the code around it.
    keywords: frozenset[str] = frozenset()
    # Body nodes that the grammar opens after the comments above their first statement
    # (Ruby's `body_statement`: `class A` / `# doc` / `def first`): those comments are the
    # body's siblings, and belong to that first statement.
    hoisted_bodies: frozenset[str] = frozenset()
    # A definition header that adds to a type defined elsewhere (Rust's `impl Name`, also
    # `impl Trait for Name`): named like the type, it ranks after the type's own definition
    # when the name is typed alone (ranking.naming_tier). A regex on the chunk's signature.
    extension_header: str = ""
    # An attribute that makes a definition a test wherever its file is: Rust's unit tests sit
    # in the file they test (`#[test]`, `#[tokio::test]`, `#[cfg(test)]`), not in a test
    # file that the path names (languages.file_role), so the attribute gives them the test
    # role (ranking.is_marked_test). A regex on the lines above the signature.
    test_attribute: re.Pattern[str] | None = None
    # Containers whose members are tests by convention, whatever their own attributes: a
    # Rust `mod tests` (always `#[cfg(test)]`) holds helpers with no `#[test]` of their own.
    test_containers: frozenset[str] = frozenset()
    # What makes a file of code a test module by its content, where its path does not say
    # (Django's `tests.py` beside the app it tests; chunker.content_role): a class at the top
    # level whose header matches `test_class_header` (a unittest `TestCase`), or a function
    # at the top level named as `test_function` in a file whose imports match
    # `test_framework` (pytest's `def test_login(client):` beside `import pytest`). Jinja2's
    # `tests.py`, its template tests (`def test_odd(value)`), imports no framework: code.
    test_class_header: re.Pattern[str] | None = None
    test_function: re.Pattern[str] | None = None
    test_framework: re.Pattern[str] | None = None
    # Nodes that only wrap statements (C's include guard and `#if` groups, `extern "C" {}`,
    # a C++ namespace, Go's `const (` and `var (` groups): the code between definitions is
    # cut between the statements they hold, as between the file's own
    # (chunker.blocks.statement_starts).
    statement_wrappers: frozenset[str] = frozenset()
    # Text the grammar cannot read, left out of the parse (group 1 of each match; tree-sitter's
    # included ranges, so every position stays the file's own and chunks keep the text): C++'s
    # export macros between `class` and the name (`class SPDLOG_API logger {`), which the
    # grammar reads as a function named `logger` whose body stops at `public:`, the class's
    # methods then no units of their own and the code after it misread; Qt's `Q_OBJECT`,
    # `slots` and `signals:`, which break a class the same way.
    unparsed: tuple[re.Pattern[bytes], ...] = ()

    @property
    def comment_openers(self) -> tuple[str, ...]:
        return tuple(p for p in (*self.line_comments, self.block_comment[0]) if p)


_JS_QUERY = """
[(function_declaration) (generator_function_declaration) (class_declaration)
 (method_definition)] @def
(variable_declarator value: [(arrow_function) (function_expression) (generator_function)]) @def
(assignment_expression
  left: [(identifier) (member_expression)]
  right: [(arrow_function) (function_expression) (generator_function)]) @def
(pair value: [(arrow_function) (function_expression) (generator_function)]) @def
(export_statement value: [(arrow_function) (function_expression) (class)] @def)
(expression_statement (function_expression name: (_)) @def)
(expression_statement
  (call_expression
    arguments: (arguments . (_) . (string) .
                          [(arrow_function) (function_expression) (object)] .)) @def)
"""

# A function behind a guard (`export default isSupported && function adapter() {}`,
# `x.f = a || (() => {})`), as the value of an export, a declaration or an assignment.
_JS_FUNCTION = "[(arrow_function) (function_expression)]"
_JS_QUERY += "".join(
    f"({holder} {field}: (binary_expression right: {value}))\n"
    for holder, field in (
        ("export_statement", "value"),
        ("variable_declarator", "value"),
        ("assignment_expression", "right"),
    )
    for value in (f"{_JS_FUNCTION} @def", f"(parenthesized_expression {_JS_FUNCTION} @def)")
)

# A function that a call wraps, held by a declaration, an assignment or a class field:
# `export const Select = forwardRef((props, ref) => {...})`, `const Card = memo(function
# Card() {...})`, `handleChange = debounce((event) => {...}, 300)`, or a module's default
# export (`export default memo(function Sidebar() {...})`, named as an anonymous default
# export is: by the function's own name, else by its module); one call may wrap another
# (`memo(forwardRef(...))`). The wrapper (a higher-order component, a debounce) returns the
# function under the name, so the statement is that function's definition, and its body the
# function's (chunker.extent.body_of). A callback that computes a value is no definition and
# stays in its block: one that fits on one line (`const total = items.reduce((a, b) => a + b,
# 0)`), or one passed to a method of JS_VALUE_METHODS (`const args = list.map((arg) => {...})`).
# (One alternation, not nested: `[[a b] c]` matched only the first of `a b` in this grammar.)
_JS_CALLBACKS = "(arrow_function) (function_expression)"
JS_WRAPPED_CALL = (
    f"(call_expression arguments: (arguments [{_JS_CALLBACKS}"
    f" (call_expression arguments: (arguments [{_JS_CALLBACKS}]))]))"
)
_JS_QUERY += f"""
(variable_declarator name: (identifier) value: {JS_WRAPPED_CALL}) @def
(assignment_expression left: [(identifier) (member_expression)] right: {JS_WRAPPED_CALL}) @def
(export_statement value: {JS_WRAPPED_CALL} @def)
"""

# A test framework call (`it('parses', () => {})`, `describe.each(rows)('adds %i', fn)`,
# `it('waits', function (done) {}, 5000)`) or a route (`app.get('/users', auth, (req, res) =>
# {})`): a title first, a function after it. Which callees are tests or routes is decided by
# name (LanguageSpec.test_suites / test_cases / route_methods).
_JS_QUERY += """
(expression_statement
  (call_expression
    arguments: (arguments . [(string) (template_string)]
                            [(arrow_function) (function_expression)])) @def)
"""
# Jest, Vitest, Mocha (BDD and TDD), Jasmine, AVA, node:test; `f`/`x` focus and skip.
_JS_TEST_SUITES = frozenset({"describe", "context", "suite", "fdescribe", "xdescribe"})
_JS_TEST_CASES = frozenset({"it", "test", "specify", "bench", "fit", "xit", "xtest"})
# Express, Koa Router, Fastify, Hono (the same pattern catches their handlers).
_JS_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "del", "head", "options", "all"}
)

_TS_QUERY = (
    _JS_QUERY
    + """
[(interface_declaration) (enum_declaration) (abstract_class_declaration)] @def
(type_alias_declaration value: (object_type)) @def
(public_field_definition value: [(arrow_function) (function_expression)]) @def
"""
    + f"(public_field_definition value: {JS_WRAPPED_CALL}) @def\n"
)

_JS_CLASSES = frozenset({"class_declaration", "class"})
_TS_CLASSES = _JS_CLASSES | {
    "interface_declaration",
    "enum_declaration",
    "abstract_class_declaration",
    "type_alias_declaration",
}
# `a.b = c.d = function () {}` and `var x = module.exports = function () {}` are one definition:
# the chained assignments and the statement around them belong to it, as does the guard of
# `export default isSupported && function adapter() {}` (JS_GUARDS).
_JS_FUNCTION_HOLDERS = frozenset({"pair"})  # LanguageSpec.function_holders
_JS_WRAPPERS = frozenset(
    {
        "export_statement",
        "lexical_declaration",
        "variable_declaration",
        "variable_declarator",
        "assignment_expression",
        "expression_statement",
        "binary_expression",
        "parenthesized_expression",
    }
)

def _import_lines(*starts: str) -> re.Pattern[str]:
    return re.compile(r"\s*(?:" + "|".join(starts) + r")")


_JS_IMPORTS = _import_lines(
    r"import\b",
    r"export\s+(?:\*|\{[^}]*\})\s+from\b",
    r"(?:const|let|var)\s+[\w{}\s,:]+=\s*require\(",
    r"require\(",
    r"['\"]use strict['\"]",
)
# Names declared by statements (LanguageSpec.declarations); `exports.x = value` declares x,
# where `exports.Command = Command` only exports what its definition declares.
_JS_DECLARATIONS = """
((variable_declarator name: (identifier) @name value: (_)? @_value)
 (#not-match? @_value "^require[(]"))
((expression_statement (assignment_expression
   left: (member_expression object: [(identifier) (member_expression)] @_owner
                            property: (property_identifier) @name)
   right: (_) @_value))
 (#match? @_owner "^(module[.])?exports$")
 (#not-match? @_value "^[A-Za-z_$][A-Za-z0-9_$]*$"))
"""
_C_DECLARATIONS = """
[(preproc_def name: (identifier) @name) (preproc_function_def name: (identifier) @name)]
(translation_unit . (comment)* . (preproc_ifdef name: (identifier) @_guarded
                                               . (preproc_def name: (identifier) @guard !value))
 (#eq? @_guarded @guard))
(type_definition declarator: (type_identifier) @name)
(translation_unit (declaration declarator: (identifier) @name))
(translation_unit (declaration declarator: (init_declarator declarator: [
  (identifier) @name
  (array_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (array_declarator declarator: (identifier) @name))])))
"""
# LanguageSpec.class_body where a class body is braced (Java, C#, C++, JS, TS, PHP).
_BRACED_CLASS_BODY = ("class _ {\n", "\n}\n")
# A C++ class's data members, as Java's and C#'s fields are named; not its method
# prototypes (`void helper();`), which the definitions elsewhere name.
_CPP_FIELDS = """
(field_declaration_list (field_declaration declarator: [
  (field_identifier) @name
  (pointer_declarator declarator: (field_identifier) @name)
  (reference_declarator (field_identifier) @name)
  (array_declarator declarator: (field_identifier) @name)]))
"""
_C_KEYWORDS = frozenset({
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while",
})  # fmt: skip
_CPP_KEYWORDS = _C_KEYWORDS | {
    "bool", "class", "constexpr", "explicit", "friend", "namespace", "noexcept", "private",
    "protected", "public", "template", "typename", "using", "virtual",
}  # fmt: skip
# `class|struct|union MACRO[(args)] ... Name [final] {` or `: Base`: a class has one name, so
# the words in capitals between the keyword and it are macros (`YAML_CPP_API`,
# `Q_CORE_EXPORT`, `TINYXML2_LIB`). A declaration (`struct FOO_T item;`) has no body after it.
_C_CLASS_MACROS = re.compile(
    rb"\b(?:class|struct|union)[ \t]+((?:[A-Z][A-Z0-9_]+(?:\([^()\n]*\))?[ \t]+)+)"
    rb"(?=[A-Za-z_]\w*\s*(?:final\b\s*)?(?:\{|:(?!:)))"
)
# Qt's words in a class: a macro alone on its line without a `;` (`Q_OBJECT`, `Q_PROPERTY(...)`,
# `Q_DISABLE_COPY(Timer)`), which the grammar reads as the type of the next line's member
# (`Q_OBJECT` / `public:` / `void start()...` became one declaration, and the class a
# function named by its first slot); `public slots:` (`Q_SLOTS`), an access specifier with
# a word it does not know; `signals:`, a section it does not know.
_QT_WORDS = (
    re.compile(
        rb"(?m)^[ \t]*(Q_[A-Z][A-Z0-9_]*(?:\((?:[^()\n]|\([^()\n]*\))*\))?)[ \t]*(?://.*)?\r?$"
    ),
    re.compile(rb"\b(?:public|protected|private)[ \t]+((?:slots|Q_SLOTS)[ \t]*)(?=:)"),
    re.compile(rb"(?m)^[ \t]*((?:signals|Q_SIGNALS)[ \t]*:)"),
)
# A macro alone on its line that opens or closes a scope, or marks what follows
# (`FMT_BEGIN_NAMESPACE`, `G_BEGIN_DECLS`, `FMT_CLASS_API` above `class ... {`): the
# grammar reads it as the type of the next declaration (fmt's `namespace detail {` became a
# function named `namespace`, and `struct int_checker` part of a function). Only where it
# cannot be a return type (`YAML_DECLARE(int)` / `yaml_parser_initialize(...)`, Ruby's
# `VALUE` / `rb_ary_new(void)`): followed by a blank line, a preprocessor line, the end of
# the file, another such macro (`PYBIND11_WARNING_PUSH` / `PYBIND11_WARNING_DISABLE_GCC(...)`),
# or a line opening a declaration no type comes before.
_C_SCOPE_MACROS = re.compile(
    rb"(?m)(?<!\\\n)(?<!\\\r\n)^[ \t]*(_*[A-Z][A-Z0-9_]*(?:\([^()\n;]*\))?)[ \t]*(?://[^\n]*)?"
    rb"(?=\r?\n[ \t]*(?:\r?\n|#|_*[A-Z][A-Z0-9_]*(?:\([^()\n;]*\))?[ \t]*\r?$"
    rb"|(?:namespace|template|class|struct|union|enum|typedef|using|extern)\b)|\r?\n?\Z)"
)

# The Expo Modules API (Kotlin and Swift): LanguageSpec.member_calls / member_types.
_EXPO_MEMBER_CALLS = frozenset(
    {"AsyncFunction", "Function", "StaticAsyncFunction", "StaticFunction", "Property", "Prop"}
)
_EXPO_MEMBER_TYPES = frozenset({"Class", "View"})
_EXPO_MEMBER_HOOKS = frozenset(
    {
        "Constructor", "OnCreate", "OnDestroy", "OnStartObserving", "OnStopObserving",
        "OnAppContextDestroys", "OnAppBecomesActive", "OnAppEntersForeground",
        "OnAppEntersBackground", "OnActivityEntersForeground", "OnActivityEntersBackground",
        "OnActivityDestroys", "OnActivityResult", "OnNewIntent", "OnUserLeavesActivity",
        "OnViewDidUpdateProps", "OnViewDestroys",
    }
)  # fmt: skip
_EXPO_CALLEES = _EXPO_MEMBER_CALLS | _EXPO_MEMBER_TYPES | _EXPO_MEMBER_HOOKS
# Quick (Swift's BDD framework, with Nimble): LanguageSpec.test_suites / test_cases.
_QUICK_SUITES = frozenset({"describe", "context", "fdescribe", "xdescribe", "fcontext", "xcontext"})
_QUICK_CASES = frozenset({"it", "fit", "xit"})


def _any_callee(callees: frozenset[str]) -> str:
    return "(#any-of? @_callee " + " ".join(f'"{c}"' for c in sorted(callees)) + ")"


def _kotlin_call_query(callees: frozenset[str]) -> str:
    """Calls of one of ``callees`` given a closure, with a title or none: `AsyncFunction("x")
    { ... }`, `AsyncFunction("x") Coroutine { ... }`, `OnCreate { ... }`, and a property
    given its accessors (`Property("volume").get { ... }.set { ... }`; names.declared_by_call
    tells which declare a unit)."""
    return f"""
((call_expression (call_expression (identifier) @_callee (value_arguments))
                  (annotated_lambda)) @def {_any_callee(callees)})
((call_expression (identifier) @_callee (annotated_lambda)) @def {_any_callee(callees)})
((call_expression (navigation_expression (call_expression (identifier) @_callee (value_arguments))
                                         (identifier) @_accessor)
                  (annotated_lambda)) @def
 (#eq? @_callee "Property") (#any-of? @_accessor "get" "set"))
((infix_expression (call_expression (identifier) @_callee (value_arguments))
                   (identifier) (lambda_literal)) @def {_any_callee(callees)})
"""


def _swift_call_query(callees: frozenset[str]) -> str:
    """The same in Swift: `it("works") { ... }`, `AsyncFunction("x", { ... })`,
    `OnCreate { ... }`."""
    return f"""
((call_expression (simple_identifier) @_callee (call_suffix (lambda_literal))) @def
 {_any_callee(callees)})
((call_expression (simple_identifier) @_callee
                  (call_suffix (value_arguments) (lambda_literal))) @def {_any_callee(callees)})
((call_expression (simple_identifier) @_callee
                  (call_suffix (value_arguments (value_argument (lambda_literal)) .))) @def
 {_any_callee(callees)})
"""


_MEMBER_TYPE_HEADER = r"(?:Class|View)\b"

# Swift's conditional compilation lines (`#if os(iOS)`, `#elseif`, `#else`, `#endif`): the
# grammar reads them between declarations but not between a `switch`'s cases, where one broke
# expo-modules-core's 500-line `AppContext` class into top-level functions; left out, the
# branches read as consecutive code.
_SWIFT_CONDITIONS = re.compile(rb"(?m)^[ \t]*(#(?:if|elseif|else|endif)\b[^\r\n]*)")
# `try` (`try?`, `try!`) that opens the value an `if let` or `while let` binds: the grammar
# reads `if let runtime = try? appContext?.runtime {` as a call of `runtime` with the `{`
# block as its trailing closure, the rest of the function then broken (expo-modules-core's
# SharedObjectRegistry lost its class and six methods). Without it, the condition is read.
_SWIFT_BOUND_TRY = re.compile(
    rb"(?:\b(?:if|while)|,)[ \t]*(?:let|var)[ \t]+\w+(?:[ \t]*:[^=\r\n]+)?[ \t]*=[ \t]*"
    rb"(try[?!]?)(?=[ \t])"
)
_C_WRAPPERS = frozenset(
    {
        "preproc_if",
        "preproc_ifdef",
        "preproc_elif",
        "preproc_elifdef",
        "preproc_else",
        "linkage_specification",
        "declaration_list",
    }
)
_C_IMPORTS = _import_lines(r"#\s*include\b", r"#\s*pragma\s+once\b", r"using\s+namespace\b")

# C# properties, indexers and events whose accessors hold code (`get { return m_name; }`,
# `get => m_name;`) or whose value is an expression (`public int Count => m_count;`) are
# units, as methods are (KeePass has 2,837, 1,725 outside its generated resource files; they
# were parts of their class's header). Auto-properties (`{ get; set; }`) are data and stay in
# the code between definitions, named by their declarations, as fields are.
_CSHARP_ACCESSORS = """
(property_declaration accessors: (accessor_list (accessor_declaration body: (_)))) @def
(property_declaration value: (arrow_expression_clause)) @def
(indexer_declaration accessors: (accessor_list (accessor_declaration body: (_)))) @def
(indexer_declaration value: (arrow_expression_clause)) @def
(event_declaration accessors: (accessor_list (accessor_declaration body: (_)))) @def
"""

# Imports for type checkers alone (`if TYPE_CHECKING:`, `if t.TYPE_CHECKING:`), often beside
# a module's other imports: 65 of 166 modules of click, httpx, rich and flask have one.
_PY_TYPE_CHECKING = r"if\s+(?:[\w.]+\.)?TYPE_CHECKING\s*:"
# Rust modules that hold tests by convention (`#[cfg(test)] mod tests { ... }`).
_RUST_TEST_MODULES = frozenset({"tests", "test"})

SPECS: dict[str, LanguageSpec] = {
    "python": LanguageSpec(
        class_body=("class _:\n", ""),
        query="""[(function_definition) (class_definition)] @def
                 (module (if_statement condition: (comparison_operator
                    . (identifier) @_name . "==" . (string (string_content) @_main) .)) @def
                  (#eq? @_name "__name__") (#eq? @_main "__main__"))""",
        classes=frozenset({"class_definition"}),
        scripts=frozenset({"if_statement"}),
        script_name="__main__",
        wrappers=frozenset({"decorated_definition"}),
        overload_decorator="overload",
        import_line=_import_lines(
            r"import\b", r"from\s+[\w.]+\s+import\b", r"__all__\s*=", _PY_TYPE_CHECKING
        ),
        import_guard=_import_lines(_PY_TYPE_CHECKING),
        line_comments=("#",),
        block_comment=("", ""),
        docstrings=True,
        nested_units=True,
        declarations="""(expression_statement (assignment left: (identifier) @name))
            (expression_statement (assignment left: (pattern_list (identifier) @name)))""",
        # unittest's and Django's `TestCase`, `APITestCase`, `unittest.TestCase` among the
        # bases; pytest collects `test*` functions (its default `python_functions`).
        test_class_header=re.compile(r"class\s+\w+\s*\([^:]*TestCase\b"),
        test_function=re.compile(r"test\w*"),
        test_framework=re.compile(
            r"^[ \t]*(?:import|from)[ \t]+(?:pytest|unittest|django\.test)\b", re.MULTILINE
        ),
    ),
    "javascript": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query=_JS_QUERY
        + f"""(field_definition value: [(arrow_function) (function_expression)]) @def
              (field_definition value: {JS_WRAPPED_CALL}) @def""",
        classes=_JS_CLASSES,
        wrappers=_JS_WRAPPERS,
        function_holders=_JS_FUNCTION_HOLDERS,
        leading=COMMENTS | {"decorator"},
        doc_comments=_SLASH_STAR_DOC,
        import_line=_JS_IMPORTS,
        test_suites=_JS_TEST_SUITES,
        test_cases=_JS_TEST_CASES,
        route_methods=_JS_ROUTE_METHODS,
        nested_units=True,
        declarations=_JS_DECLARATIONS + "(field_definition property: (property_identifier) @name)",
    ),
    "typescript": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query=_TS_QUERY,
        classes=_TS_CLASSES,
        wrappers=_JS_WRAPPERS | {"ambient_declaration"},
        function_holders=_JS_FUNCTION_HOLDERS,
        leading=COMMENTS | {"decorator"},
        doc_comments=_SLASH_STAR_DOC,
        overloads=frozenset({"function_signature", "method_signature"}),
        import_line=_JS_IMPORTS,
        test_suites=_JS_TEST_SUITES,
        test_cases=_JS_TEST_CASES,
        route_methods=_JS_ROUTE_METHODS,
        nested_units=True,
        declarations=_JS_DECLARATIONS
        + """(type_alias_declaration name: (type_identifier) @name)
             (public_field_definition name: (property_identifier) @name)""",
    ),
    "go": LanguageSpec(
        query="[(function_declaration) (method_declaration) (type_spec) (type_alias)] @def",
        classes=frozenset({"type_spec", "type_alias"}),
        wrappers=frozenset({"type_declaration"}),
        import_line=_import_lines(r"package\b", r"import\b"),
        open_types="package",
        declarations="(const_spec name: (identifier) @name) (var_spec name: (identifier) @name)",
        statement_wrappers=frozenset({"const_declaration", "var_declaration", "var_spec_list"}),
    ),
    "rust": LanguageSpec(
        # A test module (`mod tests { ... }`, not `mod tests;`) contains its members, as a
        # class does (`tests.parser`): they are tests (test_containers). Other inline modules
        # stay out: qualified by their module, serde_json's `scalar::iadd` and `small::iadd`
        # read as siblings of their modules' other functions, and Find Similar lost 5 of 150
        # questions by a place each (BENCHMARKS.md, "Rust's test modules").
        query="""[(function_item) (struct_item) (enum_item) (union_item) (trait_item)
                  (impl_item) (macro_definition)] @def
                 ((mod_item name: (identifier) @_module body: (declaration_list)) @def"""
        f'(#match? @_module "^({"|".join(sorted(_RUST_TEST_MODULES))})$"))',
        classes=frozenset(
            {"struct_item", "enum_item", "union_item", "trait_item", "impl_item", "mod_item"}
        ),
        bodyless=frozenset({"macro_definition"}),
        leading=COMMENTS | {"attribute_item"},
        doc_comments=("///", "/**"),
        module_comments=("//!", "/*!"),
        import_line=_import_lines(
            r"(?:pub(?:\([\w:]+\))?\s+)?use\b", r"extern\s+crate\b", r"(?:pub\s+)?mod\s+\w+\s*;"
        ),
        open_types="crate",
        extension_header=r"(?:unsafe\s+)?impl\b",
        # `#[test]`, `#[tokio::test(...)]`, `#[wasm_bindgen_test]`, `#[test_case(...)]`,
        # `#[bench]`, `#[cfg(test)]` (not `#[cfg(not(test))]`: code kept out of tests), each
        # opening a line (not quoted in a comment: ranking.is_marked_test reads code lines).
        test_attribute=re.compile(
            r"(?m)^[ \t]*#\[\s*(?:(?:\w+::)*(?:test|bench|\w+_test|test_case|rstest|quickcheck"
            r"|proptest)\b|cfg\(\s*test\s*\))"
        ),
        test_containers=_RUST_TEST_MODULES,
        nested_units=True,
        declarations="""[(const_item name: (identifier) @name)
                         (static_item name: (identifier) @name)
                         (type_item name: (type_identifier) @name)]""",
    ),
    "java": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query="""[(method_declaration) (constructor_declaration) (compact_constructor_declaration)
                  (class_declaration) (interface_declaration) (enum_declaration)
                  (record_declaration) (annotation_type_declaration)] @def""",
        classes=frozenset(
            {
                "class_declaration",
                "interface_declaration",
                "enum_declaration",
                "record_declaration",
                "annotation_type_declaration",
            }
        ),
        doc_comments=_SLASH_STAR_DOC,
        # An interface's or abstract method (`int maxBodySize();`) is where its Javadoc
        # lives: a unit, not a line of the interface's 40-line windows (BENCHMARKS.md).
        bodyless_ok=True,
        import_line=_import_lines(r"package\b", r"import\b"),
        declarations="""(field_declaration
                           declarator: (variable_declarator name: (identifier) @name))""",
    ),
    "c": LanguageSpec(
        query="""(function_definition) @def
                 [(struct_specifier body: (_)) (union_specifier body: (_))
                  (enum_specifier body: (_))] @def""",
        classes=frozenset({"struct_specifier", "union_specifier", "enum_specifier"}),
        wrappers=frozenset({"type_definition"}),
        doc_comments=_DOXYGEN_DOC,
        import_line=_C_IMPORTS,
        declarations=_C_DECLARATIONS,
        keywords=_C_KEYWORDS,
        statement_wrappers=_C_WRAPPERS,
        unparsed=(_C_CLASS_MACROS, _C_SCOPE_MACROS),
    ),
    "cpp": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query="""(function_definition) @def
                 [(struct_specifier body: (_)) (union_specifier body: (_))
                  (enum_specifier body: (_)) (class_specifier body: (_))] @def""",
        classes=frozenset(
            {"struct_specifier", "union_specifier", "enum_specifier", "class_specifier"}
        ),
        # `friend bool operator==(...) {}`: the keyword belongs to the definition.
        wrappers=frozenset({"type_definition", "template_declaration", "friend_declaration"}),
        doc_comments=_DOXYGEN_DOC,
        import_line=_C_IMPORTS,
        declarations=_C_DECLARATIONS + _CPP_FIELDS,
        keywords=_CPP_KEYWORDS,
        statement_wrappers=_C_WRAPPERS | {"namespace_definition"},
        unparsed=(_C_CLASS_MACROS, _C_SCOPE_MACROS, *_QT_WORDS),
    ),
    "csharp": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query="""[(method_declaration) (constructor_declaration) (destructor_declaration)
                  (operator_declaration) (conversion_operator_declaration)
                  (class_declaration) (struct_declaration) (interface_declaration)
                  (enum_declaration) (record_declaration) (local_function_statement)] @def"""
        + _CSHARP_ACCESSORS,
        classes=frozenset(
            {
                "class_declaration",
                "struct_declaration",
                "interface_declaration",
                "enum_declaration",
                "record_declaration",
            }
        ),
        doc_comments=_TRIPLE_SLASH_DOC + _SLASH_STAR_DOC,
        import_line=_import_lines(r"using\b", r"namespace\s+[\w.]+\s*;"),
        # Fields, and properties without code (`public string Name { get; set; }`): data,
        # as fields are; a property with code is a unit of its own (_CSHARP_ACCESSORS).
        # Events declared as fields (`public event EventHandler FileSaving;`) too.
        declarations="""(field_declaration (variable_declaration
                            (variable_declarator name: (identifier) @name)))
                        (event_field_declaration (variable_declaration
                            (variable_declarator name: (identifier) @name)))
                        (property_declaration name: (identifier) @name)""",
    ),
    "ruby": LanguageSpec(
        class_body=("class Body\n", "\nend\n"),
        query="[(method) (singleton_method) (class) (module)] @def",
        classes=frozenset({"class", "module"}),
        line_comments=("#",),
        block_comment=("=begin", "=end"),
        bodyless_ok=True,  # `def name; end` is still a definition
        hoisted_bodies=frozenset({"body_statement"}),
        import_line=_import_lines(r"require(?:_relative)?\b", r"load\b"),
        # Constants, and the attributes `attr_reader :options, :warnings` declares (its
        # fields, as Java's are named), each a symbol whose `:` is not its name, or a plain
        # string (`attr_accessor 'nickname'`; one with `#{...}` in it names nothing).
        declarations="""(assignment left: (constant) @name)
                        (call method: (identifier) @_declares
                              arguments: (argument_list
                                [(simple_symbol) @name (string . (string_content) @name .)])
                         (#match? @_declares "^attr_(reader|writer|accessor)$"))""",
        name_sigils=":",
    ),
    "php": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        query="""[(function_definition) (method_declaration) (class_declaration)
                  (interface_declaration) (trait_declaration) (enum_declaration)] @def""",
        classes=frozenset(
            {"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}
        ),
        doc_comments=_SLASH_STAR_DOC,
        line_comments=("//", "#"),
        fragment_function="language_php_only",  # a fragment of a file has no `<?php` tag
        # An interface's or abstract method is a unit with its docblock, as in Java.
        bodyless_ok=True,
        import_line=_import_lines(
            r"<\?php\b", r"use\b", r"namespace\b", r"(?:require|include)(?:_once)?\b", r"declare\("
        ),
        # Class constants, and properties (`private $handler;`: named without the `$`).
        declarations="""(const_element (name) @name)
                        (property_element (variable_name (name) @name))""",
    ),
    "kotlin": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        # Classes (also interfaces, enum and data classes), objects, functions (an extension
        # function `fun String.toSlug()` is named by its receiver, as a Go method is),
        # constructors and `init` blocks, properties with a getter or setter, and functions
        # held by a property (`val onClick = fun(view: View) {...}`, a lambda). A companion
        # object is no unit: its members are called through the class (`Options.create()`)
        # and are named so.
        query="""[(class_declaration) (object_declaration) (function_declaration)
                  (secondary_constructor) (anonymous_initializer)] @def
                 (property_declaration [(getter) (setter)]) @def
                 (property_declaration [(anonymous_function) (lambda_literal)]) @def"""
        + _kotlin_call_query(_EXPO_CALLEES),
        classes=frozenset({"class_declaration", "object_declaration"}),
        member_calls=_EXPO_MEMBER_CALLS,
        member_types=_EXPO_MEMBER_TYPES,
        member_hooks=_EXPO_MEMBER_HOOKS,
        extension_header=_MEMBER_TYPE_HEADER,
        doc_comments=_SLASH_STAR_DOC,
        # An interface's or abstract function is where its KDoc lives, as in Java.
        bodyless_ok=True,
        declaration_end="",
        import_line=_import_lines(r"package\b", r"import\b"),
        declarations="""(property_declaration (variable_declaration (identifier) @name))
                        (type_alias type: (identifier) @name)""",
    ),
    "swift": LanguageSpec(
        class_body=_BRACED_CLASS_BODY,
        # `class_declaration` is also a struct, an enum, an actor and an extension. A
        # property with code (`var isRunning: Bool { session.isRunning }`) is a unit, as a
        # C# property is; a stored one is data.
        query="""[(class_declaration) (protocol_declaration) (function_declaration)
                  (init_declaration) (deinit_declaration) (subscript_declaration)
                  (protocol_function_declaration)] @def
                 (property_declaration computed_value: (_)) @def"""
        + _swift_call_query(_EXPO_CALLEES | _QUICK_SUITES | _QUICK_CASES),
        classes=frozenset({"class_declaration", "protocol_declaration"}),
        member_calls=_EXPO_MEMBER_CALLS,
        member_types=_EXPO_MEMBER_TYPES,
        member_hooks=_EXPO_MEMBER_HOOKS,
        test_suites=_QUICK_SUITES,
        test_cases=_QUICK_CASES,
        doc_comments=_TRIPLE_SLASH_DOC + _SLASH_STAR_DOC,
        # A protocol's requirement is where its documentation lives.
        bodyless_ok=True,
        declaration_end="",
        import_line=_import_lines(r"(?:@\w+\s+)*import\b"),
        # A type's extensions are written anywhere in its module, as Rust's `impl`s are.
        open_types="crate",
        extension_header=(
            rf"(?:(?:public|private|fileprivate|internal|open)\s+)?extension\b|{_MEMBER_TYPE_HEADER}"
        ),
        declarations="""(property_declaration name: (pattern (simple_identifier) @name))
                        (typealias_declaration name: (type_identifier) @name)""",
        unparsed=(_SWIFT_CONDITIONS, _SWIFT_BOUND_TRY),
    ),
}
SPECS["tsx"] = SPECS["typescript"]

# ---------------------------------------------------------------------------------------------
# Rules shared by several languages
# ---------------------------------------------------------------------------------------------

# Wrappers that may hold several definitions; they belong to one only when it is alone there.
SHARED_WRAPPERS = frozenset({"lexical_declaration", "variable_declaration", "type_declaration"})
# Nodes that hold local names: a name declared in one is not the module's (a callback's
# `const code` in a block of module code names nothing), unless it is invoked where it is
# written (a library wrapped whole in `(function () { var VERSION = ... })()`).
LOCAL_SCOPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "generator_function",
        "generator_function_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "function_item",
        "closure_expression",
        "func_literal",
        "lambda",
        "lambda_expression",
        "local_function_statement",
        "method",
        "singleton_method",
        "do_block",  # Ruby's `do ... end` ("block" is also Python's `if`/`try` body)
    }
)
# Children of a definition that come before its header and are left out of the signature.
SIGNATURE_SKIP = frozenset({"decorator", "attribute_list", "comment"})
# Values that are a definition's body themselves (C#'s `public int Count => m_count;`): the
# header a reader scans ends where they start.
BODY_VALUES = frozenset({"arrow_expression_clause"})
# What ends a Kotlin or Swift closure's parameters (`{ view, zoom ->`, `{ (view) in`): a call
# that declares a unit with a closure has its header end there (chunker.extent.body_of).
CLOSURE_ARROWS = frozenset({"->", "in"})
# Bodies that a grammar gives no field name (Kotlin's): the header ends where they start.
BODY_NODES = frozenset({"function_body", "class_body", "enum_class_body"})
# Definitions a language names by a keyword, not a name of their own: a C# indexer is
# `this[int index]`.
# Kotlin's secondary constructors and `init` blocks, Swift's `init`, `deinit` and
# `subscript` (whose `name` field is its return type) likewise.
KEYWORD_NAMED = {
    "indexer_declaration": "this",
    "secondary_constructor": "constructor",
    "anonymous_initializer": "init",
    "init_declaration": "init",
    "deinit_declaration": "deinit",
    "subscript_declaration": "subscript",
}
# Anonymous definitions that are a module's default export (`export default () => {}`,
# `exports.default = function () {}`) are named by the module (``chunker.names.module_name``).
DEFAULT_EXPORTS = frozenset({"arrow_function", "function_expression", "class"})
DEFAULT_EXPORT = "default"

# A comment that holds one of these is a licence header when it opens the file (after
# FILE_PREAMBLE at most): it is never taken as the documentation of the definition below it.
FILE_PREAMBLE = re.compile(r"(?:\s|#![^\n]*|<\?php\b)*")
LICENCE_PHRASE = re.compile(
    r"copyright|\(c\)|licen[cs]e[ds]?\b|spdx-license|all rights reserved|permission is hereby",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------
# JavaScript / TypeScript names
# ---------------------------------------------------------------------------------------------

# `module.exports.parse = function` and `exports.parse = function` define `parse`;
# `module.exports = function name()` is named by the function itself.
JS_EXPORT_OBJECTS = ("module.exports", "exports")
# Calls that define a property with a function: `defineGetter(req, 'fresh', function () {})`,
# `Object.defineProperty(obj, 'name', { get() {} })`; matched on the callee's last name.
JS_DEFINE_CALLEE = re.compile(r"define\w*|__define[GS]etter__")
# Nodes an object literal may be bound to, naming its methods (`const api = { run() {} }`).
JS_OBJECT_MEMBERS = frozenset({"method_definition", "pair"})
# Methods of arrays, strings and promises whose callback computes their value (JS_WRAPPED_CALL).
JS_VALUE_METHODS = frozenset(
    {
        "map", "flatMap", "filter", "reduce", "reduceRight", "forEach", "find", "findIndex",
        "findLast", "findLastIndex", "some", "every", "sort", "toSorted", "then", "catch",
        "finally", "replace", "replaceAll",
    }
)  # fmt: skip
JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "generator_function", "method_definition"}
)
# What may stand between a function and the statement it is the value of, when a condition
# guards it: `export default isSupported && function adapter() {}`, `const f = a || (() => {})`.
JS_GUARDS = frozenset({"binary_expression", "parenthesized_expression"})

# C++ in a `.h` file (detected as C): the C grammar would read it as a string of errors.
CPP_HINT = re.compile(
    r"^[ \t]*(?:namespace\s+\w+\s*\{|template\s*<|class\s+\w+|(?:public|private|protected)\s*:"
    r"|#include\s*<\w+>\s*$)",
    re.MULTILINE,
)
