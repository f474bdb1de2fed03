"""Generated code -> code pairs: the same Python function renamed and reformatted.

Find-similar should see through surface changes; these variants teach the adapter that a
function whose locals are renamed, or whose layout and comments differ, is the same code.
"""

from __future__ import annotations

import ast
import builtins
import random

# Plain names that local variables get renamed to (deterministic choice per function).
_NAMES = """value item result data entry node element current total count index key values
items output buffer record target source acc part chunk piece temp token field state obj
first second left right start end size length pos cursor other base head tail elem x y z
a b c n m k i j""".split()  # noqa: SIM905
_KEEP = frozenset({"self", "cls"}) | frozenset(dir(builtins))


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        self.generic_visit(node)
        return node


def _function(code: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1:
        return None
    node = tree.body[0]
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _local_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameters and assigned names that are the function's own (not globals, not builtins)."""
    declared: set[str] = set()
    names: dict[str, None] = {}
    for inner in ast.walk(node):
        if isinstance(inner, (ast.Global, ast.Nonlocal)):
            declared.update(inner.names)
        elif isinstance(inner, ast.arg):
            names.setdefault(inner.arg)
        elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
            names.setdefault(inner.id)
    return [n for n in names if n not in _KEEP and n not in declared]


def renamed(code: str, seed: int) -> str | None:
    """The function with its locals renamed (and laid out by ast.unparse); None if unchanged."""
    node = _function(code)
    if node is None:
        return None
    local = _local_names(node)
    if not local:
        return None
    rng = random.Random(seed)
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | set(local)
    pool = [n for n in _NAMES if n not in used]
    rng.shuffle(pool)
    mapping = dict(zip(local, pool, strict=False))
    if not mapping:
        return None
    result = ast.unparse(_Renamer(mapping).visit(node))
    return result if result.split() != code.split() else None


def reformatted(code: str) -> str | None:
    """The same function laid out by ast.unparse (no comments, normalised quotes and spacing)
    and indented by two spaces; None when that changes nothing."""
    node = _function(code)
    if node is None:
        return None
    lines = ast.unparse(node).split("\n")
    result = "\n".join(_halve_indent(line) for line in lines)
    return result if result.split() != code.split() else None


def _halve_indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return " " * ((len(line) - len(stripped)) // 2) + stripped


# How a definition's documentation is written, per language (the rest use /** ... */).
_DOC_COMMENT = {"go": "// {}", "rust": "/// {}", "ruby": "# {}"}


def documented(code: str, doc: str, language: str) -> str | None:
    """The definition with its documentation sentence put back (as a docstring or comment)."""
    if language != "python":
        return _DOC_COMMENT.get(language, "/** {} */").format(doc) + "\n" + code
    node = _function(code)
    if node is None or not node.body:
        return None
    lines = code.split("\n")
    first = node.body[0]
    index = first.lineno - 1
    if first.lineno == node.lineno:  # `def f(): return x` on one line: no room for a docstring
        return None
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    quoted = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return "\n".join([*lines[:index], f'{indent}"""{quoted}"""', *lines[index:]])
