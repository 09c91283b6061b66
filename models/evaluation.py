"""Detection quality from alerts, commands and ground-truth labels: the numbers and the text.

Inputs are the simulator's ``labels.json`` and ``events.jsonl`` plus the alerts and commands
(dumped from Kafka or produced by an offline backtest). Everything is measured at account
level in event time, because that is what the labels describe; wall-clock latency comes from
Kafka timestamps when they are present. Plots live in ``streams/tools/plots.py`` so that this
module needs no plotting library.
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from models.units import HOUR

ENFORCING = ("throttle", "block")


@dataclass
class AccountTraffic:
    """What the events file says about one account, as much as the metrics need."""

    first_ts: float
    ts: list[float] = field(default_factory=list)  # kept for attack accounts only


@dataclass
class GroupRow:
    """One row of the report: a benign kind or an attack campaign."""

    name: str
    group: str  # benign | attack
    accounts: int = 0
    alerted: int = 0
    throttled: int = 0
    events: int = 0
    served_before_throttle: int = 0
    first_to_throttle_s: list[float] = field(default_factory=list)
    start_to_throttle_s: list[float] = field(default_factory=list)  # from the campaign's start
    start_ts: float | None = None
    first_member_throttle_ts: float | None = None
    # Campaign entities (campaign alerts whose listed members are mostly this campaign's).
    entities: set[str] = field(default_factory=set)
    detected_ts: float | None = None  # first such campaign alert
    served_after_detection: int = 0  # member requests between detection and their throttle
    # The first signal on the campaign: any alert naming a member, or a member's throttle.
    member_alert_ts: float | None = None
    served_before_member_alert: int = 0
    served_after_member_alert: int = 0  # between that signal and each member's throttle

    @property
    def throttle_rate(self) -> float:
        return self.throttled / self.accounts if self.accounts else 0.0

    @property
    def served_share(self) -> float:
        return self.served_before_throttle / self.events if self.events else 0.0

    @property
    def served_after_detection_share(self) -> float:
        return self.served_after_detection / self.events if self.events else 0.0

    @property
    def served_before_member_alert_share(self) -> float:
        return self.served_before_member_alert / self.events if self.events else 0.0

    @property
    def served_after_member_alert_share(self) -> float:
        return self.served_after_member_alert / self.events if self.events else 0.0


@dataclass
class Report:
    """Everything ``render_markdown`` and the plots show, computed once."""

    rows: list[GroupRow]
    precision: float
    recall: float
    benign_throttle_rate: float
    attack_accounts: int
    benign_accounts: int
    true_throttles: int
    false_throttles: int
    latency_ms: list[float]
    scores_benign: list[float]
    scores_attack: list[float]
    throttle_times: dict[str, list[float]]  # campaign -> event ts of member throttles


def index_events(path: Path, labels: dict[str, Any]) -> dict[str, AccountTraffic]:
    """Per account: first event time; every event time for attack accounts (served share)."""
    with path.open("rb") as handle:
        return index_requests((orjson.loads(line) for line in handle if line.strip()), labels)


def index_requests(
    events: Iterable[Mapping[str, Any]], labels: dict[str, Any]
) -> dict[str, AccountTraffic]:
    """``index_events`` over events already in memory (the matrix never writes a file)."""
    accounts = labels["accounts"]
    out: dict[str, AccountTraffic] = {}
    for event in events:
        account, ts = event["account_id"], float(event["ts"])
        traffic = out.get(account)
        if traffic is None:
            traffic = out[account] = AccountTraffic(first_ts=ts)
        traffic.first_ts = min(traffic.first_ts, ts)
        if accounts.get(account, {}).get("group") == "attack":
            traffic.ts.append(ts)
    for traffic in out.values():
        traffic.ts.sort()
    return out


def evaluate(
    labels: dict[str, Any],
    traffic: dict[str, AccountTraffic],
    alerts: Iterable[dict[str, Any]],
    commands: Iterable[dict[str, Any]],
) -> Report:
    """Account-level metrics per benign kind and per campaign, plus overall precision/recall."""
    accounts: dict[str, dict[str, Any]] = labels["accounts"]
    alerts = list(alerts)
    found = campaign_entities(alerts, accounts)
    first_alert: dict[str, float] = {}
    best_score: dict[str, float] = {}
    for alert in alerts:
        for account in _accounts_of(alert):
            first_alert[account] = min(
                first_alert.get(account, alert["event_ts"]), alert["event_ts"]
            )
            best_score[account] = max(best_score.get(account, 0.0), alert["score"])
    first_throttle: dict[str, float] = {}
    latency_ms: list[float] = []
    for command in commands:
        if command["action"] not in ENFORCING or command["entity_type"] != "account":
            continue
        account = command["entity_id"]
        first_throttle[account] = min(
            first_throttle.get(account, command["event_ts"]), command["event_ts"]
        )
        if "_kafka_ts_ms" in command and "_trigger_kafka_ts_ms" in command:
            latency_ms.append(command["_kafka_ts_ms"] - command["_trigger_kafka_ts_ms"])

    rows: dict[str, GroupRow] = {}
    campaigns = labels.get("campaigns", {})
    throttle_times: dict[str, list[float]] = defaultdict(list)
    members: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    for account, label in accounts.items():
        if account not in traffic:
            continue  # labelled but silent in this run
        name = label.get("campaign") or label["kind"]
        row = rows.get(name)
        if row is None:
            row = rows[name] = GroupRow(name=name, group=label["group"])
            if label.get("campaign") in campaigns:
                row.start_ts = campaigns[label["campaign"]].get("start_ts")
            for entity, first_ts in found.get(name, {}).items():
                row.entities.add(entity)
                row.detected_ts = min(row.detected_ts or first_ts, first_ts)
        seen = traffic[account]
        row.accounts += 1
        row.alerted += account in first_alert
        throttled_at = first_throttle.get(account)
        if throttled_at is not None:
            row.throttled += 1
            row.first_to_throttle_s.append(throttled_at - seen.first_ts)
            if row.first_member_throttle_ts is None or throttled_at < row.first_member_throttle_ts:
                row.first_member_throttle_ts = throttled_at
            if label["group"] == "attack":
                throttle_times[name].append(throttled_at)
                if row.start_ts is not None:
                    row.start_to_throttle_s.append(throttled_at - row.start_ts)
        if label["group"] == "attack":
            members[name].append((account, throttled_at))
            row.events += len(seen.ts)
            cut = (
                bisect.bisect_left(seen.ts, throttled_at)
                if throttled_at is not None
                else len(seen.ts)
            )
            row.served_before_throttle += cut
            if row.detected_ts is not None:
                row.served_after_detection += max(
                    0, cut - bisect.bisect_left(seen.ts, row.detected_ts)
                )
    for name, listed in members.items():
        _served_around_first_signal(rows[name], listed, traffic, first_alert)

    attack = [a for a, lab in accounts.items() if lab["group"] == "attack" and a in traffic]
    benign = [a for a, lab in accounts.items() if lab["group"] == "benign" and a in traffic]
    true_t = sum(1 for a in attack if a in first_throttle)
    false_t = sum(1 for a in benign if a in first_throttle)
    return Report(
        rows=sorted(rows.values(), key=lambda r: (r.group, r.name)),
        precision=true_t / (true_t + false_t) if true_t + false_t else 1.0,
        recall=true_t / len(attack) if attack else 0.0,
        benign_throttle_rate=false_t / len(benign) if benign else 0.0,
        attack_accounts=len(attack),
        benign_accounts=len(benign),
        true_throttles=true_t,
        false_throttles=false_t,
        latency_ms=latency_ms,
        scores_benign=[best_score.get(a, 0.0) for a in benign],
        scores_attack=[best_score.get(a, 0.0) for a in attack],
        throttle_times=dict(throttle_times),
    )


def _served_around_first_signal(
    row: GroupRow,
    members: list[tuple[str, float | None]],
    traffic: dict[str, AccountTraffic],
    first_alert: dict[str, float],
) -> None:
    """Member traffic before the campaign's first signal (an alert naming any member, or a
    member's throttle) and between it and each member's own throttle."""
    signals = [t for a, t in members if t is not None] + [
        first_alert[a] for a, _ in members if a in first_alert
    ]
    if not signals:
        row.served_before_member_alert = row.served_before_throttle
        return
    row.member_alert_ts = signal = min(signals)
    for account, throttled_at in members:
        ts = traffic[account].ts
        cut = len(ts) if throttled_at is None else bisect.bisect_left(ts, throttled_at)
        before = min(cut, bisect.bisect_left(ts, signal))
        row.served_before_member_alert += before
        row.served_after_member_alert += cut - before


def attach_trigger_times(
    commands: list[dict[str, Any]], requests: Iterable[dict[str, Any]]
) -> None:
    """Give each command the Kafka timestamp of the request that triggered it (in place),
    so ``evaluate`` can measure request-to-command latency."""
    by_trigger: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for command in commands:
        by_trigger[command.get("trigger_event_id", "")].append(command)
    for request in requests:
        for command in by_trigger.get(request.get("event_id", ""), ()):
            command["_trigger_kafka_ts_ms"] = request["_kafka_ts_ms"]


def campaign_entities(
    alerts: list[dict[str, Any]], accounts: dict[str, dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """labelled campaign -> {campaign entity id: first alert event time}, attributing each
    campaign entity to the labelled campaign most of its listed members belong to."""
    members: dict[str, set[str]] = defaultdict(set)
    first: dict[str, float] = {}
    for alert in alerts:
        if alert["entity_type"] == "campaign":
            entity = alert["entity_id"]
            members[entity].update(alert.get("accounts", []))
            first[entity] = min(first.get(entity, alert["event_ts"]), alert["event_ts"])
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for entity, listed in members.items():
        votes = Counter(accounts.get(a, {}).get("campaign") or "benign" for a in listed)
        name, count = votes.most_common(1)[0] if votes else ("benign", 0)
        if count * 2 > len(listed):
            out[name][entity] = first[entity]
    return out


def _accounts_of(alert: dict[str, Any]) -> list[str]:
    if alert["entity_type"] == "account":
        return [alert["entity_id"]]
    return list(alert.get("accounts", []))


def _hours(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"{statistics.median(seconds) / HOUR:.1f} h"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of a non-empty list (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def render_markdown(report: Report, title: str = "distillguard evaluation") -> str:
    """The report as Markdown: headline metrics, one row per group, one per campaign."""
    lines = [
        f"# {title}",
        "",
        f"- throttle precision (account level): **{report.precision:.3f}** "
        f"({report.true_throttles} attack / {report.false_throttles} benign accounts throttled)",
        f"- throttle recall: **{report.recall:.3f}** of {report.attack_accounts} attack accounts",
        f"- benign throttle rate: **{report.benign_throttle_rate:.4%}** of "
        f"{report.benign_accounts} benign accounts",
    ]
    if report.latency_ms:
        lines.append(
            f"- request-to-command latency (Kafka timestamps): "
            f"p50 {percentile(report.latency_ms, 0.5):.0f} ms, "
            f"p99 {percentile(report.latency_ms, 0.99):.0f} ms "
            f"over {len(report.latency_ms)} commands"
        )
    lines += [
        "",
        "| group | kind / campaign | accounts | alerted | throttled | throttle rate | "
        "median first request -> throttle | campaign start -> first member throttled | "
        "traffic served before throttle |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        to_first = _since(row.start_ts, row.first_member_throttle_ts)
        served = f"{row.served_share:.1%}" if row.group == "attack" else "-"
        lines.append(
            f"| {row.group} | {row.name} | {row.accounts} | {row.alerted} | {row.throttled} | "
            f"{row.throttle_rate:.1%} | {_hours(row.first_to_throttle_s)} | {to_first} | {served} |"
        )
    lines += _campaign_table(report)
    return "\n".join(lines) + "\n"


def _campaign_table(report: Report) -> list[str]:
    """Campaign-level rows: did a campaign entity find it, how fast, and what got through."""
    lines = [
        "",
        "| campaign | campaign entities found | campaign start -> first campaign alert | "
        "campaign start -> first member throttled | member recall | "
        "campaign traffic served after detection |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        if row.group != "attack":
            continue
        after = f"{row.served_after_detection_share:.1%}" if row.detected_ts else "-"
        lines.append(
            f"| {row.name} | {len(row.entities)} | {_since(row.start_ts, row.detected_ts)} | "
            f"{_since(row.start_ts, row.first_member_throttle_ts)} | {row.throttle_rate:.1%} "
            f"| {after} |"
        )
    return lines


def _since(start: float | None, ts: float | None) -> str:
    return "-" if start is None or ts is None else f"{(ts - start) / HOUR:.1f} h"
