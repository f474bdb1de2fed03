"""A definition inside a unit (a closure, a local class, a field of a class), found by
parsing the unit's text alone: where a name typed alone lands."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from tree_sitter import Node, Query

from ..chunks import Chunk
from ..language_specs import SPECS
from .blocks import declared_names
from .definitions import describe
from .extent import extent_node
from .grammars import captures, grammar_for, grammar_language, node_text, parse_source
from .lines import char_column

_MAX_DROPPED_LINES = 12  # of a later part of a class header, cut inside a statement


@dataclass(frozen=True, slots=True)
class NestedDefinition:
    """A definition inside another, in the text it was found in: rows and columns from 0,
    LSP style (the end is exclusive), columns in characters."""

    kind: str  # "function" | "class"
    signature: str
    start: tuple[int, int]
    end: tuple[int, int]


@lru_cache(maxsize=2048)
def nested_definition(
    text: str, language: str, name: str, in_class: bool = False, part: int = 0
) -> NestedDefinition | None:
    """The definition named ``name`` within a chunk's text that is not named so itself: a
    closure, a local class or struct, a callback assigned to a name, a method of a class
    small enough to be one chunk; else, in a class's text (``in_class``), the statement that
    declares ``name`` outside its methods (LanguageSpec.declarations): a field, a property
    or a class attribute, as kind "block" (a function's text parsed alone declares only
    locals, which name nothing, whatever the parse makes of them). The chunker keeps those
    inside the unit that holds them; a name typed alone still lands on them
    (ranking.naming_tier). The text is parsed on its own (a method without its class, a
    function's part), so definitions are looked for wherever the parse finds them, not only
    inside another. ``part``: which part of a split class's header the text is (0: not
    split); a part's declarations are read inside a class body (LanguageSpec.class_body).
    None when there is none, or when the text never writes the name (most texts: no
    parse)."""
    if _word(name).search(text) is None:
        return None
    syntax = grammar_language(language, text)
    grammar = grammar_for(syntax) if syntax in SPECS else None
    if grammar is None:
        return None
    spec, data = SPECS[syntax], text.encode("utf-8", "surrogatepass")
    # A fragment: PHP's text has no `<?php` tag here.
    root = parse_source(syntax, grammar.fragment_lang, data, f"{syntax}-fragment").root_node
    for node in sorted(captures(grammar.fragment_query, root), key=lambda n: n.start_byte):
        found = describe(node, data, spec, "")
        if found is not None and found.name == name:
            outer = extent_node(node, spec)
            return NestedDefinition(
                found.kind,
                found.signature,
                (outer.start_point.row, char_column(data, outer.start_byte)),
                (node.end_point.row, char_column(data, node.end_byte)),
            )
    if not in_class:
        return None
    declarations, sigils = grammar.fragment_declarations, spec.name_sigils
    opener, closer = spec.class_body if part else ("", "")
    opener = opener if part > 1 else ""  # the first part opens the body itself
    if not (opener or closer):
        return _declaring_statement(root, declarations, sigils, data, name)
    # A later part may start inside a statement the split cut (jsoup's header cut within a
    # string array: `"section", … "xmp"};`), which the parse cannot read past: its first
    # lines are dropped, one at a time, until the name's declaration is found.
    lines = text.split("\n")
    for dropped in range(min(_MAX_DROPPED_LINES, len(lines)) if opener else 1):
        data = (opener + "\n".join(lines[dropped:]) + closer).encode("utf-8", "surrogatepass")
        root = parse_source(syntax, grammar.fragment_lang, data, f"{syntax}-fragment").root_node
        found = _declaring_statement(root, declarations, sigils, data, name)
        if found is not None:
            rows = opener.count("\n") - dropped  # the opener is whole lines: columns stay
            (first, first_col), (last, last_col) = found.start, found.end
            return replace(found, start=(first - rows, first_col), end=(last - rows, last_col))
        if not root.has_error:  # read whole, and the name is not declared in it
            return None
    return None


def _declaring_statement(
    root: Node, declarations: Query | None, sigils: str, data: bytes, name: str
) -> NestedDefinition | None:
    """The statement that declares ``name`` outside any function of the parsed text (its
    locals name nothing), as kind "block" (nested_definition)."""
    for offset, scope, declared in declared_names(root, declarations, sigils):
        if declared != name or scope != -1:
            continue
        node = root.named_descendant_for_byte_range(offset, offset + len(name.encode()))
        statement = _statement_around(node) if node is not None else None
        if statement is None:
            continue
        first_line = node_text(statement).split("\n", 1)[0].strip()
        return NestedDefinition(
            "block",
            first_line,
            (statement.start_point.row, char_column(data, statement.start_byte)),
            (statement.end_point.row, char_column(data, statement.end_byte)),
        )
    return None


def _statement_around(node: Node) -> Node:
    """The statement a declared name is in: up from the name while the node above starts on
    the same line and holds nothing that starts on another (`private $x = [...];` whole,
    never the class body around it)."""
    row = node.start_point.row
    while (parent := node.parent) is not None and parent.start_point.row == row:
        if any(child.start_point.row != row for child in parent.named_children):
            break
        node = parent
    return node


@lru_cache(maxsize=256)
def _word(name: str) -> re.Pattern[str]:
    """``name`` written as a whole word, or as a PHP variable (`$name`, a property) (compiled
    once: a query tries every candidate)."""
    return re.compile(rf"(?<![\w$])\$?{re.escape(name)}(?![\w$])")


def nested_chunk(chunk: Chunk, name: str) -> Chunk | None:
    """The part of ``chunk`` that is a definition named ``name`` within it
    (nested_definition), as a chunk of its own: where a result for that name lands, with
    its own signature as the preview. None when the chunk holds none."""
    if name not in chunk.text:
        return None  # most candidates: a substring test before the cache, which hashes the text
    in_class = chunk.kind == "class"
    found = nested_definition(chunk.text, chunk.language, name, in_class, chunk.part)
    if found is None:
        return None
    (first, first_col), (last, last_col) = found.start, found.end
    lines = chunk.text.split("\n")[first : last + 1]
    lines[-1] = lines[-1][:last_col]  # before the first line's cut: the same line when one
    lines[0] = lines[0][first_col:]
    start_col = first_col + (chunk.start_col if first == 0 else 0)
    end_col = last_col + (chunk.start_col if last == 0 else 0)
    owner = chunk.symbol if chunk.kind != "block" else chunk.container
    return replace(
        chunk,
        kind=found.kind,
        symbol=f"{owner}.{name}" if owner else name,
        container=owner,
        signature=found.signature,
        start_line=chunk.start_line + first,
        start_col=start_col,
        end_line=chunk.start_line + last,
        end_col=end_col,
        text="\n".join(lines),
        part=0,
        unit_start_line=chunk.start_line + first,
        unit_end_line=chunk.start_line + last,
    )
