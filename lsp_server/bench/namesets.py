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
ranks what it knows, not what it misses. A third source is independent of the engine:

- `tags`: the definitions that the grammar's own tag query (`queries/tags.scm`, shipped in
  each grammar wheel and used by GitHub's code navigation) finds, nested ones included:
  closures, local classes, arrow functions assigned to a name. The target is the line that
  names the definition, so a result lands there only when it holds that line. A chunker
  that leaves a definition inside another still gets the hit if the outer one ranks first.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path

from tree_sitter import Language, Parser, Query, QueryCursor

from ..engine.chunker import chunk_text
from ..engine.chunks import Chunk
from ..engine.language_specs import SPECS
from ..engine.languages import GRAMMAR_MODULES
from ..engine.settings import EngineSettings
from .docrules import RULES
from .inplace import DEFAULT_SAMPLE, copy_into_set, write_set
from .similarsets import SOURCE_LANGUAGES, implementation_sources
from .treeset import Question, Target

NAME_SOURCES = ("names", "constants", "tags")
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


# TypeScript's tag query holds what TypeScript adds; the rest of its syntax is JavaScript's.
_TAG_QUERIES_BEFORE = {"typescript": ("javascript",), "tsx": ("javascript",)}


@cache
def _tagger(language: str) -> tuple[Parser, Query] | None:
    """The grammar's parser and its own tag query (None: the wheel ships no tags.scm)."""
    module_name, function = GRAMMAR_MODULES[language]
    lang = Language(getattr(import_module(module_name), function)())
    sources = []
    for each in (*_TAG_QUERIES_BEFORE.get(language, ()), language):
        module = import_module(GRAMMAR_MODULES[each][0])
        folder = Path(module.__file__ or "").parent
        # C#'s wheel installs its queries beside the module, under the distribution's name.
        found = [
            candidate / "queries" / "tags.scm"
            for candidate in (folder, folder.with_name(folder.name.replace("_c_sharp", "_c-sharp")))
            if (candidate / "queries" / "tags.scm").is_file()
        ]
        if not found:
            return None
        sources.append(found[0].read_text(encoding="utf-8"))
    return Parser(lang), Query(lang, "\n".join(sources))


def tagged_definitions(path: str, language: str, text: str) -> list[Named]:
    """The definitions the grammar's tag query finds (`@definition.*` with its `@name`),
    at the line of the name. A module declared without a body (Rust's `mod parser;`) is
    left out: its definition is a file, asked by path, not by name."""
    tagger = _tagger(language)
    if tagger is None:
        return []
    parser, query = tagger
    found: dict[tuple[str, int], Named] = {}  # a definition that two patterns match is one
    for _, captures in QueryCursor(query).matches(parser.parse(text.encode("utf-8")).root_node):
        kinds = [capture for capture in captures if capture.startswith("definition.")]
        if not kinds or "name" not in captures:
            continue
        node, name = captures[kinds[0]][0], captures["name"][0]
        if kinds[0] == "definition.module" and node.start_point[0] == node.end_point[0]:
            continue
        row, text_of_name = name.start_point[0], (name.text or b"").decode("utf-8")
        found[text_of_name, row] = Named(text_of_name, path, language, (row, row))
    return list(found.values())


def scan_names(tree: Path, queries: str) -> tuple[list[Named], Counter, Counter]:
    """The names defined in implementation code, and in how many chunks each word is
    written (tags: how many times, in the files, so that nothing comes from the engine);
    every indexed file counted per language."""
    defined: list[Named] = []
    written: Counter = Counter()
    files: Counter = Counter()
    languages = set(RULES) if queries == "tags" else set(SOURCE_LANGUAGES)  # no tags in .vue
    for path, language, text in implementation_sources(tree, files, languages):
        if queries == "tags":
            defined += tagged_definitions(path, language, text)
            written.update(_WORD.findall(text))
            continue
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
