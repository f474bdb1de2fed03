"""The definitions of a syntax tree that get a unit of their own, nested by a stack over
their byte ranges (never by recursion), with their names, containers and extents."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Query

from ..language_specs import LanguageSpec
from .commentary import marks_test
from .extent import (
    body_of,
    extent_node,
    is_overload_stub,
    leading_start,
    signature_of,
    trailing_end,
)
from .grammars import captures
from .names import called_unit, declared_by_call, definition_name, module_member


@dataclass(slots=True)
class Definition:
    """A definition found in the syntax tree: its extent in bytes, name and container."""

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
    parent: Definition | None = None  # the class it is a member of
    symbol: str = ""
    container: str = ""
    cut: int = -1  # for classes: start of the first member chunk, where the class chunk ends
    # A test, a suite or a route: a call that defines a unit (called_unit), or a definition
    # an attribute marks as a test (Rust's `#[test]`). What it holds is its own code.
    test_or_route: bool = False
    # Declared by a Kotlin or Swift call given a closure (names.declared_by_call: an Expo
    # module's member, a Quick test): a unit wherever the call is written, named as a member
    # of the class whose function holds it.
    by_call: bool = False


def describe(node: Node, data: bytes, spec: LanguageSpec, module: str) -> Definition | None:
    """The definition a captured node is, or None for one that gets no unit (anonymous, a
    bodyless declaration, an overload stub its definition takes in)."""
    called = called_unit(node, spec)
    member = module_member(node, spec)
    if node.type in spec.scripts:
        kind, (name, scope) = "script", (spec.script_name, "")
    elif called is not None:
        kind, (name, scope) = called[0], (called[1], "")
    elif member is not None:
        kind, (name, scope) = member[0], (member[1], "")
    else:
        kind = "class" if node.type in spec.classes else "function"
        name, scope = definition_name(node, module)
    name = " ".join(name.split())
    if not name or name in spec.keywords:
        return None  # anonymous, or a broken node from error recovery
    body = body_of(node)
    declared_only = body is None and node.type not in spec.bodyless and not spec.bodyless_ok
    if kind == "function" and declared_only:
        return None  # a declaration (abstract, interface or prototype), not a definition
    outer = extent_node(node, spec)
    if outer.type in spec.function_holders and outer is not node:
        name, scope = definition_name(outer, module)  # the property the function is
    if is_overload_stub(outer, name, spec):
        return None  # its unit is the definition it types (extent._topmost_overload)
    start = leading_start(outer, data, spec, name)
    return Definition(
        start=start,
        end=trailing_end(outer, data),
        node_end=node.end_byte,
        kind=kind,
        name=name,
        scope=scope,
        signature=signature_of(node, outer, data),
        node_start=node.start_byte,
        body_start=node.start_byte if body is None else max(node.start_byte, body.start_byte),
        col=outer.start_point.column,
        broken=node.has_error,
        test_or_route=called is not None or _attributed_test(data, start, node, spec),
        by_call=declared_by_call(node, spec),
    )


def _attributed_test(data: bytes, start: int, node: Node, spec: LanguageSpec) -> bool:
    """Whether the attributes between ``start`` (its comments' and attributes' start) and the
    definition mark it as a test (Rust's `#[test]`)."""
    if spec.test_attribute is None or start >= node.start_byte:
        return False
    return marks_test(data[start : node.start_byte].decode("utf-8", "replace"), spec)


def find_definitions(
    root: Node,
    query: Query,
    data: bytes,
    spec: LanguageSpec,
    module: str,
    parent: Definition | None = None,
    split_above: int | None = None,
) -> list[Definition]:
    """Definitions that get their own chunk, with symbol/container/kind resolved.

    ``module`` is the file's ``module_name``; ``parent`` is the class a re-parsed fragment of
    the file lies in, if any; ``split_above``: the size past which a definition is cut into
    parts (holds_units, in languages with LanguageSpec.nested_units).
    """
    nodes = {(n.start_byte, -n.end_byte, n.type): n for n in captures(query, root)}
    split_above = split_above if spec.nested_units else None
    found: list[Definition] = []
    stack: list[Definition] = [parent] if parent is not None else []  # innermost last
    for key in sorted(nodes):
        node = nodes[key]
        while stack and stack[-1].node_end <= node.start_byte:
            stack.pop()
        if stack and stack[-1].kind != "class" and not _unit_in(stack, node, spec, split_above):
            continue  # nested in a function: stays part of it
        d = describe(node, data, spec, module)
        if d is None:
            continue
        _resolve(d, stack[-1] if stack else None)
        stack.append(d)
        found.append(d)
    return found


def _unit_in(
    stack: list[Definition], node: Node, spec: LanguageSpec, split_above: int | None
) -> bool:
    """Whether a definition nested in a function (the innermost of `stack`) is a unit: when
    the function holds units (holds_units), or when a call declares it (an Expo module's
    member in `definition()`, a Quick test in `spec()`), however small the function is,
    unless that function is a test (a module a test declares is the test's code)."""
    if holds_units(stack, split_above):
        return True
    return not stack[-1].test_or_route and declared_by_call(node, spec)


def holds_units(stack: list[Definition], split_above: int | None) -> bool:
    """Whether the definitions nested in a function (the innermost of `stack`) are units of
    their own, as a class's members are: when it is larger than a chunk, so that it would be
    cut into parts anyway (immer's `enablePatches()` holds its plugin's twelve functions;
    lodash's `runInContext` nearly all of lodash), and no more than _MAX_HELD_DEPTH
    definitions deep. A small function's closures stay in it (a decorator's wrapper), as do
    the definitions of a script (a demo under Python's `if __name__ == "__main__":`) and of
    a test or a route (a test's `queryFn: () =>` callbacks, the structs a Rust `#[test]`
    declares to serialize, are the test's code)."""
    function = stack[-1]
    big = split_above is not None and function.end - function.start > split_above
    plain = function.kind in ("function", "method") and not function.test_or_route
    return big and plain and len(stack) <= _MAX_HELD_DEPTH


# Units in a function in a method of a class are three deep; deeper ones stay in the
# function that holds them (3,000 nested functions gave 3,000 names, each longer).
_MAX_HELD_DEPTH = 3


def _resolve(d: Definition, parent: Definition | None) -> None:
    d.parent = parent
    if parent is not None:
        d.container = parent.symbol
        if d.by_call and parent.kind != "class" and parent.container:
            # A member of the class around the function that declares it:
            # `ImagePickerModule.launchCameraAsync`, not `...definition.launchCameraAsync`.
            d.container = parent.container
        if parent.cut < 0:
            parent.cut = d.start  # the class chunk ends where its first member begins
    elif d.scope:
        d.container = d.scope
    # A function in a class (or with a receiver or a qualified name) is a method, as is one a
    # call declares in a class's function (an Expo module's member); one in a function stays
    # a function.
    if parent is None:
        in_class = bool(d.container)
    else:
        in_class = parent.kind == "class" or (d.by_call and bool(d.container))
    if d.kind == "function" and in_class:
        d.kind = "method"
    # A test suite titled by the member it tests (`describe('.stale')` in `describe('req')`)
    # reads `req.stale`, not `req..stale`.
    joint = "" if d.name.startswith(".") else "."
    d.symbol = f"{d.container}{joint}{d.name}" if d.container else d.name
