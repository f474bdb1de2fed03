"""Result files: JSON, a Markdown table and a PNG plot side by side."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from .metrics import METRICS, paired_interval


def machine() -> str:
    """One line naming the CPU and core count (figures depend on both)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def quality_table(sets: dict[str, dict]) -> str:
    """Markdown: one row per (set, pipeline)."""
    lines = [
        "| set | corpus | queries | pipeline | " + " | ".join(METRICS) + " |",
        "|---|---:|---:|---|" + "---:|" * len(METRICS),
    ]
    for name, entry in sets.items():
        for pipeline, scores in entry["pipelines"].items():
            values = " | ".join(f"{scores[m]:.4f}" for m in METRICS)
            lines.append(
                f"| {name} | {entry['corpus']} | {entry['queries']} | {pipeline} | {values} |"
            )
    return "\n".join(lines)


BASE_RANKINGS = ("bm25", "dense", "hybrid")


def summary_table(sets: dict[str, dict]) -> str:
    """Markdown: MRR of the single rankings and the shipped fusion, one row per set; with a
    baseline run, today's engine beside them and the change of the shipped hybrid."""
    bases = list(BASE_RANKINGS)
    if any("today/hybrid" in entry["pipelines"] for entry in sets.values()):
        bases += ["today/bm25", "today/dense", "today/hybrid"]
    header = bases + (["hybrid - today/hybrid"] if "today/hybrid" in bases else [])
    lines = ["| set | queries | " + " | ".join(header) + " |"]
    lines.append("|---|---:|" + "---:|" * len(header))
    for name, entry in sets.items():
        scores = [entry["pipelines"].get(b, {}).get("mrr") for b in bases]
        if "today/hybrid" in bases:
            now, then = scores[2], scores[5]
            scores.append(None if now is None or then is None else now - then)
        values = " | ".join("—" if v is None else f"{v:.4f}" for v in scores)
        lines.append(f"| {name} | {entry['queries']} | {values} |")
    for engine in ("", "today/") if "today/hybrid" in bases else ("",):
        below = sets_below_a_ranking_alone(sets, engine)
        if below is not None:
            lines.append(
                f"\n{engine}hybrid below bm25 or dense alone: {len(below)} of {len(sets)} sets"
                + (f" ({', '.join(below)})" if below else "")
            )
    return "\n".join(lines)


def sets_below_a_ranking_alone(sets: dict[str, dict], engine: str = "") -> list[str] | None:
    """The sets where an engine's hybrid (`engine`: "" or "today/") has a lower MRR than its
    BM25 alone or dense alone; None when a set lacks one of the three."""
    below = []
    for name, entry in sets.items():
        scores = [entry["pipelines"].get(f"{engine}{p}", {}).get("mrr") for p in BASE_RANKINGS]
        if None in scores:
            return None
        bm25, dense, hybrid = scores
        if hybrid < max(bm25, dense):
            below.append(name)
    return below


def difference_table(per_query: dict[str, dict[str, list[float]]], shipped: str = "hybrid") -> str:
    """Markdown: each pipeline's MRR minus the shipped one's, per set, with its paired 95%
    interval; "yes" where the interval leaves out 0 (a difference beyond chance)."""
    lines = [
        f"| set | pipeline | MRR - {shipped} | 95% interval | beyond chance |",
        "|---|---|---:|---|---|",
    ]
    for name, ranks in per_query.items():
        ours = ranks.get(shipped)
        if ours is None:
            continue
        for pipeline, theirs in ranks.items():
            if pipeline == shipped or not theirs:
                continue
            low, high = paired_interval(ours, theirs)
            mean = (sum(theirs) - sum(ours)) / len(ours)
            beyond = "yes" if low > 0 or high < 0 else "no"
            lines.append(
                f"| {name} | {pipeline} | {mean:+.4f} | [{low:+.4f}, {high:+.4f}] | {beyond} |"
            )
    return "\n".join(lines)


def language_table(
    per_query: dict[str, dict[str, list[float]]],
    landing: dict[str, dict[str, list[float]]],
    languages: dict[str, list[str]],
) -> str:
    """Markdown: each in-place set whose answers lie in files of several languages (an
    Android and iOS package: Kotlin, Swift, TypeScript), scored per language of the answer,
    most asked first: each pipeline's MRR, and where its first result lands after a slash.
    "" when no set mixes languages."""
    mixed = {name: asked for name, asked in languages.items() if len(set(asked)) > 1}
    labels = list(dict.fromkeys(p for name in mixed for p in per_query.get(name, {})))
    lines = [
        "| set | answers in | queries | " + " | ".join(f"{p} MRR / landing" for p in labels) + " |",
        "|---|---|---:|" + "---|" * len(labels),
    ]
    for name, asked in mixed.items():
        for language in sorted(set(asked), key=lambda found: (-asked.count(found), found)):
            picked = [i for i, other in enumerate(asked) if other == language]
            cells = [_language_cell(name, p, picked, per_query, landing) for p in labels]
            lines.append(f"| {name} | {language} | {len(picked)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) if mixed else ""


def _language_cell(
    name: str,
    pipeline: str,
    picked: list[int],
    per_query: dict[str, dict[str, list[float]]],
    landing: dict[str, dict[str, list[float]]],
) -> str:
    ranks = per_query.get(name, {}).get(pipeline)
    if not ranks:
        return ""
    lands = landing.get(name, {}).get(pipeline)
    landed = f" / {_mean_of(lands, picked):.4f}" if lands else ""
    return f"{_mean_of(ranks, picked):.4f}{landed}"


def _mean_of(values: list[float], picked: list[int]) -> float:
    return sum(values[i] for i in picked) / len(picked)


def pooled_table(per_query: dict[str, dict[str, list[float]]], shipped: str) -> str:
    """Markdown: every set's queries taken together, each pipeline's mean reciprocal rank
    beside the shipped one's, the difference with its paired 95% interval, and how many
    queries it ranks better and worse. A change too small to tell on any one set of 20
    questions can be beyond chance on 500 (a fusion's weight, measured on many small sets)."""
    labels = list(next(iter(per_query.values()), {}))
    pooled = {x: [r for ranks in per_query.values() for r in ranks.get(x, [])] for x in labels}
    ours = pooled.get(shipped, [])
    count = len(ours)
    base = sum(ours) / max(count, 1)
    lines = [
        f"| all {count} queries of {len(per_query)} sets | MRR | MRR - {shipped} "
        "| 95% interval | better / worse |",
        "|---|---:|---:|---|---|",
    ]
    for label, theirs in pooled.items():
        if len(theirs) != count or not count:
            continue  # not scored on every set: no paired comparison
        mean = sum(theirs) / count
        if label == shipped:
            lines.append(f"| {label} | {mean:.4f} | | | |")
            continue
        low, high = paired_interval(ours, theirs)
        better = sum(b > a + 1e-9 for a, b in zip(ours, theirs, strict=True))
        worse = sum(b < a - 1e-9 for a, b in zip(ours, theirs, strict=True))
        lines.append(
            f"| {label} | {mean:.4f} | {mean - base:+.4f} | [{low:+.4f}, {high:+.4f}] "
            f"| {better} / {worse} |"
        )
    return "\n".join(lines)


def replay_table(sets: dict[str, dict[str, float]]) -> str:
    """Markdown: MRR per set and fusion, with the sets where a fusion is below a ranking
    alone (bm25 or dense) counted at the foot."""
    labels = list(next(iter(sets.values()), {}))
    lines = ["| set | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for name, scores in sets.items():
        lines.append(f"| {name} | " + " | ".join(f"{scores[x]:.4f}" for x in labels) + " |")
    below = [sum(s[x] < max(s["bm25"], s["dense"]) for s in sets.values()) for x in labels]
    lines.append("| sets below bm25 or dense alone | " + " | ".join(map(str, below)) + " |")
    return "\n".join(lines)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; no display on CI or over ssh
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def quality_plot(path: Path, sets: dict[str, dict]) -> bool:
    """Grouped bars of MRR per pipeline, one group per set; False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    names = list(sets)
    pipes = list(dict.fromkeys(p for entry in sets.values() for p in entry["pipelines"]))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names) * len(pipes) / 4), 4.5))
    width = 0.8 / max(len(pipes), 1)
    for i, pipe in enumerate(pipes):
        values = [sets[n]["pipelines"].get(pipe, {}).get("mrr", 0.0) for n in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=pipe)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))], names)
    ax.set_ylabel("MRR")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("nearcode retrieval quality")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def line_plot(
    path: Path, x: Sequence[float], series: dict[str, Sequence[float]], xlabel: str, title: str
) -> bool:
    """One line per series against x (log-log: corpus sizes span two decades)."""
    plt = _pyplot()
    if plt is None:
        return False
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 4))
    for ax, (label, values) in zip(
        axes if len(series) > 1 else [axes], series.items(), strict=True
    ):
        ax.plot(x, values, marker="o")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
