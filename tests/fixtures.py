"""Shared test builders: one event-time clock and factories for ``request.v1`` events.

Factories take keyword overrides of any field, so a test states only what it is about:

>>> make_request(output_tokens=4000, reasoning=True).output_tokens
4000
>>> request_json(account_id="acct_9")["event_id"]
'acct_9-1790000000.000'
>>> at(hours=1) - T0
3600.0
>>> hex(flip_bits(0x0, [0, 4]))
'0x11'
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any, Final

import orjson

from models.request import Request
from models.units import DAY, HOUR, MINUTE

# 2026-09-21T14:13:20Z: a fixed event-time origin, so every run sees the same times.
T0: Final = 1_790_000_000.0

# The required fields of a request, as an ordinary short chat request at T0. ``event_id`` is
# derived from the account and the time unless given.
REQUEST_DEFAULTS: Final[dict[str, Any]] = {
    "ts": T0,
    "account_id": "acct_1",
    "asn": 64500,
    "input_tokens": 100,
    "output_tokens": 500,
}


def at(
    seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0
) -> float:
    """The event time this long after ``T0`` (negative amounts: before it)."""
    return T0 + (seconds + minutes * MINUTE + hours * HOUR + days * DAY)


def request_json(**overrides: Any) -> dict[str, Any]:
    """A valid ``request.v1`` document (what producers send), with ``overrides`` applied."""
    doc = {**REQUEST_DEFAULTS, **overrides}
    if "event_id" not in doc:
        ts = doc["ts"]
        when = f"{ts:.3f}" if isinstance(ts, int | float) else str(ts)
        doc = {"event_id": f"{doc['account_id']}-{when}", **doc}
    return doc


def make_request(**overrides: Any) -> Request:
    """A validated ``Request`` (what the detectors see), with ``overrides`` applied."""
    return Request(**request_json(**overrides))


def flip_bits(simhash: int, bits: Iterable[int]) -> int:
    """``simhash`` with the bits at these positions flipped."""
    for bit in bits:
        simhash ^= 1 << bit
    return simhash


def near_duplicate(simhash: int, rng: random.Random, flips: int = 2) -> int:
    """A prompt SimHash ``flips`` random bits away from ``simhash`` (the same template)."""
    return flip_bits(simhash, rng.sample(range(64), flips))


class RecordingTopic:
    """Stands in for a Faust output topic in process: keeps what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes | None]] = []

    async def send(
        self, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> asyncio.Future[None]:
        """Record the message; the delivery it returns is already done, as if the broker
        had acknowledged it (a Faust topic's send returns a future to await likewise)."""
        self.sent.append((key, value))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered

    def values(self) -> list[Any]:
        """The sent values decoded from JSON (tombstones as None)."""
        return [None if v is None else orjson.loads(v) for _, v in self.sent]
