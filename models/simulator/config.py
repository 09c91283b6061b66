"""What a scenario is made of: population sizes, volumes, schedules and the campaign names.

This is the part a caller tunes; how each population behaves is code (see ``profiles``).
Everything here lands verbatim in ``labels.json``, so a scenario can be reproduced from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from models.simulator.tactics import CELL_NAMES
from models.units import DAY

PER_MIN: Final = 1_440.0  # requests/day for one request a minute

CAMPAIGNS: Final = (
    "bulk_harvest",
    "reasoning_extraction",
    "rubric_harvest",
    "hydra",
    "router_laundering",
)
BENIGN: Final = (
    "chat",
    "developer",
    "enterprise_batch",
    "eval_runner",
    "router",
    "popular_app",
    "new_user",
    "launch_surge",  # only in scenario-family cells unless given accounts
)


@dataclass(frozen=True, slots=True)
class PopulationParams:
    """Size, volume, network spread and schedule of one population (benign kind or campaign).

    ``per_day`` is the (low, high) range of an account's requests per day: each account's level
    is log-normal with median sqrt(low*high) and ~95% of its mass in the range (sigma =
    ln(high/low)/4), truncated to it. ``asns`` is how many distinct ASNs the population spreads
    over. ``start_h`` delays a campaign (clipped to half the scenario, so every selected
    campaign shows up in short runs); accounts come online spread over the next ``ramp_h``
    hours (hydra: each wave starts within ``ramp_h`` of its creation).
    """

    accounts: int
    per_day: tuple[float, float]
    asns: int
    start_h: float = 0.0
    ramp_h: float = 0.0


@dataclass(frozen=True)
class ScenarioConfig:
    """One reproducible scenario: the same config always gives the same bytes.

    Machine-driven volumes are scaled well below full-size rates so the default run stays
    small enough to replay in a demo, but their order is kept: every enterprise batch account
    out-volumes every dedicated harvesting account, bulk harvesters out-volume heavy chat
    users, and hydra accounts stay inside chat's range (docs/simulator.md has the numbers).
    """

    seed: int = 42
    days: float = 3.0
    scale: float = 1.0  # multiplies every population's account count (each keeps >= 1)
    start_ts: float = 1_788_220_800.0  # 2026-09-01T00:00:00Z, a Tuesday
    campaigns: tuple[str, ...] = CAMPAIGNS
    # A region of the scenario family (models.simulator.tactics.CELLS): every population's
    # tactics drawn per seed, replacing the fields below that they draw (accounts, per_day,
    # start_h, ramp_h, a campaign's asns); "default" is the fields as they are.
    cell: str = "default"
    # Benign kinds.
    chat: PopulationParams = PopulationParams(1500, (1.0, 150.0), asns=200)
    developer: PopulationParams = PopulationParams(150, (8.0, 200.0), asns=60)
    enterprise_batch: PopulationParams = PopulationParams(8, (1.0 * PER_MIN, 3.5 * PER_MIN), 5)
    eval_runner: PopulationParams = PopulationParams(15, (300.0, 1200.0), asns=8)
    router: PopulationParams = PopulationParams(4, (1.5 * PER_MIN, 6.0 * PER_MIN), asns=4)
    popular_app: PopulationParams = PopulationParams(400, (0.5, 25.0), asns=120)
    new_user: PopulationParams = PopulationParams(300, (1.0, 80.0), asns=150)
    launch_surge: PopulationParams = PopulationParams(
        0, (1.0, 80.0), asns=150, start_h=20.0, ramp_h=3.0
    )
    # Attack campaigns.
    bulk_harvest: PopulationParams = PopulationParams(
        60, (0.1 * PER_MIN, 0.5 * PER_MIN), asns=15, start_h=6.0, ramp_h=12.0
    )
    reasoning_extraction: PopulationParams = PopulationParams(
        25, (0.1 * PER_MIN, 0.6 * PER_MIN), asns=8, start_h=24.0, ramp_h=6.0
    )
    rubric_harvest: PopulationParams = PopulationParams(
        30, (0.06 * PER_MIN, 0.25 * PER_MIN), asns=12, start_h=0.0, ramp_h=24.0
    )
    hydra: PopulationParams = PopulationParams(400, (20.0, 80.0), asns=40, ramp_h=12.0)
    # per_day here is the extraction stream; the router traffic follows ``router``.
    router_laundering: PopulationParams = PopulationParams(
        1, (0.1 * PER_MIN, 0.5 * PER_MIN), asns=2, start_h=18.0, ramp_h=2.0
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.campaigns) - set(CAMPAIGNS))
        if unknown:
            raise ValueError(f"unknown campaigns {unknown}; choose from {', '.join(CAMPAIGNS)}")
        if not (self.days > 0 and self.scale > 0):
            raise ValueError("days and scale must be positive")
        if self.cell not in CELL_NAMES:
            raise ValueError(f"unknown cell {self.cell!r}; choose from {', '.join(CELL_NAMES)}")

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.days * DAY

    def populations(self) -> list[tuple[str, PopulationParams]]:
        """Benign kinds first, then the selected campaigns in canonical order."""
        names = [*BENIGN, *(c for c in CAMPAIGNS if c in self.campaigns)]
        return [(name, getattr(self, name)) for name in names]

    def record(self) -> dict[str, Any]:
        """The config as ``labels.json`` records it. Fields added with the scenario family are
        left out while they have no effect (``cell`` default, an empty ``launch_surge``), so
        the default scenario's labels stay byte-identical to before the family existed."""
        out = dataclasses.asdict(self)
        if self.cell == "default":
            del out["cell"]
        if self.launch_surge.accounts == 0:
            del out["launch_surge"]
        return out


def parse_campaigns(text: str) -> tuple[str, ...]:
    """Campaign names from a comma-separated list; ``none`` or an empty string selects none.

    Raises ``ValueError`` naming the unknown campaigns and the valid choices.
    """
    names = tuple(n.strip() for n in text.split(",") if n.strip() and n.strip() != "none")
    unknown = sorted(set(names) - set(CAMPAIGNS))
    if unknown:
        raise ValueError(
            f"unknown campaign(s) {', '.join(unknown)}; choose from {', '.join(CAMPAIGNS)}"
        )
    return names
