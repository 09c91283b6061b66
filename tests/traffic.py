"""Small seeded request streams for tests: a benign background and planted bursts."""

from __future__ import annotations

import random
from typing import Any

from tests.fixtures import T0, request_json

__all__ = ["T0", "benign_background", "burst", "in_time_order", "request"]


def benign_background(
    n_accounts: int, duration_s: float, mean_gap_s: float = 60.0, seed: int = 7
) -> list[dict[str, Any]]:
    """Accounts that each send ~one request per ``mean_gap_s`` with modest outputs."""
    rng = random.Random(seed)
    events = []
    for a in range(n_accounts):
        ts = T0 + rng.uniform(0, mean_gap_s)
        while ts < T0 + duration_s:
            events.append(
                request(f"benign-{a}", ts, rng, output_tokens=int(rng.lognormvariate(6, 0.6)))
            )
            ts += rng.expovariate(1.0 / mean_gap_s)
    return events


def burst(
    account_id: str, start_s: float, duration_s: float, per_min: float, seed: int = 11
) -> list[dict[str, Any]]:
    """One account harvesting: ``per_min`` requests a minute with long outputs."""
    rng = random.Random(seed)
    events = []
    ts = T0 + start_s
    while ts < T0 + start_s + duration_s:
        events.append(request(account_id, ts, rng, output_tokens=int(rng.uniform(3000, 6000))))
        ts += rng.expovariate(per_min / 60.0)
    return events


def request(account_id: str, ts: float, rng: random.Random, output_tokens: int) -> dict[str, Any]:
    """One residential, non-reasoning request on one of 20 ASNs (drawn from ``rng``)."""
    asn = 64500 + rng.randrange(20)
    return request_json(
        event_id=f"{account_id}-{ts:.3f}",
        ts=round(ts, 3),
        account_id=account_id,
        asn=asn,
        asn_type="residential",
        input_tokens=rng.randrange(50, 800),
        output_tokens=output_tokens,
        reasoning=False,
    )


def in_time_order(*streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((e for s in streams for e in s), key=lambda e: e["ts"])


def harvest_scenario(
    prefix: str, stagger_s: float = 0.0, seeded: bool = False
) -> list[dict[str, Any]]:
    """Four hours of 60 benign accounts and four harvesters ``{prefix}-0..3`` bursting for
    40 minutes from the second hour, each ``stagger_s`` after the one before (own seeds when
    ``seeded``): the workload of the fault tests."""
    background = benign_background(n_accounts=60, duration_s=4 * 3600)
    harvesters = [
        e
        for i in range(4)
        for e in burst(
            f"{prefix}-{i}",
            start_s=3600 + stagger_s * i,
            duration_s=2400,
            per_min=30,
            **({"seed": i} if seeded else {}),
        )
    ]
    return in_time_order(background, harvesters)
