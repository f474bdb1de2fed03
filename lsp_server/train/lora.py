"""LoRA on the encoder itself: low-rank updates of the attention and MLP projections.

The factors are saved as an adapter file (kind "lora"); the engine merges them into a copy of
the model's weights before the ONNX export, so inference costs what the base model costs.
Both sides of each pair go through the model (in-batch InfoNCE, as for the linear adapter),
so documents embed differently too: the encoder identity names the adapter, and an index
built without it is re-embedded.
Runs on a GPU when torch sees one, else on the CPU (slowly: see lsp_server/train/README.md).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Linear layers of a BERT-style encoder that get a low-rank update.
TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 8
    alpha: float = 16.0
    temperature: float = 0.05
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 2e-4
    max_query_tokens: int = 64
    max_code_tokens: int = 128
    seed: int = 0
    # Batches of one package each: its other definitions share its words and style, harder
    # in-batch negatives than another language's code.
    group_batches: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def pick_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _low_rank_class():
    import torch

    class LowRankLinear(torch.nn.Module):
        """y = W x + (alpha / r) B A x, with W frozen, A small random and B zero at start."""

        def __init__(self, base: torch.nn.Linear, rank: int, alpha: float) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.down = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.up = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.down, a=math.sqrt(5))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (x @ self.down.T @ self.up.T) * self.scale

    return LowRankLinear


def _swap_linears(model, make: Callable) -> int:
    """Replaces each targeted nn.Linear by make(linear); returns how many."""
    import torch

    count = 0
    for name, module in list(model.named_modules()):
        if isinstance(module, torch.nn.Linear) and name.endswith(TARGETS):
            parent_name, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent_name), attr, make(module))
            count += 1
    return count


def _embed(model, tokenizer, texts: Sequence[str], max_tokens: int, device: str):
    import torch

    batch = tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
    ).to(device)
    tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=1)


def scaled_updates(updates: dict[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """The low-rank updates times `scale` (each W + scale * dW): between 0 and 1 the merged
    model lies on the line from the bare model to the trained one (WiSE-FT, Wortsman et al.
    2022), which keeps more of what the bare model did well on text unlike the pairs."""
    return {
        name: value * scale if name.endswith(".up") else value for name, value in updates.items()
    }


def _batches(
    count: int, config: LoraConfig, generator: np.random.Generator, groups: Sequence[str]
) -> list[list[int]]:
    """One epoch's batches of pair indices: shuffled, or (group_batches) cut from each group's
    shuffled pairs, the batches then shuffled."""
    order = [int(i) for i in generator.permutation(count)]
    size = config.batch_size
    if not config.group_batches or not groups:
        return [order[start : start + size] for start in range(0, count, size)]
    by_group: dict[str, list[int]] = {}
    for index in order:
        by_group.setdefault(groups[index], []).append(index)
    flat = [i for group in sorted(by_group) for i in by_group[group]]
    cut = [flat[start : start + size] for start in range(0, count, size)]
    return [cut[i] for i in generator.permutation(len(cut))]


def _same_answer_mask(rows: Sequence[tuple[str, str]], device: str):
    """Off-diagonal pairs of a batch that share their query or their document: the other is
    a right answer too (a doc and its question for one function), not a negative."""
    import torch

    queries = [q for q, _ in rows]
    docs = [d for _, d in rows]
    mask = [
        [i != j and (queries[i] == queries[j] or docs[i] == docs[j]) for j in range(len(rows))]
        for i in range(len(rows))
    ]
    return torch.tensor(mask, dtype=torch.bool, device=device)


def train_lora(
    source: Path,
    pairs: Sequence[tuple[str, str]],
    config: LoraConfig = LoraConfig(),
    device: str | None = None,
    log: Callable[[str], None] = print,
    groups: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Trains LoRA on (query, document) texts; returns the low-rank factors by weight name
    ("<weight>.down", "<weight>.up"), as engine.adapter merges them. `groups` names each
    pair's package (for group_batches)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    device = device or pick_device()
    torch.manual_seed(config.seed)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    model = AutoModel.from_pretrained(str(source), local_files_only=True).to(device)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    low_rank = _low_rank_class()
    wrapped = _swap_linears(model, lambda linear: low_rank(linear, config.rank, config.alpha))
    model.to(device).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(
        f"LoRA rank {config.rank} on {wrapped} layers: {sum(p.numel() for p in trainable):,} "
        f"trainable weights, device {device}"
    )
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate)
    generator = np.random.default_rng(config.seed)
    steps = math.ceil(len(pairs) / config.batch_size) * config.epochs
    started, step = time.monotonic(), 0
    for _epoch in range(config.epochs):
        for batch in _batches(len(pairs), config, generator, groups):
            rows = [pairs[i] for i in batch]
            if len(rows) < 2:
                continue
            queries = _embed(
                model, tokenizer, [q for q, _ in rows], config.max_query_tokens, device
            )
            docs = _embed(model, tokenizer, [d for _, d in rows], config.max_code_tokens, device)
            logits = queries @ docs.T / config.temperature
            if config.group_batches:  # one package's batch often holds a doc and its question
                logits = logits.masked_fill(_same_answer_mask(rows, device), float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(rows), device=device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
            pace = (time.monotonic() - started) / step
            log(f"step {step}/{steps}: loss {float(loss.detach()):.4f} ({pace:.1f} s/step)")
    model.eval()
    updates: dict[str, np.ndarray] = {}
    for name, module in model.named_modules():
        if isinstance(module, low_rank):
            updates[f"{name}.weight.down"] = module.down.detach().cpu().numpy()
            updates[f"{name}.weight.up"] = module.up.detach().cpu().numpy()
    return updates
