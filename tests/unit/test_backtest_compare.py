"""``distillguard backtest``'s comparison: what a candidate policy would change."""

from __future__ import annotations

import orjson

from models.backtest import compare_policies
from models.policy import DEFAULT_POLICY
from tests.traffic import benign_background, burst, in_time_order


def test_a_candidate_that_raises_the_throttle_threshold_removes_the_burst_throttle() -> None:
    events = in_time_order(
        benign_background(n_accounts=40, duration_s=2 * 3600),
        burst("harvester-1", start_s=3600, duration_s=1800, per_min=30),
    )
    lines = [orjson.dumps(e) for e in events]
    labels = {"accounts": {"harvester-1": {"group": "attack", "kind": "bulk_harvest",
                                           "campaign": "bulk_harvest"}}}  # fmt: skip
    candidate = DEFAULT_POLICY.with_changes({"account.throttle": 1.0, "account.block": 1.0})
    text = compare_policies(lines, DEFAULT_POLICY, candidate, labels, partitions=1)
    assert "throttled accounts 1 -> 0 (+0 new, -1 removed)" in text
    assert "attack: bulk_harvest" in text.split("removed throttles:")[1]
    same = compare_policies(lines, DEFAULT_POLICY, DEFAULT_POLICY, labels, partitions=1)
    assert "(+0 new, -0 removed)" in same and "new throttles: none" in same
