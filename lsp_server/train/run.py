"""What `nearcode train` does: sources -> pairs -> cached base vectors -> adapter -> report."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..bench.report import machine, write_json
from ..engine.adapter import LORA_KIND, QUERY_KIND, load_adapter, save_adapter
from ..engine.embedder import DEFAULT_MODEL_ALIAS, Encoder, make_encoder, resolve_model
from ..engine.settings import EngineSettings
from .embeddings import VectorCache, embed
from .linear import LinearConfig, fit_linear
from .pairs import (
    CODE_RELATIONS,
    PROSE_RELATIONS,
    BenchmarkFilter,
    Pair,
    counts,
    document_text,
    mine,
    write_pairs,
)
from .sources import (
    Source,
    SourceError,
    benchmark_projects,
    check_not_benchmarked,
    fetch_all,
    read_package_list,
)

ADAPTER_NAME = "query-adapter"
LORA_NAME = "encoder-lora"
ADAPTER_VERSION = "2"
# What each matrix of the adapter learns from (relations of lsp_server.train.pairs), and how:
# chosen on held-out packages and cosqa-dev (lsp_server/train/README.md has the runs).
KIND_RELATIONS = {
    "prose": ("doc", "question", "howto"),
    "code": ("async-twin", "overload", "version", "renamed", "reformatted"),
}
KIND_CONFIG = {
    # A large learning rate (the default 2e-3) fits the training packages' vocabulary and
    # loses on unseen ones (cosqa-dev -0.04): small steps from the identity transfer best.
    "prose": LinearConfig(learning_rate=1e-4, epochs=5),
    "code": LinearConfig(learning_rate=1e-4, epochs=5),
}
_HOLD_OUT_EVERY = 6  # one package in this many is kept out of fitting, for validation


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to do."""


Log = Callable[[str], None]


def _log(line: str) -> None:
    print(line, flush=True)


def _sources(args: argparse.Namespace, log: Log) -> dict[Source, Path]:
    if args.from_folder:
        trees = {}
        for folder in args.from_folder:
            if not folder.is_dir():
                raise TrainingError(f"no such folder: {folder}")
            trees[Source("folder", folder.resolve().name, "local")] = folder.resolve()
        return trees
    try:
        sources = read_package_list(args.packages)
        check_not_benchmarked(sources, benchmark_projects() | set(args.benchmark_project))
        return fetch_all(sources, args.cache.resolve(), log)
    except SourceError as exc:
        raise TrainingError(str(exc)) from exc


def mine_pairs(args: argparse.Namespace, log: Log = _log) -> tuple[list[Pair], dict]:
    started = time.monotonic()
    trees = _sources(args, log)
    exclude = BenchmarkFilter.from_sets(args.exclude_set)
    pairs = mine(trees, exclude, log)
    if not pairs:
        raise TrainingError("no training pairs found: are there documented functions?")
    write_pairs(args.cache / "pairs.jsonl", pairs)
    info = {
        "sources": [s.spec for s in trees],
        "excluded_sets": [str(p) for p in args.exclude_set],
        "pairs": len(pairs),
        "per_language": counts(pairs),
        "mine_seconds": round(time.monotonic() - started, 1),
    }
    log(f"{len(pairs)} pairs from {len(trees)} sources in {info['mine_seconds']} s")
    return pairs, info


def _project(pair: Pair) -> str:
    """The package a pair came from, without its version (version pairs name two)."""
    return re.split(r"==|=|@(?=[^@]*$)|:|\+", pair.source.split("+")[0])[0]


def _held_out(pairs: list[Pair]) -> np.ndarray:
    """Pairs of the validation packages (one in _HOLD_OUT_EVERY, by name; none if too few)."""
    projects = [_project(p) for p in pairs]
    if len(set(projects)) < _HOLD_OUT_EVERY:
        return np.zeros(len(pairs), dtype=bool)
    digest = [int(hashlib.blake2b(p.encode(), digest_size=4).hexdigest(), 16) for p in projects]
    return np.asarray([d % _HOLD_OUT_EVERY == 0 for d in digest])


def _sample(languages: list[str], size: int, seed: int, balance: bool) -> list[int]:
    """A seeded sample of pair indices; balanced: languages take turns, so the few Go, Rust
    or TypeScript pairs are not drowned by Python's (a language runs out, the others go on)."""
    generator = np.random.default_rng(seed)
    if not balance:
        return [int(i) for i in generator.permutation(len(languages))[:size]]
    queues = {
        language: [int(i) for i in generator.permutation(
            [i for i, other in enumerate(languages) if other == language]
        )]
        for language in sorted(set(languages))
    }  # fmt: skip
    picked: list[int] = []
    while len(picked) < size and any(queues.values()):
        for queue in queues.values():
            if queue and len(picked) < size:
                picked.append(queue.pop())
    return [picked[i] for i in generator.permutation(len(picked))]


def _pair_vectors(pairs: list[Pair], encoder: Encoder, cache: VectorCache, log: Log):
    queries = embed([p.query for p in pairs], encoder, cache, log)
    docs = embed([document_text(p.code, p.language) for p in pairs], encoder, cache, log)
    codes: dict[str, int] = {}
    doc_ids = np.asarray([codes.setdefault(p.code, len(codes)) for p in pairs])
    return queries, docs, doc_ids


def _validation_mrr(queries: np.ndarray, docs: np.ndarray, matrix: np.ndarray | None) -> float:
    """MRR of each query's own code among all the codes given."""
    if len(queries) == 0:
        return 0.0
    if matrix is not None:
        queries = queries @ matrix.T
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = queries @ docs.T
    own = np.diag(scores)
    ranks = (scores > own[:, None]).sum(axis=1) + 1
    return float(np.mean(1.0 / ranks))


def _per_package_mrr(
    pairs: list[Pair], rows: np.ndarray, queries, docs, matrix: np.ndarray | None
) -> float | None:
    """Mean over held-out packages of the MRR within each package (a CodeSearchNet-like
    search of one codebase), for their doc pairs."""
    found = []
    projects = np.asarray([_project(p) for p in pairs])
    is_doc = np.asarray([p.relation == "doc" for p in pairs])
    for project in sorted(set(projects[rows])):
        chosen = rows & is_doc & (projects == project)
        if chosen.sum() >= 20:
            found.append(_validation_mrr(queries[chosen], docs[chosen], matrix))
    return round(float(np.mean(found)), 4) if found else None


def _model_label(settings: EngineSettings) -> str:
    return DEFAULT_MODEL_ALIAS if settings.model is None else resolve_model(settings.model)[1]


def train_adapter(args: argparse.Namespace, log: Log = _log) -> int:
    unknown = set(args.kinds.split(",")) - set(KIND_RELATIONS)
    if unknown:
        raise TrainingError(f"unknown query kinds {sorted(unknown)}: use prose, code or both")
    pairs, info = mine_pairs(args, log)
    relations = {r for kind in args.kinds.split(",") for r in KIND_RELATIONS[kind]}
    pairs = [p for p in pairs if p.relation in relations]  # only these are embedded
    if args.max_pairs is not None:
        order = np.random.default_rng(args.seed).permutation(len(pairs))[: args.max_pairs]
        pairs = [pairs[i] for i in sorted(order)]
        info["sampled_pairs"] = len(pairs)
    settings = EngineSettings(adapter="none")
    encoder = make_encoder(settings)
    cache = VectorCache(args.cache / "vectors", encoder.identity)
    started = time.monotonic()
    queries, docs, doc_ids = _pair_vectors(pairs, encoder, cache, log)
    info["embed_seconds"] = round(time.monotonic() - started, 1)
    matrices: dict[str, np.ndarray] = {}
    kinds: dict[str, dict] = {}
    held = _held_out(pairs)
    groups = np.asarray([p.source for p in pairs])
    for kind in args.kinds.split(","):
        config = KIND_CONFIG[kind]
        config = replace(config, seed=args.seed, epochs=args.epochs or config.epochs)
        wanted = np.asarray([p.relation in KIND_RELATIONS[kind] for p in pairs])
        fit_rows = wanted & ~held
        started = time.monotonic()
        matrix = fit_linear(
            queries[fit_rows], docs[fit_rows], doc_ids[fit_rows], config, log, groups[fit_rows]
        )
        matrices[kind] = matrix
        kinds[kind] = {
            "relations": list(KIND_RELATIONS[kind]),
            "pairs": int(fit_rows.sum()),
            "held_out_packages": sorted(
                {_project(p) for p, h in zip(pairs, held, strict=True) if h}
            ),
            "config": config.to_json(),
            "fit_seconds": round(time.monotonic() - started, 1),
            "held_out_mrr_per_package": {
                "base": _per_package_mrr(pairs, held, queries, docs, None),
                "adapted": _per_package_mrr(pairs, held, queries, docs, matrix),
            },
        }
        log(f"{kind}: held-out packages, MRR {kinds[kind]['held_out_mrr_per_package']}")
    report = {"kind": "query-side linear adapter", **info, "kinds": kinds}
    _write_adapter(args.out, matrices, QUERY_KIND, ADAPTER_NAME, report, log)
    return 0


def _write_adapter(
    out: Path, arrays: dict[str, np.ndarray], kind: str, name: str, report: dict, log: Log, **meta
) -> None:
    """The adapter file and its training report beside it (identity, encoder, machine)."""
    save_adapter(
        out,
        arrays,
        kind=kind,
        name=name,
        version=ADAPTER_VERSION,
        base_model=_model_label(EngineSettings(adapter="none")),
        **meta,
    )
    adapter = load_adapter(str(out))
    assert adapter is not None
    report = {
        "artifact": out.name,
        "identity": adapter.identity,
        # The document side: the base model's for a query adapter, the merged one for LoRA.
        "encoder": make_encoder(EngineSettings(adapter=str(out))).identity,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        **report,
    }
    write_json(out.with_suffix(".json"), report)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and its report")


def train_lora_model(args: argparse.Namespace, log: Log = _log) -> int:
    from .lora import TARGETS, LoraConfig, pick_device, scaled_updates, train_lora

    relations = PROSE_RELATIONS + CODE_RELATIONS
    ungrouped = set(args.ungrouped_relation)
    if unknown := ungrouped - set(relations):
        raise TrainingError(f"unknown relations {sorted(unknown)}: use {', '.join(relations)}")
    if not 0 < args.update_scale <= 1:
        raise TrainingError(f"--update-scale must be in (0, 1], not {args.update_scale}")
    pairs, info = mine_pairs(args, log)
    # LoRA has no validation step of its own (the benchmarks are its validation), so the
    # held-out packages of the linear adapter are trained on unless asked otherwise.
    held = _held_out(pairs) if args.hold_out else np.zeros(len(pairs), dtype=bool)
    chosen = [p for p, out in zip(pairs, held, strict=True) if not out]
    order = _sample([p.language for p in chosen], args.max_pairs, args.seed, args.balance)
    texts = [(chosen[i].query, document_text(chosen[i].code, chosen[i].language)) for i in order]
    settings = EngineSettings(adapter="none")
    source, _ = resolve_model(settings.model)
    config = LoraConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        group_batches=args.group_batches,
    )
    device = args.device or pick_device()
    started = time.monotonic()
    # Relations left out of grouping share batches across packages, as web questions meet
    # many projects' code.
    groups = ["" if chosen[i].relation in ungrouped else _project(chosen[i]) for i in order]
    updates = train_lora(Path(source), texts, config, device, log, groups)
    updates = scaled_updates(updates, args.update_scale)
    seconds = round(time.monotonic() - started, 1)
    report = {
        "kind": "LoRA, merged into the encoder's weights before the ONNX export",
        "device": device,
        **info,
        "trained_pairs": len(texts),
        "trained_per_relation": dict(Counter(chosen[i].relation for i in order)),
        "config": config.to_json(),
        "ungrouped_relations": sorted(ungrouped),
        "update_scale": args.update_scale,
        "train_seconds": seconds,
    }
    meta = {"rank": config.rank, "alpha": config.alpha, "targets": list(TARGETS)}
    _write_adapter(args.out, updates, LORA_KIND, LORA_NAME, report, log, **meta)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.train == "mine":
        _pairs, info = mine_pairs(args)
        print(json.dumps(info["per_language"], indent=2))
        return 0
    if args.train == "adapter":
        return train_adapter(args)
    return train_lora_model(args)
