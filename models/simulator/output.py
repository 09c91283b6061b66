"""The scenario as events: compact time-sorted columns, ``request.v1`` dicts on demand, files.

Events are held as NumPy columns plus small lookup tables and become dicts only one batch at
a time, so a million-event scenario stays small in memory and can be iterated many times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from models.simulator.profiles import ENDPOINTS, MODELS

AccountRow = tuple[str, str, float, str, str | None]  # id, org, created, payment, routed_via
_BATCH: Final = 4_096
_EVENT_COLUMNS: Final = (
    *("ts", "account", "seq", "net", "key", "fp", "model", "endpoint", "status"),
    *("reasoning", "simhash", "cot", "input", "output"),
)


@dataclass(frozen=True)
class EventTable:
    """The scenario's events as time-sorted columns; iterating yields ``request.v1`` dicts.

    Re-iterable and cheap to hold: dicts exist only for the batch being consumed.
    """

    columns: dict[str, npt.NDArray[Any]]
    accounts: tuple[AccountRow, ...]
    nets: tuple[tuple[int, str, str, str], ...]
    keys: tuple[str, ...]
    fingerprints: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.columns["ts"])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self.batches():
            yield from batch

    def batches(self, size: int = _BATCH) -> Iterator[list[dict[str, Any]]]:
        """Events in time order, ``size`` at a time (dicts exist only for the current batch)."""
        for lo in range(0, len(self), size):
            columns = [self.columns[name][lo : lo + size].tolist() for name in _EVENT_COLUMNS]
            yield [self._event(row) for row in zip(*columns, strict=True)]

    def _event(self, row: tuple[Any, ...]) -> dict[str, Any]:
        ts, account, seq, net, key, fp, model, endpoint, status, *rest = row
        reasoning, simhash, cot, input_tokens, output_tokens = rest
        account_id, org_id, created, payment, routed_via = self.accounts[account]
        asn, asn_type, country, ip = self.nets[net]
        event = {
            "event_id": f"{account_id}-{seq}",
            "ts": ts,
            "account_id": account_id,
            "org_id": org_id,
            "api_key_id": self.keys[key],
            "ip": ip,
            "asn": asn,
            "asn_type": asn_type,
            "country": country,
            "client_fingerprint": self.fingerprints[fp],
            "model": MODELS[model],
            "endpoint": ENDPOINTS[endpoint],
            "status": status,
            "reasoning": reasoning,
            "prompt_simhash": f"{simhash:016x}",
            "cot_elicitation": cot,
            "account_created_ts": created,
            "payment_fingerprint": payment,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        if routed_via is not None:
            event["routed_via"] = routed_via
        return event

    def counts(self) -> dict[str, int]:
        """Events per account id (accounts without events are absent)."""
        per = np.bincount(self.columns["account"], minlength=len(self.accounts)).tolist()
        return {row[0]: n for row, n in zip(self.accounts, per, strict=True) if n}

    def ts_range(self) -> tuple[float, float] | None:
        ts = self.columns["ts"]
        return (float(ts[0]), float(ts[-1])) if len(ts) else None


@dataclass(frozen=True)
class Scenario:
    """Events (time-ordered, re-iterable) and their ground truth."""

    events: EventTable
    labels: dict[str, Any]


def write_scenario(
    scenario: Scenario, out_dir: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[Path, Path]:
    """Write ``events.jsonl`` (one event per line, time order) and ``labels.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    events_path, labels_path = out_dir / "events.jsonl", out_dir / "labels.json"
    total, done = len(scenario.events), 0
    with events_path.open("wb") as handle:
        for batch in scenario.events.batches():
            handle.write(b"".join(orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in batch))
            done += len(batch)
            if progress is not None:
                progress(done, total)
    labels_path.write_bytes(orjson.dumps(scenario.labels, option=orjson.OPT_INDENT_2))
    return events_path, labels_path


def summary(scenario: Scenario) -> str:
    """Accounts and events per benign kind and campaign, total events, time range."""
    counts = scenario.events.counts()
    rows: dict[tuple[str, str], list[int]] = {}
    for account_id, label in scenario.labels["accounts"].items():
        row = rows.setdefault((label["group"], label["kind"]), [0, 0, 0])
        n = counts.get(account_id, 0)
        row[0] += 1
        row[1] += n > 0
        row[2] += n
    total = len(scenario.events)
    lines = [f"{'group':<7} {'kind / campaign':<22} {'accounts':>8} {'active':>7} {'events':>10}"]
    lines += [
        f"{group:<7} {kind:<22} {a:>8,} {active:>7,} {n:>10,}  {n / max(total, 1):>6.1%}"
        for (group, kind), (a, active, n) in rows.items()
    ]
    span = scenario.events.ts_range()
    when = "no events"
    if span is not None:
        when = " .. ".join(datetime.fromtimestamp(t, UTC).isoformat() for t in span)
    lines.append(f"total   {len(scenario.labels['accounts']):>31,} {'':>7} {total:>10,}")
    lines.append(f"event time: {when}")
    return "\n".join(lines)
