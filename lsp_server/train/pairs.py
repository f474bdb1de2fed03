"""Training pairs mined from the package trees: (query, code), deduplicated, benchmarks excluded.

Relations (what the query is to the code):
- prose queries: `doc` (the doc's first sentence -> the definition without its doc),
  `question` (that sentence rewritten by rule into a web-style question), `documented`
  (that question -> the definition with its doc sentence, as code usually carries one),
  `howto` (a documentation heading -> the code example under it);
- code queries (find-similar): `async-twin` (the sync and async versions of one function),
  `overload` (one name defined twice in a file: platform or type variants), `version` (one
  function changed between two versions of a package), `renamed` and `reformatted`
  (generated from one Python function).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ..bench.beir import load_set
from ..bench.docrules import MIN_QUERY_WORDS
from ..engine.chunker import chunk_text
from ..engine.indexer import embed_text
from ..engine.settings import EngineSettings
from .definitions import Definition, definitions
from .questions import how_tos, question_from_doc
from .sources import Source
from .variants import documented, reformatted, renamed

PROSE_RELATIONS = ("doc", "question", "documented", "howto")
CODE_RELATIONS = ("async-twin", "overload", "version", "renamed", "reformatted")
_MIN_CODE_LINES = 3  # generated variants of one- and two-liners differ in little but names
_VARIANT_EVERY = 3  # one function in this many gets renamed/reformatted variants
_PACKAGE_LANGUAGE = {"pypi": "python", "npm": "javascript"}


@dataclass(frozen=True)
class Pair:
    relation: str
    language: str
    query: str
    code: str  # the document side: a definition (or example) as the index would hold it
    source: str  # the package spec it came from

    @property
    def prose(self) -> bool:
        return self.relation in PROSE_RELATIONS


def fingerprint(code: str) -> str:
    """Identity of code up to layout, comments and string literals (docstrings included)."""
    text = re.sub(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'', " ", code)
    text = re.sub(r"/\*[\s\S]*?\*/", " ", text)
    text = re.sub(r"(?m)(?://|#).*$", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`[^`]*`', " ", text)
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+", text)
    return hashlib.blake2b(" ".join(tokens).encode(), digest_size=12).hexdigest()


def _query_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class BenchmarkFilter:
    """Code and queries of the benchmark sets: a pair that touches either is dropped."""

    def __init__(self, code: set[str] | None = None, queries: set[str] | None = None) -> None:
        self.code = code or set()
        self.queries = queries or set()

    @classmethod
    def from_sets(cls, folders: Iterable[Path]) -> BenchmarkFilter:
        found = cls()
        for folder in folders:
            data = load_set(folder)
            found.code.update(fingerprint(text) for text in data.corpus.values())
            found.queries.update(_query_key(q.text) for q in data.queries if not q.self_id)
        return found

    def allows(self, pair: Pair) -> bool:
        if fingerprint(pair.code) in self.code:
            return False
        if pair.prose:
            return _query_key(pair.query) not in self.queries
        return fingerprint(pair.query) not in self.code


# -- mining one package ------------------------------------------------------------------------


def _stable_seed(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\0".join(parts).encode(), digest_size=4).digest())


def _prose_pairs(source: Source, defs: list[Definition]) -> Iterator[Pair]:
    for d in defs:
        if len(d.doc.split()) < MIN_QUERY_WORDS:
            continue
        yield Pair("doc", d.language, d.doc, d.code, source.spec)
        question = question_from_doc(d.doc, d.language, _stable_seed(source.spec, d.path, d.name))
        if question:
            yield Pair("question", d.language, question, d.code, source.spec)
            with_doc = documented(d.code, d.doc, d.language)
            if with_doc is not None:
                yield Pair("documented", d.language, question, with_doc, source.spec)


def _both_ways(relation: str, a: Definition, b: Definition, spec: str) -> Iterator[Pair]:
    if fingerprint(a.code) != fingerprint(b.code):
        yield Pair(relation, a.language, a.code, b.code, spec)
        yield Pair(relation, b.language, b.code, a.code, spec)


_ASYNC_FOLDER = re.compile(r"^_?(?:async(?:io)?|aio)$")
_ASYNC_FILE = re.compile(r"^_?(?:async|aio)_|_async(?=\.)")
_ASYNC_NAME = re.compile(r"(?:^|\.)(?:async_|a(?=[a-z_]))|_async$|Async$|Sync$")


def _sync_path(path: str) -> str:
    """The path with async markers dropped: aio/db.py and _async/db.py -> db.py."""
    *folders, name = path.split("/")
    kept = [part for part in folders if not _ASYNC_FOLDER.match(part)]
    return "/".join([*kept, _ASYNC_FILE.sub("", name)])


def _twin_key(d: Definition) -> tuple[str, str]:
    """Path and name with async markers removed: twins share it."""
    name = ".".join(re.sub(r"^Async", "", part) for part in d.name.split("."))
    return _sync_path(d.path), _ASYNC_NAME.sub(
        lambda m: "." if m.group().startswith(".") else "", name
    )


def _twin_pairs(source: Source, defs: list[Definition]) -> Iterator[Pair]:
    groups: dict[tuple[str, str], list[Definition]] = defaultdict(list)
    for d in defs:
        groups[_twin_key(d)].append(d)
    for group in groups.values():
        asyncs = [d for d in group if d.is_async or _sync_path(d.path) != d.path]
        syncs = [d for d in group if d not in asyncs]
        if len(asyncs) == 1 and len(syncs) == 1:
            yield from _both_ways("async-twin", syncs[0], asyncs[0], source.spec)


_NOT_OVERLOAD = re.compile(r"^@(?:\w+\.)?(?:setter|deleter|getter|overload)\b|^@property\b", re.M)


def _overload_pairs(source: Source, defs: list[Definition]) -> Iterator[Pair]:
    groups: dict[tuple[str, str], list[Definition]] = defaultdict(list)
    for d in defs:
        if not _NOT_OVERLOAD.search(d.code) and d.code.count("\n") >= _MIN_CODE_LINES - 1:
            groups[(d.path, d.name)].append(d)
    for group in groups.values():
        if len(group) == 2:  # more are usually generated stubs or dispatch tables
            yield from _both_ways("overload", group[0], group[1], source.spec)


def _variant_pairs(source: Source, defs: list[Definition]) -> Iterator[Pair]:
    for d in defs:
        seed = _stable_seed(source.spec, d.path, d.name)
        if d.language != "python" or d.code.count("\n") < _MIN_CODE_LINES or seed % _VARIANT_EVERY:
            continue
        for relation, variant in (
            ("renamed", renamed(d.code, seed)),
            ("reformatted", reformatted(d.code)),
        ):
            if variant is not None:
                yield Pair(relation, "python", variant, d.code, source.spec)


def _how_to_pairs(source: Source, tree: Path) -> Iterator[Pair]:
    default = _PACKAGE_LANGUAGE.get(source.registry, "text")
    for item in how_tos(tree):
        yield Pair("howto", item.language or default, item.heading, item.code, source.spec)


def _version_pairs(by_source: dict[Source, list[Definition]]) -> Iterator[Pair]:
    """The same function in two versions of one package, where its code changed."""
    by_project: dict[str, list[Source]] = defaultdict(list)
    for source in by_source:
        by_project[source.project].append(source)
    for sources in by_project.values():
        for older, newer in zip(sources, sources[1:], strict=False):
            old = {(d.path, d.name): d for d in by_source[older]}
            for d in by_source[newer]:
                before = old.get((d.path, d.name))
                if before is not None and d.code.count("\n") >= _MIN_CODE_LINES - 1:
                    yield from _both_ways("version", before, d, f"{older.spec}+{newer.spec}")


def mine(trees: dict[Source, Path], exclude: BenchmarkFilter, log=print) -> list[Pair]:
    """All pairs of all packages, deduplicated, with benchmark code and queries dropped."""
    by_source: dict[Source, list[Definition]] = {}
    found: list[Pair] = []
    for source, tree in trees.items():
        defs = list(definitions(tree, source.registry))
        by_source[source] = defs
        found.extend(_prose_pairs(source, defs))
        found.extend(_how_to_pairs(source, tree))
        found.extend(_twin_pairs(source, defs))
        found.extend(_overload_pairs(source, defs))
        found.extend(_variant_pairs(source, defs))
        log(f"mined {source.spec}: {len(defs)} definitions")
    found.extend(_version_pairs(by_source))
    return deduplicate(found, exclude)


def deduplicate(pairs: Iterable[Pair], exclude: BenchmarkFilter) -> list[Pair]:
    """First of each (relation, query, code) up to layout; benchmark code and queries dropped."""
    seen: set[tuple[str, str, str]] = set()
    kept: list[Pair] = []
    for pair in pairs:
        query = _query_key(pair.query) if pair.prose else fingerprint(pair.query)
        key = (pair.relation, query, fingerprint(pair.code))
        if key not in seen and exclude.allows(pair):
            seen.add(key)
            kept.append(pair)
    return kept


def counts(pairs: Iterable[Pair]) -> dict[str, dict[str, int]]:
    """Pairs per language and relation (for the training report)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for pair in pairs:
        table[pair.language][pair.relation] += 1
    return {lang: dict(sorted(c.items())) for lang, c in sorted(table.items())}


def document_text(code: str, language: str) -> str:
    """What the index embeds for this code: its first chunk, with the engine's context header."""
    settings = EngineSettings()
    chunks = [c for c in chunk_text("snippet", code, language, max_chars=settings.chunk_chars)]
    named = [c for c in chunks if c.symbol and any(ch.isalnum() for ch in c.text)]
    chosen = named[0] if named else (chunks[0] if chunks else None)
    return embed_text(chosen, settings) if chosen is not None else code


def write_pairs(path: Path, pairs: Iterable[Pair]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[Pair]:
    with path.open(encoding="utf-8") as handle:
        return [Pair(**json.loads(line)) for line in handle if line.strip()]
