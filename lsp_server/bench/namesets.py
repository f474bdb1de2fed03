"""Name sets: a definition or a constant asked by its bare name, in a whole, untouched tree.

Typed alone into the search box or an editor's symbol search, `resolve_redirects` or
`DEFAULT_LIMITS` asks where that is defined. This builds the question from a real tree: the
names of its implementation code (not tests, examples or generated files) that one place
defines and others use, each asked as it would be typed.

- `names`: functions, methods and classes, asked by their last name (`Client.send` is
  `send`); the target is the whole definition.
- `constants`: the names that the code between definitions declares (module constants and
  variables, type aliases, fields, `#define`s); the target is the line that declares it.

Both are found the way the engine chunks the tree (its definitions, the names its blocks are
given), so a name the engine does not see is never asked: these sets measure how the engine
ranks what it knows, not what it misses.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..engine.chunker import chunk_text
from ..engine.chunks import Chunk
from ..engine.language_specs import SPECS
from ..engine.settings import EngineSettings
from .docrules import RULES
from .inplace import DEFAULT_SAMPLE, copy_into_set, write_set
from .similarsets import implementation_sources
from .treeset import Question, Target

NAME_SOURCES = ("names", "constants")
_MIN_NAME = 6  # shorter names (`get`, `run`, `Err`) are held by many things in any tree
_DEFINITIONS = frozenset({"function", "method", "class"})
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_CHUNK_CHARS = EngineSettings().chunk_chars  # a block's names depend on where it is cut


@dataclass(frozen=True)
class Named:
    name: str
    path: str
    language: str
    rows: tuple[int, int]  # 0-based, inclusive


def names_in(chunk: Chunk, queries: str) -> list[Named]:
    """What one chunk defines, of the kind asked: its definition's last name, or the names
    its block declares, each at the line that declares it."""
    if queries == "names":
        if chunk.kind not in _DEFINITIONS or chunk.part > 1 or not chunk.symbol:
            return []
        rows = (chunk.unit_start_line, chunk.unit_end_line)
        return [Named(chunk.symbol.rsplit(".", 1)[-1], chunk.path, chunk.language, rows)]
    if chunk.kind != "block":
        return []
    found = []
    comments = (*SPECS[chunk.language].comment_openers, "*")
    lines = chunk.text.split("\n")
    code = [(i, line) for i, line in enumerate(lines) if not line.strip().startswith(comments)]
    for name in chunk.names:
        pattern = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
        offset = next((i for i, line in code if pattern.search(line)), None)
        if offset is not None:
            row = chunk.start_line + offset
            found.append(Named(name, chunk.path, chunk.language, (row, row)))
    return found


def scan_names(tree: Path, queries: str) -> tuple[list[Named], Counter, Counter]:
    """The names defined in implementation code, and in how many chunks each word is
    written; every indexed file counted per language."""
    defined: list[Named] = []
    written: Counter = Counter()
    files: Counter = Counter()
    for path, language, text in implementation_sources(tree, files, set(RULES)):
        for chunk in chunk_text(path, text, language, max_chars=_CHUNK_CHARS):
            defined += names_in(chunk, queries)
            written.update(set(_WORD.findall(chunk.text)))
    return defined, written, files


def askable(defined: list[Named], written: Counter) -> list[Named]:
    """Names one place defines and at least one other chunk writes (a name used nowhere
    else is found by any search), of _MIN_NAME characters or more."""
    places = Counter(named.name for named in defined)
    return [
        named
        for named in defined
        if places[named.name] == 1 and written[named.name] >= 2 and len(named.name) >= _MIN_NAME
    ]


def build_name_set(
    source: Path,
    out: Path,
    *,
    queries: str,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    meta: dict,
) -> int:
    """Copies `source` to OUT/tree unchanged and writes its questions by name."""
    if queries not in NAME_SOURCES:
        raise ValueError(f"queries must be one of {NAME_SOURCES}, not {queries!r}")
    defined, written, files = scan_names(copy_into_set(source, out), queries)
    eligible = askable(defined, written)
    chosen = random.Random(seed).sample(eligible, min(sample, len(eligible)))
    questions = [
        Question(
            f"{named.path}:{named.rows[0] + 1}",
            named.name,
            (Target(named.path, named.rows[0] + 1, named.rows[1] + 1),),
            {"language": named.language},
        )
        for named in sorted(chosen, key=lambda n: (n.path, n.rows))
    ]
    if not questions:
        raise ValueError(f"no {queries} under {source} are defined once and used elsewhere")
    write_set(
        out,
        questions,
        {**meta, "queries": queries},
        files=files,
        seed=seed,
        sample=sample,
        defined=len(defined),
        eligible=len(eligible),
    )
    return len(questions)
