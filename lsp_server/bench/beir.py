"""BEIR-layout evaluation sets: corpus.jsonl, queries.jsonl (optional self_id), qrels.tsv."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    # Code-to-code queries are themselves a corpus document, left out of their own ranking.
    self_id: str | None = None


@dataclass(frozen=True)
class BeirSet:
    name: str
    corpus: dict[str, str]
    queries: list[Query]
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance > 0}


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().split()
        if header[:2] != ["query-id", "corpus-id"]:
            raise ValueError(f"{path}: expected the header 'query-id corpus-id score'")
        for line in handle:
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 3:
                continue
            score = int(float(parts[2]))
            if score > 0:  # BEIR convention: 0 marks a judged non-relevant document
                qrels.setdefault(parts[0], {})[parts[1]] = score
    return qrels


def load_set(folder: Path) -> BeirSet:
    """Loads a set; queries without a relevant document in the corpus are dropped."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise ValueError(f"{folder} is not a BEIR set: {name} is missing")
    corpus = {str(row["_id"]): str(row["text"]) for row in _jsonl(folder / "corpus.jsonl")}
    qrels = _qrels(folder / "qrels.tsv")
    queries = []
    for row in _jsonl(folder / "queries.jsonl"):
        qid = str(row["_id"])
        relevant = {d: s for d, s in qrels.get(qid, {}).items() if d in corpus}
        if relevant:
            qrels[qid] = relevant
            self_id = row.get("self_id")
            queries.append(Query(qid, str(row["text"]), str(self_id) if self_id else None))
    return BeirSet(folder.resolve().name, corpus, queries, qrels)


def subsample(
    data: BeirSet, max_queries: int | None, max_corpus: int | None, seed: int = 0
) -> BeirSet:
    """A seeded sample of queries and distractors; relevant and self documents always stay."""
    rng = random.Random(seed)
    queries = data.queries
    if max_queries is not None and max_queries < len(queries):
        queries = sorted(rng.sample(queries, max_queries), key=lambda q: q.id)
    corpus = data.corpus
    if max_corpus is not None and max_corpus < len(corpus):
        needed = {d for q in queries for d in data.qrels[q.id]}
        needed |= {q.self_id for q in queries if q.self_id}
        others = sorted(set(corpus) - needed)
        room = max(0, max_corpus - len(needed))
        keep = needed | set(rng.sample(others, min(room, len(others))))
        corpus = {d: t for d, t in corpus.items() if d in keep}
    qrels = {q.id: data.qrels[q.id] for q in queries}
    return BeirSet(data.name, corpus, queries, qrels)


def write_set(folder: Path, data: BeirSet) -> None:
    """Writes a set in BEIR layout (used by build-set and the smoke tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for doc_id, text in data.corpus.items():
            out.write(json.dumps({"_id": doc_id, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as out:
        for query in data.queries:
            row = {"_id": query.id, "text": query.text}
            if query.self_id:
                row["self_id"] = query.self_id
            out.write(json.dumps(row) + "\n")
    with (folder / "qrels.tsv").open("w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in data.qrels.items():
            for doc_id, score in docs.items():
                out.write(f"{qid}\t{doc_id}\t{score}\n")
