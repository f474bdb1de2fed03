"""Documented definitions of a source tree, in every language the chunker parses.

Python goes through the benchmark's own ast extraction (lsp_server.bench.buildset), so
training and the CodeSearchNet-style sets cut functions and docstrings the same way. Other
languages go through the engine's tree-sitter chunker, whose definition chunks carry their
leading comments; `split_leading_doc` is the one place that tells the doc comment from code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..bench.buildset import first_sentence, functions_of
from ..engine.chunker import chunk_text
from ..engine.languages import TREE_SITTER_LANGUAGES, detect_language
from ..engine.settings import EngineSettings

# Folders that hold builds, copies, fixtures or tests rather than the project's own code.
SKIP_DIRS = frozenset(
    {
        ".git", ".tox", ".venv", "venv", "node_modules", "build", "dist", "__pycache__",
        "test", "tests", "testing", "spec", "__tests__", "fixtures", "examples", "benchmarks",
        "locale", "locales", "vendor", "third_party", "benches",
    }
)  # fmt: skip
# npm packages ship compiled copies (dist/, esm5/...): mine their sources when they have them.
_NPM_SOURCE_DIRS = ("src", "lib")
_MAX_FILE_BYTES = 400_000
_DEFINITION_KINDS = frozenset({"function", "method"})


@dataclass(frozen=True)
class Definition:
    path: str  # relative to the package tree, without the archive's top folder
    name: str  # qualified name ("Parser.parse")
    language: str
    code: str  # the definition without its documentation
    doc: str  # first sentence of its documentation, "" when undocumented
    is_async: bool = False


def source_roots(tree: Path, registry: str) -> list[Path]:
    """The folders of a package tree that hold its own code."""
    if registry == "npm":
        package = tree / "package" if (tree / "package").is_dir() else tree
        for name in _NPM_SOURCE_DIRS:
            if (package / name).is_dir():
                return [package / name]
        return [package]
    return [tree]  # Debian packages: the fetcher gives the folder of the sources already


def _files(root: Path) -> Iterator[tuple[Path, str, str]]:
    """(file, path relative to root without its first folder, language) of parseable files."""
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if SKIP_DIRS & {part.lower() for part in rel_parts[:-1]} or not path.is_file():
            continue
        name = path.name.lower()
        if name.endswith((".d.ts", ".min.js")) or name.startswith("test_") or "_test." in name:
            continue
        language = detect_language(path.name)
        if language not in TREE_SITTER_LANGUAGES or path.stat().st_size > _MAX_FILE_BYTES:
            continue
        rel = "/".join(rel_parts[1:]) if len(rel_parts) > 1 else rel_parts[0]
        yield path, rel, language


def definitions(tree: Path, registry: str) -> Iterator[Definition]:
    """Every function and method of a package tree, documented or not."""
    for root in source_roots(tree, registry):
        for path, rel, language in _files(root):
            if language == "python":
                yield from _python_definitions(path, rel)
            else:
                yield from _chunked_definitions(path, rel, language)


def _python_definitions(path: Path, rel: str) -> Iterator[Definition]:
    for function in functions_of(path, rel):
        first = next((line for line in function.code.splitlines() if not line.startswith("@")), "")
        yield Definition(
            rel,
            function.id.split("::", 1)[1],
            "python",
            function.code,
            function.summary,
            first.lstrip().startswith("async "),
        )


def _chunked_definitions(path: Path, rel: str, language: str) -> Iterator[Definition]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for chunk in chunk_text(rel, text, language, max_chars=EngineSettings().chunk_chars):
        if chunk.kind not in _DEFINITION_KINDS or chunk.part > 1 or not chunk.symbol:
            continue
        doc, code = split_leading_doc(_dedent(chunk.text, chunk.start_col))
        if code.count("\n") < 1:
            continue  # one-liners (declarations, re-exports) say too little
        yield Definition(
            rel,
            chunk.symbol,
            language,
            code,
            doc_summary(doc),
            bool(re.match(r"\s*(?:export\s+)?(?:default\s+)?(?:static\s+)?async\b", code)),
        )


# -- doc comments ------------------------------------------------------------------------------

# Comment lines that may open a definition: JSDoc/Javadoc/Doxygen blocks, //, ///, //!, #.
_BLOCK_START = re.compile(r"^\s*/\*")
_LINE_COMMENT = re.compile(r"^\s*(?://|#(?![!\[]))")
_DOC_TAG = re.compile(r"^\s*[@\\]\w+")  # @param, @returns, \brief ...
_COMMENT_MARKS = re.compile(r"^\s*(?:/\*+!?|\*+/|\*(?!/)|///?!?|#+)\s?")


def split_leading_doc(text: str) -> tuple[str, str]:
    """(the comment lines directly above a definition, the definition without them).

    The integrator may point this at the shared per-language extractor of the benchmarks.
    """
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if _BLOCK_START.match(line):
            while index < len(lines) and "*/" not in lines[index]:
                index += 1
            index += 1
        elif _LINE_COMMENT.match(line) or not line.strip():
            index += 1
        else:
            break
    return "\n".join(lines[:index]), "\n".join(lines[index:])


def doc_summary(comment: str) -> str:
    """The first sentence of a doc comment, without comment marks and before any @tag."""
    prose: list[str] = []
    for line in comment.split("\n"):
        line = line.strip()
        if line.endswith("*/"):
            line = line[:-2]
        line = _COMMENT_MARKS.sub("", line, count=1).strip()
        if _DOC_TAG.match(line):
            break
        prose.append(line)
    text = "\n".join(prose).strip()
    return first_sentence(text) if text else ""


def _dedent(text: str, column: int) -> str:
    """A chunk's first line starts at the definition's column, later lines carry the indent."""
    lines = text.split("\n")
    later = [line[min(column, len(line) - len(line.lstrip())) :] for line in lines[1:]]
    return "\n".join([lines[0], *later])
