"""Build an in-place set: the whole tree, with the docs of N sampled definitions removed.

Query = the doc's first sentence (CodeSearchNet rules); target = the definition's lines in
the modified tree. Every other byte of the tree is kept: tests, docs, changelogs, configs and
the documentation of all the definitions that were not sampled.

Definitions are found with tree-sitter, by the per-language tables in `docrules.py`; doc
lines are removed whole (a doc that shares a line with code is not sampled).
"""

from __future__ import annotations

import ast
import json
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib import import_module
from pathlib import Path

from tree_sitter import Language, Node, Parser

from ..engine.languages import GRAMMAR_MODULES, TREE_SITTER_LANGUAGES, file_role
from ..engine.scanner import ScannedFile, Scanner
from .buildset import first_sentence
from .docrules import (
    BOILERPLATE,
    MIN_QUERY_WORDS,
    NEVER_SAMPLED_ROLES,
    NOT_SAMPLED,
    RULES,
    SHORT_ACCESSOR,
    SKIPPED_NAMES,
    DocRules,
)
from .sources import copy_tree
from .treeset import METADATA, QUESTIONS, TREE, Question, Target, write_questions

DEFAULT_SAMPLE = 150
_LONE_CR = re.compile(rb"\r(?!\n)")  # the engine splits lines there, tree-sitter does not


@dataclass(frozen=True)
class Documented:
    """A documented definition in the original tree (rows 0-based, inclusive)."""

    path: str
    language: str
    symbol: str
    query: str  # "" when the doc fails the query rules
    doc_rows: tuple[int, int]
    rows: tuple[int, int]  # the definition: decorators/attributes to its last line
    # The role the file's content gives it (chunker.content_role): "test" for Django's
    # `tests.py`, "generated" for code a tool wrote; "" where its path's role stands.
    content_role: str = ""


@cache
def _parser(language: str) -> Parser:
    module, function = GRAMMAR_MODULES[language]
    return Parser(Language(getattr(import_module(module), function)()))


# -- finding documented definitions ----------------------------------------------------------


def _walk(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.named_children))


def _holds_function(node: Node, rules: DocRules) -> bool:
    level = [node]
    for _ in range(rules.reach):
        level = [child for n in level for child in n.named_children]
        if any(n.type in rules.functions for n in level):
            return True
    return False


def _is_definition(node: Node, rules: DocRules) -> bool:
    if node.type in rules.definitions:
        return True
    return node.type in rules.containers and _holds_function(node, rules)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def _symbol(node: Node) -> str:
    declarator = node.child_by_field_name("declarator")  # C and C++: `static int *name(...)`
    while declarator is not None and declarator.child_by_field_name("declarator") is not None:
        declarator = declarator.child_by_field_name("declarator")
    if declarator is not None:
        return _text(declarator)
    for field_name in ("name", "left", "key"):
        named = node.child_by_field_name(field_name)
        if named is not None:
            return _text(named)
    if not node.named_children:
        return _text(node)
    first = node.named_children[0]
    return _symbol(first) if first.type != "comment" else ""


def _last_row(node: Node) -> int:
    """The last row with text: an end at column 0 (a comment with its newline) is the row before."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _whole_lines(lines: list[bytes], start: Node, end: Node) -> bool:
    """True when nothing but white space shares the rows of start..end."""
    first = lines[start.start_point.row]
    before = first[: start.start_point.column]
    last_row = _last_row(end)
    after = lines[last_row][end.end_point.column :] if last_row == end.end_point.row else b""
    return not before.strip() and not after.strip()


def _in_test_module(node: Node, rules: DocRules) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "mod_item" and _text(parent.child_by_field_name("name")) in (
            rules.test_modules
        ):
            return True
        parent = parent.parent
    return False


def _comment_marker(text: str, rules: DocRules) -> str:
    """The doc opener this comment starts with ("" when it is not a doc comment)."""
    if text.startswith(rules.not_markers):
        return ""
    for marker in (*rules.block_markers, *rules.line_markers):
        if text.startswith(marker):
            return marker
    return ""


def _doc_comments(outer: Node, rules: DocRules) -> tuple[list[Node], Node]:
    """The doc comment nodes right above `outer`, and the first node of the definition."""
    first = outer
    node = outer.prev_named_sibling
    if node is None and outer.parent is not None and outer.parent.type in rules.hoisted_bodies:
        node = outer.parent.prev_named_sibling
    while node is not None and node.type in rules.between and _adjacent(node, first):
        first, node = node, node.prev_named_sibling
    docs: list[Node] = []
    below = first  # the node under `node`: a doc line, a doc attribute or the definition
    while node is not None:
        if docs and _doc_attribute(node, rules) and _adjacent(node, below):
            below, node = node, node.prev_named_sibling  # the doc goes on above it
            continue
        marker = _comment_marker(_text(node), rules) if node.type in rules.comments else ""
        if not marker:
            break
        if marker in rules.block_markers:
            if not docs and _adjacent(node, first, rules.block_gap):
                docs.append(node)
            break
        if not _adjacent(node, below):
            break
        docs.insert(0, node)
        below, node = node, node.prev_named_sibling
    return docs, first


def _doc_attribute(node: Node, rules: DocRules) -> bool:
    pattern = rules.doc_attribute
    return pattern is not None and node.type in rules.between and bool(pattern.match(_text(node)))


def _adjacent(above: Node, below: Node, gap: int = 0) -> bool:
    return _last_row(above) + 1 + gap >= below.start_point.row


def _clean_comment(raw: str, rules: DocRules) -> str:
    """Comment text without its markers, as lines."""
    out = []
    for line in raw.splitlines():
        text = line.strip()
        for marker in (*rules.block_markers, *rules.line_markers):
            if text.startswith(marker):
                text = text[len(marker) :]
                break
        text = text.removesuffix("*/").strip()
        if rules.block_markers:  # a block's stars (` * text`, Lua's `** text`), not bold
            text = _BLOCK_STARS.sub("", text, count=1).strip()
        out.append(text)
    return "\n".join(out)


_BLOCK_STARS = re.compile(r"^\*+(?=\s|$)")
_BRIEF = re.compile(r"^\s*[@\\]brief\s+")
_DOXYGEN_MARKUP = re.compile(r"\\(?:end)?rst\b")  # fmt's `\rst ... \endrst` blocks
_INLINE_TAG = re.compile(r"\{@\w+\s+([^}\s]+)(?:\s+([^}]*))?\}")  # {@link Foo label}
# C#'s `<see cref="M:Ns.Type.ToManaged(System.Object)"/>`, `<paramref name="value"/>`: the name.
_XML_REF = re.compile(r'<(?:see|seealso|paramref|typeparamref)\s+\w+="(?:\w:)?([^"(]*)[^"]*"\s*/>')
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MD_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])?")  # [text](url), [`Name`]


def description(text: str) -> str:
    """The prose before the first tag line (@param, @returns, ...), with inline markup removed."""
    lines: list[str] = []
    for line in text.splitlines():
        line = _BRIEF.sub("", line)  # Doxygen's `@brief Parses ...` is the prose itself
        if line.lstrip().startswith("@"):
            break
        lines.append(line)
    prose = _DOXYGEN_MARKUP.sub("", "\n".join(lines))
    prose = _INLINE_TAG.sub(lambda m: m.group(2) or m.group(1).split("#")[-1], prose)
    prose = _XML_REF.sub(lambda m: m.group(1).rsplit(".", 1)[-1], prose)
    prose = _MD_LINK.sub(r"\1", _HTML_TAG.sub("", prose))
    return prose.strip()


def query_of(doc: str, symbol: str) -> str:
    """The doc's first sentence, or "" when CodeSearchNet-style rules reject it."""
    sentence = first_sentence(description(doc)) if doc.strip() else ""
    name = symbol.rsplit(".", 1)[-1]
    if len(sentence.split()) < MIN_QUERY_WORDS or SKIPPED_NAMES.match(name):
        return ""
    if BOILERPLATE.match(sentence) or SHORT_ACCESSOR.match(sentence):
        return ""
    return sentence


def _docstring(function: Node) -> Node | None:
    body = function.child_by_field_name("body")
    statements = [n for n in body.named_children if n.type != "comment"] if body else []
    if len(statements) < 2:  # no docstring, or nothing left without it (a stub)
        return None
    first = statements[0]
    if first.type == "expression_statement" and [c.type for c in first.named_children] == [
        "string"
    ]:
        return first
    return None


def _python_doc(node: Node, lines: list[bytes]) -> tuple[str, Node, Node] | None:
    doc = _docstring(node)
    if doc is None:
        return None
    try:
        text = ast.literal_eval(_text(doc))
    except (ValueError, SyntaxError):
        return None  # f-strings, bytes, concatenations: not a plain docstring
    if not isinstance(text, str) or not _whole_lines(lines, doc, doc):
        return None
    return text, doc, doc


def _outer(node: Node, rules: DocRules) -> Node:
    while node.parent is not None and node.parent.type in rules.wrappers:
        node = node.parent
    return node


def documented_in(data: bytes, language: str, path: str) -> list[Documented]:
    """Every definition of one file that has a removable doc."""
    rules = RULES[language]
    tree = _parser(language).parse(data)
    lines = data.split(b"\n")
    found: list[Documented] = []
    for node in _walk(tree.root_node):
        if not _is_definition(node, rules) or _in_test_module(node, rules):
            continue
        outer = _outer(node, rules)
        symbol = _symbol(node)
        if rules.style == "docstring":
            doc = _python_doc(node, lines)
            if doc is None:
                continue
            text, doc_first, doc_last = doc
            first = outer
        else:
            comments, first = _doc_comments(outer, rules)
            if not comments:
                continue
            raw = "\n".join(_text(c).rstrip("\r\n") for c in comments)
            if any(line.strip().startswith(rules.directives) for line in raw.splitlines()):
                continue
            doc_first, doc_last = comments[0], comments[-1]
            if not _whole_lines(lines, doc_first, doc_last):
                continue
            text = _clean_comment(raw, rules)
        found.append(
            Documented(
                path,
                language,
                symbol,
                query_of(text, symbol),
                (doc_first.start_point.row, _last_row(doc_last)),
                (first.start_point.row, _last_row(outer)),
            )
        )
    return found


# -- building the set ------------------------------------------------------------------------


def _readable(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _LONE_CR.search(data)


def component_languages() -> frozenset[str]:
    """The Vue and Svelte components the engine chunks by their `<script>` (none for a
    baseline revision's engine from before them)."""
    from ..engine import languages

    return getattr(languages, "COMPONENT_LANGUAGES", frozenset())


def source_files(
    tree: Path, files: Counter, languages: set[str]
) -> Iterator[tuple[ScannedFile, bytes]]:
    """The files in `languages` that the engine would index, with their bytes (links and
    files that are not UTF-8 left out), each labelled with the language the engine parses
    it as (a `.h` file holding C++ is C++); every indexed file is counted per language
    into `files`, only the files the engine parses are read."""
    # Imported here: a baseline revision's engine (bench/baseline.py) may predate it.
    from ..engine.chunker import grammar_language

    readable = TREE_SITTER_LANGUAGES | component_languages()
    for item in Scanner(tree).scan():
        if not isinstance(item, ScannedFile):
            continue
        if item.language not in readable:
            files[item.language] += 1
            continue
        data = b"" if item.abs_path.is_symlink() else item.abs_path.read_bytes()
        if not data or not _readable(data):
            files[item.language] += 1
            continue
        item = replace(item, language=grammar_language(item.language, data.decode("utf-8")))
        files[item.language] += 1
        if item.language in languages:
            yield item, data


def scan_documented(tree: Path) -> tuple[list[Documented], Counter]:
    """Documented definitions of every file the engine would index; counts per language."""
    # Imported here: a baseline revision's engine (bench/baseline.py) may predate it.
    from ..engine.chunker import chunk_text, content_role

    found: list[Documented] = []
    files: Counter = Counter()
    for item, data in source_files(tree, files, set(RULES)):
        documented = documented_in(data, item.language, item.path)
        if documented:
            text = data.decode("utf-8")
            chunks = chunk_text(item.path, text, item.language)
            role = content_role(file_role(item.path), text, item.language, chunks)
            found += [replace(d, content_role=role) for d in documented] if role else documented
    return found, files


def eligible(found: list[Documented]) -> list[Documented]:
    """Sampling candidates: a query, outside tests and vendored or generated code (by path,
    and as the engine's file roles read them: KeePass's `*.Generated.cs` resource files hold
    899 of its 1,235 otherwise eligible docs; by content too: Django's `tests.py`, code a
    tool marks as its output), a sentence no other doc has."""
    sentences = Counter(d.query.lower() for d in found if d.query)
    return [
        d
        for d in found
        if d.query
        and sentences[d.query.lower()] == 1
        and not NOT_SAMPLED.search(d.path)
        and file_role(d.path) not in NEVER_SAMPLED_ROLES
        and not d.content_role
    ]


def _new_row(row: int, removed: list[tuple[int, int]]) -> int:
    return row - sum(end - start + 1 for start, end in removed if end < row)


def remove_docs(tree: Path, chosen: list[Documented]) -> list[Question]:
    """Deletes the chosen docs' lines in place; returns the questions with mapped targets."""
    by_file: dict[str, list[Documented]] = {}
    for item in chosen:
        by_file.setdefault(item.path, []).append(item)
    questions: list[Question] = []
    for path, items in sorted(by_file.items()):
        file = tree / path
        lines = file.read_bytes().split(b"\n")
        removed = sorted(item.doc_rows for item in items)
        gone = {row for start, end in removed for row in range(start, end + 1)}
        file.write_bytes(b"\n".join(line for row, line in enumerate(lines) if row not in gone))
        for item in sorted(items, key=lambda d: d.rows):
            start, end = (_new_row(row, removed) + 1 for row in item.rows)
            extra = {
                "symbol": item.symbol,
                "language": item.language,
                "removed": {"start": item.doc_rows[0] + 1, "end": item.doc_rows[1] + 1},
            }
            question_id = f"{path}:{start}"
            questions.append(Question(question_id, item.query, (Target(path, start, end),), extra))
    return questions


@dataclass
class BuiltSet:
    questions: int
    meta: dict


def copy_into_set(source: Path, out: Path) -> Path:
    """OUT emptied (only when it is a set folder already) with a copy of `source` in it;
    returns the copy."""
    if out.exists():
        if any(out.iterdir()) and not (out / METADATA).is_file():
            raise ValueError(f"{out} exists and is not a set folder: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_tree(source, out / TREE)
    return out / TREE


def write_set(
    out: Path,
    questions: list[Question],
    meta: dict,
    *,
    files: Counter,
    seed: int,
    sample: int,
    **counts: int,
) -> dict:
    """The questions and set.json (what was built, from what, and the counts) into OUT."""
    languages = Counter(str(q.extra.get("language")) for q in questions)
    meta = {
        **meta,
        "layout": "in-place",
        "tree": TREE,
        "language": languages.most_common(1)[0][0],
        "seed": seed,
        "sample": sample,
        "counts": {
            "files": sum(files.values()),
            "files_per_language": dict(files.most_common()),
            **counts,
            "questions": len(questions),
            "questions_per_language": dict(languages.most_common()),
        },
    }
    write_questions(out / QUESTIONS, questions)
    (out / METADATA).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def build_in_place(
    source: Path, out: Path, *, sample: int = DEFAULT_SAMPLE, seed: int = 0, meta: dict
) -> BuiltSet:
    """Copies `source` to OUT/tree, removes the sampled docs there, writes the questions."""
    tree = copy_into_set(source, out)
    found, files = scan_documented(tree)
    candidates = eligible(found)
    if not candidates:
        raise ValueError(f"no documented definitions to sample under {source}")
    chosen = random.Random(seed).sample(candidates, min(sample, len(candidates)))
    questions = remove_docs(tree, chosen)
    meta = write_set(
        out,
        questions,
        meta,
        files=files,
        seed=seed,
        sample=sample,
        documented_definitions=len(found),
        with_query=sum(1 for d in found if d.query),
        eligible=len(candidates),
    )
    return BuiltSet(len(questions), meta)
