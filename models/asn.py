"""Per-ASN state and features: what a network's population of accounts is doing.

Harvesting campaigns spread over proxy and hosting networks so that no single account looks
abnormal; seen from the network, the same traffic is many *new, heavy, reasoning-hungry*
accounts appearing together. The state is bounded: decayed sums plus a table of at most
``MAX_ACCOUNTS`` recently active accounts (evicting the least recently seen), well under the
64 KiB target at the cap.

The features' names are on the wire (population vectors, alert reasons) and older than
``models.age``: ``young_*`` count *new* accounts (``is_new``, < 7 days), and
``new_accounts_24h`` those created within the last day.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Final

from models.age import is_new
from models.decide import DecisionState
from models.replay import held
from models.sketches import decayed_add, decayed_rate
from models.units import DAY, HOUR

MAX_ACCOUNTS: Final = 256
# An account counts as "fresh and heavy" when new and above this many output tokens/day.
HEAVY_OUTPUT_PER_DAY: Final = 200_000.0


@dataclass(frozen=True, slots=True)
class AsnActivity:
    """One account's contribution to its ASN within one processing batch (pre-aggregated
    by the account agent, so the ASN agent sees one message per ASN per batch)."""

    account_id: str
    last_ts: float
    requests: int
    output_tokens: int
    reasoning: int
    cot_sum: float
    account_created_ts: float | None
    account_output_per_day: float  # the account's own 24-h output rate at its last event

    def row(self) -> list[Any]:
        """The wire layout on the activity topic (pinned by a golden test)."""
        return [self.account_id, self.last_ts, self.requests, self.output_tokens,
                self.reasoning, self.cot_sum, self.account_created_ts,
                self.account_output_per_day]  # fmt: skip

    @classmethod
    def from_row(cls, row: list[Any]) -> AsnActivity:
        account, last, requests, output, reasoning, cot, created, output_per_day = row
        return cls(
            account_id=str(account),
            last_ts=float(last),
            requests=int(requests),
            output_tokens=int(output),
            reasoning=int(reasoning),
            cot_sum=float(cot),
            account_created_ts=None if created is None else float(created),
            account_output_per_day=float(output_per_day),
        )


@dataclass(slots=True)
class AsnState:
    VERSION: ClassVar[int] = 3

    first_ts: float = 0.0
    last_ts: float = 0.0
    req_1h: float = 0.0
    req_24h: float = 0.0
    out_1h: float = 0.0
    out_24h: float = 0.0
    reasoning_24h: float = 0.0
    cot_24h: float = 0.0
    young_req_24h: float = 0.0
    last_learn_ts: float = 0.0
    published_risk: float = 0.0  # last risk published for the accounts' scoring
    # Activity-topic offset of the last message folded in (-1: none); see ``models.replay``.
    applied_offset: float = -1.0
    decision: DecisionState = field(default_factory=DecisionState)
    # account_id -> [last_ts, created_ts (0 = unknown), output tokens/day at last sight]
    accounts: dict[str, list[float]] = field(default_factory=dict)

    def encode(self) -> list[Any]:
        numbers = [getattr(self, n) for n in _NUMBERS]
        return [self.VERSION, numbers, self.decision.encode(), self.accounts]

    def holds(self, offset: int, ts: float) -> bool:
        """Whether the activity message at ``offset`` is already folded in."""
        return held(self.applied_offset, self.last_ts, offset, ts)

    @classmethod
    def decode(cls, raw: list[Any] | None) -> AsnState:
        """Load a stored record; version 2 (before the applied offset) is read with it at its
        default; an unknown version or shape starts the network afresh."""
        names = _NUMBERS_OF.get(raw[0]) if raw else None
        if not raw or names is None or len(raw) != 4 or len(raw[1]) != len(names):
            return cls()
        return cls(
            **dict(zip(names, raw[1], strict=True)),
            decision=DecisionState.decode(raw[2]),
            accounts=dict(raw[3]),
        )


_NUMBERS: Final = tuple(f.name for f in fields(AsnState) if f.name not in ("accounts", "decision"))
_NUMBERS_OF: Final = {
    AsnState.VERSION: _NUMBERS,
    2: tuple(n for n in _NUMBERS if n != "applied_offset"),
}


@dataclass(frozen=True, slots=True)
class AsnFeatures:
    requests_per_hour: float
    output_tokens_per_hour: float
    active_accounts_24h: float
    new_accounts_24h: float  # created within the last 24 h (signup burst)
    young_accounts_24h: float  # active new accounts (see module doc)
    fresh_heavy_accounts: float
    young_request_share: float  # share of requests from new accounts
    reasoning_share: float
    cot_mean: float
    output_tokens_per_request: float

    def population_vector(self) -> dict[str, float]:
        return {
            "new_accounts_24h": self.new_accounts_24h,
            "young_accounts_24h": self.young_accounts_24h,
            "fresh_heavy_accounts": self.fresh_heavy_accounts,
        }


def update(state: AsnState, activity: AsnActivity) -> None:
    """Fold one account's batch contribution into the ASN state (in place)."""
    ts = activity.last_ts
    if not state.first_ts:
        state.first_ts = state.last_ts = ts
    last = state.last_ts
    created = activity.account_created_ts or 0.0
    young = is_new(created, ts)
    state.req_1h = decayed_add(state.req_1h, last, ts, activity.requests, HOUR)
    state.req_24h = decayed_add(state.req_24h, last, ts, activity.requests, DAY)
    state.out_1h = decayed_add(state.out_1h, last, ts, activity.output_tokens, HOUR)
    state.out_24h = decayed_add(state.out_24h, last, ts, activity.output_tokens, DAY)
    state.reasoning_24h = decayed_add(state.reasoning_24h, last, ts, activity.reasoning, DAY)
    state.cot_24h = decayed_add(state.cot_24h, last, ts, activity.cot_sum, DAY)
    state.young_req_24h = decayed_add(
        state.young_req_24h, last, ts, activity.requests * float(young), DAY
    )
    state.last_ts = max(last, ts)
    seen = state.accounts.pop(activity.account_id, None)
    last_seen = max(ts, seen[0]) if seen else ts
    created = created or (seen[1] if seen else 0.0)  # a batch without the field keeps the age
    state.accounts[activity.account_id] = [last_seen, created, activity.account_output_per_day]
    while len(state.accounts) > MAX_ACCOUNTS:  # dicts keep insertion order: oldest first
        del state.accounts[next(iter(state.accounts))]


def features(state: AsnState) -> AsnFeatures:
    now = state.last_ts
    observed = now - state.first_ts
    active = [v for v in state.accounts.values() if now - v[0] < DAY]
    young = [v for v in active if is_new(v[1], now)]
    requests = max(state.req_24h, 1e-9)
    return AsnFeatures(
        requests_per_hour=decayed_rate(state.req_1h, now, now, HOUR, observed) * HOUR,
        output_tokens_per_hour=decayed_rate(state.out_1h, now, now, HOUR, observed) * HOUR,
        active_accounts_24h=float(len(active)),
        new_accounts_24h=float(sum(1 for v in young if now - v[1] < DAY)),
        young_accounts_24h=float(len(young)),
        fresh_heavy_accounts=float(sum(1 for v in young if v[2] >= HEAVY_OUTPUT_PER_DAY)),
        young_request_share=state.young_req_24h / requests,
        reasoning_share=state.reasoning_24h / requests,
        cot_mean=state.cot_24h / requests,
        output_tokens_per_request=state.out_24h / requests,
    )


def involved_accounts(state: AsnState, limit: int = 20) -> list[str]:
    """The ASN's active new accounts with the most output, for alerts (who to look at)."""
    now = state.last_ts
    young = [
        (values[2], account)
        for account, values in state.accounts.items()
        if is_new(values[1], now) and now - values[0] < DAY
    ]
    return [account for _, account in sorted(young, reverse=True)[:limit]]
