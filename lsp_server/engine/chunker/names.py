"""How each language names a definition: C and C++ declarators (past macros, conversion
operators), Go receivers, Rust `impl` targets, and JavaScript/TypeScript functions named by
what they are assigned to, defined as or called with (tests, routes, `defineGetter`)."""

from __future__ import annotations

import re

from tree_sitter import Node

from ..language_specs import (
    COMMENTS,
    DEFAULT_EXPORT,
    DEFAULT_EXPORTS,
    JS_DEFINE_CALLEE,
    JS_EXPORT_OBJECTS,
    JS_FUNCTION_VALUES,
    JS_GUARDS,
    JS_OBJECT_MEMBERS,
    JS_VALUE_METHODS,
    KEYWORD_NAMED,
    LanguageSpec,
)
from .grammars import node_text


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
    parts = _strip_templates(node_text(d)).split("::")
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
    return " ".join(name.split()), _last_path(node_text(scope)) if scope is not None else ""


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
            return node_text(names[-1]) if names else ""
    return ""


def _go_receiver(node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    stack = [receiver] if receiver is not None else []
    while stack:  # the receiver is tiny; look for its type's name
        n = stack.pop()
        if n.type == "type_identifier":
            return node_text(n)
        stack.extend(reversed(n.named_children))
    return ""


def _kotlin_receiver(node: Node, name: Node) -> str:
    """The type a Kotlin extension function extends (`fun Context.dp(x: Int)` -> Context),
    written before its name; "" for any other definition."""
    if node.type != "function_declaration":
        return ""
    receiver = ""
    for child in node.named_children:
        if child.start_byte >= name.start_byte:
            break
        if child.type in ("user_type", "nullable_type"):
            receiver = node_text(child).split("<", 1)[0].rstrip("?")
    return receiver


def _kotlin_property_name(node: Node) -> str:
    """`val size: Int get() = ...` -> size (Kotlin's property has no name field)."""
    for child in node.named_children:
        if child.type == "variable_declaration":
            names = [n for n in child.named_children if n.type == "identifier"]
            return node_text(names[0]) if names else ""
    return ""


def definition_name(node: Node, module: str = "") -> tuple[str, str]:
    """(name, scope) of a captured definition; name is "" when it has none.

    ``module`` names a JavaScript module's anonymous default export (``module_name``).
    """
    t = node.type
    if t in JS_FUNCTION_VALUES and node.parent is not None and node.parent.type in JS_GUARDS:
        return _guarded_name(node, module)
    if t == "variable_declarator":
        return node_text(node.child_by_field_name("name")), ""
    if t in ("field_definition", "public_field_definition"):
        prop = node.child_by_field_name("property") or node.child_by_field_name("name")
        return node_text(prop), ""
    if t == "assignment_expression":
        return _default_export_named(_assigned_name(node), module)
    if t == "call_expression":
        if exported_call(node):
            function = wrapped_function(node)
            return _export_name(function, module) if function is not None else ("", "")
        return _defined_property(node)
    if t in JS_OBJECT_MEMBERS and node.parent is not None and node.parent.type == "object":
        return _object_member_name(node)
    if t == "impl_item":
        return _last_path(node_text(node.child_by_field_name("type"))), ""
    if t in DEFAULT_EXPORTS and node.parent is not None and node.parent.type == "export_statement":
        return _export_name(node, module)
    if t == "method_declaration" and node.child_by_field_name("receiver") is not None:
        return node_text(node.child_by_field_name("name")), _go_receiver(node)
    if t in KEYWORD_NAMED:
        return KEYWORD_NAMED[t], ""
    name = node.child_by_field_name("name")
    if name is not None:
        return node_text(name).replace("::", "."), _kotlin_receiver(node, name)
    if t == "function_definition":
        return _c_name(node)
    if t == "property_declaration":  # Kotlin: `val size: Int get() = ...`
        return _kotlin_property_name(node), ""
    parent = node.parent
    if parent is not None and parent.type == "type_definition":  # typedef struct { } Name;
        return node_text(parent.child_by_field_name("declarator")), ""
    return "", ""


# ---------------------------------------------------------------------------------------------
# JavaScript / TypeScript names: assignments, property definitions, object literal members
# ---------------------------------------------------------------------------------------------


def module_name(path: str) -> str:
    """What a module's default export is imported as by convention: its file's name
    (`lib/helpers/parseHeaders.js` -> parseHeaders), or its folder's for an `index` file
    or a SvelteKit route's (`routes/login/+page.svelte` -> login)."""
    folder, _, file = path.rpartition("/")  # chunk paths are '/'-separated
    stem = file.split(".", 1)[0]
    by_folder = stem == "index" or stem.startswith("+")
    return folder.rpartition("/")[2] if by_folder and folder else stem


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
        return node_text(holder.child_by_field_name("name")), ""
    if holder.type == "assignment_expression":
        return _default_export_named(_assigned_name(holder, function), module)
    if holder.type == "export_statement":
        return _export_name(function, module)
    return "", ""


def _export_name(value: Node, module: str) -> tuple[str, str]:
    """A module's default export is named by itself (`function httpAdapter`), else by the
    module (``module_name``)."""
    return node_text(value.child_by_field_name("name")) or module or DEFAULT_EXPORT, ""


def _assigned_name(node: Node, function: Node | None = None) -> tuple[str, str]:
    """`a.b = c.d = function () {}` is named by its outermost target, `var x = a = f` by x."""
    function = function or node.child_by_field_name("right")
    while (parent := node.parent) is not None and parent.type == "assignment_expression":
        node = parent
    if parent is not None and parent.type == "variable_declarator":
        return node_text(parent.child_by_field_name("name")), ""
    return _member_name(node_text(node.child_by_field_name("left")), function)


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
            own = node_text(function.child_by_field_name("name")) if function is not None else ""
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
    return node_text(key) if value is None else value


def _string_value(node: Node | None) -> str | None:
    """A string literal's text without its quotes (`'fresh'` -> fresh); None for anything
    else."""
    if node is None or node.type not in ("string", "template_string"):
        return None
    return node_text(node)[1:-1]


def _object_member_name(member: Node) -> tuple[str, str]:
    """`const api = { run() {}, stop: () => {} }` -> (run, api); nested objects add their keys."""
    path: list[str] = []
    holder = member.parent.parent if member.parent is not None else None
    while holder is not None and holder.type == "pair":
        path.append(_key(holder))
        up = holder.parent
        holder = up.parent if up is not None and up.type == "object" else None
    if holder is not None and holder.type == "variable_declarator":
        path.append(node_text(holder.child_by_field_name("name")))
    elif holder is not None and holder.type == "assignment_expression":
        path.append(_object_owner("".join(node_text(holder.child_by_field_name("left")).split())))
    return _key(member), ".".join(p for p in reversed(path) if p)


def call_arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [c for c in arguments.named_children if c.type not in COMMENTS]


_WRAPPING_DEPTH = 2  # calls around a function: `memo(forwardRef(...))` (JS_WRAPPED_CALL)


def exported_call(call: Node) -> bool:
    """A module's default export that is a call: `export default memo(function Sidebar()
    {})` (JS_WRAPPED_CALL)."""
    return call.parent is not None and call.parent.type == "export_statement"


def wrapped_function(call: Node, depth: int = _WRAPPING_DEPTH) -> Node | None:
    """The function a call wraps (language_specs.JS_WRAPPED_CALL): the last function among
    its arguments, else one that a call among them wraps. None when there is none, or when
    the callback computes a value: it fits on one line (`const total = items.reduce((a, b)
    => a + b, 0)`), or the call is to a method of JS_VALUE_METHODS."""
    callee = call.child_by_field_name("function")
    method = callee.child_by_field_name("property") if callee is not None else None
    if method is not None and node_text(method) in JS_VALUE_METHODS:
        return None
    arguments = call_arguments(call)
    function = last_function(arguments)
    if function is not None:
        return None if function.start_point.row == function.end_point.row else function
    if depth > 1:
        for argument in reversed(arguments):
            if argument.type == "call_expression":
                found = wrapped_function(argument, depth - 1)
                if found is not None:
                    return found
    return None


def last_function(arguments: list[Node]) -> Node | None:
    """The function a call is given last: `it('waits', function (done) {}, 5000)` is given
    the function, then a timeout."""
    functions = [a for a in arguments if a.type in JS_FUNCTION_VALUES]
    return functions[-1] if functions else None


def _defined_property(call: Node) -> tuple[str, str]:
    """`defineGetter(req, 'fresh', function () {})` and
    `Object.defineProperty(obj, 'name', { get() {} })` define `req.fresh` and `obj.name`."""
    callee = node_text(call.child_by_field_name("function")).rsplit(".", 1)[-1]
    arguments = call_arguments(call)
    if not JS_DEFINE_CALLEE.fullmatch(callee) or len(arguments) != 3:
        return "", ""
    target, prop, value = arguments
    if value.type == "object" and not any(is_function_member(c) for c in value.named_children):
        return "", ""  # a plain value (`{ value: true }`), not code
    return _member_name(f"{node_text(target)}.{_string_value(prop) or ''}")


def _callee_names(call: Node) -> list[str]:
    """The names a call's callee is made of, first name first: `describe.each(rows)(...)` is
    [describe, each], `test.describe.serial(...)` [test, describe, serial]."""
    names: list[str] = []
    callee = call.child_by_field_name("function")
    while callee is not None and callee.type in ("member_expression", "call_expression"):
        if callee.type == "member_expression":
            names.append(node_text(callee.child_by_field_name("property")))
            callee = callee.child_by_field_name("object")
        else:
            callee = callee.child_by_field_name("function")
    if callee is None or callee.type != "identifier":
        return []
    return [node_text(callee), *reversed(names)]


def called_unit(node: Node, spec: LanguageSpec) -> tuple[str, str] | None:
    """(kind, name) of a call that defines a unit, else None: a test suite (class) or a test
    (function) named by its title (LanguageSpec.test_suites / test_cases: JavaScript's, and
    Swift's Quick, whose calls are given closures), a web route (function) named by its
    method and path (LanguageSpec.route_methods)."""
    if not (spec.test_cases or spec.route_methods):
        return None
    closure = closure_call(node)
    if closure is not None:  # Swift's Quick: `describe("Either") { it("is the first type") {} }`
        return _closure_test(*closure, spec)
    if node.type != "call_expression":
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
    arguments = call_arguments(call)
    return (_string_value(arguments[0]) if arguments else None) or ""


def is_function_member(node: Node) -> bool:
    if node.type == "pair":
        value = node.child_by_field_name("value")
        return value is not None and value.type in JS_FUNCTION_VALUES
    return node.type in JS_FUNCTION_VALUES


def closure_call(node: Node) -> tuple[str, Node] | None:
    """(callee, the call that holds its arguments) of a Kotlin or Swift call of a name given a
    closure (`AsyncFunction("x") { ... }`, Kotlin's `AsyncFunction("x") Coroutine { ... }`,
    Swift's `it("works") { ... }` or `AsyncFunction("x", { ... })`), else None. JavaScript's
    calls name their callee by a field, and hold their functions among their `arguments`."""
    if node.child_by_field_name("function") is not None or trailing_closure(node) is None:
        return None
    head = node.named_children[0]  # Kotlin: the call with the title, its closure beside it
    if head.type == "navigation_expression" and head.named_children:
        head = head.named_children[0]  # `Property("volume").get { ... }`: the title's call
    call = head if head.type == "call_expression" else node
    callee = call.named_children[0] if call.named_children else None
    if callee is None or callee.type not in ("identifier", "simple_identifier"):
        return None
    return node_text(callee), call


def trailing_closure(node: Node) -> Node | None:
    """The closure a Kotlin or Swift call is given last, else None."""
    if node.type not in ("call_expression", "infix_expression"):
        return None
    last = _last_named(node)
    if last is not None and last.type == "call_suffix":  # Swift: a trailing closure, or the
        last = _last_named(last)  # last of the arguments
        if last is not None and last.type == "value_arguments":
            last = _last_named(_last_named(last))
    if last is not None and last.type == "annotated_lambda":  # Kotlin
        last = _last_named(last)
    return last if last is not None and last.type == "lambda_literal" else None


def _last_named(node: Node | None) -> Node | None:
    return node.named_children[-1] if node is not None and node.named_children else None


def _closure_test(callee: str, call: Node, spec: LanguageSpec) -> tuple[str, str] | None:
    """A Quick suite (class) or test (function) titled by a string, as JavaScript's are."""
    title, names_type = _closure_call_title(call)
    if not title or names_type:
        return None
    if callee in spec.test_suites:
        return "class", title
    return ("function", title) if callee in spec.test_cases else None


def module_member(node: Node, spec: LanguageSpec) -> tuple[str, str] | None:
    """(kind, name) of a call that declares a member of a native module in its definition
    DSL (LanguageSpec.member_calls / member_types / member_hooks), else None:
    `AsyncFunction("takePicture") { ... }` is the function `takePicture`, `OnCreate { ... }`
    the function `OnCreate`, `Class(VideoPlayer::class) { ... }` or `View(CameraView.self)
    { ... }` the class `VideoPlayer`, `CameraView`."""
    closure = closure_call(node) if spec.member_calls else None
    if closure is None:
        return None
    callee, call = closure
    if callee in spec.member_hooks:
        return "function", callee  # `OnCreate { ... }`: named by what it listens to
    if callee in spec.member_calls:
        kind = "function"
    elif callee in spec.member_types:
        kind = "class"
    else:
        return None
    title, names_type = _closure_call_title(call)
    if not title or (kind == "function" and names_type):
        return None  # a function is titled by a string, the name JavaScript calls it by
    return kind, title


def declared_by_call(node: Node, spec: LanguageSpec) -> bool:
    """Whether a Kotlin or Swift call given a closure declares a unit: an Expo module's
    member, a Quick suite or test. Such a unit is one wherever it is written (Expo's
    `definition()` and Quick's `spec()` are functions that hold them all)."""
    if closure_call(node) is None:
        return False
    return module_member(node, spec) is not None or called_unit(node, spec) is not None


_STRING_TEXT = ("string_content", "line_str_text")  # Kotlin's, Swift's


def _closure_call_title(call: Node) -> tuple[str, bool]:
    """The title a Kotlin or Swift call is given first, and whether it names a type: a
    string's text (`"takePicture"`), or a type's name (`VideoPlayer::class`, `.self`)."""
    arguments = next((c for c in call.named_children if c.type == "value_arguments"), None)
    if arguments is None:  # Swift: the arguments sit in the call's suffix
        suffix = next((c for c in call.named_children if c.type == "call_suffix"), None)
        arguments = suffix.named_children[0] if suffix and suffix.named_children else None
    first = arguments.named_children[0] if arguments and arguments.named_children else None
    value = first.named_children[0] if first is not None and first.named_children else None
    if value is None:
        return "", False
    if value.type in ("string_literal", "line_string_literal"):
        return "".join(node_text(c) for c in value.named_children if c.type in _STRING_TEXT), False
    if value.type == "navigation_expression" and node_text(value).endswith(("::class", ".self")):
        return node_text(value.named_children[0]), True
    return "", False
