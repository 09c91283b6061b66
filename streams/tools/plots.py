"""The evaluation report's PNG plots; matplotlib is optional and imported only here, lazily.

Kept out of ``models.evaluation`` so the numbers and the Markdown need no plotting library.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.evaluation import Report

INSTALL_HINT = "pip install 'distillguard[plots]'"


def available() -> bool:
    """Whether matplotlib can be imported (without importing it)."""
    return importlib.util.find_spec("matplotlib") is not None


def write_plots(report: Report, out_dir: Path, start_ts: float | None = None) -> list[Path]:
    """Detection timeline, score distributions and (if measured) the latency histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(9, 4))
    origin = start_ts or min((t for ts in report.throttle_times.values() for t in ts), default=0.0)
    for name, times in sorted(report.throttle_times.items()):
        hours = sorted((t - origin) / 3600 for t in times)
        ax.step(hours, range(1, len(hours) + 1), where="post", label=name)
    ax.set_xlabel("event time since scenario start (h)")
    ax.set_ylabel("member accounts throttled")
    ax.set_title("Detection timeline per campaign")
    if report.throttle_times:
        ax.legend(fontsize=8)
    written.append(_save(fig, out_dir / "timeline.png"))

    fig, ax = plt.subplots(figsize=(9, 4))
    bins = [i / 40 for i in range(41)]
    ax.hist(report.scores_benign, bins=bins, alpha=0.6, label="benign accounts", log=True)
    ax.hist(report.scores_attack, bins=bins, alpha=0.6, label="attack accounts", log=True)
    ax.set_xlabel("highest alert score per account (0 = never alerted)")
    ax.set_ylabel("accounts (log)")
    ax.set_title("Score distributions: benign vs attack")
    ax.legend()
    written.append(_save(fig, out_dir / "scores.png"))

    if report.latency_ms:
        fig, ax = plt.subplots(figsize=(9, 4))
        ax.hist(report.latency_ms, bins=50)
        ax.set_xlabel("request in Kafka -> command in Kafka (ms)")
        ax.set_ylabel("commands")
        ax.set_title("End-to-end latency")
        written.append(_save(fig, out_dir / "latency.png"))
    return written


@dataclass(frozen=True)
class Heatmap:
    """A table of shares in [0, 1] (None: no value), one row per cell of the matrix."""

    rows: list[str]
    columns: list[str]
    values: list[list[float | None]]
    title: str


def write_heatmap(heatmap: Heatmap, path: Path) -> Path:
    """The robustness matrix at a glance: red where recall is low, each square labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = [[float("nan") if v is None else v for v in row] for row in heatmap.values]
    width = 1.6 + 1.45 * len(heatmap.columns)
    fig, ax = plt.subplots(figsize=(width, 1.2 + 0.45 * len(heatmap.rows)))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(heatmap.columns)), heatmap.columns, rotation=20, ha="right")
    ax.set_yticks(range(len(heatmap.rows)), heatmap.rows)
    for i, row in enumerate(heatmap.values):
        for j, value in enumerate(row):
            ax.text(j, i, "-" if value is None else f"{value:.0%}", ha="center", va="center")
    ax.set_title(heatmap.title)
    fig.colorbar(image, ax=ax)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
