"""The unit of indexing: a span of one file with what a reader needs to know about it."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN_NAMES = 5  # of the names a block declares, those its result shows
NAMES_JOINT = ", "  # between the names of a block's symbol ("DEFAULT_TIMEOUT, DEFAULT_LIMITS")
# Chunk kinds that are spans of lines, not definitions: code between definitions, imports,
# windows of text.
SPANS_OF_LINES = frozenset({"block", "imports", "window"})


@dataclass(frozen=True, slots=True)
class Chunk:
    """A function, method, class, part of a long definition, or a window of lines.

    Positions are 0-based, LSP style: ``end_line``/``end_col`` is the position just past
    the last character of the chunk (exclusive end).
    """

    path: str  # workspace-relative, '/'-separated
    language: str  # e.g. "python", "typescript", "tsx", "markdown", "text"
    kind: str  # "function" | "method" | "class" | "script" | "block" | "imports" | "window"
    symbol: str  # qualified name ("Parser.parse"), "" for windows and blocks
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    text: str  # the exact source text of the span
    signature: str = ""  # the definition's header line(s); set on every part of a split definition
    container: str = ""  # enclosing class/impl/module-level type name, "" at top level
    part: int = 0  # 0 for a whole definition; 1, 2, ... for parts of a split one
    # Lines of the whole definition a part belongs to (0-based, end inclusive like end_line);
    # for whole definitions, blocks and windows (and when left at -1) the chunk's own lines.
    unit_start_line: int = -1
    unit_end_line: int = -1

    def __post_init__(self) -> None:
        if self.unit_start_line < 0 or self.unit_end_line < 0:
            object.__setattr__(self, "unit_start_line", self.start_line)
            object.__setattr__(self, "unit_end_line", self.end_line)

    @property
    def names(self) -> tuple[str, ...]:
        """What it defines: a definition's qualified name, or the names that code between
        definitions declares (its symbol lists them, NAMES_JOINT between)."""
        if self.kind != "block":
            return (self.symbol,)
        return tuple(self.symbol.split(NAMES_JOINT)) if self.symbol else ()

    @property
    def shown_symbol(self) -> str:
        """The name a result shows and the model reads: code between definitions that declares
        more than MAX_SHOWN_NAMES names by its first ones and "…" (all of them are its
        symbol, which BM25 and a name typed alone match)."""
        names = self.names
        if self.kind != "block" or len(names) <= MAX_SHOWN_NAMES:
            return self.symbol
        return NAMES_JOINT.join([*names[:MAX_SHOWN_NAMES], "…"])

    def overlaps(self, other: Chunk) -> bool:
        """Whether both are in the same file and share a line (parts of one definition, or a
        chunk and the selection or definition it lies in)."""
        return (
            self.path == other.path
            and self.start_line <= other.end_line
            and other.start_line <= self.end_line
        )

    def is_member_of(self, class_symbol: str) -> bool:
        """Whether it is defined in the class (or in a class nested in it)."""
        container = self.container
        return container == class_symbol or container.startswith(class_symbol + ".")
