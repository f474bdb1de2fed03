"""Split a source file into chunks: one per definition, plus blocks for the code around them.

Languages with a tree-sitter grammar are split by syntax; everything else by line windows.
What each language is made of (node kinds, doc-comment rules, wrappers) is data, in
``engine/language_specs.py``; the modules here are the algorithm that reads it:

- ``split``: a file into chunks, the entry point (``chunk_text``);
- ``definitions``: the definitions that get a unit of their own, ``names`` how each
  language names them, ``extent`` what belongs to them (doc comments, decorators,
  overloads) and their signatures, ``recovery`` those a syntax error hid;
- ``blocks``: the code between definitions; ``windows``: files without a grammar;
  ``components``: the `<script>` and `<style>` elements of Vue, Svelte and Astro components
  (and an Astro component's frontmatter);
- ``commentary``: text that is comments alone; ``nested``: a definition inside a unit;
  ``roles``: what a file's content says it is for (generated code, a test module);
- ``lines``, ``grammars``: text offsets and windows, tree-sitter plumbing;
  ``version``: which chunker cut an index.

Positions are 0-based (line, column) with an exclusive end, as in LSP, but columns count
Python ``str`` characters (code points), not UTF-16 units: the server converts when a client
wants UTF-16. Lines are split on ``\\r\\n``, ``\\n`` and ``\\r``, the rule LSP clients use.

Nothing here recurses over the syntax tree: definitions are found by a tree-sitter query (run in
C) and nested by a stack over their byte ranges, so deeply nested input cannot hit Python's
recursion limit.
"""

from .commentary import (
    code_lines,
    is_commentary,
    is_name_list,
    is_structure,
    marks_test,
    past_boilerplate_comments,
    says_something,
)
from .components import language_at
from .extent import without_annotations
from .grammars import grammar_language
from .lines import slice_lines, split_lines
from .nested import NestedDefinition, nested_chunk, nested_definition
from .roles import CONTENT_ROLES, content_role
from .split import chunk_text
from .version import CHUNKER_CODE, CHUNKER_VERSION

__all__ = [
    "CHUNKER_CODE",
    "CHUNKER_VERSION",
    "CONTENT_ROLES",
    "NestedDefinition",
    "chunk_text",
    "code_lines",
    "content_role",
    "grammar_language",
    "is_commentary",
    "is_name_list",
    "is_structure",
    "language_at",
    "marks_test",
    "nested_chunk",
    "nested_definition",
    "past_boilerplate_comments",
    "says_something",
    "slice_lines",
    "split_lines",
    "without_annotations",
]
