"""``distillguard evaluate --matrix``: the robustness matrix over seeds x tactic cells.

The runs are independent, so they go to a small process pool; each returns a few numbers
(``models.matrix.CellRun``), and this module turns them into ``matrix.md``, ``runs.json`` and
a heatmap (when matplotlib is installed).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import orjson

from models.matrix import (
    SEEDS,
    SIZES,
    CellRun,
    Stat,
    attack_load,
    benign_overall,
    cell_recall,
    run_cell,
    summarize_kind,
    summarize_style,
)
from models.policy import DEFAULT_POLICY
from models.simulator import BENIGN, CAMPAIGNS
from models.simulator.tactics import CELL_NAMES, CELLS, Range, Span
from streams.tools import plots


def cell_list(text: str) -> tuple[str, ...]:
    """``--cells`` type: comma-separated cell names; an unknown one lists the choices."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(set(names) - set(CELL_NAMES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown cell(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(CELL_NAMES)}"
        )
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The matrix options of ``distillguard evaluate`` (they apply with ``--matrix``)."""
    parser.add_argument(
        "--matrix", action="store_true", help="backtest over seeds x tactic cells (no --events)"
    )
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="full",
        help="with --matrix: preset days, scale, seeds and cells (ci: 1 day, 2 seeds, 4 cells)",
    )
    parser.add_argument(
        "--seeds", choices=sorted(SEEDS), default="holdout", help="with --matrix: seed split"
    )
    parser.add_argument("--cells", type=cell_list, default=None, help="with --matrix: a,b,...")
    parser.add_argument("--days", type=float, default=None, help="with --matrix: event-time days")
    parser.add_argument("--scale", type=float, default=None, help="with --matrix: account scale")
    parser.add_argument("--workers", type=int, default=2, help="with --matrix: processes")


def run(args: argparse.Namespace) -> int:
    """Run the matrix, write the report folder, print a headline."""
    size = SIZES[args.size]
    seeds = SEEDS[args.seeds][: size.seeds]
    cells = args.cells or size.cells
    days = args.days if args.days is not None else size.days
    scale = args.scale if args.scale is not None else size.scale
    jobs = [(seed, cell) for cell in cells for seed in seeds]
    print(
        f"matrix: {len(jobs)} runs ({len(seeds)} {args.seeds} seeds x {len(cells)} cells), "
        f"{days:g} days at scale {scale:g}, {args.workers} workers",
        file=sys.stderr,
    )
    began = time.perf_counter()
    runs: list[CellRun] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [
            pool.submit(run_cell, seed, cell, days, scale, DEFAULT_POLICY, args.partitions)
            for seed, cell in jobs
        ]
        for future in as_completed(futures):
            done = future.result()
            runs.append(done)
            print(
                f"matrix: {len(runs)}/{len(jobs)} seed {done.seed} {done.cell}: "
                f"{done.events:,} events in {done.seconds:.0f}s",
                file=sys.stderr,
            )
    order = {job: i for i, job in enumerate(jobs)}
    runs.sort(key=lambda r: order[(r.seed, r.cell)])
    elapsed = time.perf_counter() - began
    text = render(runs, args.seeds, elapsed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "runs.json").write_bytes(
        orjson.dumps([dataclasses.asdict(r) for r in runs], option=orjson.OPT_INDENT_2)
    )
    if plots.available():
        plots.write_heatmap(_heatmap(runs, cells), args.out / "heatmap.png")
        text += "\n![median throttle recall per cell](heatmap.png)\n"
    else:
        note = f"matplotlib is not installed, so no heatmap was written ({plots.INSTALL_HINT})"
        print(f"matrix: {note}", file=sys.stderr)
        text += f"\n_{note}._\n"
    (args.out / "matrix.md").write_text(text)
    print(headline(runs, args.seeds))
    print(f"report: {args.out / 'matrix.md'} ({elapsed / 60:.1f} min)")
    return 0


def _styles(runs: list[CellRun]) -> list[str]:
    return [c for c in CAMPAIGNS if any(c in r.styles for r in runs)]


def _kinds(runs: list[CellRun]) -> list[str]:
    return [k for k in BENIGN if any(k in r.benign for r in runs)]


def _heatmap(runs: list[CellRun], cells: tuple[str, ...]) -> plots.Heatmap:
    styles = _styles(runs)
    return plots.Heatmap(
        rows=list(cells),
        columns=styles,
        values=[[cell_recall(runs, cell, style) for style in styles] for cell in cells],
        title="median throttle recall over seeds, per tactic cell",
    )


def _at(s: Stat, bad: bool) -> str:
    """Where the worst run was, when it is worth naming."""
    return f" ({s.where})" if bad and s.where else ""


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pair(s: Stat, unit: str = "") -> str:
    """``median / worst``, in hours (``h``), percent (``%``) or plain."""
    if unit == "h":
        return f"{_h(s.median)} / {_h(s.worst)}"
    if unit == "%":
        return f"{_pct(s.median)} / {_pct(s.worst)}"
    return f"{_num(s.median)} / {_num(s.worst)}"


def headline(runs: list[CellRun], split: str) -> str:
    seeds = sorted({r.seed for r in runs})
    cells = list(dict.fromkeys(r.cell for r in runs))
    recall = ", ".join(
        f"{style} {_num(s.recall.worst)}/{_num(s.recall.median)}"
        for style in _styles(runs)
        for s in [summarize_style(runs, style)]
    )
    benign = benign_overall(runs)
    alerts, _ = attack_load(runs)
    laundering = [r.styles["router_laundering"] for r in runs if "router_laundering" in r.styles]
    signalled = sum(s.start_to_signal_h is not None for s in laundering)
    return (
        f"matrix ({split}: {len(seeds)} seeds x {len(cells)} cells): throttle recall worst/median "
        f"{recall}; laundering router alerted in {signalled} of {len(laundering)} runs; "
        f"benign throttle rate {benign.pooled:.3%} pooled "
        f"(worst run {_pct(benign.worst.worst, 2)}); "
        f"alerts per attack entity per day median {_num(alerts.median)}"
    )


def render(runs: list[CellRun], split: str, elapsed_s: float) -> str:
    """``matrix.md``: per style and kind the worst run and the median, then every run."""
    seeds = sorted({r.seed for r in runs})
    cells = list(dict.fromkeys(r.cell for r in runs))
    benign = benign_overall(runs)
    alerts, commands = attack_load(runs)
    first = runs[0] if runs else None
    size = f"each {first.days:g} d at scale {first.scale:g}" if first else "no runs"
    lines = [
        f"# distillguard robustness matrix ({split} seeds)",
        "",
        f"- {len(runs)} runs: seeds {', '.join(map(str, seeds))} x cells {', '.join(cells)}; "
        f"{size}; in-process backtest, default policy {DEFAULT_POLICY.version}, 8 partitions; "
        f"{elapsed_s / 60:.1f} min",
        f"- benign throttle rate: **{benign.pooled:.3%}** pooled ({benign.throttled} of "
        f"{benign.accounts:,} benign accounts over all runs); worst run "
        f"{_pct(benign.worst.worst, 2)}{_at(benign.worst, bad=bool(benign.worst.worst))}",
        f"- per attack entity per day (median / worst run): alerts {_pair(alerts)}, "
        f"commands {_pair(commands)}",
        "",
        "Worst = the worst single run (seed / cell); medians are over runs. Times are each "
        "run's median over its throttled members. *First signal* = the first alert naming any "
        "of the campaign's accounts, or its first throttle. Entities = the campaign's accounts "
        "and campaign entities that got an alert or a command.",
        "",
        "## Campaign styles",
        "",
        "| style | runs | throttle recall: worst (run) | median | first request -> throttle "
        "(median / worst) | campaign start -> throttle | campaign start -> first signal | "
        "traffic served before first signal | served after it, until throttle | "
        "alerts / entity / day | commands / entity / day |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for style in _styles(runs):
        s = summarize_style(runs, style)
        lines.append(
            f"| {style} | {s.runs} | **{_pct(s.recall.worst)}**"
            f"{_at(s.recall, bad=s.recall.worst is not None and s.recall.worst < 1)} | "
            f"{_pct(s.recall.median)} | {_pair(s.first_to_throttle_h, 'h')} | "
            f"{_pair(s.start_to_throttle_h, 'h')} | {_pair(s.start_to_signal_h, 'h')} | "
            f"{_pair(s.served_before, '%')} | "
            f"{_pair(s.served_after, '%')} | {_pair(s.alerts_per_entity_day)} | "
            f"{_pair(s.commands_per_entity_day)} |"
        )
    lines += [
        "",
        "## Benign kinds",
        "",
        "| kind | accounts (all runs) | throttled | pooled rate | worst run (run) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in _kinds(runs):
        k = summarize_kind(runs, kind)
        lines.append(
            f"| {kind} | {k.accounts:,} | {k.throttled} | {_pct(k.pooled, 3)} | "
            f"{_pct(k.worst.worst, 2)}{_at(k.worst, bad=bool(k.worst.worst))} |"
        )
    lines += _per_cell(runs, cells) + _every_run(runs) + _cell_legend(cells)
    return "\n".join(lines) + "\n"


def _per_cell(runs: list[CellRun], cells: list[str]) -> list[str]:
    styles = _styles(runs)
    lines = [
        "",
        "## Median throttle recall per cell (over seeds)",
        "",
        "| cell | " + " | ".join(styles) + " | benign throttled |",
        "|---|" + "---:|" * (len(styles) + 1),
    ]
    for cell in cells:
        mine = [r for r in runs if r.cell == cell]
        throttled = benign_overall(mine)
        lines.append(
            f"| {cell} | "
            + " | ".join(_pct(cell_recall(runs, cell, s), 0) for s in styles)
            + f" | {throttled.throttled} of {throttled.accounts:,} |"
        )
    return lines


def _every_run(runs: list[CellRun]) -> list[str]:
    styles = _styles(runs)
    lines = [
        "",
        "## Every run (throttled / active accounts)",
        "",
        "| seed | cell | events | " + " | ".join(styles) + " | benign throttled | "
        "alerts / attack entity / day | seconds |",
        "|---:|---|---:|" + "---:|" * (len(styles) + 3),
    ]
    for run in runs:
        one = [run]
        alerts, _ = attack_load(one)
        benign = benign_overall(one)
        counts = [
            f"{run.styles[s].throttled}/{run.styles[s].accounts}" if s in run.styles else "-"
            for s in styles
        ]
        lines.append(
            f"| {run.seed} | {run.cell} | {run.events:,} | " + " | ".join(counts) + " | "
            f"{benign.throttled}/{benign.accounts:,} | {_num(alerts.median)} | {run.seconds:.0f} |"
        )
    return lines


def _cell_legend(cells: list[str]) -> list[str]:
    lines = ["", "## Cells", "", "| cell | what it narrows |", "|---|---|"]
    for cell in cells:
        narrowed = ", ".join(f"{k} {_range(v)}" for k, v in CELLS[cell].attack.items())
        lines.append(
            f"| {cell} | {CELLS[cell].description}" + (f": {narrowed}" if narrowed else "") + " |"
        )
    return lines


def _range(r: Range) -> str:
    if isinstance(r, Span):
        return f"{r.low:g}-{r.high:g}"
    return "/".join(map(str, r.options))
