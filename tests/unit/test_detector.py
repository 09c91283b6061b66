"""The first detector end to end in pure code: features, population tail, risk, decisions."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import random
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from river import base, checks, metrics

from models import detectors
from models.account import AccountState, features, learn_baseline, update
from models.decide import DecisionState, decide, stable_id
from models.detectors import PopulationTail
from models.policy import Policy, PolicyError
from models.risk import ALERT_ONLY_RISK, Assessment, squash
from models.scoring import assess_account
from models.sketches import decayed_add, decayed_rate, ew_update
from models.units import DAY, HOUR
from tests.fixtures import T0, make_request

# --- sketches -------------------------------------------------------------------------------


def test_decayed_rate_of_a_steady_stream_converges_to_the_true_rate() -> None:
    total, last = 0.0, T0
    for i in range(2000):  # one event every 10 s for ~5.5 h, tau = 1 h
        ts = T0 + 10 * i
        total = decayed_add(total, last, ts, 1.0, 3600.0)
        last = ts
    assert decayed_rate(total, last, last, 3600.0) == pytest.approx(0.1, rel=0.06)


def test_late_events_give_the_same_total_as_in_order() -> None:
    in_order = decayed_add(decayed_add(0.0, T0, T0, 1.0, 60.0), T0, T0 + 30, 1.0, 60.0)
    late = decayed_add(decayed_add(0.0, T0, T0 + 30, 1.0, 60.0), T0 + 30, T0, 1.0, 60.0)
    assert late == pytest.approx(in_order)


def test_ew_update_matches_hand_computation() -> None:
    mean, var = ew_update(2.0, 1.0, 4.0, 0.25)
    assert mean == 2.5
    assert var == pytest.approx(0.75 * (1.0 + 0.25 * 4.0))


# --- account features ----------------------------------------------------------------------


def test_account_rates_have_exact_values() -> None:
    state = AccountState()
    update(state, make_request(ts=T0, output_tokens=1000))
    update(state, make_request(ts=T0 + 60, output_tokens=1000))
    feat = features(state, warmup_min_events=30, warmup_min_seconds=3600)
    # Bias-corrected: two requests over the 60 s the account has existed, not over 5 minutes.
    expected_5m = (math.exp(-60 / 300) + 1) / (300 * -math.expm1(-60 / 300)) * 60
    assert feat.requests_per_min == pytest.approx(expected_5m)
    hour_window = 3600 * -math.expm1(-300 / 3600)  # floor: 1/12 of the horizon
    assert feat.output_tokens_per_hour == pytest.approx(
        1000 * (math.exp(-60 / 3600) + 1) / hour_window * 3600
    )
    assert feat.own_z_requests is None  # not warm: a cold baseline must not exonerate
    assert (feat.history_s, feat.events) == (60.0, 2.0)


def test_baseline_warms_up_and_then_reports_deviation() -> None:
    state = AccountState()
    for i in range(200):  # a steady account: one request every 2 minutes for ~6.6 h
        update(state, make_request(ts=T0 + 120 * i))
        learn_baseline(state)
    feat = features(state, warmup_min_events=30, warmup_min_seconds=6 * 3600)
    assert feat.own_z_requests is not None and abs(feat.own_z_requests) < 1.0
    for i in range(300):  # then 10 requests a minute
        update(state, make_request(ts=T0 + 24_000 + 6 * i))
    burst = features(state, warmup_min_events=30, warmup_min_seconds=6 * 3600)
    assert burst.own_z_requests is not None and burst.own_z_requests > 3.0


def test_state_encoding_round_trips_and_is_versioned() -> None:
    state = AccountState()
    update(state, make_request(ts=T0))
    learn_baseline(state)
    state.decision.action, state.decision.action_until = 1.0, T0 + HOUR
    encoded = state.encode()
    assert AccountState.decode(encoded) == state
    assert AccountState.decode([999.0, *encoded[1:]]) == AccountState()  # other release: reset
    assert AccountState.decode(encoded[:-1]) == AccountState()
    assert len(repr(encoded).encode()) < 1024  # a few hundred bytes per account, bounded
    # A version-4 record (before the applied offset) is read with no offset applied.
    v4 = [4, encoded[1][:-1], *encoded[2:]]
    assert AccountState.decode(v4) == dataclasses.replace(state, applied_offset=-1.0)


def test_a_state_holds_replayed_events_but_not_new_ones() -> None:
    state = AccountState(last_ts=T0 + 60, applied_offset=41)
    assert state.holds(41, T0 + 60) and state.holds(7, T0)
    assert not state.holds(42, T0 + 60)  # the next offset
    assert not state.holds(3, T0 + 61)  # a newer event time: a recreated topic, not a replay


# --- the population detectors: River's own estimator checks --------------------------------

DETECTORS: list[type[base.AnomalyDetector]] = [getattr(detectors, n) for n in detectors.__all__]


def synthetic_datasets(
    model: base.Estimator, scale: int = 1
) -> Iterator[list[tuple[dict[str, float], bool]]]:
    """Stands in for ``river.checks._yield_datasets``, whose anomaly-detection dataset
    (CreditCard) is a download: one seeded stream of the same shape, ``(features, is_anomaly)``
    pairs, 1,000 x ``scale`` of them, with 2% anomalies that are heavy on every feature.
    ``x`` is the feature ``PopulationTail._unit_test_params`` gives a ``min_edge``."""
    rng = random.Random(42)
    rows = []
    for _ in range(1000 * scale):
        anomaly = rng.random() < 0.02
        shift = 3.0 if anomaly else 0.0
        x = {name: rng.lognormvariate(shift, 0.6) for name in ("x", "v1", "v2", "v3", "v4", "v5")}
        x["share"] = rng.random()  # bounded, in [0, 1], as shares are
        rows.append((x, anomaly))
    yield rows  # a list, so a check may iterate it more than once


def river_checks() -> Iterator[Any]:
    """Every check ``river.checks.yield_checks`` yields for every detector and each of its
    ``_unit_test_params``, minus the detector's ``_unit_test_skips`` (as River's own
    test_estimators.py runs them)."""
    with mock.patch.object(checks, "_yield_datasets", synthetic_datasets):
        for detector in DETECTORS:
            for i, params in enumerate(detector._unit_test_params()):
                model = detector(**params)
                for check in checks.yield_checks(model):
                    if check.__name__ not in model._unit_test_skips():
                        name = f"{detector.__name__}[{i}]:{check.__name__}"
                        yield pytest.param(model, check, id=name)


@pytest.mark.parametrize(("model", "check"), list(river_checks()))
def test_river_estimator_check(
    model: base.AnomalyDetector, check: Callable[[base.Estimator], None]
) -> None:
    check(model.clone())


@pytest.mark.parametrize("params", list(PopulationTail._unit_test_params()))
def test_population_tail_clone_is_fresh_pickle_scores_alike_and_scoring_learns_nothing(
    params: dict[str, Any],
) -> None:
    """What River's checks leave out: they check that a clone has the same parameters, that
    a pickle loads and that ``score_one`` leaves its input alone, not these."""
    model = PopulationTail(**params)
    rng = random.Random(1)
    for _ in range(200):
        model.learn_one({"x": rng.lognormvariate(0, 1), "y": rng.random()})
    assert model.clone().n_learned == 0
    restored = pickle.loads(pickle.dumps(model))
    point = {"x": 50.0, "y": 0.5}
    assert restored.score_one(point) == model.score_one(point)
    before = copy.deepcopy(model)
    model.score_one(point)
    assert model.score_one(point) == before.score_one(point)


def test_population_tail_auc_on_labelled_stream() -> None:
    rng = random.Random(3)
    model = PopulationTail(min_samples=50)
    auc = metrics.ROCAUC()
    for i in range(3000):
        attack = rng.random() < 0.05
        x = {
            "rpm": rng.lognormvariate(3 if attack else 0, 0.6),
            "tok": rng.lognormvariate(9 if attack else 6, 0.5),
        }
        if i > 100:
            auc.update(attack, model.score_one(x))
        if not attack:
            model.learn_one(x)
    assert auc.get() > 0.95


def test_population_tail_is_silent_while_cold() -> None:
    model = PopulationTail(min_samples=100)
    for _ in range(99):
        model.learn_one({"x": 1.0})
    assert model.score_one({"x": 1e9}) == 0.0


# --- risk and decisions ----------------------------------------------------------------------


def warm_population() -> PopulationTail:
    rng = random.Random(5)
    model = PopulationTail(min_samples=100)
    for _ in range(1000):
        model.learn_one(
            {
                "requests_per_min": rng.lognormvariate(0, 0.4),
                "output_tokens_per_hour": rng.lognormvariate(8, 0.5),
            }
        )
    return model


def test_assessment_names_the_feature_and_the_population_baseline() -> None:
    state = AccountState()
    for i in range(600):
        update(state, make_request(ts=T0 + 2 * i, output_tokens=4000))
    feat = features(state, warmup_min_events=30, warmup_min_seconds=6 * 3600)
    result = assess_account(feat, warm_population())
    assert result.score > 0.95
    top = result.reasons[0]
    assert top.feature in ("requests_per_min", "output_tokens_per_hour")
    assert top.baseline is not None and top.value > top.baseline
    assert "vs population p99" in top.detail


def test_warm_own_baseline_exonerates_a_steady_heavy_account() -> None:
    population = warm_population()
    state = AccountState()
    for i in range(4000):  # a batch job: 30 req/min, 24 h, every day the same
        update(state, make_request(ts=T0 + 2 * i * 24))
        learn_baseline(state)
    feat = features(state, warmup_min_events=30, warmup_min_seconds=6 * 3600)
    assert feat.own_z_requests is not None
    cold = features(state, warmup_min_events=10**9, warmup_min_seconds=0)
    assert assess_account(feat, population).score < assess_account(cold, population).score


def test_an_established_account_bursting_alone_is_alerted_not_throttled_until_sustained() -> None:
    """A 60-day-old account running a reasoning-heavy benchmark: 3 hours of it stays at
    alert level; the same load for 14 hours may throttle; a 2-day-old account at once."""
    population = warm_population()

    def risk_after(hours: float, age_days: float) -> float:
        state = AccountState()
        created = T0 - age_days * DAY
        for i in range(int(hours * 120)):  # 2 requests/min
            req = make_request(ts=T0 + 30 * i, output_tokens=4000, reasoning=True,
                               account_created_ts=created, cot_elicitation=0.6)  # fmt: skip
            update(state, req)
        feat = features(state, warmup_min_events=10**9, warmup_min_seconds=0)
        return assess_account(feat, population).score

    assert ALERT_ONLY_RISK / 2 < risk_after(3, age_days=60) <= ALERT_ONLY_RISK
    assert risk_after(14, age_days=60) > ALERT_ONLY_RISK
    assert risk_after(3, age_days=2) > ALERT_ONLY_RISK


def test_squash_is_monotone_in_unit_interval() -> None:
    values = [squash(x / 10) for x in range(-5, 50)]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] < 1.0


def test_decisions_escalate_once_and_refresh_only_near_ttl_end() -> None:
    policy = Policy()
    state = DecisionState()
    high = Assessment(0.85, ())

    def run(score: float, ts: float) -> tuple[str | None, str | None]:
        d = decide(
            state,
            Assessment(score, high.reasons),
            policy,
            entity_type="account",
            entity_id="a",
            event_ts=ts,
            event_id=f"e{ts}",
        )
        return (d.alert.severity if d.alert else None, d.command.action if d.command else None)

    assert run(0.1, T0) == (None, None)
    assert run(0.6, T0 + 1) == ("low", None)
    assert run(0.6, T0 + 2) == (None, None)
    assert run(0.85, T0 + 3) == ("high", "throttle")
    assert run(0.85, T0 + 4) == (None, None)  # same action within TTL: nothing
    assert run(0.99, T0 + 5) == ("critical", "block")
    assert run(0.85, T0 + 6) == (None, None)  # no downgrade by command; TTL lapses instead
    assert run(0.99, T0 + 5 + 0.8 * 3600 + 1) == (None, "block")  # refresh near the TTL's end


def test_an_alert_episode_alerts_once_per_escalation_until_quiet_for_realert_s() -> None:
    policy = Policy(shadow=True)  # alerts only, so commands do not interleave
    state = DecisionState()
    realert = policy.account.realert_s

    def alerted(score: float, ts: float) -> str | None:
        d = decide(
            state, Assessment(score, ()), policy,
            entity_type="account", entity_id="a", event_ts=ts, event_id=f"e{ts}",
        )  # fmt: skip
        return d.alert.severity if d.alert else None

    # Three days of continuous harvesting at alert level: one alert, then one per escalation.
    assert alerted(0.6, T0) == "low"
    assert [alerted(0.6, T0 + m * 600) for m in range(1, 432)] == [None] * 431
    assert alerted(0.85, T0 + 432 * 600) == "high"
    assert alerted(0.6, T0 + 433 * 600) is None  # a lower score stays inside the episode
    # Quiet (below alert) for less than realert_s: still the same episode.
    last = T0 + 433 * 600
    assert alerted(0.1, last + realert - 1) is None
    assert alerted(0.6, last + realert - 1) is None
    # Quiet for realert_s: the episode closed, the next alert opens a new one.
    assert alerted(0.6, last + 3 * realert) == "low"
    assert DecisionState.decode(state.encode()) == state
    assert DecisionState.decode([0.0, 0.0, 1.0, T0]).alert_seen_ts == T0  # old 4-number state


def test_decision_ids_are_deterministic_and_shadow_mode_sends_no_command() -> None:
    def once(policy: Policy) -> tuple[str | None, str | None]:
        d = decide(
            DecisionState(),
            Assessment(0.9, ()),
            policy,
            entity_type="account",
            entity_id="a",
            event_ts=T0,
            event_id="e",
        )
        return (d.alert.alert_id if d.alert else None, d.command.command_id if d.command else None)

    assert once(Policy()) == once(Policy())
    alert_id, command_id = once(Policy(shadow=True))
    assert alert_id is not None and command_id is None
    assert stable_id("x", 1) != stable_id("x", 2)


def test_two_triggers_at_one_event_time_get_two_command_ids() -> None:
    """An account's own decision and its campaign's member command can share entity, action
    and event time; they are different records, so their ids differ."""

    def command_id(trigger: str) -> str:
        d = decide(
            DecisionState(),
            Assessment(0.9, ()),
            Policy(),
            entity_type="account",
            entity_id="a",
            event_ts=T0,
            event_id=trigger,
        )
        assert d.command is not None
        return d.command.command_id

    assert command_id("request-1") != command_id("campaign:cmp-1:1.0")


def test_policy_validation_rejects_and_changes_nothing() -> None:
    policy = Policy()
    with pytest.raises(PolicyError, match="alert <= throttle <= block"):
        policy.with_changes({"account.alert": 0.95})
    with pytest.raises(PolicyError, match="unknown policy key"):
        policy.with_changes({"account.alrt": 0.1})
    with pytest.raises(PolicyError, match="must be bool"):
        Policy.from_dict({"shadow": "yes"})
    changed = policy.with_changes({"account.throttle": 0.7, "shadow": True})
    assert (changed.version, changed.account.throttle, changed.shadow) == (2, 0.7, True)
    assert Policy.from_dict(changed.to_dict()) == changed
    assert policy.account.throttle == 0.8
