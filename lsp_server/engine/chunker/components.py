"""Single-file components (Vue, Svelte, Astro): where their `<script>` and `<style>` elements
(and an Astro component's frontmatter) lie and which language each is written in, so that a
component's code is chunked by its grammar at its place in the file, and its markup and
styles by lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..languages import (
    COMPONENT_ELEMENT_DEFAULTS,
    COMPONENT_ELEMENT_LANGS,
    COMPONENT_FRONTMATTER,
    COMPONENT_LANGUAGES,
    COMPONENT_SCRIPT_DEFAULTS,
)
from .lines import Lines

# Where an element or a comment may start; each is then read on from there with `find` and
# anchored matches, so that the scan is linear in the file (a search for a whole tag or
# comment from every `<` was quadratic: 80 KB of unclosed `<!--` took 6 s).
_START = re.compile(r"<(?:!--|(script|style)\b)", re.IGNORECASE)
# The rest of an opening tag: attributes (quoted values may hold `>`), then `>`.
_TAG_REST = re.compile(r"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_CLOSING = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in ("script", "style")}
_NOT_LINE_BREAK = re.compile(r"[^\r\n]")
# A component has a script or two and a style or two. Each element read is parsed over the
# whole file (the rest blanked), so a file of thousands of them reads its first ones only,
# the rest as markup: the work stays linear in the file's size.
MAX_ELEMENTS = 16
_LANG = re.compile(r"""\blang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
# An Astro component's frontmatter: the file opens with a `---` line, and the next `---` line
# closes it (a BOM or blank lines may come first).
_FRONTMATTER_OPEN = re.compile(r"\ufeff?\s*---[ \t]*\r?\n")
_FRONTMATTER_CLOSE = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Element:
    """A `<script>` or `<style>` element: its whole extent, tags included, and its text's."""

    tag: str  # "script" | "style"
    language: str  # what its text is written in
    start: int  # char offsets: the opening tag's `<` ...
    end: int  # ... and just past the closing tag's `>`
    text_start: int  # its text, between the tags
    text_end: int


def component_elements(text: str, language: str = "") -> list[Element]:
    """The file's `<script>` and `<style>` elements in order, each with the language of its
    `lang` attribute (else ``language``'s COMPONENT_SCRIPT_DEFAULTS, else
    COMPONENT_ELEMENT_DEFAULTS), after the frontmatter of a language that has one. An
    element in a language nothing here reads (`lang="coffee"`, `lang="stylus"`), or one
    never closed, is left to the markup."""
    frontmatter = _frontmatter(text, language) if language in COMPONENT_FRONTMATTER else None
    elements: list[Element] = [frontmatter] if frontmatter else []
    pos = frontmatter.end if frontmatter else 0
    while (start := _START.search(text, pos)) is not None:
        tag = (start.group(1) or "").lower()
        if not tag:  # a comment: what it holds is no element; unclosed, it runs to the end
            end = text.find("-->", start.end())
            if end < 0:
                break
            pos = end + 3
            continue
        rest = _TAG_REST.match(text, start.end())
        closing = _CLOSING[tag].search(text, rest.end()) if rest else None
        if rest is None or closing is None:
            break  # never closed: the rest of the file is markup
        closing_start, pos = closing.span()
        written_in = _language(tag, text[start.end() : rest.end() - 1], language)
        if written_in:
            elements.append(Element(tag, written_in, start.start(), pos, rest.end(), closing_start))
            if len(elements) == MAX_ELEMENTS:
                break
    return elements


def _frontmatter(text: str, language: str) -> Element | None:
    """An Astro component's frontmatter, as a script in the language's script default
    (TypeScript); None when the file does not open with one, or never closes it."""
    opening = _FRONTMATTER_OPEN.match(text)
    closing = _FRONTMATTER_CLOSE.search(text, opening.end()) if opening else None
    if opening is None or closing is None:
        return None
    end = closing.end()
    script = COMPONENT_SCRIPT_DEFAULTS[language]
    return Element("script", script, 0, end, opening.end(), closing.start())


def _language(tag: str, attributes: str, component_language: str) -> str:
    lang = _LANG.search(attributes)
    if lang is None:
        if tag == "script" and component_language in COMPONENT_SCRIPT_DEFAULTS:
            return COMPONENT_SCRIPT_DEFAULTS[component_language]
        return COMPONENT_ELEMENT_DEFAULTS[tag]
    value = next(group for group in lang.groups() if group is not None)
    return COMPONENT_ELEMENT_LANGS.get(value.strip().lower(), "")


def only_element_text(text: str, element: Element) -> str:
    """``text`` with everything outside the element's text blanked (line breaks kept): parsed
    so, its offsets, lines and columns are the file's, and the code between definitions near
    the element's end is cut as in a longer file, at its statements (parsing the element's
    text alone kept it one block: sveltestrap's questions 0.549 -> 0.509 MRR, slidev's
    0.737 -> 0.697; BENCHMARKS.md, "Vue and Svelte components")."""
    before = _NOT_LINE_BREAK.sub(" ", text[: element.text_start])
    after = _NOT_LINE_BREAK.sub(" ", text[element.text_end :])
    return before + text[element.text_start : element.text_end] + after


def markup_stretches(text: str, elements: list[Element]) -> list[tuple[int, int]]:
    """The char spans of the file outside its elements (the template, the markup)."""
    bounds = [0, *(offset for e in elements for offset in (e.start, e.end)), len(text)]
    pairs = zip(bounds[::2], bounds[1::2], strict=True)
    return [(start, end) for start, end in pairs if end > start]


def language_at(text: str, language: str, position: tuple[int, int]) -> str:
    """The language a file of ``language`` is written in at ``position`` (line, column): in a
    component, its element's (a selection in a `.vue` file's `<script lang="ts">` is
    TypeScript), else ``language``."""
    if language not in COMPONENT_LANGUAGES:
        return language
    lines = Lines(text)
    line = min(position[0], len(lines.starts) - 1)
    offset = lines.starts[line] + position[1]
    inside = (e for e in component_elements(text, language) if e.text_start <= offset < e.text_end)
    return next((e.language for e in inside), language)
