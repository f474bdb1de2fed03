"""Text that is comments alone: licences, banners and tool directives that say nothing of
the code, prose that is no answer to "find similar code", export lists of quoted names."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..language_specs import FILE_PREAMBLE, LICENCE_PHRASE, SPECS, LanguageSpec

DOCSTRING_HEAD = re.compile(r'\s*[rRbBuU]?("""|\'\'\')(?:.|\n)*?\1', re.MULTILINE)


_WORD = re.compile(r"[^\W\d_]{2,}")
BANNER_WORDS = 5  # comment blocks with fewer words than this are banners


def banner_or_licence(text: str, start: int, end: int, spec: LanguageSpec) -> bool:
    comment = text[start:end]
    if not comment.startswith(spec.comment_openers):
        return False  # the common case: a window that starts with code
    if not comments_only(comment, spec):
        return False
    if len(_WORD.findall(comment)) < BANNER_WORDS:
        return True
    opens_file = FILE_PREAMBLE.match(text).end() >= start
    return opens_file and LICENCE_PHRASE.search(comment) is not None


def past_boilerplate_comments(text: str, language: str) -> str:
    """``text`` from its first line past the comments that open it when they say nothing of
    the code below: a licence, a tool directive or a banner of a few words (`/*** parser
    ***/`, `// eslint-disable-next-line`, `* Copyright (c) 2009 ...`). Comments that do say
    something (documentation among them), a docstring, and text of comments alone are kept."""
    spec = SPECS.get(language)
    if spec is None:
        return text
    lines = [*_comment_lines(text, spec), ("", False)]  # a sentinel ends the last group
    start = 0  # the first line of the comment group being read
    for index, (raw, comment) in enumerate(lines):
        if comment and raw.strip():
            continue  # the group goes on
        group = "".join(line for line, _ in lines[start:index])
        if group.strip() and not _says_nothing(group, spec):
            return "".join(line for line, _ in lines[start:])  # a comment worth showing
        if raw.strip():
            return "".join(line for line, _ in lines[index:])  # code
        start = index + 1  # a blank line ends a group of boilerplate
    return text


# What documentation holds besides words: tags (`@internal`, `@see`), links and markup.
_TAGS_AND_LINKS = re.compile(r"(?<![\w@])@[\w-]+|\S+://\S*|</?[A-Za-z][^>]*>")


def _says_nothing(comment: str, spec: LanguageSpec) -> bool:
    """A licence, or a few words that are not documentation (`/** Module dependencies. */`,
    a package's one-line Javadoc and `//! The DFA engine.` say something; `/*** parser ***/`
    does not), or documentation of tags and links alone (`/** @internal */`, `@see URL`)."""
    if LICENCE_PHRASE.search(comment) is not None:
        return True
    head = comment.lstrip()
    documents = any(
        head.startswith(prefix) and head[len(prefix) : len(prefix) + 1] in ("", " ", "\n")
        for prefix in (*spec.doc_comments, *spec.module_comments)
    )
    if documents:
        return not _WORD.search(_TAGS_AND_LINKS.sub(" ", comment))
    return len(_WORD.findall(comment)) < BANNER_WORDS


# A line that is structure, not content: punctuation (`)`, `"""`, `/**`, `}`), keywords that
# close or continue a statement (`} else {`, Ruby's `end`, `try:`), a visibility section
# (`private`, `public:`), markup alone (a Javadoc's `* <p>`), a preprocessor conditional
# (`#ifdef HAVE_LIBONIG`, `#endif /* HAVE_LIBONIG */`).
_STRUCTURE_LINE = re.compile(
    r"[\W_]*(?:(?:(?:else|elif|end|endif|fi|done|esac|finally|try|do|then|begin|private"
    r"|protected|public)\b|</?[A-Za-z]+\s*/?>)[\W_]*)*"
    r"|#(?:if|ifdef|ifndef|elif|else|endif)\b.*|#\s+(?:ifdef|ifndef|elif|endif)\b.*"
)


def is_structure(line: str) -> bool:
    return _STRUCTURE_LINE.fullmatch(line.strip()) is not None


def says_something(text: str) -> bool:
    """False for text of structure lines alone (a lone closing brace or Ruby `end` between
    definitions, a `private` section marker, an `#else`): no chunk of its own, it would only
    answer a query's stray word."""
    return not all(is_structure(line) for line in text.splitlines())


def is_commentary(text: str, language: str) -> bool:
    """Text that is comments or a docstring alone: prose in a code file (a module's
    docstring before its definitions), no answer to "find similar code"."""
    spec = SPECS.get(language)
    if spec is None:
        return False
    head = DOCSTRING_HEAD.match(text)
    rest = (text[head.end() :] if head else text).strip()
    return not rest or comments_only(rest, spec)


# One line of a list of quoted names: `"post",`, its brackets, `__all__ = [`, a comment.
_NAME_LIST_LINE = re.compile(
    r"""(?:["'][\w.$-]*["'],?|[\])}][,;]?|__all__\s*\+?=\s*[\[(])?\s*(?:#.*)?"""
)


def is_name_list(text: str) -> bool:
    """Quoted names and nothing else: an export list (`__all__ = [...]`, or the part of one
    past a window's length, previewed `"post",`), no answer to "find similar code"."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_NAME_LIST_LINE.fullmatch(line) for line in lines)


def comments_only(text: str, spec: LanguageSpec) -> bool:
    """True when every line of ``text`` is (part of) a comment, by the language's markers."""
    return all(comment for _, comment in _comment_lines(text, spec))


def code_lines(text: str, spec: LanguageSpec) -> str:
    """``text`` less its blank and comment lines (block comments across lines too): the
    attributes above a signature, not the code a comment quotes (`/* #[cfg(test)] ... */`)."""
    return "".join(raw for raw, comment in _comment_lines(text, spec) if not comment)


def _comment_lines(text: str, spec: LanguageSpec) -> Iterator[tuple[str, bool]]:
    """Each line of ``text`` (with its line end) and whether it is blank or (part of) a
    comment, by the language's markers; read in one pass, block comments across lines."""
    opener, closer = spec.block_comment
    inside = False
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        if inside or (opener and line.startswith(opener)):
            _, found, after = line[len(opener) if not inside else 0 :].partition(closer)
            inside = not found
            yield raw, not (found and after.strip())  # `/* why */ code();` is code
        else:
            yield raw, not line or line.startswith(spec.line_comments)
