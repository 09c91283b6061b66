"""The scenario family and the robustness matrix: tactics inside their documented ranges,
the drawn tactics visible in the traffic, complete labels, and the matrix arithmetic."""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from models.matrix import (
    CellRun,
    KindRun,
    StyleRun,
    attack_load,
    benign_overall,
    cell_recall,
    entity_load,
    stat,
    summarize_kind,
    summarize_style,
)
from models.simulator import BENIGN, CAMPAIGNS, Scenario, ScenarioConfig, simulate
from models.simulator.tactics import (
    CAMPAIGN_CAP,
    CELL_NAMES,
    attack_ranges,
    draw_attack,
    draw_benign,
    drawn,
    markdown_tables,
)
from models.simulator.world import N_SDK, build_world
from models.units import DAY, HOUR
from streams.cli import build_parser
from streams.tools import plots

REPO = Path(__file__).resolve().parents[2]
SEEDS = (1, 2, 5, 8, 13)
FAMILY = [cell for cell in CELL_NAMES if cell != "default"]
FLEETS = CAMPAIGNS[:4]  # every style but the one laundering router
YOUNG = {"bulk_harvest": 3.0, "reasoning_extraction": 14.0, "hydra": 1.0}  # max age, days


def small(cell: str, seed: int = 2, **changes: Any) -> Scenario:
    config = ScenarioConfig(seed=seed, days=0.5, scale=0.1, cell=cell)
    return simulate(dataclasses.replace(config, **changes))


def per_account(scenario: Scenario) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in scenario.events:
        out[event["account_id"]].append(event)
    return out


def of_kind(scenario: Scenario, kind: str) -> list[str]:
    return [a for a, lab in scenario.labels["accounts"].items() if lab["kind"] == kind]


# The family: documented ranges, honoured.


def test_every_drawn_tactic_is_inside_its_documented_range() -> None:
    for seed in SEEDS:
        for cell in FAMILY:
            for style in CAMPAIGNS:
                tactics, ranges = drawn(draw_attack(seed, style, cell)), attack_ranges(style, cell)
                assert set(tactics) == set(ranges)
                assert all(ranges[k].contains(v) for k, v in tactics.items()), (seed, cell, style)
                if style in FLEETS:  # the fleet shrinks to the volume cap, never below 10
                    assert 10 <= tactics["accounts"] <= 5000
                    assert tactics["accounts"] * tactics["rate"] <= CAMPAIGN_CAP
                    assert 10 <= tactics["rate"] <= 5000
                    assert 0 <= tactics["aged_share"] <= 0.8
        for kind in BENIGN:
            tactics = drawn(draw_benign(seed, kind))
            assert tactics, kind


@pytest.mark.parametrize(
    ("cell", "tactic", "inside"),
    [
        ("aged-fleet", "aged_share", lambda v: 0.5 <= v <= 0.8),
        ("low-and-slow", "rate", lambda v: 10 <= v <= 60),
        ("bulk-fast", "rate", lambda v: 1000 <= v <= 5000),
        ("sdk-camouflage", "fingerprints", lambda v: v == "sdk"),
        ("diverse-prompts", "prompts", lambda v: v == "diverse"),
        ("via-routers", "routed_share", lambda v: v >= 0.5),
    ],
)
def test_a_cell_narrows_its_tactics_for_every_style(cell: str, tactic: str, inside: Any) -> None:
    values = [getattr(draw_attack(seed, style, cell), tactic) for seed in SEEDS for style in FLEETS]
    assert all(inside(v) for v in values), values
    family = [
        getattr(draw_attack(seed, style, "family"), tactic) for seed in SEEDS for style in FLEETS
    ]
    assert not all(inside(v) for v in family)  # the full range is wider than the cell


def test_draws_vary_by_seed_and_cells_of_one_seed_differ_only_where_they_narrow() -> None:
    shares = {draw_attack(seed, "hydra", "family").aged_share for seed in SEEDS}
    assert len(shares) == len(SEEDS)
    family, aged = (
        drawn(draw_attack(7, "hydra", "family")),
        drawn(draw_attack(7, "hydra", "aged-fleet")),
    )
    assert {k for k in family if family[k] != aged[k]} == {"aged_share"}
    assert draw_benign(7, "chat") == draw_benign(7, "chat")


def test_docs_show_the_ranges_the_code_draws() -> None:
    assert markdown_tables() in (REPO / "docs" / "simulator.md").read_text()


# The family in the traffic.


def test_aged_fleet_accounts_are_old_at_their_first_request_and_the_rest_young() -> None:
    scenario = small("aged-fleet")
    events = per_account(scenario)
    for style, young_days in YOUNG.items():
        accounts = of_kind(scenario, style)
        share = scenario.labels["tactics"][style]["aged_share"]
        aged = [a for a in accounts if "aged" in scenario.labels["accounts"][a].get("tactics", [])]
        assert len(aged) == round(share * len(accounts)) and 0.5 <= share <= 0.8
        assert abs(len(aged) / len(accounts) - share) <= 0.5 / len(accounts)
        for account in accounts:
            if account not in events:
                continue
            first = events[account][0]
            age_days = (first["ts"] - first["account_created_ts"]) / DAY
            assert age_days >= 30 if account in aged else age_days <= young_days


def test_sdk_camouflage_fleets_share_their_clients_with_benign_users() -> None:
    scenario = small("sdk-camouflage")
    pool = set(build_world(ScenarioConfig(seed=2)).fingerprints[:N_SDK])
    benign_fps: set[str] = set()
    for event in scenario.events:
        label = scenario.labels["accounts"][event["account_id"]]
        if label["group"] == "benign":
            benign_fps.add(event["client_fingerprint"])
        elif label["kind"] in FLEETS:
            assert event["client_fingerprint"] in pool
    assert len(pool & benign_fps) >= 5


def test_via_routers_fleets_come_through_resellers_on_business_networks() -> None:
    scenario = small("via-routers")
    events = per_account(scenario)
    for style in FLEETS:
        accounts = of_kind(scenario, style)
        share = scenario.labels["tactics"][style]["routed_share"]
        routed = {
            a for a in accounts if "routed" in scenario.labels["accounts"][a].get("tactics", [])
        }
        assert len(routed) == round(share * len(accounts)) and share >= 0.5
        resellers = set()
        for account in accounts:
            for event in events.get(account, []):
                assert ("routed_via" in event) == (account in routed)
                if account in routed:
                    assert event["asn_type"] == "business"
                    resellers.add(event["routed_via"])
        assert len(resellers) <= 3  # one population routes through 1-3 resellers


def test_bulk_fast_harvesters_run_at_their_drawn_rate() -> None:
    scenario = small("bulk-fast", days=1.0)
    rate = scenario.labels["tactics"]["bulk_harvest"]["rate"]
    params = scenario.labels["scenario"]["bulk_harvest"]
    assert tuple(params["per_day"]) == (rate / 2, rate * 2)
    per_day = [
        len(evs) / max(HOUR, evs[-1]["ts"] - evs[0]["ts"]) * DAY
        for a, evs in per_account(scenario).items()
        if scenario.labels["accounts"][a]["kind"] == "bulk_harvest" and len(evs) > 20
    ]
    assert per_day and rate / 3 <= statistics.median(per_day) <= rate * 2


def _nearest(hashes: list[int]) -> float:
    """Median Hamming distance from a prompt to the nearest other one (sampled)."""
    sample = hashes[:150]
    return statistics.median(
        min(bin(h ^ g).count("1") for j, g in enumerate(sample) if j != i)
        for i, h in enumerate(sample)
    )


def test_diverse_prompts_leave_no_template_to_link() -> None:
    def harvest_hashes(scenario: Scenario) -> list[int]:
        return [
            int(e["prompt_simhash"], 16)
            for e in scenario.events
            if scenario.labels["accounts"][e["account_id"]]["kind"] == "bulk_harvest"
        ]

    seed = next(s for s in SEEDS if draw_attack(s, "bulk_harvest", "family").prompts == "template")
    assert _nearest(harvest_hashes(small("family", seed=seed))) <= 12
    assert _nearest(harvest_hashes(small("diverse-prompts", seed=seed))) >= 16


def test_launch_surge_signs_up_many_new_accounts_at_once() -> None:
    scenario = small("family", days=2.0)
    t = scenario.labels["tactics"]["launch_surge"]
    events = per_account(scenario)
    surge = [events[a][0] for a in of_kind(scenario, "launch_surge") if a in events]
    assert len(surge) >= 20
    created = [e["account_created_ts"] for e in surge]
    assert max(created) - min(created) <= (t["ramp_h"] + 2.0) * HOUR
    assert all(e["ts"] - e["account_created_ts"] <= 2.1 * HOUR for e in surge)


def test_family_labels_are_complete_and_benign_traffic_is_the_same_in_every_cell() -> None:
    scenario = small("family", seed=5)
    labels = scenario.labels
    assert labels["scenario"]["cell"] == "family"
    assert set(labels["tactics"]) == {*BENIGN, *CAMPAIGNS}
    kinds = defaultdict(int)
    for label in labels["accounts"].values():
        kinds[label["kind"]] += 1
        attack = label["group"] == "attack"
        assert label["campaign"] == (label["kind"] if attack else None)
        assert ("harvest_start_ts" in label) == attack
    assert set(kinds) == {*BENIGN, *CAMPAIGNS}
    for name, campaign in labels["campaigns"].items():
        assert campaign["accounts"] == kinds[name] and campaign["start_ts"] >= 1_788_220_800.0
    assert {e["account_id"] for e in scenario.events} <= set(labels["accounts"])
    again = small("family", seed=5)
    assert list(again.events) == list(scenario.events) and again.labels == labels
    other = small("aged-fleet", seed=5)
    benign = {a for a, lab in labels["accounts"].items() if lab["group"] == "benign"}
    assert [e for e in other.events if e["account_id"] in benign] == [
        e for e in scenario.events if e["account_id"] in benign
    ]


# The matrix arithmetic on a hand-made case.


def style(accounts: int, throttled: int, ttt: float | None, alerts: int, entities: int) -> StyleRun:
    return StyleRun(accounts, throttled, ttt, None if ttt is None else ttt + 1, 0.1, 0.0,
                    entities, alerts, entities)  # fmt: skip


RUNS = [
    CellRun(
        1, "x", 2.0, 0.1, 100, 1.0, {"hydra": style(10, 10, 0.5, 10, 5)},
        {"chat": KindRun(100, 0), "eval_runner": KindRun(4, 1)},
    ),
    CellRun(
        2, "x", 2.0, 0.1, 100, 1.0, {"hydra": style(10, 5, 1.5, 2, 2)}, {"chat": KindRun(200, 2)}
    ),
    CellRun(
        1, "y", 2.0, 0.1, 100, 1.0,
        {"hydra": style(20, 16, 3.0, 0, 0), "bulk_harvest": style(5, 0, None, 4, 1)},
        {"chat": KindRun(50, 0)},
    ),
]  # fmt: skip


def test_worst_cell_and_median_per_style() -> None:
    hydra = summarize_style(RUNS, "hydra")
    assert hydra.runs == 3
    assert (hydra.recall.worst, hydra.recall.where, hydra.recall.median) == (0.5, "seed 2 / x", 0.8)
    assert hydra.first_to_throttle_h.median == 1.5 and hydra.first_to_throttle_h.worst == 3.0
    assert hydra.start_to_throttle_h.where == "seed 1 / y"
    # alerts / entity / day: 10/5/2 = 1.0 and 2/2/2 = 0.5; the run with no entities has none.
    assert hydra.alerts_per_entity_day.median == 0.75 and hydra.alerts_per_entity_day.worst == 1.0
    bulk = summarize_style(RUNS, "bulk_harvest")
    assert (bulk.runs, bulk.recall.worst, bulk.first_to_throttle_h.median) == (1, 0.0, None)
    assert cell_recall(RUNS, "x", "hydra") == 0.75 and cell_recall(RUNS, "y", "router") is None


def test_benign_rates_pool_over_runs_and_name_the_worst_run() -> None:
    chat = summarize_kind(RUNS, "chat")
    assert (chat.accounts, chat.throttled, chat.pooled) == (350, 2, 2 / 350)
    assert (chat.worst.worst, chat.worst.where) == (0.01, "seed 2 / x")
    overall = benign_overall(RUNS)
    assert (overall.accounts, overall.throttled) == (354, 3)
    assert overall.worst.worst == 0.01 and overall.worst.median == pytest.approx(1 / 104)
    # Every style of a run together: x/1: 10/5/2, x/2: 2/2/2, y/1: (0 + 4)/(0 + 1)/2.
    alerts, commands = attack_load(RUNS)
    assert (alerts.median, alerts.worst, alerts.where) == (1.0, 2.0, "seed 1 / y")
    assert (commands.median, commands.worst) == (0.5, 0.5)
    assert stat([(None, "a")], min) == stat([], max) and stat([], max).median is None


def test_alerts_and_commands_are_counted_per_attack_entity() -> None:
    labels = {
        "accounts": {
            "a1": {"group": "attack", "kind": "hydra", "campaign": "hydra"},
            "a2": {"group": "attack", "kind": "hydra", "campaign": "hydra"},
            "b1": {"group": "benign", "kind": "chat", "campaign": None},
        }
    }
    alerts = [
        {"entity_type": "account", "entity_id": "a1", "event_ts": 1.0},
        {"entity_type": "account", "entity_id": "a1", "event_ts": 2.0},
        {"entity_type": "campaign", "entity_id": "c1", "event_ts": 3.0, "accounts": ["a1", "a2"]},
        {"entity_type": "asn", "entity_id": "7", "event_ts": 3.0, "accounts": ["a2"]},
        {"entity_type": "account", "entity_id": "b1", "event_ts": 4.0},
    ]
    commands = [
        {"entity_type": "account", "entity_id": e, "action": "throttle"} for e in ("a2", "b1")
    ]
    assert entity_load(labels, alerts, commands) == {"hydra": (3, 3, 1)}


# End to end, tiny.


def test_evaluate_matrix_writes_the_report_and_prints_a_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "matrix"
    argv = ["evaluate", "--matrix", "--size", "ci", "--seeds", "dev", "--cells", "default,family"]
    args = build_parser().parse_args(
        [*argv, "--days", "0.25", "--scale", "0.03", "--out", str(out)]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("matrix (dev: 2 seeds x 2 cells): throttle recall worst/median")
    runs = orjson.loads((out / "runs.json").read_bytes())
    assert [(r["seed"], r["cell"]) for r in runs] == [
        (3, "default"),
        (7, "default"),
        (3, "family"),
        (7, "family"),
    ]
    text = (out / "matrix.md").read_text()
    for section in ("## Campaign styles", "## Benign kinds", "## Every run", "## Cells"):
        assert section in text
    for run in runs:
        hydra = run["styles"]["hydra"]
        assert f"| {run['seed']} | {run['cell']} | {run['events']:,} |" in text
        assert f"| {hydra['throttled']}/{hydra['accounts']} |" in text
    assert "launch_surge" in text  # the family's new benign kind is reported
    assert (out / "heatmap.png").exists() == plots.available()


def test_unknown_cells_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--matrix", "--cells", "family,nope"])
    assert "choose from default, family" in capsys.readouterr().err
