"""Account and ASN features: exact values, bounded state, late events, unknown ASN."""

from __future__ import annotations

import dataclasses
import math
import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import asn as asn_model
from models.account import AccountState, features, update
from models.harvest import account_indicators, account_profile
from models.scoring import assess_account
from models.sketches import hash32, kmv_add, kmv_estimate, normalised_entropy
from models.units import DAY, HOUR
from tests.fixtures import T0, at, make_request

WARM = {"warmup_min_events": 30, "warmup_min_seconds": 6 * HOUR}


def test_shares_and_ratios_have_exact_values() -> None:
    state = AccountState()
    common = {"ts": T0, "input_tokens": 100, "output_tokens": 1000}
    update(state, make_request(**common, reasoning=True, cot_elicitation=0.8, asn_type="hosting",
                               status=429))  # fmt: skip
    update(state, make_request(**common, reasoning=False, cot_elicitation=0.2,
                               asn_type="residential", status=200))  # fmt: skip
    feat = features(state, **WARM)
    assert feat.reasoning_share == 0.5
    assert feat.cot_mean == pytest.approx(0.5)
    assert feat.cot_high_share == 0.5
    assert feat.hosting_share == 0.5
    assert feat.error_share == 0.5
    assert feat.output_tokens_per_request == 1000.0
    assert feat.output_input_ratio == 10.0


def test_near_duplicates_and_diversity() -> None:
    state = AccountState()
    base = 0x0F0F_0F0F_0F0F_0F0F
    update(state, make_request(ts=T0, prompt_simhash=base))
    update(
        state, make_request(ts=T0 + 1, prompt_simhash=base ^ 0b111)
    )  # 3 bits away: near duplicate
    update(
        state, make_request(ts=T0 + 2, prompt_simhash=base ^ 0b1111)
    )  # 4 bits from base, 1 from last
    update(state, make_request(ts=T0 + 3, prompt_simhash=~base & (2**64 - 1)))  # far from all
    feat = features(state, **WARM)
    decay = [math.exp(-(3 - i) / DAY) for i in range(4)]
    assert feat.near_duplicate_share == pytest.approx((decay[1] + decay[2]) / sum(decay))
    assert feat.prompt_diversity == 1.0  # four distinct hashes over four requests


def test_identity_sketches_count_distinct_networks() -> None:
    state = AccountState()
    for i in range(30):
        update(
            state, make_request(ts=T0 + i, asn=i % 3, ip=f"10.0.0.{i % 5}", client_fingerprint="fp")
        )
    feat = features(state, **WARM)
    assert (feat.distinct_asns, feat.distinct_ips, feat.distinct_fingerprints) == (3.0, 5.0, 1.0)


def test_account_age_and_hour_profile() -> None:
    state = AccountState()
    for h in range(24):
        update(state, make_request(ts=at(hours=h), account_created_ts=at(days=-2)))
    feat = features(state, **WARM)
    assert feat.account_age_days == pytest.approx(2 + 23 / 24)
    assert feat.hour_entropy == pytest.approx(1.0)
    assert normalised_entropy([5.0] + [0.0] * 23) == 0.0


def test_regular_machine_timing_has_low_gap_spread() -> None:
    machine, human = AccountState(), AccountState()
    rng = random.Random(1)
    ts_h = T0
    for i in range(300):
        update(machine, make_request(ts=T0 + 2.0 * i))
        ts_h += rng.expovariate(1 / 120)
        update(human, make_request(ts=ts_h))
    assert features(machine, **WARM).gap_spread < 0.05 < features(human, **WARM).gap_spread


def test_kmv_estimates_large_cardinalities_to_its_error_bound() -> None:
    # KMV with k=16 has a relative standard error of about 1/sqrt(k-2) = 27%; two sigma.
    sketch: list[int] = []
    for v in range(5000):
        kmv_add(sketch, hash32(f"ip-{v}"), 16)
    assert len(sketch) == 16
    assert kmv_estimate(sketch, 16) == pytest.approx(5000, rel=0.54)


def test_out_of_order_events_within_lateness_give_same_rates() -> None:
    rng = random.Random(2)
    events = [
        make_request(ts=T0 + rng.uniform(0, HOUR), output_tokens=rng.randrange(10, 5000))
        for _ in range(200)
    ]
    ordered, shuffled = AccountState(), AccountState()
    for e in sorted(events, key=lambda e: e.ts):
        update(ordered, e)
    late = sorted(events, key=lambda e: e.ts)
    for i in range(0, len(late) - 1, 2):  # swap neighbours: each late by seconds
        late[i], late[i + 1] = late[i + 1], late[i]
    for e in late:
        update(shuffled, e)
    a, b = features(ordered, **WARM), features(shuffled, **WARM)
    assert b.requests_per_hour == pytest.approx(a.requests_per_hour, rel=1e-9)
    assert b.output_tokens_per_day == pytest.approx(a.output_tokens_per_day, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 30 * DAY),
            st.integers(0, 2**32 - 1),
            st.integers(0, 2**64 - 1),
            st.text(max_size=40),
            st.integers(0, 10_000_000),
        ),
        min_size=1,
        max_size=400,
    )
)
def test_account_state_stays_bounded_under_adversarial_input(
    rows: list[tuple[float, int, int, str, int]],
) -> None:
    state = AccountState()
    for offset, asn, simhash, text, tokens in rows:
        update(
            state,
            make_request(
                ts=T0 + offset,
                asn=asn,
                prompt_simhash=simhash,
                ip=text or None,
                client_fingerprint=text or None,
                output_tokens=tokens,
                account_created_ts=T0 - offset,
            ),
        )
    encoded = orjson.dumps(state.encode())
    assert len(encoded) <= 2048, len(encoded)
    assert AccountState.decode(orjson.loads(encoded)) == state


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=40), st.floats(0, DAY)), max_size=600))
def test_asn_state_stays_bounded(rows: list[tuple[str, float]]) -> None:
    state = asn_model.AsnState()
    for account, offset in rows:
        asn_model.update(
            state, asn_model.AsnActivity(account, T0 + offset, 3, 9000, 2, 1.5, T0, 5e5)
        )
    assert len(state.accounts) <= asn_model.MAX_ACCOUNTS
    assert len(orjson.dumps(state.encode())) <= 64 * 1024


def test_asn_state_round_trips_and_reads_version_2_without_an_applied_offset() -> None:
    state = asn_model.AsnState(applied_offset=17)
    asn_model.update(state, asn_model.AsnActivity("a", T0, 3, 900, 0, 0.0, None, 2e3))
    encoded = orjson.loads(orjson.dumps(state.encode()))
    assert asn_model.AsnState.decode(encoded) == state
    assert state.holds(17, T0) and not state.holds(18, T0) and not state.holds(3, T0 + 1)
    names = [f.name for f in dataclasses.fields(asn_model.AsnState)][: len(encoded[1])]
    v2 = [2, [n for n, name in zip(encoded[1], names, strict=True) if name != "applied_offset"]]
    old = asn_model.AsnState.decode([*v2, *encoded[2:]])
    assert old == dataclasses.replace(state, applied_offset=-1.0)
    assert asn_model.AsnState.decode([99, *encoded[1:]]) == asn_model.AsnState()


def test_asn_features_count_new_young_and_fresh_heavy_accounts() -> None:
    state = asn_model.AsnState()
    now = at(days=30)
    asn_model.update(state, asn_model.AsnActivity("old", now - 10, 5, 500, 0, 0.0, T0, 1e3))
    asn_model.update(
        state, asn_model.AsnActivity("new-heavy", now - 5, 50, 200_000, 50, 40.0, now - HOUR, 3e5)
    )
    asn_model.update(
        state, asn_model.AsnActivity("young-light", now, 2, 100, 0, 0.0, now - 3 * DAY, 1e3)
    )
    feat = asn_model.features(state)
    assert (feat.active_accounts_24h, feat.new_accounts_24h, feat.young_accounts_24h) == (3, 1, 2)
    assert feat.fresh_heavy_accounts == 1
    assert feat.young_request_share == pytest.approx(52 / 57, rel=1e-3)
    assert asn_model.involved_accounts(state) == ["new-heavy", "young-light"]


def test_unknown_asn_zero_is_an_ordinary_key() -> None:
    state = AccountState()
    update(state, make_request(ts=T0, asn=0))
    assert features(state, **WARM).distinct_asns == 1.0


def test_batch_job_profile_stays_below_volume_only_threshold_and_harvest_above() -> None:
    batch, harvest = AccountState(), AccountState()
    rng = random.Random(4)
    template = rng.getrandbits(64)
    for i in range(500):
        update(
            batch,
            make_request(
                ts=T0 + i * 2,
                output_tokens=150,
                asn_type="hosting",
                account_created_ts=at(days=-900),
                prompt_simhash=template ^ (1 << rng.randrange(64)),
            ),
        )
        update(
            harvest,
            make_request(
                ts=T0 + i * 10,
                output_tokens=5000,
                reasoning=True,
                cot_elicitation=0.8,
                asn=i % 7,
                asn_type="hosting",
                account_created_ts=at(days=-1),
                prompt_simhash=rng.getrandbits(64),
            ),
        )
    assert account_profile(account_indicators(features(batch, **WARM))) < 0.25
    assert account_profile(account_indicators(features(harvest, **WARM))) > 0.8


def test_assess_account_is_zero_with_a_cold_population() -> None:
    from models.detectors import PopulationTail

    state = AccountState()
    update(state, make_request(ts=T0))
    assert assess_account(features(state, **WARM), PopulationTail()).score == 0.0
