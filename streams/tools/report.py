"""Write an evaluation report folder (Markdown + PNG plots) and print its headline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from streams.tools.evaluate import Report, evaluate, index_events, render_markdown, write_plots


def load_labels(path: Path) -> dict[str, Any]:
    labels: dict[str, Any] = orjson.loads(path.read_bytes())
    return labels


def write_report(
    out_dir: Path,
    labels_path: Path,
    events_path: Path,
    alerts: list[dict[str, Any]],
    commands: list[dict[str, Any]],
    title: str,
) -> Report:
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = load_labels(labels_path)
    report = evaluate(labels, index_events(events_path, labels), alerts, commands)
    start = labels.get("scenario", {}).get("start_ts")
    plots = write_plots(report, out_dir, start_ts=start)
    markdown = render_markdown(report, title)
    markdown += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in plots) + "\n"
    (out_dir / "summary.md").write_text(markdown)
    return report


def headline(report: Report) -> str:
    return (
        f"throttle precision {report.precision:.3f}, recall {report.recall:.3f} "
        f"({report.true_throttles}/{report.attack_accounts} attack accounts), "
        f"benign throttle rate {report.benign_throttle_rate:.4%} "
        f"({report.false_throttles}/{report.benign_accounts} benign accounts)"
    )
