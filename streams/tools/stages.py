"""Where the pipeline's own time goes, per stage: cProfile over ``Backtest.feed`` (the same
code the worker runs, without Kafka or Faust), each function's own time charged to the stage
of the module it is in. Times are under the profiler (inflated, ~2x); the shares are what
to read."""

from __future__ import annotations

import cProfile
import pstats
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

from models.backtest import Backtest
from models.policy import DEFAULT_POLICY

# Module (models/<name>.py or a package) -> stage. Built-ins (dict, list and math calls)
# have no module of ours and are reported on their own.
STAGE_OF: Final = {
    "request": "validation (request.v1)",
    "prompt": "prompt features",
    "account": "account state update and features",
    "sketches": "account state update and features",
    "age": "account state update and features",
    "detectors": "population detectors (River)",
    "river": "population detectors (River)",
    "population": "population detectors (River)",
    "scoring": "scoring and reasons",
    "risk": "scoring and reasons",
    "harvest": "scoring and reasons",
    "shift": "scoring and reasons",
    "decide": "decisions",
    "policy": "policy and lists",
    "asn": "network state",
    "activity": "network state",
    "linkage": "campaign linkage",
    "lsh": "campaign linkage",
    "campaigns": "campaign linkage",
    "pipeline": "pipeline glue",
    "backtest": "pipeline glue",
}


OTHER: Final = "built-ins called from every stage, and the rest"


@dataclass(frozen=True, slots=True)
class StageCost:
    stage: str
    us_per_event: float
    share: float


def stage_of(filename: str) -> str:
    parts = PurePath(filename).parts
    if "river" in parts:
        return STAGE_OF["river"]
    if "models" in parts:
        below = parts[parts.index("models") + 1 :]
        name = below[0].removesuffix(".py") if below else ""
        return STAGE_OF.get(name, OTHER)
    if "orjson" in filename:
        return STAGE_OF["request"]
    return OTHER


def stage_costs(lines: list[bytes]) -> list[StageCost]:
    """Own time per stage over ``lines`` fed through a backtest, costliest first."""
    backtest = Backtest(DEFAULT_POLICY, partitions=8)
    profiler = cProfile.Profile()
    profiler.enable()
    for line in lines:
        backtest.feed(line)
    profiler.disable()
    own: Counter[str] = Counter()
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # the documented dict
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        own[stage_of(filename)] += tottime
    total = sum(own.values()) or 1.0
    return [
        StageCost(stage, seconds / len(lines) * 1e6, seconds / total)
        for stage, seconds in own.most_common()
    ]
