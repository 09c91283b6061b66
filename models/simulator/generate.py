"""The generator: one loop over populations and accounts that turns a config into a scenario.

Populations are generated in a fixed order (benign kinds, then the selected campaigns) and
their accounts' columns merged by a stable sort on time, so the same config always gives
byte-identical output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from models.simulator.accounts import (
    Account,
    Shared,
    account_flags,
    draw_level,
    new_account,
    orgs,
    population_shared,
)
from models.simulator.config import PopulationParams, ScenarioConfig
from models.simulator.content import stream_columns
from models.simulator.family import PROFILES, plan
from models.simulator.output import AccountRow, EventTable, Scenario
from models.simulator.timing import request_times
from models.simulator.world import World, build_world

__all__ = ["PROFILES", "simulate"]


def _account_columns(world: World, acc: Account, shared: Shared) -> dict[str, npt.NDArray[Any]]:
    """All of one account's requests, in time order."""
    config = world.config
    parts = []
    for k, stream in enumerate(acc.profile.streams):
        begin = max(acc.harvest_ts if stream.harvest else acc.start_ts, config.start_ts)
        level = acc.level * stream.share
        if stream.volume_of is not None:
            level = draw_level(acc.rng, getattr(config, stream.volume_of).per_day)
        kick = acc.profile.start in ("signup", "surge") and k == 0
        times = request_times(acc.rng, stream.timing, level, begin, config.end_ts, acc.tz_s, kick)
        parts.append(stream_columns(acc.rng, world, acc, stream.content, shared, times))
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.argsort(columns["ts"], kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    columns["ts"] = np.round(columns["ts"], 3)
    return columns


def _count(config: ScenarioConfig, params: PopulationParams) -> int:
    return max(1, round(params.accounts * config.scale)) if params.accounts > 0 else 0


def _label(acc: Account) -> dict[str, Any]:
    attack = acc.profile.group == "attack"
    label: dict[str, Any] = {
        "group": acc.profile.group,
        "kind": acc.population,
        "campaign": acc.population if attack else None,
    }
    if attack:  # when harvesting begins (a laundering router is old and busy long before)
        label["harvest_start_ts"] = round(acc.harvest_ts, 3)
    if acc.flags.names():  # scenario-family tactics this account takes part in
        label["tactics"] = acc.flags.names()
    return label


def simulate(config: ScenarioConfig) -> Scenario:
    """Generate the scenario ``config`` describes; same config, same bytes."""
    planned = plan(config)
    config = planned.config
    world = build_world(config)
    rows: list[AccountRow] = []
    parts: list[dict[str, npt.NDArray[Any]]] = []
    accounts: dict[str, dict[str, Any]] = {}
    campaigns: dict[str, dict[str, Any]] = {}
    for name, params, profile in planned.populations:
        shared = population_shared(world, name, profile, params)
        n = _count(config, params)
        flags = account_flags(config.seed, name, profile, n)
        for i, org in enumerate(orgs(world, name, profile, n)):
            acc = new_account(world, name, profile, params, shared, i, org, flags[i])
            if acc.account_id in accounts:
                raise RuntimeError(f"account id collision: {acc.account_id}")
            columns = _account_columns(world, acc, shared)
            columns["account"] = np.full(len(columns["ts"]), len(rows), dtype=np.int32)
            columns["seq"] = np.arange(len(columns["ts"]), dtype=np.int32)
            parts.append(columns)
            rows.append(
                (acc.account_id, acc.org_id, round(acc.created_ts, 3), acc.payment, acc.routed_via)
            )
            accounts[acc.account_id] = _label(acc)
        if profile.group == "attack":
            campaigns[name] = {
                "kind": name,
                "start_ts": shared.campaign_ts,
                "accounts": n,
                "description": profile.description,
            }
    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    del parts
    order = np.argsort(merged["ts"], kind="stable")
    for name in merged:
        merged[name] = merged[name][order]
    events = EventTable(
        merged, tuple(rows), tuple(world.nets), tuple(world.keys), tuple(world.fingerprints)
    )
    labels: dict[str, Any] = {"scenario": config.record()}
    if planned.tactics:
        labels["tactics"] = planned.tactics
    labels |= {"accounts": accounts, "campaigns": campaigns}
    return Scenario(events=events, labels=labels)
