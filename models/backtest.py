"""Run the detectors over recorded traffic in process: the worker's decisions, minus Kafka.

The same ``process_request`` and ``process_asn_activity`` the worker runs, over a JSONL file
in file order, with state in dicts and one population model per emulated partition. Used by
``distillguard evaluate --offline`` and ``distillguard backtest`` to see what a policy would
do before anyone applies it. One difference from the worker: network risk becomes visible
to accounts right after each batch here, about one batch later in the worker.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import asn as asn_model
from models.account import AccountState
from models.activity import ActivityBatch
from models.campaigns import CampaignBoard, CampaignRegistry, campaign_records
from models.decide import Alert, Command, Decision
from models.detectors import PopulationTail
from models.linkage import LinkGroup, collect_links, process_links
from models.pipeline import (
    new_account_population,
    new_asn_population,
    process_asn_activity,
    process_request,
)
from models.policy import Policy
from models.request import Invalid, Request, parse_request
from models.scoring import NetworkEvidence


@dataclass
class BacktestResult:
    alerts: list[dict[str, Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    invalid: int = 0


def read_jsonl(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield line.rstrip(b"\n")


class Backtest:
    """Detector state for one offline run. Network activity is summed and applied every
    ``batch`` requests, as the worker does per processing batch."""

    def __init__(self, policy: Policy, partitions: int = 1, batch: int = 500) -> None:
        self.policy = policy
        self.partitions = partitions
        self.batch = batch
        self.accounts: dict[str, AccountState] = {}
        self.asns: dict[int, asn_model.AsnState] = {}
        self.network: dict[int, NetworkEvidence] = {}
        self.models: dict[int, PopulationTail] = {}
        self.asn_model = new_asn_population()
        self.activity = ActivityBatch()
        self.groups: dict[str, LinkGroup] = {}
        self.registry = CampaignRegistry({}, {}, {})
        self.board = CampaignBoard()
        self.batch_requests: dict[str, Request] = {}
        self.pending = 0
        self.result = BacktestResult()

    def feed(self, raw: bytes) -> None:
        req = parse_request(raw)
        if isinstance(req, Invalid):
            self.result.invalid += 1
            return
        self.result.events += 1
        state = self.accounts.get(req.account_id)
        if state is None:
            state = self.accounts[req.account_id] = AccountState()
        partition = zlib.crc32(req.account_id.encode()) % self.partitions
        model = self.models.get(partition)
        if model is None:
            model = self.models[partition] = new_account_population()
        network, campaign = self.network.get(req.asn), self.board.get(req.account_id)
        self._record(process_request(state, req, model, self.policy, network, campaign))
        self.activity.add(req)
        self.batch_requests[req.account_id] = req
        self.pending += 1
        if self.pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Apply the summed network activity and the link records (end of a batch, or of
        the input)."""
        for asn, activities in self.activity.by_asn(self.accounts.__getitem__).items():
            state = self.asns.get(asn)
            if state is None:
                state = self.asns[asn] = asn_model.AsnState()
            assessment, decision = process_asn_activity(
                state, asn, activities, self.asn_model, self.policy
            )
            self._record(decision)
            detail = assessment.reasons[0].detail if assessment.reasons else "no evidence"
            self.network[asn] = NetworkEvidence(asn, assessment.score, detail)
        self.activity = ActivityBatch()
        self._link()
        self.pending = 0

    def _link(self) -> None:
        """The campaign stages of the batch: link groups, then the registry."""
        links = collect_links(
            (self.accounts[account], req) for account, req in self.batch_requests.items()
        )
        self.batch_requests = {}
        for key, members in links.items():
            group = self.groups.setdefault(key, LinkGroup())
            evidence = process_links(group, key, members, self.policy)
            if evidence is None:
                continue
            update = self.registry.report(evidence, self.policy)
            self._record(update.decision)
            for command in update.commands:
                self._record(Decision(command=command))
            for name, doc in campaign_records(update):
                self.board.apply(name, doc)

    def _record(self, decision: Decision) -> None:
        if decision.alert is not None:
            self.result.alerts.append(_wire(decision.alert))
        if decision.command is not None:
            self.result.commands.append(_wire(decision.command))


def run_backtest(lines: Iterable[bytes], policy: Policy, partitions: int = 1) -> BacktestResult:
    """Decisions for every line, as the worker would make them (``emitted_at`` = event ts)."""
    backtest = Backtest(policy, partitions)
    for raw in lines:
        backtest.feed(raw)
    backtest.flush()
    return backtest.result


def _wire(item: Alert | Command) -> dict[str, Any]:
    return item.to_wire(emitted_at=item.event_ts)


def throttled_accounts(commands: Iterable[dict[str, Any]]) -> set[str]:
    """Accounts that a throttle or block command names (wire-format commands)."""
    return {
        c["entity_id"]
        for c in commands
        if c["entity_type"] == "account" and c["action"] in ("throttle", "block")
    }


def compare_policies(
    lines: list[bytes],
    current: Policy,
    candidate: Policy,
    labels: dict[str, Any] | None = None,
    partitions: int = 8,
) -> str:
    """What ``candidate`` would change against ``current`` on the same recorded traffic:
    throttled accounts added and removed, by benign kind / campaign when labelled."""
    before = run_backtest(lines, current, partitions)
    after = run_backtest(lines, candidate, partitions)
    old, new = throttled_accounts(before.commands), throttled_accounts(after.commands)
    accounts = (labels or {}).get("accounts", {})

    def group(account: str) -> str:
        label = accounts.get(account)
        if label is None:
            return "unlabelled"
        return f"{label['group']}: {label.get('campaign') or label['kind']}"

    out = [
        f"events {before.events:,} (invalid {before.invalid:,})",
        f"alerts {len(before.alerts):,} -> {len(after.alerts):,}",
        f"throttled accounts {len(old):,} -> {len(new):,} "
        f"(+{len(new - old):,} new, -{len(old - new):,} removed)",
    ]
    for title, changed in (("new throttles", new - old), ("removed throttles", old - new)):
        counts: dict[str, int] = {}
        for account in changed:
            counts[group(account)] = counts.get(group(account), 0) + 1
        out.append(f"{title}:" + ("" if counts else " none"))
        out.extend(f"  {name:<40} {n:>6,}" for name, n in sorted(counts.items()))
    return "\n".join(out)
