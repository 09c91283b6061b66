"""The profile-shift detector: a reseller's traffic mix against its own history."""

from __future__ import annotations

import random
import re

from models.account import AccountState, features, learn_baseline, update
from models.risk import ALERT_ONLY_RISK
from models.shift import assess_shift
from models.units import HOUR
from tests.fixtures import T0, make_request

ROUTER_PER_HOUR = 200  # ~4,800 requests a day
EXTRACTION_PER_HOUR = 25  # ~600 elicitation prompts a day mixed in


def run_router(
    hours: float, extraction_from_h: float | None, seed: int
) -> list[tuple[float, float]]:
    """(hour, shift risk) at every request of a router whose customers send 5% elicitation
    prompts; from ``extraction_from_h`` on, an extraction stream is mixed in."""
    rng = random.Random(seed)
    state = AccountState()
    out = []
    ts = T0
    while ts < T0 + hours * HOUR:
        extracting = extraction_from_h is not None and ts >= T0 + extraction_from_h * HOUR
        per_hour = ROUTER_PER_HOUR + (EXTRACTION_PER_HOUR if extracting else 0)
        ts += rng.expovariate(per_hour / HOUR)
        injected = extracting and rng.random() < EXTRACTION_PER_HOUR / per_hour
        cot = rng.uniform(0.6, 0.9) if injected or rng.random() < 0.05 else rng.uniform(0.0, 0.1)
        update(state, make_request(ts=ts, account_id="router", cot_elicitation=cot))
        risk = assess_shift(features(state, warmup_min_events=30, warmup_min_seconds=0)).score
        if risk == 0.0:
            learn_baseline(state)  # the pipeline learns only from unsuspected accounts
        out.append(((ts - T0) / HOUR, risk))
    return out


def test_a_router_mixing_in_extraction_is_alerted_within_the_hour_and_a_steady_one_never() -> None:
    shifted = run_router(hours=30, extraction_from_h=24, seed=1)
    first = min(hour for hour, risk in shifted if risk > 0)
    assert 24 < first <= 25 and max(risk for _, risk in shifted) == ALERT_ONLY_RISK
    for seed in range(5):
        assert max(risk for _, risk in run_router(hours=48, extraction_from_h=None, seed=seed)) == 0


def test_the_shift_is_said_in_words() -> None:
    state = AccountState()
    for i in range(3000):  # 15 h of a 5%-elicitation mix, learned as usual
        cot = 0.8 if i % 20 == 0 else 0.05
        update(state, make_request(ts=T0 + 18 * i, account_id="router", cot_elicitation=cot))
        learn_baseline(state)
    for i in range(300):  # then an hour at 30% elicitation
        cot = 0.8 if i % 10 < 3 else 0.05
        update(
            state, make_request(ts=T0 + 54_000 + 12 * i, account_id="router", cot_elicitation=cot)
        )
    result = assess_shift(features(state, warmup_min_events=30, warmup_min_seconds=0))
    assert result.score == ALERT_ONLY_RISK
    (reason,) = result.reasons
    assert reason.feature == "cot_high_share_shift" and reason.baseline is not None
    assert re.search(
        r"\d+\.\d% of requests in the last hour vs 5\.\d% usual over 15 h", reason.detail
    )
