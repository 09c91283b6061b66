"""Determinism on the real broker: the same input replayed at two speeds (as fast as the
producer can write, and at 500 events/s) gives the same commands, under the same ids, at the
same event times. (Decisions that wait for network or campaign evidence can still move: see
README "Guarantees and faults".)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.harness import run_through_worker
from tests.traffic import harvest_scenario


def decisions(records: list[dict[str, Any]], id_field: str) -> set[tuple[Any, ...]]:
    return {(r[id_field], r["entity_type"], r["entity_id"], r["event_ts"]) for r in records}


def test_two_speeds_give_the_same_decisions_under_the_same_ids(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    events = harvest_scenario("harvester-replay", stagger_s=300)
    fast_commands, fast_alerts = run_through_worker(
        kafka_bootstrap, events, tmp_path / "fast", rate=None
    )
    slow_commands, slow_alerts = run_through_worker(
        kafka_bootstrap, events, tmp_path / "slow", rate=500
    )
    print(
        f"\ndeterminism: {len(fast_commands)} commands and {len(fast_alerts)} alerts at full "
        f"speed, {len(slow_commands)} and {len(slow_alerts)} at 500 events/s"
    )
    assert fast_commands, "precondition: the harvesters are throttled"
    assert decisions(fast_commands, "command_id") == decisions(slow_commands, "command_id")
    assert decisions(fast_alerts, "alert_id") == decisions(slow_alerts, "alert_id")
