"""Error-message sets: the messages a tree's code raises, asked as selections.

"Search by selection" is meant for a pasted error message as much as for code. This builds
that question from a whole, untouched tree: for each `raise`/`throw`/`panic!`/`errors.New`
site whose message is a string literal, the query is the message as a user would see it
(the exception's name and the message with its placeholders filled, e.g.
`ValueError: unknown scheme 'config.yaml'`), and the target is the raising statement: a result
holding it is a hit. A message raised from several places has them all as targets.

What each language's raise sites look like is data (`ERROR_RULES`); the scan is one regex
pass per file, so sites whose message is not a literal (a variable, a call) are not asked.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..engine.languages import file_role
from .docrules import NOT_SAMPLED
from .inplace import DEFAULT_SAMPLE, copy_into_set, source_files, write_set
from .treeset import ASK_SELECTION, Question, Target

_MIN_WORDS = 3  # words of two letters or more in the message's literal text
_MAX_SITES = 5  # a message raised from more places than this says little about where
# What placeholders show: a message is pasted with the values it was raised with, which the
# code does not hold. Each site draws its own from these (seeded by its place in the tree).
_VALUES = (
    "'config.yaml'",
    "42",
    "'utf-8'",
    "None",
    "'https://example.com/api/v1/items?page=2'",
    "3.5",
    "'user_id'",
    "<Response [404]>",
    "[1, 2, 3]",
    "'GET'",
    "'/home/me/project/data.json'",
    "0",
)

# One string literal: "..." or '...' (escapes allowed, no line breaks), or a JS template.
_STRING = r"""(?:"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)"""


@dataclass(frozen=True)
class ErrorRule:
    """How one language raises with a message.

    `site` matches up to the opening parenthesis; group "name" (optional) is the error's
    type, shown before the message as the runtime prints it. `placeholders` matches the
    formatting holes of the message's literal, `prefixes` the literal's prefix letters.
    """

    site: re.Pattern[str]
    placeholders: re.Pattern[str]
    prefixes: str = ""
    shows_name: bool = True

    @cached_property
    def literal(self) -> re.Pattern[str]:
        """The message's first literal, with its prefix letters (group 1: the quoted part)."""
        prefix = f"[{self.prefixes}]{{0,2}}" if self.prefixes else ""
        return re.compile(f"{prefix}({_STRING})")

    @cached_property
    def holes(self) -> re.Pattern[str]:
        """Placeholders, and the `{}` that stands for a `+` operand (see _message)."""
        return re.compile(f"{self.placeholders.pattern}|\\{{\\}}")


# Formatting flags without the space flag: "100% sure" is text, not a hole.
_PY_HOLES = re.compile(r"\{[^{}]*\}|%[-#0+]*\d*(?:\.\d+)?[sdrfgixo]")
_JS_HOLES = re.compile(r"\$\{[^}]*\}")
_GO_HOLES = re.compile(r"%[-#0+]*\d*(?:\.\d+)?[vsdqwxXTtfegpc]")
_RUST_HOLES = re.compile(r"\{[^{}]*\}")
_JAVA_HOLES = re.compile(r"%[-#0+]*\d*(?:\.\d+)?[sdfxcbn]|\{\}")

_THROW_NEW = re.compile(r"\bthrow\s+new\s+(?P<name>[A-Z]\w*)\s*\(\s*")
ERROR_RULES: dict[str, ErrorRule] = {
    "python": ErrorRule(
        re.compile(r"\braise\s+(?P<name>(?:[A-Za-z_]\w*\.)*[A-Z]\w*)\s*\(\s*"),
        _PY_HOLES,
        "rRfFuUbB",
    ),
    "javascript": ErrorRule(_THROW_NEW, _JS_HOLES),
    "typescript": ErrorRule(_THROW_NEW, _JS_HOLES),
    "java": ErrorRule(_THROW_NEW, _JAVA_HOLES),
    "go": ErrorRule(
        re.compile(r"\b(?:errors\.New|fmt\.Errorf|panic)\s*\(\s*"), _GO_HOLES, shows_name=False
    ),
    "rust": ErrorRule(
        re.compile(r"(?:\bpanic!|\bbail!|\banyhow!|\bunreachable!|\.expect)\s*\(\s*"),
        _RUST_HOLES,
        shows_name=False,
    ),
}

# After the message's first literal: more literals, joined by `+` or (Python) written side by
# side, and non-literal `+` operands, which stand for runtime values.
_JOINED = re.compile(
    r"\s*\+\s*(?:[rRfFuUbB]{0,2}(?P<literal>" + _STRING + r")|(?P<operand>[A-Za-z_][\w.]*))"
    r"|\s+[rRfFuUbB]{0,2}(?P<adjacent>" + _STRING + r")"
)


@dataclass(frozen=True)
class ErrorSite:
    path: str
    language: str
    query: str
    rows: tuple[int, int]  # 0-based, inclusive: the raising statement up to its message
    message: str  # as written, holes unfilled: one message raised from several sites


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": " ", "t": " "}.get(m.group(1), m.group(1)), body)


def _message(
    text: str, start: int, rule: ErrorRule, values: random.Random
) -> tuple[str, str, int] | None:
    """The message's literal text, as shown (holes filled with values) and as written, and
    where it ends."""
    found = rule.literal.match(text, start)
    if found is None:
        return None
    literals = [_unquote(found.group(1))]
    end = found.end()
    while joined := _JOINED.match(text, end):
        literal = joined.group("literal") or joined.group("adjacent")
        literals.append(_unquote(literal) if literal else "{}")
        end = joined.end()
    written = "".join(literals)
    shown = rule.holes.sub(lambda _: values.choice(_VALUES), written)
    return " ".join(shown.split()), written, end


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z]{2,}", text))


def error_sites(text: str, language: str, path: str) -> list[ErrorSite]:
    """The raise sites of one file whose message is a literal of a few words."""
    rule = ERROR_RULES.get(language)
    if rule is None:
        return []
    found: list[ErrorSite] = []
    for match in rule.site.finditer(text):
        values = random.Random(f"{path}:{match.start()}")
        message = _message(text, match.end(), rule, values)
        if message is None:
            continue
        shown, written, end = message
        if _words(rule.holes.sub(" ", written)) < _MIN_WORDS:
            continue
        name = match.groupdict().get("name")
        query = f"{name.rsplit('.', 1)[-1]}: {shown}" if rule.shows_name and name else shown
        rows = (text.count("\n", 0, match.start()), text.count("\n", 0, end))
        found.append(ErrorSite(path, language, query, rows, f"{name}: {written}"))
    return found


def scan_errors(tree: Path) -> tuple[list[ErrorSite], Counter]:
    """Raise sites of every file the engine would index, in implementation code only."""
    found: list[ErrorSite] = []
    files: Counter = Counter()
    for item, data in source_files(tree, files, set(ERROR_RULES)):
        if NOT_SAMPLED.search(item.path):
            continue
        if file_role(item.path) == "code":  # the engine's judgement: not examples, generated
            found += error_sites(data.decode("utf-8"), item.language, item.path)
    return found, files


def error_questions(sites: list[ErrorSite], sample: int, seed: int) -> list[Question]:
    """One question per distinct message (all its sites are targets; the first one's values
    are shown), a seeded sample."""
    by_message: dict[str, list[ErrorSite]] = defaultdict(list)
    for site in sites:
        by_message[site.message].append(site)
    usable = sorted(m for m, where in by_message.items() if len(where) <= _MAX_SITES)
    chosen = sorted(random.Random(seed).sample(usable, min(sample, len(usable))))
    questions = []
    for message in chosen:
        where = by_message[message]
        query = where[0].query
        targets = tuple(Target(s.path, s.rows[0] + 1, s.rows[1] + 1) for s in where)
        extra = {"ask": ASK_SELECTION, "language": where[0].language, "sites": len(where)}
        questions.append(Question(f"{where[0].path}:{where[0].rows[0] + 1}", query, targets, extra))
    return questions


def build_error_set(
    source: Path, out: Path, *, sample: int = DEFAULT_SAMPLE, seed: int = 0, meta: dict
) -> int:
    """Copies `source` to OUT/tree unchanged and writes its error-message questions."""
    sites, files = scan_errors(copy_into_set(source, out))
    questions = error_questions(sites, sample, seed)
    if not questions:
        raise ValueError(f"no raise sites with a literal message under {source}")
    write_set(
        out,
        questions,
        {**meta, "queries": "errors"},
        files=files,
        seed=seed,
        sample=sample,
        raise_sites=len(sites),
        messages=len({s.message for s in sites}),
    )
    return len(questions)
