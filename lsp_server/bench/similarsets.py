"""Find-similar sets: other implementations of a definition, in a whole, untouched tree.

"Find similar code" is asked of a definition in the user's own tree, and what it should find
there first is the code that does the same thing: the async twin of a sync method, the other
implementations of a trait or interface method, an overload, the module-level wrapper of a
client method. This builds that question from a real tree without anyone labelling it: the
definitions that share a name in the code (not tests, examples or generated files), the name
held by two to five of them (a name that many hold, like `next` or `fmt`, says little), and
not all alike. Each is asked as Find Similar at its first line; the others are the targets.

Constructors are left out (two classes' constructors are not alike), and so are definitions
of fewer than `_MIN_LINES` lines (one-line delegations) and methods without a body (an
interface's or an abstract one, however long their doc: Find Similar never answers with
them, ranking.is_declaration).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..engine.chunker import chunk_text, split_lines
from ..engine.languages import file_role
from ..engine.ranking import is_declaration
from ..engine.tokens import code_tokens
from .docrules import NOT_SAMPLED, RULES
from .inplace import (
    DEFAULT_SAMPLE,
    component_languages,
    copy_into_set,
    source_files,
    write_set,
)
from .treeset import ASK_SIMILAR, Question, Target

_MIN_LINES = 4
_MIN_SIGNATURE_OVERLAP = 0.5  # Jaccard of the signatures' words, the name's words aside
_MAX_SHARING = 5  # a name held by more definitions than this is a convention, not a likeness
_CONSTRUCTORS = frozenset({"__init__", "__new__", "constructor", "new", "New", "init"})
_DEFINITIONS = frozenset({"function", "method"})
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Definition:
    path: str
    language: str
    symbol: str
    rows: tuple[int, int]  # 0-based, inclusive: the whole definition with its doc
    signature: str
    body: str  # the whole definition without whitespace: tells copies apart

    @property
    def first_line(self) -> str:
        """The signature's first line, shown as the question's text."""
        lines = self.signature.strip().splitlines()
        return lines[0].strip() if lines else self.symbol

    @property
    def name(self) -> str:
        """The last part of the qualified name: `Client.send`, `Mux::get` -> send, get."""
        return re.split(r"\.|::", self.symbol)[-1]

    def contract(self) -> frozenset[str]:
        """The words of its signature but its qualified name's (Go's receiver, a class):
        parameters, types, modifiers; one-letter words (receivers, type variables) aside."""
        words = frozenset(w for w in code_tokens(self.signature) if len(w) > 1)
        return words - frozenset(code_tokens(self.symbol))

    def shares_contract(self, other: Definition) -> bool:
        mine, theirs = self.contract(), other.contract()
        if not mine and not theirs:
            return True  # both take nothing: `def close(self)` is `close()`
        return len(mine & theirs) >= _MIN_SIGNATURE_OVERLAP * len(mine | theirs)


def definitions_in(text: str, language: str, path: str) -> list[Definition]:
    """Whole functions and methods of one file (parts of a split one counted once), as the
    engine chunks them."""
    found = []
    lines = split_lines(text)
    for chunk in chunk_text(path, text, language):
        if chunk.kind not in _DEFINITIONS or chunk.part > 1 or not chunk.symbol:
            continue
        rows = (chunk.unit_start_line, chunk.unit_end_line)
        if rows[1] - rows[0] + 1 < _MIN_LINES or is_declaration(chunk):
            continue
        signature = chunk.signature or chunk.text.splitlines()[0]
        body = _SPACE.sub("", "".join(lines[rows[0] : rows[1] + 1]))
        found.append(Definition(path, language, chunk.symbol, rows, signature, body))
    return found


# The languages whose definitions the Find Similar and name sets ask about: those with doc
# rules, and the Vue and Svelte components whose `<script>` is written in one of them.
SOURCE_LANGUAGES = frozenset(RULES) | component_languages()


def implementation_sources(
    tree: Path, files: Counter, languages: set[str]
) -> Iterator[tuple[str, str, str]]:
    """(path, language, text) of the files the engine would index in `languages`, in
    implementation code only: file role `code`, nothing under test, example or vendored
    folders. Every indexed file is counted per language into `files`."""
    for item, data in source_files(tree, files, languages):
        if not NOT_SAMPLED.search(item.path) and file_role(item.path) == "code":
            yield item.path, item.language, data.decode("utf-8")


def scan_definitions(tree: Path) -> tuple[list[Definition], Counter]:
    """Definitions of every file the engine would index, in implementation code only."""
    found: list[Definition] = []
    files: Counter = Counter()
    for path, language, text in implementation_sources(tree, files, set(SOURCE_LANGUAGES)):
        found += definitions_in(text, language, path)
    return found, files


def sharing_groups(definitions: list[Definition]) -> list[list[Definition]]:
    """Definitions that share a name, two to five to a name, not all of the same text."""
    by_name: dict[str, list[Definition]] = defaultdict(list)
    for definition in definitions:
        if definition.name not in _CONSTRUCTORS:
            by_name[definition.name].append(definition)
    return [
        group
        for name, group in sorted(by_name.items())
        if 2 <= len(group) <= _MAX_SHARING and len({d.body for d in group}) > 1
    ]


def askable(groups: list[list[Definition]]) -> list[tuple[Definition, list[Definition]]]:
    """Each definition of a group that shares its contract with others, and those others."""
    found = []
    for group in groups:
        for definition in group:
            others = [d for d in group if d is not definition and definition.shares_contract(d)]
            if others:
                found.append((definition, others))
    return found


def similar_questions(
    eligible: list[tuple[Definition, list[Definition]]], sample: int, seed: int
) -> list[Question]:
    """A seeded sample of the eligible definitions, each asked once, its others the targets."""
    chosen = random.Random(seed).sample(eligible, min(sample, len(eligible)))
    questions = []
    for definition, others in sorted(chosen, key=lambda pair: (pair[0].path, pair[0].rows)):
        question = find_similar_question(
            (definition.path, definition.rows),
            definition.first_line,
            [(d.path, d.rows) for d in others],
            symbol=definition.symbol,
            language=definition.language,
        )
        questions.append(question)
    return questions


def find_similar_question(
    place: tuple[str, tuple[int, int]],
    label: str,
    others: list[tuple[str, tuple[int, int]]],
    **extra: object,
) -> Question:
    """Find Similar asked at the first line of a place (path, 0-based rows), the others'
    lines the targets; `label` is the question's text."""
    path, rows = place
    line = rows[0] + 1
    targets = tuple(Target(where, first + 1, last + 1) for where, (first, last) in others)
    fields = {"ask": ASK_SIMILAR, "at": {"path": path, "line": line}, **extra}
    return Question(f"{path}:{line}", label, targets, fields)


def build_similar_set(
    source: Path, out: Path, *, sample: int = DEFAULT_SAMPLE, seed: int = 0, meta: dict
) -> int:
    """Copies `source` to OUT/tree unchanged and writes its find-similar questions."""
    definitions, files = scan_definitions(copy_into_set(source, out))
    groups = sharing_groups(definitions)
    eligible = askable(groups)
    questions = similar_questions(eligible, sample, seed)
    if not questions:
        raise ValueError(f"no definitions under {source} share a name and signature")
    write_set(
        out,
        questions,
        {**meta, "queries": "similar"},
        files=files,
        seed=seed,
        sample=sample,
        definitions=len(definitions),
        sharing_groups=len(groups),
        eligible=len(eligible),
    )
    return len(questions)
