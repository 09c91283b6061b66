"""Per-account state and features, as a compact versioned record of numbers.

The state is what a Faust table stores for each account, so it is plain floats (encoded as
one JSON list), not pickled River objects: ~20 floats is a few hundred bytes per account
against ~0.6 KiB of heap for three River stats objects. Every rate is driven by event time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import ClassVar, Final

from models.decide import DecisionState
from models.request import Request
from models.sketches import decayed_add, decayed_rate, ew_update

MINUTE: Final = 60.0
HOUR: Final = 3600.0
DAY: Final = 86400.0
# The account's own baseline forgets on this scale, so a one-hour burst moves it by ~4%.
BASELINE_TAU: Final = DAY
# Floor on the baseline spread (log1p units) so a perfectly steady account is not flagged for
# a small wobble.
BASELINE_MIN_STD: Final = 0.35


@dataclass(slots=True)
class AccountState:
    """Everything distillguard remembers about one account (bounded: a fixed set of floats)."""

    VERSION: ClassVar[int] = 1

    first_ts: float = 0.0
    last_ts: float = 0.0
    n_events: float = 0.0
    req_5m: float = 0.0
    req_1h: float = 0.0
    req_24h: float = 0.0
    out_1h: float = 0.0
    out_24h: float = 0.0
    base_ts: float = 0.0
    base_n: float = 0.0
    base_req_mean: float = 0.0
    base_req_var: float = 0.0
    base_out_mean: float = 0.0
    base_out_var: float = 0.0
    last_learn_ts: float = 0.0
    # What was last sent about this account, so commands are never once per event.
    decision: DecisionState = field(default_factory=DecisionState)

    def encode(self) -> list[float]:
        """``[VERSION, number..., decision...]``: compact and schema-versioned."""
        return [float(self.VERSION), *(getattr(self, n) for n in _NUMBERS), *self.decision.encode()]

    @classmethod
    def decode(cls, raw: list[float] | None) -> AccountState:
        """Load a stored record; an unknown version or shape starts the account afresh."""
        if not raw or raw[0] != cls.VERSION or len(raw) != _ENCODED_LEN:
            return cls()
        numbers = dict(zip(_NUMBERS, raw[1 : len(_NUMBERS) + 1], strict=True))
        return cls(**numbers, decision=DecisionState.decode(raw[len(_NUMBERS) + 1 :]))


_NUMBERS: Final = tuple(f.name for f in fields(AccountState) if f.name != "decision")
_ENCODED_LEN: Final = 1 + len(_NUMBERS) + len(DecisionState().encode())


@dataclass(frozen=True, slots=True)
class AccountFeatures:
    """The account's features at one event, for detectors and for reasons."""

    requests_per_min: float
    requests_per_hour: float
    output_tokens_per_hour: float
    # log1p(hourly rate) minus the account's own baseline, in baseline standard deviations;
    # None until the baseline has warmed up (a cold baseline must not exonerate anyone).
    own_z_requests: float | None
    own_z_output_tokens: float | None
    own_usual_requests_per_hour: float
    own_usual_output_tokens_per_hour: float
    history_s: float
    events: float

    def population_vector(self) -> dict[str, float]:
        """The features a population model compares across accounts."""
        return {
            "requests_per_min": self.requests_per_min,
            "output_tokens_per_hour": self.output_tokens_per_hour,
        }


def update(state: AccountState, req: Request) -> None:
    """Fold one request into the account's state (in place)."""
    ts = req.ts
    if state.n_events == 0:
        state.first_ts = state.last_ts = state.base_ts = ts
    last = state.last_ts
    state.req_5m = decayed_add(state.req_5m, last, ts, 1.0, 5 * MINUTE)
    state.req_1h = decayed_add(state.req_1h, last, ts, 1.0, HOUR)
    state.req_24h = decayed_add(state.req_24h, last, ts, 1.0, DAY)
    state.out_1h = decayed_add(state.out_1h, last, ts, req.output_tokens, HOUR)
    state.out_24h = decayed_add(state.out_24h, last, ts, req.output_tokens, DAY)
    state.first_ts = min(state.first_ts, ts)
    state.last_ts = max(last, ts)
    state.n_events += 1


def learn_baseline(state: AccountState) -> None:
    """Move the account's own baseline towards its current hourly rates, weighted by the event
    time elapsed since the last move. Callers skip this while the account is under suspicion,
    so a harvester cannot teach its own baseline that harvesting is normal."""
    now = state.last_ts
    # Time-weighted, but never less than a running mean's 1/n: otherwise the first few
    # (noisy) observations would dominate the baseline for a whole BASELINE_TAU.
    state.base_n += 1
    weight = max(-math.expm1(-max(now - state.base_ts, 0.0) / BASELINE_TAU), 1.0 / state.base_n)
    req_level = math.log1p(_hourly(state.req_1h, state))
    out_level = math.log1p(_hourly(state.out_1h, state))
    state.base_req_mean, state.base_req_var = ew_update(
        state.base_req_mean, state.base_req_var, req_level, weight
    )
    state.base_out_mean, state.base_out_var = ew_update(
        state.base_out_mean, state.base_out_var, out_level, weight
    )
    state.base_ts = max(state.base_ts, now)


def features(
    state: AccountState, *, warmup_min_events: float, warmup_min_seconds: float
) -> AccountFeatures:
    """Read the account's features at its latest event time."""
    now = state.last_ts
    req_hour = _hourly(state.req_1h, state)
    out_hour = _hourly(state.out_1h, state)
    history = now - state.first_ts
    warm = state.n_events >= warmup_min_events and history >= warmup_min_seconds
    own_req = own_out = None
    if warm:
        own_req = _z(math.log1p(req_hour), state.base_req_mean, state.base_req_var)
        own_out = _z(math.log1p(out_hour), state.base_out_mean, state.base_out_var)
    return AccountFeatures(
        requests_per_min=decayed_rate(state.req_5m, now, now, 5 * MINUTE, history) * MINUTE,
        requests_per_hour=req_hour,
        output_tokens_per_hour=out_hour,
        own_z_requests=own_req,
        own_z_output_tokens=own_out,
        own_usual_requests_per_hour=math.expm1(state.base_req_mean),
        own_usual_output_tokens_per_hour=math.expm1(state.base_out_mean),
        history_s=history,
        events=state.n_events,
    )


def _hourly(total: float, state: AccountState) -> float:
    """A 1-hour decayed sum as a per-hour rate at the account's latest event."""
    now = state.last_ts
    return decayed_rate(total, now, now, HOUR, now - state.first_ts) * HOUR


def _z(level: float, mean: float, var: float) -> float:
    return (level - mean) / max(math.sqrt(max(var, 0.0)), BASELINE_MIN_STD)
