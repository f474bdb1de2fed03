"""Natural-language queries that are not docstrings: how-to headings and rule-made questions.

People search as they would ask the web ("python check if file exists", "how to retry a
request"), not in docstring prose. Two honest sources of such queries:
- a documentation heading with the code example under it ("Reading a file in chunks");
- a docstring's first sentence rewritten by fixed rules into a terse web-style question
  ("Returns the number of nodes in the graph." -> "how to get number of nodes in graph python").
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..engine.languages import TREE_SITTER_LANGUAGES, detect_language
from .definitions import SKIP_DIRS

# Docstring verbs the rules understand, by their bare form.
_VERBS = frozenset(
    """add apply build calculate call check clear close compare compute concatenate convert
    copy count create decode delete determine download encode ensure escape evaluate extract
    fetch filter find format generate get group handle insert iterate join list load make
    map merge normalize normalise open parse print read register remove render replace reset
    resolve return reverse round run save search send serialize set sort split start stop
    strip test transform truncate update upload validate wait walk wrap write yield""".split()  # noqa: SIM905
)
_AS_GET = frozenset({"return", "yield", "fetch"})
_AS_CHECK = frozenset({"check", "test", "determine"})
_MARKUP = re.compile(r":\w+:`~?([^`]+)`|`+([^`]+)`+|\*+([^*]+)\*+")
_LANGUAGE_WORDS = {
    "python": ("python",),
    "javascript": ("javascript", "js", "node"),
    "typescript": ("typescript", "ts"),
    "go": ("go", "golang"),
    "rust": ("rust",),
    "ruby": ("ruby", "rails"),
    "php": ("php",),
}
_MAX_WORDS = 9


def _bare_verb(word: str) -> str:
    """Third-person verb to its bare form: returns -> return, matches -> match, tries -> try."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def question_from_doc(sentence: str, language: str, seed: int) -> str | None:
    """A web-style question made from a docstring sentence by rule; None when no rule fits."""
    text = _MARKUP.sub(lambda m: next(g for g in m.groups() if g), sentence)
    words = re.findall(r"[A-Za-z0-9_.']+", text.lower())
    if len(words) < 3:
        return None
    verb = _bare_verb(words[0])
    if verb not in _VERBS:
        return None
    rest = words[1:]
    if verb in _AS_GET:
        verb = "get"
    elif verb in _AS_CHECK:
        verb = "check"
        if rest and rest[0] in ("whether", "that"):
            rest = ["if", *rest[1:]]
    rng = random.Random(seed)
    # Web queries drop most articles and trail off after a few words.
    kept = [w for w in rest if w not in ("the", "a", "an") or rng.random() < 0.3]
    phrase = " ".join([verb, *kept[: _MAX_WORDS - 1]]).strip(" .")
    lang = rng.choice(_LANGUAGE_WORDS.get(language, (language,)))
    template = rng.choice(("{q} {l}", "{l} {q}", "how to {q} {l}", "how to {q} in {l}", "{q}"))
    return template.format(q=phrase, l=lang)


# -- documentation headings -------------------------------------------------------------------


@dataclass(frozen=True)
class HowTo:
    heading: str
    code: str
    path: str
    language: str | None  # from the code block's info string, when it names one


_DOC_SUFFIXES = (".md", ".rst", ".markdown")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RST_CODE = re.compile(r"^\s*\.\. (?:code-block|code|sourcecode)::")
# Headings that name a part of the document rather than a task.
_GENERIC = re.compile(
    r"^(installation|install|usage|example|examples|license|licence|changelog|changes|"
    r"contributing|contents|overview|introduction|api|api reference|reference|quick ?start|"
    r"getting started|features|requirements|credits|authors|tests?|testing|faq|notes?|"
    r"version [\d.]+|v?[\d.]+.*|release.*|news)$",
    re.IGNORECASE,
)
_MIN_HEADING_WORDS = 2
_MIN_CODE_LINES = 2
_MAX_CODE_LINES = 40


def _heading_text(raw: str) -> str:
    text = _MARKUP.sub(lambda m: next(g for g in m.groups() if g), raw)
    return " ".join(re.sub(r"[\[\]()#:]+", " ", text).split())


def _sections(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """(heading, lines under it until the next heading) of Markdown and reStructuredText."""
    heading, body = "", []
    in_fence = False
    index = 0
    while index < len(lines):
        line = lines[index]
        underline = lines[index + 1] if index + 1 < len(lines) else ""
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            md = _MD_HEADING.match(line)
            if md or (
                line.strip() and _RST_UNDERLINE.match(underline) and not _FENCE.match(underline)
            ):
                if heading:
                    yield heading, body
                heading, body = (md.group(1) if md else line.strip()), []
                index += 1 if md else 2
                continue
        body.append(line)
        index += 1
    if heading:
        yield heading, body


def _block_language(info: str) -> str | None:
    """`python`, `py`, `js`, `typescript` ... -> a language id the chunker knows."""
    word = info.strip().split(" ")[0].lower() if info.strip() else ""
    if not word:
        return None
    return word if word in TREE_SITTER_LANGUAGES else detect_language(f"block.{word}")


def _first_code_block(body: list[str]) -> tuple[str, str | None] | None:
    """(code, language) of the first fenced or reStructuredText code block."""
    index = 0
    while index < len(body):
        line = body[index]
        if _FENCE.match(line):
            end = next((j for j in range(index + 1, len(body)) if _FENCE.match(body[j])), None)
            language = _block_language(_FENCE.sub("", line))
            return ("\n".join(body[index + 1 : end]), language) if end is not None else None
        literal = line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if _RST_CODE.match(line) or literal:
            language = _block_language(line.split("::", 1)[1]) if _RST_CODE.match(line) else None
            block: list[str] = []
            for inner in body[index + 1 :]:
                if inner.strip() and not inner.startswith((" ", "\t")):
                    break
                block.append(inner)
            text = "\n".join(line for line in block if not line.strip().startswith(":"))
            code = _undent(text).strip("\n")
            return (code, language) if code else None
        index += 1
    return None


_CODE_SIGNS = re.compile(r"[(){}=]|^\s*(?:import|from|def|class|function|const|let|var)\b")


def _code_like(block: str) -> bool:
    """Most lines carry code punctuation or keywords (rst literal blocks are often prose)."""
    lines = [line for line in block.split("\n") if line.strip()]
    return sum(bool(_CODE_SIGNS.search(line)) for line in lines) * 2 >= len(lines)


def _undent(text: str) -> str:
    lines = text.split("\n")
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines)


def how_tos(tree: Path) -> Iterator[HowTo]:
    """Headings of a package's documentation paired with the code example under them."""
    for path in sorted(tree.rglob("*")):
        parts = {p.lower() for p in path.relative_to(tree).parts[:-1]}
        if path.suffix.lower() not in _DOC_SUFFIXES or parts & (SKIP_DIRS - {"examples"}):
            continue
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            continue
        for raw, body in _sections(lines):
            heading = _heading_text(raw)
            if (
                len(heading.split()) < _MIN_HEADING_WORDS
                or _GENERIC.match(heading)
                or not heading.isascii()  # translations of the same documentation
            ):
                continue
            block = _first_code_block(body)
            if block is None:
                continue
            code, language = block
            if language is not None and language not in TREE_SITTER_LANGUAGES:
                continue  # shell, JSON, config: no code of the project
            if code.startswith((">>>", "$", "pip ", "npm ")):
                continue  # shell sessions and install lines show no code of the project
            if not _code_like(code):
                continue
            size = len([x for x in code.split("\n") if x.strip()])
            if _MIN_CODE_LINES <= size <= _MAX_CODE_LINES:
                yield HowTo(heading, code, path.relative_to(tree).as_posix(), language)
