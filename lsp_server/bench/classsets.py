"""Class sets: Find Similar asked on a class, its siblings (the same direct supertype) to find.

With the cursor on a class, what a user wants first is the other classes of its kind: the
other transports of a `BaseTransport`, the other `Node`s of a parser. The truth needs no
labelling where the language writes the kind down in the class's header: Python's bases,
and the `extends`/`implements` clauses of Java, TypeScript and JavaScript. Classes that
share a direct supertype with two to eight classes in all (a supertype that more share,
like `Exception` in a large tree, says little) are asked as Find Similar on their header
line; the other classes of that supertype are the targets, each the whole class (header to
last member), as the engine ranges a class result.

Rust writes a type's kind apart from it, as `impl Trait for Type`: those impls, anywhere in
the tree, give the supertypes of the type of that name (when the tree defines one type of
it), and a Rust target is the type's own lines (struct or enum), where a class result for
it points when other code lies between it and its impls. Go types satisfy interfaces
implicitly, with no name for it to group by: Go has no class sets.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from ..engine.chunker import chunk_text
from ..engine.chunks import Chunk
from ..engine.supertypes import (
    ANGLE_ARGUMENTS,
    SUPERTYPE_RULES,
    supertypes,
    without_type_arguments,
)
from .inplace import DEFAULT_SAMPLE, copy_into_set, write_set
from .similarsets import find_similar_question, implementation_sources
from .treeset import Question

_MIN_SHARING, _MAX_SHARING = 2, 8
_MIN_LINES = 4  # a class of fewer lines (a marker, an empty subclass) has little to be like


@dataclass(frozen=True)
class ClassDefinition:
    path: str
    language: str
    symbol: str
    rows: tuple[int, int]  # 0-based, inclusive: header to the end of its last member
    header: str  # its signature (`class A(Base):`), shown as the question's text
    bases: frozenset[str]


# `impl<T: Bound> path::Trait<X> for Type<T>` once type arguments are removed; a negative
# impl (`impl !Send for T`) says what the type is not.
_TRAIT_IMPL = re.compile(r"^(?:unsafe\s+)?impl\s+(?P<trait>[\w:]+)\s+for\s")
_RUST_TYPE = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|union)\b")
# Traits most types implement, or that convert between types: they say nothing of a kind.
_RUST_IGNORED = frozenset({
    "Debug", "Clone", "Copy", "Default", "PartialEq", "Eq", "Hash", "PartialOrd", "Ord",
    "Send", "Sync", "Drop", "From", "Into", "TryFrom", "AsRef", "AsMut", "Borrow",
    "BorrowMut", "Deref", "DerefMut",
})  # fmt: skip


def classes_in(chunks: list[Chunk], language: str) -> list[ClassDefinition]:
    """The classes among one file's chunks, each ranged header to last member (a Rust type:
    its own lines), with the supertypes its header names (none for Rust: see
    `trait_impls_in`)."""
    found = []
    for header in chunks:
        if header.kind != "class" or header.part > 1:
            continue
        if language == "rust" and not _RUST_TYPE.match(header.signature):
            continue  # an impl or a trait: not a type
        members = [c for c in chunks if c.is_member_of(header.symbol)]
        end = max([header.end_line, *(c.end_line for c in members)])
        if not members or end - header.start_line + 1 < _MIN_LINES:
            continue
        rows = (header.start_line, header.end_line if language == "rust" else end)
        bases = supertypes(header.signature, language)
        label = header.signature or header.symbol
        found.append(ClassDefinition(header.path, language, header.symbol, rows, label, bases))
    return found


def trait_impls_in(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """(type, trait) for each `impl Trait for Type` among a Rust file's chunks, the trait by
    its last name (`fmt::Display` -> Display), common traits aside."""
    found = []
    for chunk in chunks:
        if chunk.kind != "class":
            continue
        matched = _TRAIT_IMPL.match(without_type_arguments(ANGLE_ARGUMENTS, chunk.signature))
        trait = matched["trait"].rsplit("::", 1)[-1] if matched else ""
        if trait and trait not in _RUST_IGNORED:
            found.append((chunk.symbol, trait))
    return found


def scan_classes(tree: Path) -> tuple[list[ClassDefinition], Counter]:
    """Classes of every file the engine would index, in implementation code only, that
    name a supertype (a Rust type: that a trait is implemented for)."""
    found: list[ClassDefinition] = []
    traits: dict[str, set[str]] = defaultdict(set)
    files: Counter = Counter()
    for path, language, text in implementation_sources(tree, files, {*SUPERTYPE_RULES, "rust"}):
        chunks = chunk_text(path, text, language)
        found += classes_in(chunks, language)
        if language == "rust":
            for type_name, trait in trait_impls_in(chunks):
                traits[type_name].add(trait)
    rust_names = Counter(c.symbol for c in found if c.language == "rust")
    found = [
        replace(c, bases=frozenset(traits[c.symbol]))
        if c.language == "rust" and rust_names[c.symbol] == 1
        else c
        for c in found
    ]
    return [c for c in found if c.bases], files


def sibling_groups(classes: list[ClassDefinition]) -> dict[str, list[ClassDefinition]]:
    """Classes by a direct supertype that two to eight of them share."""
    by_base: dict[str, list[ClassDefinition]] = defaultdict(list)
    for definition in classes:
        for base in definition.bases:
            by_base[base].append(definition)
    return {
        base: group
        for base, group in sorted(by_base.items())
        if _MIN_SHARING <= len(group) <= _MAX_SHARING
    }


def askable(
    groups: dict[str, list[ClassDefinition]],
) -> list[tuple[ClassDefinition, list[ClassDefinition]]]:
    """Each class of a group with its siblings from every group it is in."""
    siblings: dict[ClassDefinition, dict[ClassDefinition, None]] = defaultdict(dict)
    for group in groups.values():
        for definition in group:
            for other in group:
                if other != definition:
                    siblings[definition][other] = None
    return [(definition, list(others)) for definition, others in siblings.items()]


def class_questions(
    eligible: list[tuple[ClassDefinition, list[ClassDefinition]]], sample: int, seed: int
) -> list[Question]:
    """A seeded sample of the eligible classes, each asked once, its siblings the targets."""
    ordered = sorted(eligible, key=lambda pair: (pair[0].path, pair[0].rows))
    chosen = random.Random(seed).sample(ordered, min(sample, len(ordered)))
    questions = []
    for definition, others in sorted(chosen, key=lambda pair: (pair[0].path, pair[0].rows)):
        question = find_similar_question(
            (definition.path, definition.rows),
            definition.header,
            [(d.path, d.rows) for d in others],
            symbol=definition.symbol,
            language=definition.language,
            bases=sorted(definition.bases),
        )
        questions.append(question)
    return questions


def build_class_set(
    source: Path, out: Path, *, sample: int = DEFAULT_SAMPLE, seed: int = 0, meta: dict
) -> int:
    """Copies `source` to OUT/tree unchanged and writes its class questions."""
    classes, files = scan_classes(copy_into_set(source, out))
    groups = sibling_groups(classes)
    eligible = askable(groups)
    questions = class_questions(eligible, sample, seed)
    if not questions:
        raise ValueError(
            f"no classes under {source} share a direct supertype with 1-{_MAX_SHARING - 1} "
            f"others (class sets read {', '.join(sorted({*SUPERTYPE_RULES, 'rust'}))})"
        )
    write_set(
        out,
        questions,
        {**meta, "queries": "classes"},
        files=files,
        seed=seed,
        sample=sample,
        classes=len(classes),
        sibling_groups=len(groups),
        eligible=len(eligible),
    )
    return len(questions)
