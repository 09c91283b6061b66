"""Write an evaluation report folder (Markdown + PNG plots) and print its headline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from models.evaluation import Report, evaluate, index_events, render_markdown
from streams.tools import plots


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
    """Write ``summary.md`` and, if matplotlib is installed, the plots it links to.

    Without matplotlib the numbers are all still there: the plots are skipped with a note in
    the report and on stderr rather than failing the whole evaluation.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = load_labels(labels_path)
    report = evaluate(labels, index_events(events_path, labels), alerts, commands)
    markdown = render_markdown(report, title)
    if plots.available():
        start = labels.get("scenario", {}).get("start_ts")
        written = plots.write_plots(report, out_dir, start_ts=start)
        markdown += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in written) + "\n"
    else:
        note = f"matplotlib is not installed, so no plots were written ({plots.INSTALL_HINT})"
        print(f"report: {note}", file=sys.stderr)
        markdown += f"\n_{note}._\n"
    (out_dir / "summary.md").write_text(markdown)
    return report


def headline(report: Report) -> str:
    return (
        f"throttle precision {report.precision:.3f}, recall {report.recall:.3f} "
        f"({report.true_throttles}/{report.attack_accounts} attack accounts), "
        f"benign throttle rate {report.benign_throttle_rate:.4%} "
        f"({report.false_throttles}/{report.benign_accounts} benign accounts)"
    )
