"""What belongs to a definition besides its node: the wrappers around it, the doc comments,
decorators and attributes above it, the overloads that type it, a `;` after it; and its
signature, the header a result shows."""

from __future__ import annotations

import re

from tree_sitter import Node

from ..language_specs import (
    BODY_NODES,
    BODY_VALUES,
    CLOSURE_ARROWS,
    COMMENTS,
    DOC_COMMENT_GAP,
    FILE_PREAMBLE,
    LICENCE_PHRASE,
    SHARED_WRAPPERS,
    SIGNATURE_SKIP,
    LanguageSpec,
)
from .grammars import node_text
from .names import (
    call_arguments,
    definition_name,
    exported_call,
    is_function_member,
    last_function,
    trailing_closure,
    wrapped_function,
)

MAX_SIGNATURE_CHARS = 200
_SIGNATURE_SCAN_BYTES = 2000  # never decode more than this to build one signature


def body_of(node: Node) -> Node | None:
    closure = trailing_closure(node)
    if closure is not None:  # a call that declares a unit (names.declared_by_call)
        return _closure_body(closure)
    if node.type == "call_expression":
        if exported_call(node):
            return _body_of_function(wrapped_function(node))
        arguments = call_arguments(node)  # a property definition, a test or a route: the
        function = last_function(arguments)  # function's body, or the object of accessors
        if function is not None:
            return function.child_by_field_name("body")
        return arguments[-1] if arguments and arguments[-1].type == "object" else None
    body = node.child_by_field_name("body")
    if body is None:  # C#'s properties, indexers and events: `{ get { ... } set { ... } }`
        body = node.child_by_field_name("accessors")
    if body is None:
        for name in ("value", "right"):  # `f = () => {}`: the body is the function's
            value = node.child_by_field_name(name)
            if value is not None and value.type == "call_expression":
                return _body_of_function(wrapped_function(value))  # `f = memo(() => {})`
            if value is not None:
                return value if value.type in BODY_VALUES else value.child_by_field_name("body")
    if body is None:  # Kotlin's bodies are children without a field
        body = next((c for c in node.named_children if c.type in BODY_NODES), None)
    return body


def _closure_body(closure: Node) -> Node:
    """Where a closure's header ends: the arrow after its parameters (`{ view, zoom ->` in
    Kotlin, `{ (view: CameraView, zoom: Double) in` in Swift), which the signature keeps
    (CLOSURE_ARROWS); the closure itself when it has none. Not its first statement: a line
    the parse leaves out (Swift's `#if`) may come before it."""
    return next((c for c in closure.children if c.type in CLOSURE_ARROWS), closure)


def _body_of_function(function: Node | None) -> Node | None:
    return function.child_by_field_name("body") if function is not None else None


def extent_node(node: Node, spec: LanguageSpec) -> Node:
    """The definition node widened to the wrappers that belong to it alone."""
    while (parent := node.parent) is not None and parent.type in spec.wrappers:
        if (
            parent.type in SHARED_WRAPPERS
            and sum(c.type == node.type for c in parent.named_children) != 1
        ):
            break
        node = parent
    if spec.member_calls:
        node = _chained_calls(node)
    return _sole_function_holder(node, spec)


def _chained_calls(node: Node) -> Node:
    """The call with the calls chained to it (`AsyncFunction("x") { ... }.runOnQueue(.main)`,
    Kotlin's and Swift's trees alike): what they set belongs to it."""
    while (chain := node.parent) is not None and chain.type == "navigation_expression":
        call = chain.parent
        chained = call is not None and call.type == "call_expression"
        if not chained or chain.named_children[0] != node or call.named_children[0] != chain:
            break
        node = call
    return node


def _sole_function_holder(node: Node, spec: LanguageSpec) -> Node:
    """The property whose object value holds ``node`` as its only function, beside values
    that describe it (LanguageSpec.function_holders), else ``node``. An object of functions
    alone is a namespace (Vue's `methods: { toggleLoading() {} }`): each is its own unit."""
    holder = node.parent.parent if node.parent is not None else None
    if holder is None or holder.type not in spec.function_holders or node.parent.type != "object":
        return node
    members = [m for m in node.parent.named_children if m.type not in COMMENTS]
    functions = sum(is_function_member(member) for member in members)
    return holder if functions == 1 and len(members) > 1 else node


def leading_start(node: Node, data: bytes, spec: LanguageSpec, name: str = "") -> int:
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
    return first.start_byte if top is first else leading_start(top, data, spec)


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
        if not marked or inner is None:
            return None
        return node_text(inner.child_by_field_name("name"))
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        node = declaration if declaration is not None else node
    if node.type not in spec.overloads:
        return None
    return node_text(node.child_by_field_name("name"))


def _decorator_name(node: Node) -> str:
    """`overload` for `@overload`, `@typing.overload` and `@t.overload`; "" for non-decorators."""
    if node.type != "decorator":
        return ""
    return node_text(node).lstrip("@").split("(", 1)[0].strip().rsplit(".", 1)[-1]


def is_overload_stub(outer: Node, name: str, spec: LanguageSpec) -> bool:
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
    if definition is None or definition_name(definition)[0] != name:
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


def trailing_end(outer: Node, data: bytes) -> int:
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


def signature_of(core: Node, outer: Node, data: bytes) -> str:
    # Decorators stay out: they are in the chunk text, the signature is the header.
    head = core if outer.type == "decorated_definition" else outer
    start = head.start_byte
    for child in head.children:
        if child.type not in SIGNATURE_SKIP:
            start = child.start_byte
            break
    body = body_of(core)
    stop = min(start + _SIGNATURE_SCAN_BYTES, core.end_byte)
    # Annotations that a modifier list holds (Java's `@Override`, `@BenchmarkMode(...)`)
    # stay out too: they would fill the signature's length, or be all of its first line.
    if body is not None and start < body.start_byte:
        end = body.end_byte if body.type in CLOSURE_ARROWS else body.start_byte
        raw = without_annotations(_without_comments(core, data, start, min(end, stop)))
    else:
        # No body node (Go types, TS type aliases, an interface's method): the first line,
        # up to an opening brace.
        raw = without_annotations(_without_comments(core, data, start, stop))
        raw = raw.split("\n", 1)[0].split("{", 1)[0]
    # One line; drop the space that line breaks leave inside brackets: `f( a, b, )` -> `f(a, b)`.
    sig = _BRACKET_SPACE.sub(r"\1", _CLOSE_SPACE.sub(r"\1", " ".join(raw.split())))
    if len(sig) > MAX_SIGNATURE_CHARS:
        sig = sig[: MAX_SIGNATURE_CHARS - 3].rstrip() + "..."
    return sig


# A decorator or annotation (`@name`, its arguments follow; not Java's `@interface`) or a
# Rust/PHP attribute (`#[`).
_ANNOTATION = re.compile(r"@(?!interface\b)[\w.$]+|#!?(?=\[)")
_OPENING, _CLOSING = "([{", ")]}"


def without_annotations(text: str) -> str:
    """``text`` past its leading decorators, annotations and attributes, with their arguments
    (over several lines too): `@Override public void run()` -> `public void run()`."""
    rest = text.lstrip()
    while (m := _ANNOTATION.match(rest)) is not None:
        end = m.end()
        if end < len(rest) and rest[end] in _OPENING:
            end = _past_brackets(rest, end)
        rest = rest[end:].lstrip()
    return rest


def _past_brackets(text: str, start: int) -> int:
    """Index just past the bracket closing the one at ``start`` (or the end of ``text``)."""
    depth = 0
    for i in range(start, len(text)):
        char = text[i]
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


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
