"""Fitting the query-side linear adapter on cached base embeddings.

W starts at the identity (the adapter begins as "no change") and is trained with in-batch
InfoNCE: each query's own code must outscore every other code in its batch after the query
vector is mapped by W and re-normalised; code vectors stay fixed. An L2 pull towards the
identity keeps W from drifting where the pairs say little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LinearConfig:
    temperature: float = 0.05
    batch_size: int = 1024
    epochs: int = 20
    learning_rate: float = 2e-3
    identity_decay: float = 0.0  # weight of ||W - I||^2 in the loss
    rank: int = 0  # > 0: W = I + U V (a low-rank update), fewer weights to overfit with
    seed: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def _batches(groups: np.ndarray, size: int, generator: np.random.Generator) -> list[np.ndarray]:
    """Row batches; with groups, each batch stays inside one group (one package), so the
    negatives are the same codebase's other functions, as in a search of one repository."""
    assert groups is not None
    found: list[np.ndarray] = []
    for group in np.unique(groups):
        rows = generator.permutation(np.flatnonzero(groups == group))
        found.extend(rows[i : i + size] for i in range(0, len(rows), size))
    return [found[i] for i in generator.permutation(len(found))]


def fit_linear(
    queries: np.ndarray,
    docs: np.ndarray,
    doc_ids: np.ndarray,
    config: LinearConfig = LinearConfig(),
    log: Callable[[str], None] = print,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """The (dim, dim) matrix W of the adapter q -> normalise(W q).

    ``doc_ids`` names each pair's code: pairs that share code are not negatives of each other.
    ``groups`` (e.g. the source package of each pair) keeps each batch inside one group.
    """
    import torch

    torch.manual_seed(config.seed)
    generator = np.random.default_rng(config.seed)
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    d = torch.nn.functional.normalize(
        torch.from_numpy(np.ascontiguousarray(docs, dtype=np.float32)), dim=1
    )
    ids = torch.from_numpy(np.asarray(doc_ids, dtype=np.int64))
    dim = q.shape[1]
    eye = torch.eye(dim)
    if config.rank:
        left = torch.nn.Parameter(torch.randn(dim, config.rank) / dim**0.5)
        right = torch.nn.Parameter(torch.zeros(config.rank, dim))
        parameters = [left, right]

        def current() -> torch.Tensor:
            return eye + left @ right
    else:
        full = torch.nn.Parameter(eye.clone())
        parameters = [full]

        def current() -> torch.Tensor:
            return full

    optimiser = torch.optim.Adam(parameters, lr=config.learning_rate)
    for epoch in range(config.epochs):
        total, steps = 0.0, 0
        if groups is None:
            order = generator.permutation(len(q))
            size = config.batch_size
            batches = [order[i : i + size] for i in range(0, len(q), size)]
        else:
            batches = _batches(groups, config.batch_size, generator)
        for batch in batches:
            rows = torch.from_numpy(batch)
            if len(rows) < 2:
                continue
            weight = current()
            mapped = torch.nn.functional.normalize(q[rows] @ weight.T, dim=1)
            logits = mapped @ d[rows].T / config.temperature
            batch_ids = ids[rows]
            shared = (batch_ids[:, None] == batch_ids[None, :]) & ~torch.eye(
                len(rows), dtype=torch.bool
            )
            logits = logits.masked_fill(shared, float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(rows)))
            if config.identity_decay:
                loss = loss + config.identity_decay * ((weight - eye) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total, steps = total + float(loss.detach()), steps + 1
        log(f"epoch {epoch + 1}/{config.epochs}: loss {total / max(steps, 1):.4f}")
    return current().detach().numpy().astype(np.float32)
