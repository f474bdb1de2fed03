"""The direct supertypes a class header names, as data per language.

Find Similar on a class ranks the classes it names as its own supertypes after the other
classes like it (searcher), and the class benchmark sets group classes by them
(bench/classsets.py): one reading of a header for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SupertypeRule:
    """Where a language's class header names its direct supertypes."""

    clauses: re.Pattern  # each match's groups hold comma-separated supertypes
    type_arguments: re.Pattern  # removed first, innermost out: `Base[T]`, `Tag<T>`
    ignored: frozenset[str]  # supertypes every class has, or that say nothing of its kind


ANGLE_ARGUMENTS = re.compile(r"<[^<>]*>")
_EXTENDS_IMPLEMENTS = re.compile(
    r"\bextends\s+(.+?)(?=\s+implements\b|\s*\{|$)|\bimplements\s+(.+?)(?=\s*\{|$)"
)
SUPERTYPE_RULES: dict[str, SupertypeRule] = {
    "python": SupertypeRule(
        re.compile(r"^class\s+\w+\s*\((.*)\)\s*:?\s*$"),
        re.compile(r"\[[^\[\]]*\]"),
        frozenset({"object", "Generic", "typing.Generic"}),
    ),
    "java": SupertypeRule(
        _EXTENDS_IMPLEMENTS, ANGLE_ARGUMENTS, frozenset({"Object", "Serializable", "Cloneable"})
    ),
    "typescript": SupertypeRule(_EXTENDS_IMPLEMENTS, ANGLE_ARGUMENTS, frozenset()),
    "javascript": SupertypeRule(_EXTENDS_IMPLEMENTS, ANGLE_ARGUMENTS, frozenset()),
}


def supertypes(signature: str, language: str) -> frozenset[str]:
    """The direct supertypes a class header names, type arguments and keywords aside:
    `class A(Base[T], metaclass=M):` -> {Base}; `class S<T> extends Tag<T> implements
    Cloneable, Comparable<S>` -> {Tag, Comparable}."""
    rule = SUPERTYPE_RULES.get(language)
    if rule is None:
        return frozenset()
    text = without_type_arguments(rule.type_arguments, signature.strip())
    found = set()
    for match in rule.clauses.finditer(text):
        for clause in filter(None, match.groups()):
            for name in clause.split(","):
                name = name.strip()
                if re.fullmatch(r"[\w$.]+", name) and name not in rule.ignored:
                    found.add(name)
    return frozenset(found)


def without_type_arguments(arguments: re.Pattern, text: str) -> str:
    """The text with its type arguments removed, innermost out (`A<B<C>>` -> `A`)."""
    previous = None
    while text != previous:
        previous, text = text, arguments.sub("", text)
    return text
