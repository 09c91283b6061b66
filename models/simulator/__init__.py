"""Seeded, labelled ``request.v1`` traffic: the ground truth distillguard is scored against.

No public labelled dataset of distillation traffic exists, so this simulator is the truth the
detector is measured on. It therefore models the hard negatives as carefully as the attacks,
and every population, benign or attack, is data (:class:`PopulationParams` plus a behaviour
:class:`Profile`) served by one generator. docs/simulator.md describes the populations.

Modules: ``config`` (what a caller tunes), ``profiles``/``benign``/``attacks`` (behaviour),
``tactics``/``family`` (the scenario family: tactics drawn per seed within documented ranges,
named cells of them), ``draws``/``world``/``accounts``/``timing``/``content`` (the
generator's parts), ``generate`` (:func:`simulate`) and ``output`` (the event table and its
files).
"""

from __future__ import annotations

from models.simulator.config import (
    BENIGN,
    CAMPAIGNS,
    PER_MIN,
    PopulationParams,
    ScenarioConfig,
    parse_campaigns,
)
from models.simulator.generate import PROFILES, simulate
from models.simulator.output import EventTable, Scenario, summary, write_scenario
from models.simulator.profiles import Content, Profile, Prompts, Stream, Timing
from models.simulator.tactics import (
    ATTACK_RANGES,
    BENIGN_RANGES,
    CELL_NAMES,
    CELLS,
    AttackTactics,
    BenignTactics,
    Cell,
)

__all__ = [
    "ATTACK_RANGES",
    "BENIGN",
    "BENIGN_RANGES",
    "CAMPAIGNS",
    "CELLS",
    "CELL_NAMES",
    "PER_MIN",
    "PROFILES",
    "AttackTactics",
    "BenignTactics",
    "Cell",
    "Content",
    "EventTable",
    "PopulationParams",
    "Profile",
    "Prompts",
    "Scenario",
    "ScenarioConfig",
    "Stream",
    "Timing",
    "parse_campaigns",
    "simulate",
    "summary",
    "write_scenario",
]
