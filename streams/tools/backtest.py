"""Run the detectors over recorded traffic in process: the worker's decisions, minus Kafka.

The same ``process_request`` and ``process_asn_activity`` the worker runs, over a JSONL file
in file order, with state in dicts and one population model per emulated partition. Used by
``distillguard evaluate --offline`` and ``distillguard backtest`` to see what a policy would
do before anyone applies it. One difference from the worker: here each request reaches its
network's state at once and the network's risk is visible to the very next request, where
the worker aggregates per batch and publishes network risk about one batch later.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from models import asn as asn_model
from models.account import AccountState, output_tokens_per_day
from models.decide import Alert, Command, Decision
from models.detectors import PopulationTail
from models.pipeline import process_asn_activity, process_request
from models.policy import Policy
from models.request import Invalid, Request, parse_request
from models.scoring import NetworkEvidence
from streams.accounts.population import new_model


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
    """Detector state for one offline run."""

    def __init__(self, policy: Policy, partitions: int = 1) -> None:
        self.policy = policy
        self.partitions = partitions
        self.accounts: dict[str, AccountState] = {}
        self.asns: dict[int, asn_model.AsnState] = {}
        self.network: dict[int, NetworkEvidence] = {}
        self.models: dict[int, PopulationTail] = {}
        self.asn_model = PopulationTail(q_high=0.99, q_mid=0.5, min_samples=50)
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
            model = self.models[partition] = new_model()
        self._record(process_request(state, req, model, self.policy, self.network.get(req.asn)))
        self._feed_network(req, state)

    def _feed_network(self, req: Request, account: AccountState) -> None:
        activity = asn_model.AsnActivity(
            req.account_id,
            req.ts,
            1,
            req.output_tokens,
            int(req.reasoning),
            req.cot_elicitation or 0.0,
            req.account_created_ts,
            output_tokens_per_day(account),
        )
        state = self.asns.get(req.asn)
        if state is None:
            state = self.asns[req.asn] = asn_model.AsnState()
        assessment, decision = process_asn_activity(
            state, req.asn, [activity], self.asn_model, self.policy
        )
        self._record(decision)
        detail = assessment.reasons[0].detail if assessment.reasons else "no evidence"
        self.network[req.asn] = NetworkEvidence(req.asn, assessment.score, detail)

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
    return backtest.result


def _wire(item: Alert | Command) -> dict[str, Any]:
    return item.to_wire(emitted_at=item.event_ts)


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    with path.open("wb") as handle:
        for record in records:
            handle.write(orjson.dumps(record) + b"\n")
