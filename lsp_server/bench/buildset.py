"""CodeSearchNet-style sets from Python source: docstring sentence -> its function.

For each documented function the query is the first sentence of its docstring and the target
is the function with the docstring removed; every function of the package (docstrings
removed) is in the corpus, so the others are the distractors.
"""

from __future__ import annotations

import ast
import inspect
import re
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .beir import BeirSet, Query
from .docrules import MIN_QUERY_WORDS  # CodeSearchNet drops docstrings shorter than this
from .sources import download_sdist

_SKIP_DIRS = {".git", ".tox", ".venv", "venv", "node_modules", "build", "dist", "__pycache__"}


@dataclass(frozen=True)
class Function:
    id: str
    code: str  # dedented, docstring removed
    summary: str  # first docstring sentence, "" when undocumented


def first_sentence(docstring: str) -> str:
    """The docstring's first sentence, on one line."""
    paragraph = inspect.cleandoc(docstring).split("\n\n", 1)[0]
    flat = " ".join(paragraph.split())
    match = re.match(r"(.+?[.!?])(\s|$)", flat)
    return (match.group(1) if match else flat).strip()


def _docstring_node(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    return None


def _function_code(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Source of the function (decorators included) without its docstring; None if empty."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    end = node.end_lineno or node.lineno
    doc = _docstring_node(node)
    if doc is not None and len(node.body) == 1:
        return None  # a stub: nothing left to find once the docstring is gone
    kept = [
        line
        for number, line in enumerate(lines[start:end], start=start + 1)
        if doc is None or not (doc.lineno <= number <= (doc.end_lineno or doc.lineno))
    ]
    return textwrap.dedent("\n".join(kept)).strip("\n")


def _walk(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, function node) for functions and methods, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef):
            yield from _walk(node, f"{prefix}{node.name}.")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _walk(node, f"{prefix}{node.name}.")


def functions_of(path: Path, rel: str) -> list[Function]:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []  # Python 2 files, templates and the like are not part of the set
    lines = source.splitlines()
    found: list[Function] = []
    for name, node in _walk(tree):
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        code = _function_code(lines, node)
        if code is None:
            continue
        doc = ast.get_docstring(node, clean=True)
        summary = first_sentence(doc) if doc else ""
        found.append(Function(f"{rel}::{name}", code, summary))
    return found


def build_from_folder(folder: Path, name: str) -> BeirSet:
    corpus: dict[str, str] = {}
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder).as_posix()
        if _SKIP_DIRS & set(path.relative_to(folder).parts):
            continue
        for function in functions_of(path, rel):
            doc_id = function.id
            suffix = 2
            while doc_id in corpus:  # property setters, overloads, conditional definitions
                doc_id = f"{function.id}#{suffix}"
                suffix += 1
            corpus[doc_id] = function.code
            if len(function.summary.split()) >= MIN_QUERY_WORDS:
                queries.append(Query(f"q:{doc_id}", function.summary))
                qrels[f"q:{doc_id}"] = {doc_id: 1}
    if not queries:
        raise ValueError(f"no documented Python functions under {folder}")
    return BeirSet(name, corpus, queries, qrels)


def build_from_pypi(requirement: str, name: str) -> BeirSet:
    with tempfile.TemporaryDirectory(prefix="nearcode-bench-") as tmp:
        return build_from_folder(download_sdist(requirement, Path(tmp)), name)
