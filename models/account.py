"""Per-account state and features, as a compact versioned record of numbers.

The state is what a Faust table stores for each account, so it is plain numbers (one JSON
list), not pickled River objects (too heavy per account; docs/detection.md has the
arithmetic). Its size is fixed: ~45 floats, a few small int sketches and a 24-bin activity
profile, at most 2 KiB encoded however the account behaves. Every rate is driven by event
time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Final

from models.decide import DecisionState
from models.replay import held
from models.request import Request
from models.sketches import (
    decay_pair,
    decayed_rate,
    ew_update,
    hamming64,
    hash32,
    kmv_add,
    kmv_estimate,
    mark_hour,
    normalised_entropy,
)
from models.units import DAY, HOUR, MINUTE

# The account's own baseline forgets on this scale, so a one-hour burst moves it by ~4%.
BASELINE_TAU: Final = DAY
# The usual traffic mix forgets on this scale: slower than the baseline, so a shift in what
# an account asks for stays visible against it for days.
MIX_TAU: Final = 3 * DAY
# Floor on the baseline spread (log1p units) so a perfectly steady account is not flagged for
# a small wobble.
BASELINE_MIN_STD: Final = 0.35
NEAR_DUPLICATE_BITS: Final = 3  # SimHash Hamming distance that counts as "the same prompt"
RECENT_PROMPTS: Final = 8  # prompts remembered for near-duplicate checks
PROMPT_SKETCH_K: Final = 16  # KMV size for distinct prompts
IDENTITY_SKETCH_K: Final = 8  # KMV size for distinct ASNs, IPs, client fingerprints
HIGH_COT: Final = 0.5  # cot_elicitation at or above this counts as an elicitation prompt
PROFILE_CAP: Final = 10_000.0  # the 24-h profile is halved when its total passes this
GAP_WEIGHT: Final = 0.05  # inter-arrival statistics: weight of each new gap
# The volume features a population model compares across accounts, in ``volume_vector``'s
# order (the one definition of their values).
VOLUME_FEATURES: Final = (
    "requests_per_min",
    "requests_per_day",
    "output_tokens_per_hour",
    "output_tokens_per_day",
    "elicitation_requests_per_day",
)


@dataclass(slots=True)
class AccountState:
    """Everything distillguard remembers about one account (bounded, see module doc)."""

    VERSION: ClassVar[int] = 5

    first_ts: float = 0.0
    last_ts: float = 0.0
    n_events: float = 0.0
    n_hashed: float = 0.0  # requests that carried a prompt SimHash, lifetime
    created_ts: float = 0.0  # account_created_ts as last reported (0 = unknown)
    # Event-time decayed sums (horizon in the name).
    req_5m: float = 0.0
    req_1h: float = 0.0
    req_24h: float = 0.0
    out_1h: float = 0.0
    out_24h: float = 0.0
    in_24h: float = 0.0
    reasoning_24h: float = 0.0
    cot_24h: float = 0.0
    cot_high_24h: float = 0.0
    cot_high_1h: float = 0.0
    hashed_24h: float = 0.0  # requests that carried a prompt SimHash
    near_dup_24h: float = 0.0
    hosting_24h: float = 0.0
    routed_24h: float = 0.0
    error_24h: float = 0.0
    # Inter-arrival gaps: exponentially weighted mean/variance of log(1 + gap seconds).
    gap_mean: float = 0.0
    gap_var: float = 0.0
    # The account's own baseline of its hourly rates (log1p units).
    base_ts: float = 0.0
    base_n: float = 0.0
    base_req_mean: float = 0.0
    base_req_var: float = 0.0
    base_out_mean: float = 0.0
    base_out_var: float = 0.0
    # The account's usual traffic mix: share of CoT-elicitation prompts, learned like the
    # baseline (never while suspected) on MIX_TAU, over ``usual_s`` of event time so far.
    usual_cot_high: float = 0.0
    usual_s: float = 0.0
    # Which of the last 24 clock hours had a request: a 24-bit mask (bit = hour % 24) and the
    # hour (ts // 3600) it was last moved to.
    active_hours: float = 0.0
    active_hour: float = 0.0
    last_learn_ts: float = 0.0
    last_link_ts: float = 0.0  # event time the account last published its link keys
    # Input offset of the last event folded in (-1: none); its partition has all its events.
    applied_offset: float = -1.0
    decision: DecisionState = field(default_factory=DecisionState)
    recent_prompts: list[int] = field(default_factory=list)
    prompts_kmv: list[int] = field(default_factory=list)
    asns_kmv: list[int] = field(default_factory=list)
    ips_kmv: list[int] = field(default_factory=list)
    fingerprints_kmv: list[int] = field(default_factory=list)
    hours: list[float] = field(default_factory=lambda: [0.0] * 24)

    def encode(self) -> list[Any]:
        """``[VERSION, [numbers], [decision], [sketches]...]``: compact and versioned."""
        return [
            self.VERSION,
            [getattr(self, n) for n in _NUMBERS],
            self.decision.encode(),
            *(getattr(self, n) for n in _LISTS),
        ]

    def holds(self, offset: int, ts: float) -> bool:
        """Whether the event at input ``offset`` is already folded in (``models.replay``)."""
        return held(self.applied_offset, self.last_ts, offset, ts)

    @classmethod
    def decode(cls, raw: list[Any] | None) -> AccountState:
        """Load a stored record; versions 3 (before the traffic mix) and 4 (before the applied
        offset) are read with the new fields at their defaults; an unknown version or shape
        starts the account afresh."""
        if not raw or raw[0] not in _NUMBERS_OF or len(raw) != 3 + len(_LISTS):
            return cls()
        names = _NUMBERS_OF[raw[0]]
        numbers, decision, *lists = raw[1:]
        if len(numbers) != len(names) or len(decision) not in (4, 5) or len(lists[-1]) != 24:
            return cls()
        return cls(
            **dict(zip(names, numbers, strict=True)),
            decision=DecisionState.decode(decision),
            **dict(zip(_LISTS, lists, strict=True)),
        )


_LISTS: Final = (
    "recent_prompts",
    "prompts_kmv",
    "asns_kmv",
    "ips_kmv",
    "fingerprints_kmv",
    "hours",
)
_NUMBERS: Final = tuple(
    f.name for f in fields(AccountState) if f.name != "decision" and f.name not in _LISTS
)
_ADDED_IN_4: Final = ("cot_high_1h", "usual_cot_high", "usual_s", "active_hours", "active_hour")
_ADDED_IN_5: Final = ("applied_offset",)
_NUMBERS_OF: Final = {
    AccountState.VERSION: _NUMBERS,
    4: tuple(n for n in _NUMBERS if n not in _ADDED_IN_5),
    3: tuple(n for n in _NUMBERS if n not in (*_ADDED_IN_4, *_ADDED_IN_5)),
}


@dataclass(frozen=True, slots=True)
class AccountFeatures:
    """The account's features at one event, for detectors and for reasons."""

    requests_per_min: float
    requests_per_hour: float
    requests_per_day: float
    output_tokens_per_hour: float
    output_tokens_per_day: float
    elicitation_requests_per_day: float
    output_tokens_per_request: float
    output_input_ratio: float
    reasoning_share: float
    cot_mean: float
    cot_high_share: float
    near_duplicate_share: float
    prompt_diversity: float  # distinct prompts / requests with a prompt hash (lifetime)
    gap_spread: float  # std of log inter-arrival gaps: low = machine-regular
    hour_entropy: float  # 0 = always the same hour, 1 = around the clock
    burstiness: float  # last-hour rate / last-day average hourly rate
    requests_last_hour: float  # decayed count (1-h horizon)
    requests_last_day: float  # decayed count (24-h horizon)
    cot_high_share_1h: float
    usual_cot_high_share: float  # the account's usual mix (see AccountState)
    usual_h: float  # hours of event time the usual mix was learned over
    sustained_hours: float  # clock hours of the last 24 with at least one request
    account_age_days: float | None
    distinct_asns: float
    distinct_ips: float
    distinct_fingerprints: float
    hosting_share: float
    routed_share: float
    error_share: float
    # log1p(hourly rate) minus the account's own baseline, in baseline standard deviations;
    # None until the baseline has warmed up (a cold baseline must not exonerate anyone).
    own_z_requests: float | None
    own_z_output_tokens: float | None
    own_usual_requests_per_hour: float
    own_usual_output_tokens_per_hour: float
    history_s: float
    events: float

    def volume_vector(self) -> dict[str, float]:
        """The ``VOLUME_FEATURES`` as ``volume_vector(state)`` computed them for these
        features (read back, not recomputed)."""
        return {name: getattr(self, name) for name in VOLUME_FEATURES}


def update(state: AccountState, req: Request) -> None:
    """Fold one request into the account's state (in place)."""
    ts = req.ts
    if state.n_events == 0:
        state.first_ts = state.last_ts = state.base_ts = ts
    last = state.last_ts
    if ts > last:
        gap = math.log1p(ts - last)
        if state.n_events == 1:
            state.gap_mean = gap
        state.gap_mean, state.gap_var = ew_update(state.gap_mean, state.gap_var, gap, GAP_WEIGHT)

    k5, w5 = decay_pair(last, ts, 5 * MINUTE)
    kh, wh = decay_pair(last, ts, HOUR)
    kd, wd = decay_pair(last, ts, DAY)
    cot = req.cot_elicitation or 0.0
    state.req_5m = state.req_5m * k5 + w5
    state.req_1h = state.req_1h * kh + wh
    state.out_1h = state.out_1h * kh + req.output_tokens * wh
    state.req_24h = state.req_24h * kd + wd
    state.out_24h = state.out_24h * kd + req.output_tokens * wd
    state.in_24h = state.in_24h * kd + req.input_tokens * wd
    state.reasoning_24h = state.reasoning_24h * kd + req.reasoning * wd
    state.cot_24h = state.cot_24h * kd + cot * wd
    state.cot_high_24h = state.cot_high_24h * kd + (cot >= HIGH_COT) * wd
    state.cot_high_1h = state.cot_high_1h * kh + (cot >= HIGH_COT) * wh
    state.hosting_24h = state.hosting_24h * kd + (req.asn_type == "hosting") * wd
    state.routed_24h = state.routed_24h * kd + (req.routed_via is not None) * wd
    state.error_24h = state.error_24h * kd + ((req.status or 200) >= 400) * wd
    state.hashed_24h *= kd
    state.near_dup_24h *= kd
    if req.prompt_simhash is not None:
        _observe_prompt(state, req.prompt_simhash, wd)
    kmv_add(state.asns_kmv, hash32(req.asn), IDENTITY_SKETCH_K)
    if req.ip:
        kmv_add(state.ips_kmv, hash32(req.ip), IDENTITY_SKETCH_K)
    if req.client_fingerprint:
        kmv_add(state.fingerprints_kmv, hash32(req.client_fingerprint), IDENTITY_SKETCH_K)
    if req.account_created_ts is not None:
        state.created_ts = req.account_created_ts
    _observe_hour(state.hours, ts)
    mask, hour = mark_hour(int(state.active_hours), int(state.active_hour), int(ts // HOUR))
    state.active_hours, state.active_hour = mask, hour
    state.first_ts = min(state.first_ts, ts)
    state.last_ts = max(last, ts)
    state.n_events += 1


def _observe_prompt(state: AccountState, simhash: int, weight: float) -> None:
    """Near-duplicate check against the recent ring, then remember the prompt (the 24-h sums
    were already decayed to this event; ``weight`` is the new event's)."""
    near = any(hamming64(simhash, seen) <= NEAR_DUPLICATE_BITS for seen in state.recent_prompts)
    state.n_hashed += 1
    state.hashed_24h += weight
    state.near_dup_24h += near * weight
    state.recent_prompts.append(simhash)
    del state.recent_prompts[:-RECENT_PROMPTS]
    kmv_add(state.prompts_kmv, hash32(simhash), PROMPT_SKETCH_K)


def _observe_hour(hours: list[float], ts: float) -> None:
    hours[int(ts // HOUR) % 24] += 1.0
    if sum(hours) > PROFILE_CAP:  # bounded, and slowly forgets old habits
        hours[:] = [h / 2 for h in hours]


def learn_baseline(state: AccountState) -> None:
    """Move the account's own baseline towards its current hourly rates, weighted by the event
    time elapsed since the last move. Callers skip this while the account is under suspicion,
    so a harvester cannot teach its own baseline that harvesting is normal."""
    now = state.last_ts
    # Time-weighted, but never less than a running mean's 1/n: otherwise the first few
    # (noisy) observations would dominate the baseline for a whole BASELINE_TAU.
    state.base_n += 1
    weight = max(-math.expm1(-max(now - state.base_ts, 0.0) / BASELINE_TAU), 1.0 / state.base_n)
    req_level = math.log1p(_per_hour(state.req_1h, HOUR, state))
    out_level = math.log1p(_per_hour(state.out_1h, HOUR, state))
    state.base_req_mean, state.base_req_var = ew_update(
        state.base_req_mean, state.base_req_var, req_level, weight
    )
    state.base_out_mean, state.base_out_var = ew_update(
        state.base_out_mean, state.base_out_var, out_level, weight
    )
    elapsed = max(now - state.base_ts, 0.0)
    # A time-weighted running mean until MIX_TAU of history, then exponential forgetting.
    mix = max(-math.expm1(-elapsed / MIX_TAU), elapsed / max(state.usual_s + elapsed, 1e-9))
    share = state.cot_high_1h / max(state.req_1h, 1e-9)
    state.usual_cot_high += mix * (share - state.usual_cot_high)
    state.usual_s += elapsed
    state.base_ts = max(state.base_ts, now)


def features(
    state: AccountState,
    *,
    warmup_min_events: float,
    warmup_min_seconds: float,
    vector: dict[str, float] | None = None,
) -> AccountFeatures:
    """Read the account's features at its latest event time. ``vector`` is
    ``volume_vector(state)`` when the caller has computed it already."""
    now = state.last_ts
    history = now - state.first_ts
    req_hour = _per_hour(state.req_1h, HOUR, state)
    out_hour = _per_hour(state.out_1h, HOUR, state)
    warm = state.n_events >= warmup_min_events and history >= warmup_min_seconds
    own_req = own_out = None
    if warm:
        own_req = _z(math.log1p(req_hour), state.base_req_mean, state.base_req_var)
        own_out = _z(math.log1p(out_hour), state.base_out_mean, state.base_out_var)
    requests = max(state.req_24h, 1e-9)
    hashed = state.hashed_24h
    volume = volume_vector(state) if vector is None else vector
    return AccountFeatures(
        requests_per_min=volume["requests_per_min"],
        requests_per_hour=req_hour,
        requests_per_day=volume["requests_per_day"],
        output_tokens_per_hour=volume["output_tokens_per_hour"],
        output_tokens_per_day=volume["output_tokens_per_day"],
        elicitation_requests_per_day=volume["elicitation_requests_per_day"],
        output_tokens_per_request=state.out_24h / requests,
        output_input_ratio=state.out_24h / max(state.in_24h, 1.0),
        reasoning_share=state.reasoning_24h / requests,
        cot_mean=state.cot_24h / requests,
        cot_high_share=state.cot_high_24h / requests,
        near_duplicate_share=state.near_dup_24h / hashed if hashed > 0 else 0.0,
        prompt_diversity=_diversity(state),
        gap_spread=math.sqrt(max(state.gap_var, 0.0)),
        hour_entropy=normalised_entropy(state.hours),
        burstiness=req_hour / max(volume["requests_per_day"] / 24, 1e-9),
        sustained_hours=float(int(state.active_hours).bit_count()),
        requests_last_hour=state.req_1h,
        requests_last_day=state.req_24h,
        cot_high_share_1h=state.cot_high_1h / max(state.req_1h, 1e-9),
        usual_cot_high_share=state.usual_cot_high,
        usual_h=state.usual_s / HOUR,
        account_age_days=(now - state.created_ts) / DAY if state.created_ts else None,
        distinct_asns=kmv_estimate(state.asns_kmv, IDENTITY_SKETCH_K),
        distinct_ips=kmv_estimate(state.ips_kmv, IDENTITY_SKETCH_K),
        distinct_fingerprints=kmv_estimate(state.fingerprints_kmv, IDENTITY_SKETCH_K),
        hosting_share=state.hosting_24h / requests,
        routed_share=state.routed_24h / requests,
        error_share=state.error_24h / requests,
        own_z_requests=own_req,
        own_z_output_tokens=own_out,
        own_usual_requests_per_hour=math.expm1(state.base_req_mean),
        own_usual_output_tokens_per_hour=math.expm1(state.base_out_mean),
        history_s=history,
        events=state.n_events,
    )


def volume_vector(state: AccountState) -> dict[str, float]:
    """The volume features a population model compares across accounts (cheap: scoring
    reads these first and computes the full feature set only when they are unusual)."""
    now = state.last_ts
    return {
        "requests_per_min": decayed_rate(state.req_5m, now, now, 5 * MINUTE, now - state.first_ts)
        * MINUTE,
        "requests_per_day": _per_hour(state.req_24h, DAY, state) * 24,
        "output_tokens_per_hour": _per_hour(state.out_1h, HOUR, state),
        "output_tokens_per_day": output_tokens_per_day(state),
        # Volume of prompts that ask for the model's reasoning: the trace-extraction signal
        # that survives being mixed into a router's or reseller's ordinary traffic.
        "elicitation_requests_per_day": _per_hour(state.cot_high_24h, DAY, state) * 24,
    }


def output_tokens_per_day(state: AccountState) -> float:
    return _per_hour(state.out_24h, DAY, state) * 24


def _diversity(state: AccountState) -> float:
    """Distinct prompts per prompt-hashed request over the account's life, in [0, 1]."""
    if state.n_hashed <= 0:
        return 1.0
    return min(kmv_estimate(state.prompts_kmv, PROMPT_SKETCH_K) / state.n_hashed, 1.0)


def _per_hour(total: float, tau: float, state: AccountState) -> float:
    """A decayed sum with horizon ``tau`` as a per-hour rate at the account's latest event."""
    now = state.last_ts
    return decayed_rate(total, now, now, tau, now - state.first_ts) * HOUR


def _z(level: float, mean: float, var: float) -> float:
    return (level - mean) / max(math.sqrt(max(var, 0.0)), BASELINE_MIN_STD)
