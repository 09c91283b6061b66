"""The robustness matrix: the worker's decisions over seeds x tactic cells of the scenario family.

One scenario is one point of the space of tactics; a detector tuned there can fail a step
away. The matrix runs the in-process backtest (``models.backtest``, the worker's decision
code) over many seeds and cells and reports the worst cell next to the median, per campaign
style and per benign kind. Seeds are split once, here: tune on ``dev``, report ``holdout``
and never tune on it (docs/evaluation.md). ``streams/tools/matrix.py`` runs and renders it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from models.backtest import run_backtest
from models.evaluation import campaign_entities, evaluate, index_requests
from models.policy import DEFAULT_POLICY, Policy
from models.simulator import ScenarioConfig, simulate
from models.simulator.tactics import CELL_NAMES

# 42 is the default scenario's; 3, 7, 11 the tests' and bench's; 1009-4099 were the holdout
# until their one run (2026-12-02) steered a change, so they are spent (dev from then on).
DEV_SEEDS: Final = (3, 7, 11, 42, 1009, 2017, 3041, 4099)
HOLDOUT_SEEDS: Final = (5003, 6007, 7013, 8111)
SEEDS: Final[dict[str, tuple[int, ...]]] = {
    "dev": DEV_SEEDS,
    "holdout": HOLDOUT_SEEDS,
    "all": DEV_SEEDS + HOLDOUT_SEEDS,
}


@dataclass(frozen=True)
class MatrixSize:
    days: float
    scale: float
    seeds: int | None  # the split's first N seeds (None: all of them)
    cells: tuple[str, ...]


SIZES: Final = {
    "ci": MatrixSize(1.0, 0.15, 2, ("default", "family", "aged-fleet", "sdk-camouflage")),
    "full": MatrixSize(3.0, 0.4, None, CELL_NAMES),
}


@dataclass
class StyleRun:
    """One campaign style in one run (medians over its throttled members; None: none)."""

    accounts: int
    throttled: int
    first_to_throttle_h: float | None
    start_to_throttle_h: float | None
    served_before_signal: float  # share of its traffic before the first alert or throttle
    served_after_signal: float  # share between that signal and each member's throttle
    entities: int  # its accounts and campaign entities that got an alert or a command
    alerts: int
    commands: int
    start_to_signal_h: float | None = None  # campaign start -> its first alert or throttle

    @property
    def recall(self) -> float:
        return self.throttled / self.accounts if self.accounts else 0.0


@dataclass
class KindRun:
    accounts: int
    throttled: int

    @property
    def rate(self) -> float:
        return self.throttled / self.accounts if self.accounts else 0.0


@dataclass
class CellRun:
    """Everything the report needs from one (seed, cell) run: small, so it pickles cheaply."""

    seed: int
    cell: str
    days: float
    scale: float
    events: int
    seconds: float
    styles: dict[str, StyleRun] = field(default_factory=dict)
    benign: dict[str, KindRun] = field(default_factory=dict)


def _median_h(seconds: list[float]) -> float | None:
    return statistics.median(seconds) / 3600.0 if seconds else None


def _since_start_h(start_ts: float | None, ts: float | None) -> float | None:
    return None if start_ts is None or ts is None else max(ts - start_ts, 0.0) / 3600.0


def run_cell(
    seed: int,
    cell: str,
    days: float,
    scale: float,
    policy: Policy = DEFAULT_POLICY,
    partitions: int = 8,
) -> CellRun:
    """Simulate one family member, backtest it and keep the numbers the matrix reports."""
    began = time.perf_counter()
    scenario = simulate(ScenarioConfig(seed=seed, days=days, scale=scale, cell=cell))
    labels = scenario.labels
    result = run_backtest((orjson.dumps(e) for e in scenario.events), policy, partitions)
    traffic = index_requests(scenario.events, labels)
    report = evaluate(labels, traffic, result.alerts, result.commands)
    load = entity_load(labels, result.alerts, result.commands)
    run = CellRun(seed, cell, days, scale, len(scenario.events), 0.0)
    for row in report.rows:
        if row.group == "benign":
            run.benign[row.name] = KindRun(row.accounts, row.throttled)
            continue
        entities, alerts, commands = load.get(row.name, (0, 0, 0))
        run.styles[row.name] = StyleRun(
            accounts=row.accounts,
            throttled=row.throttled,
            first_to_throttle_h=_median_h(row.first_to_throttle_s),
            start_to_throttle_h=_median_h(row.start_to_throttle_s),
            served_before_signal=row.served_before_member_alert_share,
            served_after_signal=row.served_after_member_alert_share,
            entities=entities,
            alerts=alerts,
            commands=commands,
            start_to_signal_h=_since_start_h(row.start_ts, row.member_alert_ts),
        )
    run.seconds = time.perf_counter() - began
    return run


def entity_load(
    labels: dict[str, Any], alerts: list[dict[str, Any]], commands: list[dict[str, Any]]
) -> dict[str, tuple[int, int, int]]:
    """Per labelled campaign: (entities, alerts, commands) an analyst gets about it. Entities
    are its accounts and the campaign entities attributed to it (as ``evaluate`` does) that got
    an alert or a command; ASN alerts are left out (a network is shared with customers)."""
    accounts: dict[str, dict[str, Any]] = labels["accounts"]
    owner = {e: name for name, found in campaign_entities(alerts, accounts).items() for e in found}
    named: dict[str, set[tuple[str, str]]] = {}
    counts: dict[str, list[int]] = {}
    for kind, items in ((1, alerts), (2, commands)):
        for item in items:
            entity_type, entity = item["entity_type"], item["entity_id"]
            if entity_type == "account":
                name = accounts.get(entity, {}).get("campaign")
            else:
                name = owner.get(entity) if entity_type == "campaign" else None
            if not isinstance(name, str) or name == "benign":
                continue
            named.setdefault(name, set()).add((entity_type, entity))
            counts.setdefault(name, [0, 0, 0])[kind] += 1
    return {name: (len(named[name]), c[1], c[2]) for name, c in counts.items()}


# The arithmetic over runs: worst cell and median, per campaign style and benign kind.


@dataclass(frozen=True)
class Stat:
    """Median over runs and the worst run (named by seed and cell); None: no run had it."""

    median: float | None
    worst: float | None
    where: str = ""


def stat(values: Iterable[tuple[float | None, str]], worst: Callable[..., float]) -> Stat:
    """``worst`` is ``min`` for recall and ``max`` for rates, times and shares."""
    present = [(v, where) for v, where in values if v is not None]
    if not present:
        return Stat(None, None)
    value = worst(v for v, _ in present)
    where = next(w for v, w in present if v == value)
    return Stat(statistics.median(v for v, _ in present), value, where)


def where(run: CellRun) -> str:
    return f"seed {run.seed} / {run.cell}"


@dataclass(frozen=True)
class StyleSummary:
    runs: int
    recall: Stat
    first_to_throttle_h: Stat
    start_to_throttle_h: Stat
    start_to_signal_h: Stat
    served_before: Stat
    served_after: Stat
    alerts_per_entity_day: Stat
    commands_per_entity_day: Stat


def _per_entity_day(count: int, entities: int, days: float) -> float | None:
    return count / entities / days if entities else None


def summarize_style(runs: list[CellRun], style: str) -> StyleSummary:
    rows = [(run.styles[style], where(run), run.days) for run in runs if style in run.styles]
    rows = [(s, w, d) for s, w, d in rows if s.accounts]
    return StyleSummary(
        runs=len(rows),
        recall=stat(((s.recall, w) for s, w, _ in rows), min),
        first_to_throttle_h=stat(((s.first_to_throttle_h, w) for s, w, _ in rows), max),
        start_to_throttle_h=stat(((s.start_to_throttle_h, w) for s, w, _ in rows), max),
        start_to_signal_h=stat(((s.start_to_signal_h, w) for s, w, _ in rows), max),
        served_before=stat(((s.served_before_signal, w) for s, w, _ in rows), max),
        served_after=stat(((s.served_after_signal, w) for s, w, _ in rows), max),
        alerts_per_entity_day=stat(
            ((_per_entity_day(s.alerts, s.entities, d), w) for s, w, d in rows), max
        ),
        commands_per_entity_day=stat(
            ((_per_entity_day(s.commands, s.entities, d), w) for s, w, d in rows), max
        ),
    )


@dataclass(frozen=True)
class KindSummary:
    accounts: int  # over all runs
    throttled: int
    worst: Stat  # per-run throttle rate

    @property
    def pooled(self) -> float:
        return self.throttled / self.accounts if self.accounts else 0.0


def summarize_kind(runs: list[CellRun], kind: str) -> KindSummary:
    rows = [(run.benign[kind], where(run)) for run in runs if kind in run.benign]
    return KindSummary(
        accounts=sum(k.accounts for k, _ in rows),
        throttled=sum(k.throttled for k, _ in rows),
        worst=stat(((k.rate, w) for k, w in rows if k.accounts), max),
    )


def benign_overall(runs: list[CellRun]) -> KindSummary:
    """All benign kinds together: pooled over runs, and the worst run's rate."""
    per_run = []
    for run in runs:
        kinds = run.benign.values()
        total = KindRun(sum(k.accounts for k in kinds), sum(k.throttled for k in kinds))
        per_run.append((total, where(run)))
    return KindSummary(
        accounts=sum(k.accounts for k, _ in per_run),
        throttled=sum(k.throttled for k, _ in per_run),
        worst=stat(((k.rate, w) for k, w in per_run if k.accounts), max),
    )


def attack_load(runs: list[CellRun]) -> tuple[Stat, Stat]:
    """Alerts and commands per attack entity per day, every style together, per run."""
    alerts: list[tuple[float | None, str]] = []
    commands: list[tuple[float | None, str]] = []
    for run in runs:
        styles = run.styles.values()
        entities = sum(s.entities for s in styles)
        alerts.append(
            (_per_entity_day(sum(s.alerts for s in styles), entities, run.days), where(run))
        )
        commands.append(
            (_per_entity_day(sum(s.commands for s in styles), entities, run.days), where(run))
        )
    return stat(alerts, max), stat(commands, max)


def cell_recall(runs: list[CellRun], cell: str, style: str) -> float | None:
    """Median recall of ``style`` over the seeds of ``cell`` (the heatmap's squares)."""
    values = [r.styles[style].recall for r in runs if r.cell == cell and style in r.styles]
    return statistics.median(values) if values else None
