"""``distillguard simulate``: write a labelled scenario (models.simulator) to a folder."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from models.simulator import (
    CAMPAIGNS,
    CELL_NAMES,
    ScenarioConfig,
    parse_campaigns,
    simulate,
    summary,
    write_scenario,
)


def campaign_list(text: str) -> tuple[str, ...]:
    """``--campaigns`` type: an unknown name is a usage error that lists the choices."""
    try:
        return parse_campaigns(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ScenarioConfig()
    parser.add_argument("--out", type=Path, required=True, help="folder for the two files")
    parser.add_argument("--days", type=float, default=defaults.days, help="event-time days")
    parser.add_argument("--scale", type=float, default=defaults.scale, help="account multiplier")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--campaigns",
        type=campaign_list,
        default=defaults.campaigns,
        help=f"comma-separated subset of {','.join(CAMPAIGNS)} ('none': benign only)",
    )
    add_cell_argument(parser)


def add_cell_argument(parser: argparse.ArgumentParser) -> None:
    """``--cell``, as ``simulate`` and ``demo`` take it."""
    parser.add_argument(
        "--cell",
        choices=CELL_NAMES,
        default=ScenarioConfig().cell,
        help="scenario-family cell: tactics drawn per seed (default: the fixed tables)",
    )


def _progress_printer() -> Callable[[int, int], None]:
    """Report writing progress on stderr about every tenth of the way."""
    shown = -1

    def show(done: int, total: int) -> None:
        nonlocal shown
        tenth = 10 * done // max(total, 1)
        if tenth != shown:
            shown = tenth
            end = "\n" if done >= total else ""
            print(f"\rsimulate: wrote {done:,}/{total:,} events", end=end, file=sys.stderr)

    return show


def run(args: argparse.Namespace) -> int:
    """``distillguard simulate``: write a labelled scenario and print what is in it."""
    try:
        config = ScenarioConfig(
            seed=args.seed,
            days=args.days,
            scale=args.scale,
            campaigns=args.campaigns,
            cell=args.cell,
        )
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    print(
        f"simulate: generating {config.days:g} days at scale {config.scale:g}, cell {config.cell}",
        file=sys.stderr,
    )
    scenario = simulate(config)
    print(
        f"simulate: {len(scenario.events):,} events in {time.perf_counter() - began:.1f}s; "
        f"writing {args.out}",
        file=sys.stderr,
    )
    events_path, labels_path = write_scenario(scenario, args.out, _progress_printer())
    print(f"simulate: done in {time.perf_counter() - began:.1f}s", file=sys.stderr)
    print(summary(scenario))
    if config.cell != "default":
        print(f"cell {config.cell}: the drawn tactics are under 'tactics' in {labels_path.name}")
    print(f"wrote {events_path} and {labels_path}")
    return 0
