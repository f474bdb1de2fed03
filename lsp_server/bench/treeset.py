"""In-place sets: a whole source tree plus questions whose answers are line ranges in it.

Layout of a set folder (written by `nearcode bench build-set --in-place`, or by hand):

    SET/questions.jsonl   {"query": "...", "targets": [{"path": "a.py", "start": 3, "end": 9}]}
                          one question a line; lines 1-based and inclusive; "id" optional;
                          "ask": "selection" asks the query as a selected snippet, and
                          "ask": "similar" with "at": {"path": "b.py", "line": 12} asks
                          Find Similar at that line (the query is then only its label)
    SET/tree/             the tree to index (or set.json names it: {"tree": "/path/to/repo"})
    SET/set.json          optional metadata: source, version, language, counts, role

A BEIR set has corpus.jsonl instead; `is_tree_set` tells them apart.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS = "questions.jsonl"
METADATA = "set.json"
TREE = "tree"
# How a question is put to the engine: typed into the search box (`search`), selected in an
# editor and searched as a snippet (`selection`: Search by Selection, e.g. an error), or Find
# Similar with the cursor on a line of the tree (`similar`).
ASK_SEARCH, ASK_SELECTION, ASK_SIMILAR = "search", "selection", "similar"
ASKS = (ASK_SEARCH, ASK_SELECTION, ASK_SIMILAR)


@dataclass(frozen=True)
class Target:
    path: str  # relative to the tree, '/'-separated
    start: int  # 1-based, inclusive
    end: int

    def overlaps(self, path: str, start: int, end: int) -> bool:
        return path == self.path and start <= self.end and self.start <= end


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    targets: tuple[Target, ...]
    extra: dict = field(default_factory=dict, compare=False)  # symbol, language, removed lines

    @property
    def ask(self) -> str:
        return str(self.extra.get("ask", ASK_SEARCH))

    @property
    def at(self) -> Target:
        """Where a `similar` question puts the cursor (start = end = the line)."""
        return _at(self.extra.get("at"), self.id)

    def to_json(self) -> dict:
        targets = [{"path": t.path, "start": t.start, "end": t.end} for t in self.targets]
        return {"id": self.id, "query": self.query, "targets": targets, **self.extra}


@dataclass(frozen=True)
class TreeSet:
    name: str
    tree: Path
    questions: list[Question]
    meta: dict = field(default_factory=dict)


def is_tree_set(folder: Path) -> bool:
    return (folder / QUESTIONS).is_file()


def _target(row: object, where: str) -> Target:
    if not isinstance(row, dict) or not {"path", "start", "end"} <= set(row):
        raise ValueError(f"{where}: each target needs path, start and end (1-based lines)")
    start, end = int(row["start"]), int(row["end"])
    if not 1 <= start <= end:
        raise ValueError(f"{where}: start and end are 1-based lines with start <= end")
    return Target(str(row["path"]).replace("\\", "/").lstrip("/"), start, end)


def read_questions(path: Path, tree: Path | None = None) -> list[Question]:
    """Reads a questions file; with `tree`, checks that every target is a range of a file."""
    questions: list[Question] = []
    line_counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or not str(row.get("query", "")).strip():
                raise ValueError(f'{where}: expected {{"query": ..., "targets": [...]}}')
            targets = tuple(_target(t, where) for t in row.get("targets") or [])
            if not targets:
                raise ValueError(f"{where}: a question needs at least one target")
            for target in targets if tree is not None else ():
                _check_target(tree, target, where, line_counts)
            if row.get("ask", ASK_SEARCH) not in ASKS:
                raise ValueError(f"{where}: ask is one of {', '.join(ASKS)}")
            if row.get("ask") == ASK_SIMILAR:
                place = _at(row.get("at"), where)
                if tree is not None:
                    _check_target(tree, place, where, line_counts)
            extra = {k: v for k, v in row.items() if k not in ("id", "query", "targets")}
            questions.append(Question(str(row.get("id", number)), row["query"], targets, extra))
    if not questions:
        raise ValueError(f"{path} holds no questions")
    return questions


def _at(row: object, where: str) -> Target:
    if not isinstance(row, dict) or not {"path", "line"} <= set(row):
        raise ValueError(f'{where}: ask "similar" needs "at": {{"path": ..., "line": L}}')
    return _target({"path": row["path"], "start": row["line"], "end": row["line"]}, where)


def _check_target(tree: Path, target: Target, where: str, counts: dict[str, int]) -> None:
    if target.path not in counts:
        file = tree / target.path
        if not file.is_file():
            raise ValueError(f"{where}: {target.path} is not a file of {tree}")
        counts[target.path] = len(file.read_bytes().splitlines())
    if target.end > counts[target.path]:
        raise ValueError(
            f"{where}: {target.path} has {counts[target.path]} lines, the target ends at "
            f"{target.end}"
        )


def write_questions(path: Path, questions: list[Question]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for question in questions:
            out.write(json.dumps(question.to_json(), ensure_ascii=False) + "\n")


def read_meta(folder: Path) -> dict:
    path = folder / METADATA
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg})") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return meta


def load_tree_set(folder: Path) -> TreeSet:
    meta = read_meta(folder)
    tree = Path(meta.get("tree", TREE)).expanduser()
    tree = tree if tree.is_absolute() else folder / tree
    if not tree.is_dir():
        raise ValueError(
            f"{folder}: no tree to index: make {folder / TREE} (a copy or a link) or name "
            f'the folder in {folder / METADATA} as {{"tree": "/path/to/repo"}}'
        )
    questions = read_questions(folder / QUESTIONS, tree)
    return TreeSet(str(meta.get("name") or folder.resolve().name), tree.resolve(), questions, meta)


def sample_questions(data: TreeSet, max_queries: int | None, seed: int = 0) -> TreeSet:
    """A seeded sample of questions (the tree stays whole)."""
    if max_queries is None or max_queries >= len(data.questions):
        return data
    chosen = random.Random(seed).sample(data.questions, max_queries)
    order = {q.id: i for i, q in enumerate(data.questions)}
    chosen.sort(key=lambda q: order[q.id])
    return TreeSet(data.name, data.tree, chosen, data.meta)
