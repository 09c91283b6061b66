"""The traffic simulator: reproducible, valid request.v1, honest labels, hard negatives intact."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import subprocess
import sys
from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import orjson
import pytest

from models.request import Request, parse_request
from models.simulator import (
    BENIGN,
    CAMPAIGNS,
    PopulationParams,
    Scenario,
    ScenarioConfig,
    parse_campaigns,
    simulate,
    summary,
    write_scenario,
)
from models.units import DAY
from streams.tools.simulate import add_arguments, run

SMALL = ScenarioConfig(seed=7, days=1.0, scale=0.05)
HEX16 = re.compile(r"^[0-9a-f]{16}$")
# Populations of the fixed tables; ``launch_surge`` exists only in scenario-family cells.
DEFAULT_KINDS = {*BENIGN, *CAMPAIGNS} - {"launch_surge"}
# SMALL's events and labels as the simulator wrote them before the scenario family existed
# (computed from that code): the default cell must keep producing exactly these bytes.
SMALL_EVENTS_SHA256 = "5b7efc872f5178778b2ce1c6b9aae4c6f926982a27b1e2463484b158e17cbe74"
SMALL_LABELS_SHA256 = "5b5b27398de53ea7e62de9f22c1ed14ab24cd25fcb0cdf4b71865b9f3c58ebc5"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def events(scenario: Scenario) -> list[dict[str, Any]]:
    return list(scenario.events)


def by_kind(scenario: Scenario, events: list[dict[str, Any]]) -> dict[str, dict[str, list]]:
    """kind -> account -> its events."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        out[scenario.labels["accounts"][event["account_id"]]["kind"]][event["account_id"]].append(
            event
        )
    return out


def test_same_config_same_events_and_labels(scenario: Scenario, events: list) -> None:
    again = simulate(SMALL)
    assert list(again.events) == events
    assert again.labels == scenario.labels


def test_default_cell_gives_the_same_bytes_as_before_the_scenario_family(
    scenario: Scenario,
) -> None:
    digest = hashlib.sha256()
    for batch in scenario.events.batches():
        digest.update(b"".join(orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in batch))
    assert digest.hexdigest() == SMALL_EVENTS_SHA256
    assert hashlib.sha256(orjson.dumps(scenario.labels)).hexdigest() == SMALL_LABELS_SHA256
    assert "tactics" not in scenario.labels and "cell" not in scenario.labels["scenario"]
    assert dataclasses.replace(SMALL, cell="default") == SMALL


def test_another_seed_gives_other_traffic(events: list) -> None:
    other = list(simulate(dataclasses.replace(SMALL, seed=8)).events)
    assert {e["prompt_simhash"] for e in other}.isdisjoint({e["prompt_simhash"] for e in events})
    assert {e["account_id"] for e in other}.isdisjoint({e["account_id"] for e in events})


def test_every_event_is_a_valid_request_in_time_order(scenario: Scenario, events: list) -> None:
    assert len(events) == len(scenario.events) > 1000
    for event in events:
        parsed = parse_request(orjson.dumps(event))
        assert isinstance(parsed, Request), (parsed, event)
        assert "prompt" not in event
        assert HEX16.match(event["prompt_simhash"])
        assert SMALL.start_ts <= event["ts"] < SMALL.end_ts
        assert event["ts"] == round(event["ts"], 3)
        assert event["account_created_ts"] < event["ts"]
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    assert len({e["event_id"] for e in events}) == len(events)
    assert {e["status"] for e in events} == {200, 429, 500}
    assert all(e["output_tokens"] == 0 for e in events if e["status"] != 200)


def test_labels_cover_every_account_and_every_kind(scenario: Scenario, events: list) -> None:
    labels = scenario.labels
    assert {e["account_id"] for e in events} <= set(labels["accounts"])
    active = Counter(labels["accounts"][e["account_id"]]["kind"] for e in events)
    assert set(active) == DEFAULT_KINDS
    for label in labels["accounts"].values():
        attack = label["kind"] in CAMPAIGNS
        assert label["group"] == ("attack" if attack else "benign")
        assert label["campaign"] == (label["kind"] if attack else None)
    assert set(labels["campaigns"]) == set(CAMPAIGNS)
    assert labels["scenario"]["seed"] == SMALL.seed
    counts = Counter(label["kind"] for label in labels["accounts"].values())
    assert counts["chat"] == 75 and counts["enterprise_batch"] == 1  # scale, floored at 1


def test_routed_via_only_on_router_traffic(scenario: Scenario, events: list) -> None:
    for event in events:
        kind = scenario.labels["accounts"][event["account_id"]]["kind"]
        assert ("routed_via" in event) == (kind in ("router", "router_laundering"))


def test_hydra_accounts_are_quieter_than_heavy_chat_users(scenario: Scenario, events: list) -> None:
    """Per-account volume must not give hydra away: its busiest day is below chat's p99."""
    kinds = by_kind(scenario, events)

    def busiest_day(account_events: list) -> int:
        return max(Counter(int((e["ts"] - SMALL.start_ts) // DAY) for e in account_events).values())

    chat = sorted(busiest_day(evs) for evs in kinds["chat"].values())
    chat_p99 = chat[int(0.99 * (len(chat) - 1))]
    assert max(busiest_day(evs) for evs in kinds["hydra"].values()) < chat_p99


def test_hydra_is_coordinated(scenario: Scenario, events: list) -> None:
    hydra = [e for evs in by_kind(scenario, events)["hydra"].values() for e in evs]
    assert len({e["payment_fingerprint"] for e in hydra}) <= 5
    assert len({e["client_fingerprint"] for e in hydra}) <= 5
    assert len({e["asn"] for e in hydra}) >= 10


def test_hydra_signs_up_in_three_waves() -> None:
    scenario = simulate(dataclasses.replace(SMALL, days=3.0, scale=0.03, campaigns=("hydra",)))
    hydra = by_kind(scenario, list(scenario.events))["hydra"]
    created = sorted(evs[0]["account_created_ts"] for evs in hydra.values())
    assert len(created) >= 9
    waves = 1 + sum(b - a > 6 * 3600 for a, b in pairwise(created))
    assert waves == 3
    assert all(evs[0]["ts"] - evs[0]["account_created_ts"] < DAY for evs in hydra.values())


def test_enterprise_batch_outvolumes_every_harvesting_account(
    scenario: Scenario, events: list
) -> None:
    """Volume alone cannot separate harvesters from batch customers (the laundering account
    is a router, so its volume is a router's and it is left out)."""
    kinds = by_kind(scenario, events)
    harvesters = [
        len(evs)
        for kind in CAMPAIGNS
        if kind != "router_laundering"
        for evs in kinds[kind].values()
    ]
    assert min(len(evs) for evs in kinds["enterprise_batch"].values()) > max(harvesters)


def test_eval_runners_resend_their_questions_every_run() -> None:
    config = ScenarioConfig(
        seed=3,
        days=2.0,
        scale=0.25,
        campaigns=(),
        eval_runner=PopulationParams(16, (300.0, 1200.0), asns=8),
    )
    scenario = simulate(config)
    kinds = by_kind(scenario, list(scenario.events))
    assert len(kinds["eval_runner"]) == 4
    repeated = 0
    for evs in kinds["eval_runner"].values():
        runs: list[set[str]] = [set()]  # runs are separated by an idle hour (or they overlap)
        for before, event in zip([None, *evs], evs, strict=False):
            if before is not None and event["ts"] - before["ts"] > 3600:
                runs.append(set())
            runs[-1].add(event["prompt_simhash"])
        repeated += len(runs) >= 2
        for k in range(1, len(runs)):
            seen = set().union(*runs[:k])
            assert len(runs[k] & seen) >= 0.3 * len(runs[k])
        assert all(e["reasoning"] and 0.4 <= e["cot_elicitation"] <= 0.7 for e in evs)
    assert repeated >= 2
    chat_hashes = [e["prompt_simhash"] for evs in kinds["chat"].values() for e in evs]
    assert len(set(chat_hashes)) > 0.85 * len(chat_hashes)  # humans rarely repeat themselves


def test_campaign_selection_leaves_benign_traffic_unchanged(
    scenario: Scenario, events: list
) -> None:
    hydra_only = simulate(dataclasses.replace(SMALL, campaigns=("hydra",)))
    kinds = {label["kind"] for label in hydra_only.labels["accounts"].values()}
    assert kinds == {*BENIGN, "hydra"} - {"launch_surge"}
    assert set(hydra_only.labels["campaigns"]) == {"hydra"}
    benign = {a for a, label in scenario.labels["accounts"].items() if label["group"] == "benign"}
    assert [e for e in hydra_only.events if e["account_id"] in benign] == [
        e for e in events if e["account_id"] in benign
    ]


def test_write_scenario_round_trips(scenario: Scenario, events: list, tmp_path: Any) -> None:
    events_path, labels_path = write_scenario(scenario, tmp_path / "out")
    lines = events_path.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == events
    assert orjson.loads(labels_path.read_bytes()) == orjson.loads(orjson.dumps(scenario.labels))


def test_cli_writes_files_and_prints_a_summary(tmp_path: Any, capsys: Any) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--out", str(tmp_path), "--days", "0.5", "--scale", "0.02", "--campaigns", "hydra"]
    )
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "hydra" in out and "bulk_harvest" not in out and "total" in out
    labels = orjson.loads((tmp_path / "labels.json").read_bytes())
    assert labels["scenario"]["campaigns"] == ["hydra"]
    assert (tmp_path / "events.jsonl").stat().st_size > 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", str(tmp_path), "--campaigns", "hydra,nope"])


def test_cli_cell_draws_the_family_and_records_its_tactics(tmp_path: Any, capsys: Any) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--out", str(tmp_path), "--days", "0.25", "--scale", "0.02", "--seed", "5"]
    assert run(parser.parse_args([*base, "--cell", "aged-fleet"])) == 0
    assert "cell aged-fleet" in capsys.readouterr().out
    labels = orjson.loads((tmp_path / "labels.json").read_bytes())
    assert labels["scenario"]["cell"] == "aged-fleet"
    assert set(labels["tactics"]) == {*BENIGN, *CAMPAIGNS}
    assert all(0.5 <= labels["tactics"][c]["aged_share"] <= 0.8 for c in CAMPAIGNS[:4])
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--cell", "nope"])
    with pytest.raises(ValueError, match="unknown cell 'nope'; choose from default, family"):
        ScenarioConfig(cell="nope")


def test_campaign_names_parse_without_argparse() -> None:
    assert parse_campaigns(" hydra, bulk_harvest ") == ("hydra", "bulk_harvest")
    assert parse_campaigns("none") == parse_campaigns("") == ()
    with pytest.raises(ValueError, match=r"unknown campaign.*nope; choose from bulk_harvest"):
        parse_campaigns("hydra,nope")


def test_summary_counts_accounts_and_events(scenario: Scenario) -> None:
    lines = summary(scenario).splitlines()
    assert lines[0].split() == ["group", "kind", "/", "campaign", "accounts", "active", "events"]
    rows = {line.split()[1]: line.split() for line in lines[1:-2]}
    assert set(rows) == DEFAULT_KINDS
    assert rows["chat"][2] == "75"
    assert lines[-2].split()[-1] == f"{len(scenario.events):,}"
    assert lines[-1].startswith("event time: 2026-09-01T")


def test_the_library_needs_no_cli_or_wiring() -> None:
    """models.simulator is importable without argparse, Kafka or the streams package."""
    code = (
        "import sys, models.simulator; "
        "print(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'argparse', 'streams', 'faust', 'confluent_kafka', 'matplotlib'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
