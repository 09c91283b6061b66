"""Detectors in the worker on the real broker: a small simulated mix of campaigns and hard
negatives. Harvesting accounts are throttled; legitimate heavy users (enterprise batch, eval
runners, routers, developers, popular-app users) are not."""

from __future__ import annotations

from typing import Any

import pytest

from models.simulator import ScenarioConfig, simulate
from tests.integration.harness import run_through_worker

LOUD_CAMPAIGNS = {"bulk_harvest", "reasoning_extraction"}


@pytest.fixture(scope="module")
def outcome(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scenario = simulate(ScenarioConfig(seed=3, days=2.0, scale=0.15))
    events = list(scenario.events)
    work = tmp_path_factory.mktemp("detection")
    commands, alerts = run_through_worker(kafka_bootstrap, events, work, rate=2500)
    labels = scenario.labels["accounts"]
    active = {e["account_id"] for e in events}
    throttled = {c["entity_id"] for c in commands if c["entity_type"] == "account"}
    return {"labels": labels, "active": active, "throttled": throttled, "alerts": alerts}


def members(outcome: dict[str, Any], kinds: set[str]) -> set[str]:
    return {
        a
        for a, lab in outcome["labels"].items()
        if a in outcome["active"] and (lab.get("campaign") or lab["kind"]) in kinds
    }


def test_planted_harvesters_are_throttled(outcome: dict[str, Any]) -> None:
    loud = members(outcome, LOUD_CAMPAIGNS)
    caught = loud & outcome["throttled"]
    # Offline on the same scenario: 8 of 13. The worker must catch at least half.
    assert len(caught) >= len(loud) / 2, f"{len(caught)} of {len(loud)} loud harvesters throttled"


def test_hard_negatives_are_never_throttled(outcome: dict[str, Any]) -> None:
    benign = {a for a, lab in outcome["labels"].items() if lab["group"] == "benign"}
    wrongly = sorted(benign & outcome["throttled"])
    kinds = {outcome["labels"][a]["kind"] for a in wrongly}
    assert wrongly == [], f"benign accounts throttled: {wrongly} ({kinds})"


def test_every_alert_explains_itself(outcome: dict[str, Any]) -> None:
    assert outcome["alerts"]
    for alert in outcome["alerts"]:
        assert alert["reasons"], alert
        assert all(r["detail"] for r in alert["reasons"])
        assert alert["policy_version"] >= 1 and alert["model_version"]
