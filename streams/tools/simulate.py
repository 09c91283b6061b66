"""Seeded, labelled ``request.v1`` traffic: the ground truth distillguard is scored against.

No public labelled dataset of distillation traffic exists, so this simulator is the truth the
detector is measured on. It therefore models the hard negatives as carefully as the attacks:
enterprise batch jobs out-volume every harvester, eval runners want reasoning and re-send the
same prompts, a popular app makes hundreds of accounts share one prompt template and one
client fingerprint, attackers sit in the same clouds and residential ISPs as customers, and
the hydra campaign keeps each account as quiet as a chat user.

How it is built:

- Every population (seven benign kinds, five attack campaigns) is data, not code:
  :class:`PopulationParams` (size, volume, network spread, schedule) plus a behaviour
  :class:`Profile`; one generator serves them all.
- Each account draws from its own NumPy generator keyed by ``(seed, population, index)``, so a
  config always gives byte-identical output, and switching a campaign off or changing
  ``scale`` leaves every other account's traffic exactly as it was (scenarios are comparable).
- Time is event time only: inhomogeneous Poisson arrivals of single requests, sessions or
  benchmark runs, shaped by a diurnal curve in the account's own time zone and by day-to-day
  noise. Activity levels are log-normal across accounts (heavy-tailed).
- Events are held as compact columns (~60 bytes each) and become dicts lazily in time order,
  so a million-event scenario stays small in memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import orjson

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Rng = np.random.Generator
Weights = tuple[tuple[str, float], ...]

DAY: Final = 86_400.0
HOUR: Final = 3_600.0
PER_MIN: Final = 1_440.0  # requests/day for one request a minute

# --------------------------------------------------------------------------------------------
# Parameters a scenario is made of
# --------------------------------------------------------------------------------------------


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
)


@dataclass(frozen=True)
class ScenarioConfig:
    """One reproducible scenario. Defaults: 3 days, ~0.4M events.

    Machine-driven volumes are about a tenth of full-size rates (an enterprise batch job at
    1-3.5 req/min rather than 15-60, a bulk harvester at 0.1-0.5 rather than 2-8, a router at
    1.5-6 rather than 30-120) so the default run stays ~0.4M events; their order is kept:
    every enterprise batch account out-volumes every dedicated harvesting account, bulk
    harvesters out-volume heavy chat users, hydra accounts stay inside chat's range.
    """

    seed: int = 42
    days: float = 3.0
    scale: float = 1.0  # multiplies every population's account count (each keeps >= 1)
    start_ts: float = 1_788_220_800.0  # 2026-09-01T00:00:00Z, a Tuesday
    campaigns: tuple[str, ...] = CAMPAIGNS
    # Benign kinds.
    chat: PopulationParams = PopulationParams(1500, (1.0, 150.0), asns=200)
    developer: PopulationParams = PopulationParams(150, (8.0, 200.0), asns=60)
    enterprise_batch: PopulationParams = PopulationParams(8, (1.0 * PER_MIN, 3.5 * PER_MIN), 5)
    eval_runner: PopulationParams = PopulationParams(15, (300.0, 1200.0), asns=8)
    router: PopulationParams = PopulationParams(4, (1.5 * PER_MIN, 6.0 * PER_MIN), asns=4)
    popular_app: PopulationParams = PopulationParams(400, (0.5, 25.0), asns=120)
    new_user: PopulationParams = PopulationParams(300, (1.0, 80.0), asns=150)
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

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.days * DAY

    def populations(self) -> list[tuple[str, PopulationParams]]:
        """Benign kinds first, then the selected campaigns in canonical order."""
        names = [*BENIGN, *(c for c in CAMPAIGNS if c in self.campaigns)]
        return [(name, getattr(self, name)) for name in names]


# --------------------------------------------------------------------------------------------
# Behaviour profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """When requests happen. ``mode``: independent requests, human sessions, or eval runs."""

    mode: Literal["poisson", "sessions", "runs"] = "poisson"
    diurnal: float = 0.0  # 0: flat around the clock .. 1: fully follows ``curve``
    curve: Literal["human", "work"] = "human"
    weekend: float = 1.0  # rate factor on local Saturdays and Sundays
    day_sigma: float = 0.1  # day-to-day log-normal noise of the account's level
    warmup_h: float = 0.0  # linear ramp of a new script's rate
    session_len: float = 1.0  # mean requests per session (geometric)
    max_sessions: float = 8.0  # sessions/day cap; busier accounts get longer sessions
    gap_s: float = 60.0  # median gap between requests inside a session
    run_size: tuple[float, float] = (300.0, 3000.0)  # requests per eval run (log-uniform)
    run_hours: tuple[float, float] = (0.5, 2.0)
    min_runs: int = 2


@dataclass(frozen=True, slots=True)
class Prompts:
    """Which prompt SimHashes an account sends.

    ``fresh``: new random prompts. ``personal``/``template``: near one of ``families`` bases
    with ``flips`` random bit flips (``shared``: the bases belong to the whole population).
    ``benchmark``: a fixed per-account question set (``families`` public benchmarks shared by
    all eval runners plus ``private`` own questions) re-asked in a new order every run.
    Mixed in: brand-new prompts (``p_fresh``), population-wide common prompts ("hi",
    ``p_common``) and regenerations of the previous prompt (``p_retry``).
    """

    mode: Literal["fresh", "personal", "template", "benchmark"] = "fresh"
    families: tuple[int, int] = (1, 1)
    flips: tuple[int, int] = (0, 0)
    shared: bool = False
    private: tuple[int, int] = (0, 0)
    p_fresh: float = 0.0
    p_retry: float = 0.0
    p_common: float = 0.0


@dataclass(frozen=True, slots=True)
class Content:
    """What a request asks for and gets back."""

    prompts: Prompts
    output: tuple[float, float, float, float]  # median, sigma, min, max (log-normal)
    reasoning: float  # share of requests with reasoning on
    models: Weights
    think: float = 1.0  # output multiplier for reasoning requests (thinking tokens)
    cot: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.08),)  # (weight, lo, hi)
    input: tuple[float, float] = (200.0, 1.0)  # median, sigma (log-normal)
    context: float = 0.0  # input growth per earlier request in the session
    endpoints: Weights = (("/v1/messages", 1.0),)
    p429: float = 0.002
    p500: float = 0.002


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of traffic of an account; an account may mix several (hydra, laundering)."""

    timing: Timing
    content: Content
    share: float = 1.0  # of the account's level
    harvest: bool = False  # starts when the account's campaign starts harvesting
    volume_of: str | None = None  # draw this stream's level from another population instead


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the accounts of a population are and how they connect."""

    group: Literal["benign", "attack"]
    description: str
    streams: tuple[Stream, ...]
    asn_types: Weights
    asns_per_account: tuple[int, int] = (1, 1)
    same_country: bool = True  # extra ASNs from the account's own country (not a proxy)
    ips: tuple[int, int] = (1, 2)  # addresses per ASN
    rotate_ips: bool = False  # a fresh address per session (proxy networks)
    start: Literal["scenario", "signup", "campaign", "waves"] = "scenario"
    age_days: tuple[float, float] = (60.0, 1800.0)  # before scenario start, or before own start
    team: tuple[int, int] = (1, 1)  # accounts per org (shared org id and payment)
    fingerprints: tuple[int, int] = (1, 2)
    shared_fingerprints: bool = False
    payments: int = 0  # > 0: a pool of this many shared by the population; 0: one per org
    keys: tuple[int, int] = (1, 1)
    router: bool = False


LARGE: Final = "model-large-2026-07"
MEDIUM: Final = "model-medium-2026-05"
SMALL: Final = "model-small-2026-03"
MODELS: Final = (LARGE, MEDIUM, SMALL)
ENDPOINTS: Final = ("/v1/messages", "/v1/chat/completions", "/v1/responses")
HUMAN_MODELS: Final = ((LARGE, 0.35), (MEDIUM, 0.5), (SMALL, 0.15))
HARVEST_MODELS: Final = ((LARGE, 0.85), (MEDIUM, 0.15))
COMPAT: Final = (("/v1/chat/completions", 0.6), ("/v1/messages", 0.4))
HUMAN_COT: Final = ((0.88, 0.0, 0.08), (0.12, 0.1, 0.6))

SESSIONS: Final = Timing(mode="sessions", diurnal=0.85, day_sigma=0.6, session_len=4.0, gap_s=90)
CHAT: Final = Content(
    prompts=Prompts("fresh", p_retry=0.06, p_common=0.03),
    output=(350.0, 0.8, 5.0, 4000.0),
    reasoning=0.10,
    think=2.5,
    cot=HUMAN_COT,
    input=(180.0, 1.0),
    context=0.6,
    models=HUMAN_MODELS,
)
ROUTER: Final = Stream(
    Timing(diurnal=0.5, day_sigma=0.15),
    Content(
        prompts=Prompts("fresh", p_retry=0.02, p_common=0.01),
        output=(380.0, 1.0, 1.0, 6000.0),
        reasoning=0.25,
        think=2.5,
        cot=((0.85, 0.0, 0.1), (0.15, 0.1, 0.7)),
        input=(500.0, 1.2),
        models=((LARGE, 0.3), (MEDIUM, 0.45), (SMALL, 0.25)),
        endpoints=COMPAT,
        p429=0.01,
    ),
)


def _router_like(
    group: Literal["benign", "attack"],
    description: str,
    streams: tuple[Stream, ...],
    age_days: tuple[float, float],
) -> Profile:
    """A reseller: business ASNs, many egress IPs, ``routed_via`` on every request."""
    return Profile(
        group,
        description,
        streams,
        asn_types=(("business", 1.0),),
        asns_per_account=(1, 2),
        ips=(8, 40),
        age_days=age_days,
        fingerprints=(1, 3),
        keys=(1, 2),
        router=True,
    )


def _extraction(
    families: tuple[int, int], cot: tuple[float, float], median: float, reasoning: float
) -> Content:
    """Reasoning-trace extraction: templated elicitation prompts, long reasoning outputs."""
    return Content(
        prompts=Prompts("template", families=families, flips=(1, 3), shared=True),
        output=(median, 0.4, 2000.0, 12000.0),
        reasoning=reasoning,
        cot=((1.0, *cot),),
        input=(700.0, 0.3),
        models=((LARGE, 1.0),),
        p429=0.02,
    )


PROFILES: Final[dict[str, Profile]] = {
    "chat": Profile(
        "benign",
        "people in apps and scripts: diurnal sessions, diverse prompts",
        (Stream(SESSIONS, CHAT),),
        asn_types=(("residential", 0.7), ("mobile", 0.25), ("education", 0.05)),
        asns_per_account=(1, 2),
    ),
    "developer": Profile(
        "benign",
        "builders re-sending a few prompts in working-hour bursts",
        (
            Stream(
                Timing(
                    "sessions",
                    0.85,
                    curve="work",
                    weekend=0.3,
                    day_sigma=0.7,
                    session_len=12.0,
                    gap_s=25.0,
                ),
                Content(
                    prompts=Prompts("personal", families=(3, 5), flips=(0, 2), p_fresh=0.2),
                    output=(250.0, 1.0, 1.0, 4000.0),
                    reasoning=0.35,
                    think=2.0,
                    cot=((0.8, 0.0, 0.1), (0.2, 0.1, 0.8)),
                    input=(600.0, 1.0),
                    models=((LARGE, 0.4), (MEDIUM, 0.35), (SMALL, 0.25)),
                    endpoints=(("/v1/messages", 0.6), ("/v1/responses", 0.4)),
                    p429=0.01,
                ),
            ),
        ),
        asn_types=(("business", 0.6), ("residential", 0.35), ("education", 0.05)),
        asns_per_account=(1, 2),
        age_days=(30.0, 1800.0),
        team=(1, 4),
        fingerprints=(1, 3),
        keys=(1, 3),
    ),
    "enterprise_batch": Profile(
        "benign",
        "24/7 templated batch jobs from one cloud ASN: the hardest negative on volume",
        (
            Stream(
                Timing(diurnal=0.15, day_sigma=0.1),
                Content(
                    prompts=Prompts("template", families=(1, 1), flips=(1, 3)),
                    output=(160.0, 0.25, 100.0, 250.0),
                    reasoning=0.0,
                    cot=((1.0, 0.0, 0.05),),
                    input=(900.0, 0.15),
                    models=((SMALL, 0.8), (MEDIUM, 0.2)),
                    p429=0.02,
                ),
            ),
        ),
        asn_types=(("hosting", 1.0),),
        ips=(2, 6),
        age_days=(365.0, 1460.0),
        fingerprints=(1, 1),
        keys=(2, 6),
    ),
    "eval_runner": Profile(
        "benign",
        "benchmark runs with reasoning, same questions every run: hardest negative on reasoning",
        (
            Stream(
                Timing("runs", diurnal=0.6, curve="work", weekend=0.5),
                Content(
                    prompts=Prompts("benchmark", families=(1, 3), private=(50, 300)),
                    output=(1200.0, 0.5, 200.0, 6000.0),
                    reasoning=1.0,
                    cot=((1.0, 0.4, 0.7),),
                    input=(400.0, 0.6),
                    models=((LARGE, 0.7), (MEDIUM, 0.3)),
                    p429=0.03,
                ),
            ),
        ),
        asn_types=(("hosting", 1.0),),
        ips=(1, 3),
        age_days=(180.0, 1500.0),
        fingerprints=(1, 1),
        keys=(1, 2),
    ),
    "router": _router_like(
        "benign",
        "resellers: huge diverse diurnal volume from many IPs, routed_via set",
        (ROUTER,),
        age_days=(365.0, 1500.0),
    ),
    "popular_app": Profile(
        "benign",
        "users of one app: every prompt near the app's template, one shared client",
        (
            Stream(
                SESSIONS,
                Content(
                    prompts=Prompts("template", families=(1, 1), flips=(0, 3), shared=True),
                    output=(300.0, 0.6, 20.0, 2000.0),
                    reasoning=0.05,
                    think=2.0,
                    cot=((1.0, 0.02, 0.08),),
                    input=(600.0, 0.4),
                    context=0.4,
                    models=((MEDIUM, 1.0),),
                ),
            ),
        ),
        asn_types=(("residential", 0.7), ("mobile", 0.3)),
        age_days=(1.0, 1500.0),
        fingerprints=(1, 2),
        shared_fingerprints=True,
    ),
    "new_user": Profile(
        "benign",
        "steady signups starting to chat minutes to hours after creating the account",
        (Stream(SESSIONS, CHAT),),
        asn_types=(("residential", 0.7), ("mobile", 0.3)),
        start="signup",
        age_days=(1.0 / 1440.0, 8.0 / 24.0),
    ),
    "bulk_harvest": Profile(
        "attack",
        "fresh accounts on cloud/proxy ASNs pulling long diverse outputs around the clock",
        (
            Stream(
                Timing(day_sigma=0.05, warmup_h=2.0),
                Content(
                    prompts=Prompts("fresh", p_retry=0.01),
                    output=(4000.0, 0.35, 2000.0, 8000.0),
                    reasoning=0.8,
                    cot=((1.0, 0.2, 0.5),),
                    input=(400.0, 0.7),
                    models=HARVEST_MODELS,
                    endpoints=COMPAT,
                    p429=0.04,
                ),
                harvest=True,
            ),
        ),
        asn_types=(("hosting", 1.0),),
        asns_per_account=(1, 2),
        ips=(1, 3),
        start="campaign",
        age_days=(0.02, 3.0),
        fingerprints=(3, 4),
        shared_fingerprints=True,
        payments=6,
    ),
    "reasoning_extraction": Profile(
        "attack",
        "young accounts sending reasoning-elicitation templates for full reasoning traces",
        (
            Stream(
                Timing(diurnal=0.15), _extraction((4, 6), (0.7, 0.95), 5000.0, 1.0), harvest=True
            ),
        ),
        asn_types=(("hosting", 1.0),),
        start="campaign",
        age_days=(1.0, 14.0),
        fingerprints=(2, 3),
        shared_fingerprints=True,
        payments=5,
        keys=(1, 2),
    ),
    "rubric_harvest": Profile(
        "attack",
        "weeks-old accounts grading with rubric templates through cloud and residential proxies",
        (
            Stream(
                Timing(diurnal=0.3, day_sigma=0.2),
                Content(
                    prompts=Prompts("template", families=(2, 3), flips=(1, 3), shared=True),
                    output=(1500.0, 0.4, 800.0, 3000.0),
                    reasoning=0.9,
                    cot=((1.0, 0.15, 0.45),),
                    input=(1600.0, 0.4),
                    models=((LARGE, 0.6), (MEDIUM, 0.4)),
                    p429=0.01,
                ),
                harvest=True,
            ),
        ),
        asn_types=(("hosting", 0.5), ("residential", 0.5)),
        asns_per_account=(1, 2),
        same_country=False,
        rotate_ips=True,
        start="campaign",
        age_days=(14.0, 60.0),
        fingerprints=(1, 1),
    ),
    "hydra": Profile(
        "attack",
        "hundreds of quiet accounts in 3 signup waves behind residential/cloud proxies, "
        "sharing prompt templates, payment and client fingerprints; resold ordinary traffic",
        (
            Stream(
                Timing("sessions", 0.6, day_sigma=0.1, session_len=3.0, max_sessions=30, gap_s=45),
                Content(
                    prompts=Prompts("template", families=(3, 5), flips=(1, 4), shared=True),
                    output=(2000.0, 0.35, 1000.0, 4000.0),
                    reasoning=0.82,
                    cot=((1.0, 0.3, 0.6),),
                    input=(500.0, 0.5),
                    models=HARVEST_MODELS,
                    endpoints=COMPAT,
                ),
                share=0.8,
                harvest=True,
            ),
            Stream(SESSIONS, dataclasses.replace(CHAT, reasoning=0.25), share=0.2, harvest=True),
        ),
        asn_types=(("residential", 0.6), ("hosting", 0.3), ("mobile", 0.1)),
        asns_per_account=(1, 3),
        same_country=False,
        rotate_ips=True,
        start="waves",
        fingerprints=(3, 5),
        shared_fingerprints=True,
        payments=4,
    ),
    "router_laundering": _router_like(
        "attack",
        "a router account whose ordinary resold traffic hides an extraction stream",
        (
            dataclasses.replace(ROUTER, volume_of="router"),
            Stream(Timing(), _extraction((2, 3), (0.72, 0.9), 4500.0, 0.95), harvest=True),
        ),
        age_days=(365.0, 1200.0),
    ),
}

# --------------------------------------------------------------------------------------------
# The world: countries, ASNs, shared prompt pools
# --------------------------------------------------------------------------------------------

# code, UTC offset (h), offset spread (h), share of consumer/business ASNs, share of cloud ASNs
COUNTRIES: Final = (
    ("US", -6.0, 1.5, 0.24, 0.42),
    ("CA", -5.5, 1.5, 0.03, 0.02),
    ("MX", -6.0, 0.5, 0.03, 0.0),
    ("BR", -3.0, 0.5, 0.05, 0.02),
    ("AR", -3.0, 0.0, 0.02, 0.0),
    ("GB", 0.0, 0.0, 0.06, 0.06),
    ("IE", 0.0, 0.0, 0.01, 0.07),
    ("FR", 1.0, 0.0, 0.04, 0.04),
    ("DE", 1.0, 0.0, 0.06, 0.10),
    ("NL", 1.0, 0.0, 0.02, 0.07),
    ("ES", 1.0, 0.0, 0.03, 0.0),
    ("IT", 1.0, 0.0, 0.03, 0.0),
    ("PL", 1.0, 0.0, 0.02, 0.01),
    ("SE", 1.0, 0.0, 0.01, 0.01),
    ("NG", 1.0, 0.0, 0.02, 0.0),
    ("IL", 2.0, 0.0, 0.01, 0.0),
    ("TR", 3.0, 0.0, 0.02, 0.0),
    ("IN", 5.5, 0.0, 0.10, 0.03),
    ("ID", 7.0, 0.5, 0.03, 0.0),
    ("VN", 7.0, 0.0, 0.02, 0.0),
    ("SG", 8.0, 0.0, 0.02, 0.07),
    ("PH", 8.0, 0.0, 0.02, 0.0),
    ("JP", 9.0, 0.0, 0.05, 0.05),
    ("KR", 9.0, 0.0, 0.04, 0.02),
    ("AU", 10.0, 0.5, 0.02, 0.02),
)
_TZ: Final = {c[0]: (c[1], c[2]) for c in COUNTRIES}
ASN_POOLS: Final = {
    "residential": 240,
    "mobile": 50,
    "business": 80,
    "education": 25,
    "hosting": 45,
}
# First octets of publicly routed IPv4 space: no private, CGNAT, loopback, link-local or
# documentation ranges, and none of the /8s held by the US DoD (rarely seen as API clients).
_OCTETS: Final = tuple(
    o
    for o in range(1, 224)
    if o
    not in {
        6,
        7,
        10,
        11,
        21,
        22,
        26,
        28,
        29,
        30,
        33,
        55,
        100,
        127,
        169,
        172,
        192,
        198,
        203,
        214,
        215,
    }
)
# Relative activity by local hour; normalised to mean 1 below.
_CURVES_RAW: Final = {
    "human": (
        *(0.30, 0.18, 0.11, 0.08, 0.07, 0.09, 0.18, 0.35, 0.58, 0.78, 0.90, 0.95),
        *(0.92, 0.92, 0.95, 0.95, 0.92, 0.88, 0.86, 0.90, 0.95, 0.88, 0.70, 0.48),
    ),
    "work": (
        *(0.04, 0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.45, 0.85, 1.00, 1.00),
        *(0.80, 0.90, 1.00, 1.00, 0.90, 0.70, 0.40, 0.25, 0.18, 0.12, 0.08, 0.05),
    ),
}
_CURVES: Final = {
    name: np.array([*raw, raw[0]]) / (sum(raw) / len(raw)) for name, raw in _CURVES_RAW.items()
}
_HOURS: Final = np.arange(25, dtype=np.float64)
N_COMMON: Final = 60  # prompts every human sends now and then ("hi", "translate this")
PUBLIC_BENCHMARKS: Final = 6
BENCHMARK_QUESTIONS: Final = 150
_GRID_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class _Asn:
    number: int
    type: str
    country: str
    prefix: tuple[int, int]  # a /16
    weight: float  # popularity: big ISPs and clouds carry more accounts


@dataclass(slots=True)
class _World:
    """Everything shared across populations, plus the lookup tables events index into."""

    config: ScenarioConfig
    pools: dict[str, list[_Asn]]
    common: U64
    benchmarks: list[U64]
    nets: list[tuple[int, str, str, str]]  # asn, asn_type, country, ip
    keys: list[str]
    fingerprints: list[str]

    def add_net(self, asn: _Asn, host: tuple[int, int]) -> int:
        ip = f"{asn.prefix[0]}.{asn.prefix[1]}.{host[0]}.{host[1]}"
        self.nets.append((asn.number, asn.type, asn.country, ip))
        return len(self.nets) - 1


def _rng(seed: int, *parts: str | int) -> Rng:
    """An independent generator per (seed, parts): stable across processes and Python runs."""
    digest = hashlib.blake2b("/".join(map(str, (seed, *parts))).encode(), digest_size=16)
    return np.random.default_rng(int.from_bytes(digest.digest(), "little"))


def _hex(rng: Rng, prefix: str, digits: int = 12) -> str:
    value = int(_random64(rng, 1)[0]) % 16**digits
    return f"{prefix}{value:0{digits}x}"


def _random64(rng: Rng, n: int) -> U64:
    return rng.bit_generator.random_raw(n)


def _pick(rng: Rng, weights: Sequence[float] | F64, n: int) -> I64:
    """``n`` indices drawn with probability proportional to ``weights``."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    picked = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return np.asarray(picked, dtype=np.int64)


def _log_uniform(rng: Rng, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _int_in(rng: Rng, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _build_world(config: ScenarioConfig) -> _World:
    rng = _rng(config.seed, "world")
    numbers = iter(
        rng.permutation(np.concatenate([np.arange(1000, 64_495), np.arange(131_072, 400_000)]))
    )
    prefixes = iter(rng.permutation(len(_OCTETS) * 256))
    pools: dict[str, list[_Asn]] = {}
    for kind, size in ASN_POOLS.items():
        column = 4 if kind == "hosting" else 3
        countries = _pick(rng, [float(c[column]) for c in COUNTRIES], size)
        pools[kind] = []
        for country in countries:
            prefix = int(next(prefixes))
            pools[kind].append(
                _Asn(
                    number=int(next(numbers)),
                    type=kind,
                    country=COUNTRIES[int(country)][0],
                    prefix=(_OCTETS[prefix // 256], prefix % 256),
                    weight=float(rng.lognormal(0.0, 1.0)),
                )
            )
    return _World(
        config=config,
        pools=pools,
        common=_random64(rng, N_COMMON),
        benchmarks=[_random64(rng, BENCHMARK_QUESTIONS) for _ in range(PUBLIC_BENCHMARKS)],
        nets=[],
        keys=[],
        fingerprints=[],
    )


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Shared:
    """What a population's accounts have in common (templates, pools, campaign clock)."""

    asns: list[_Asn]
    families: U64
    fingerprints: list[int]
    payments: list[str]
    campaign_ts: float


@dataclass(slots=True)
class _Account:
    account_id: str
    population: str
    profile: Profile
    rng: Rng
    level: float
    tz_s: float
    start_ts: float
    harvest_ts: float
    created_ts: float
    org_id: str
    payment: str
    routed_via: str | None
    asns: list[_Asn]
    nets: list[int]
    keys: list[int]
    fingerprints: list[int]


def _level(rng: Rng, per_day: tuple[float, float]) -> float:
    """Log-normal activity level, ~95% inside ``per_day`` and truncated to it."""
    low, high = per_day
    sigma = math.log(high / low) / 4.0
    z = float(rng.standard_normal())
    while abs(z) > 2.0:
        z = float(rng.standard_normal())
    return math.sqrt(low * high) * math.exp(sigma * z)


def _campaign_start(config: ScenarioConfig, params: PopulationParams) -> float:
    return config.start_ts + min(params.start_h, config.days * 12.0) * HOUR


def _choose_asns(rng: Rng, world: _World, types: Weights, n: int) -> list[_Asn]:
    """``n`` distinct ASNs of the given type mix, popular ones more likely."""
    chosen: dict[int, _Asn] = {}
    kinds = [t for t, _ in types]
    for kind_index in _pick(rng, [w for _, w in types], n):
        pool = [a for a in world.pools[kinds[int(kind_index)]] if a.number not in chosen]
        pool = pool or [a for k in kinds for a in world.pools[k] if a.number not in chosen]
        if not pool:
            break
        asn = pool[int(_pick(rng, [a.weight for a in pool], 1)[0])]
        chosen[asn.number] = asn
    return list(chosen.values())


def _shared(world: _World, name: str, params: PopulationParams) -> _Shared:
    profile = PROFILES[name]
    rng = _rng(world.config.seed, name, "shared")
    shared_prompts = [s.content.prompts for s in profile.streams if s.content.prompts.shared]
    families = _random64(rng, _int_in(rng, shared_prompts[0].families) if shared_prompts else 0)
    fingerprints: list[int] = []
    if profile.shared_fingerprints:
        for _ in range(_int_in(rng, profile.fingerprints)):
            world.fingerprints.append(_hex(rng, "fp_", 16))
            fingerprints.append(len(world.fingerprints) - 1)
    return _Shared(
        asns=_choose_asns(rng, world, profile.asn_types, params.asns),
        families=families,
        fingerprints=fingerprints,
        payments=[_hex(rng, "pm_") for _ in range(profile.payments)],
        campaign_ts=_campaign_start(world.config, params),
    )


def _account_networks(rng: Rng, profile: Profile, shared: _Shared) -> list[_Asn]:
    first = shared.asns[int(_pick(rng, [a.weight for a in shared.asns], 1)[0])]
    asns = [first]
    for _ in range(_int_in(rng, profile.asns_per_account) - 1):
        pool = [a for a in shared.asns if all(a.number != b.number for b in asns)]
        if profile.same_country:
            pool = [a for a in pool if a.country == first.country] or pool
        if pool:
            asns.append(pool[int(rng.integers(len(pool)))])
    return asns


def _schedule(
    rng: Rng, world: _World, profile: Profile, params: PopulationParams, shared: _Shared, i: int
) -> tuple[float, float, float]:
    """(start_ts, harvest_ts, created_ts): first traffic, first harvesting, account creation."""
    t0, t1 = world.config.start_ts, world.config.end_ts
    age = _log_uniform(rng, *profile.age_days) * DAY
    if profile.start == "waves":
        # Three signup waves spread over the campaign; each wave's accounts are created within
        # hours of each other and start within ramp_h (or before the next wave).
        spacing = (t1 - shared.campaign_ts) / 3.0
        created = shared.campaign_ts + (i % 3) * spacing + float(rng.normal(0.0, 1.5 * HOUR))
        start = created + rng.uniform(0.5 * HOUR, max(HOUR, min(params.ramp_h * HOUR, spacing)))
        return start, start, created
    harvest = shared.campaign_ts + rng.uniform(0.0, params.ramp_h * HOUR)
    if profile.start == "campaign":
        return harvest, harvest, harvest - age
    if profile.start == "signup":
        start = rng.uniform(t0, t1 - HOUR)
        return start, start, start - age
    return t0, harvest, t0 - age


def _orgs(world: _World, name: str, profile: Profile, n: int) -> list[tuple[str, str]]:
    """(org_id, payment) per account; teams of ``profile.team`` accounts share both."""
    rng = _rng(world.config.seed, name, "orgs")
    out: list[tuple[str, str]] = []
    while len(out) < n:
        out.extend([(_hex(rng, "org_"), _hex(rng, "pm_"))] * _int_in(rng, profile.team))
    return out[:n]


def _new_ids(rng: Rng, table: list[str], prefix: str, n: int) -> list[int]:
    table.extend(_hex(rng, prefix, 16) for _ in range(n))
    return list(range(len(table) - n, len(table)))


def _account(
    world: _World,
    name: str,
    params: PopulationParams,
    shared: _Shared,
    i: int,
    org: tuple[str, str],
) -> _Account:
    profile = PROFILES[name]
    rng = _rng(world.config.seed, name, i)
    account_id = _hex(rng, "acct_")
    asns = _account_networks(rng, profile, shared)
    offset, spread = _TZ[asns[0].country]
    start, harvest, created = _schedule(rng, world, profile, params, shared, i)
    nets = []
    if not profile.rotate_ips:
        for asn in asns:
            hosts = rng.integers((0, 1), (256, 255), size=(_int_in(rng, profile.ips), 2))
            nets += [world.add_net(asn, (int(h[0]), int(h[1]))) for h in hosts]
    fingerprints = shared.fingerprints or _new_ids(
        rng, world.fingerprints, "fp_", _int_in(rng, profile.fingerprints)
    )
    payment = shared.payments[int(rng.integers(len(shared.payments)))] if shared.payments else ""
    return _Account(
        account_id=account_id,
        population=name,
        profile=profile,
        rng=rng,
        level=_level(rng, params.per_day),
        tz_s=(offset + rng.uniform(-spread, spread)) * HOUR,
        start_ts=start,
        harvest_ts=harvest,
        created_ts=created,
        org_id=org[0],
        payment=payment or org[1],
        routed_via=_hex(rng, "rtr_", 8) if profile.router else None,
        asns=asns,
        nets=nets,
        keys=_new_ids(rng, world.keys, "key_", _int_in(rng, profile.keys)),
        fingerprints=fingerprints,
    )


# --------------------------------------------------------------------------------------------
# Timing (event time only)
# --------------------------------------------------------------------------------------------

Times = tuple[F64, I64, I64]  # ts, position in its session/run, session/run id


def _intensity(
    rng: Rng, tm: Timing, tz_s: float, t0: float, t1: float
) -> tuple[Callable[[F64], F64], float]:
    """The account's relative rate over time (diurnal, weekly, daily noise, warm-up) and a
    bound on it; mean ~1 on a weekday, so ``level`` keeps meaning requests per day."""
    curve = _CURVES[tm.curve]
    first_day = math.floor((t0 + tz_s) / DAY)
    n_days = math.floor((t1 + tz_s) / DAY) - first_day + 1
    sigma = tm.day_sigma
    noise = rng.lognormal(-(sigma**2) / 2.0, sigma, n_days) if sigma else np.ones(n_days)

    def rate(t: F64) -> F64:
        local = t + tz_s
        w = (1.0 - tm.diurnal) + tm.diurnal * np.interp(local % DAY / HOUR, _HOURS, curve)
        day = np.floor(local / DAY).astype(np.int64)
        if tm.weekend != 1.0:
            w = w * np.where((day + 3) % 7 >= 5, tm.weekend, 1.0)  # 1970-01-01 was a Thursday
        w = w * noise[day - first_day]
        if tm.warmup_h > 0:
            w = w * np.clip((t - t0) / (tm.warmup_h * HOUR), 0.0, 1.0)
        return np.asarray(w, dtype=np.float64)

    peak = (1.0 - tm.diurnal) + tm.diurnal * float(curve.max())
    return rate, peak * float(noise.max()) * max(1.0, tm.weekend)


def _sample(
    rng: Rng, n: int, t0: float, t1: float, rate: Callable[[F64], F64], bound: float
) -> F64:
    """``n`` sorted times in [t0, t1) with density proportional to ``rate`` (rejection)."""
    parts: list[F64] = []
    need = n
    while need > 0:
        candidates = rng.uniform(t0, t1, 2 * need + 16)
        keep = candidates[rng.random(len(candidates)) * bound < rate(candidates)][:need]
        parts.append(keep)
        need -= len(keep)
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)


def _bursts(starts: F64, sizes: I64, offsets: F64, t1: float) -> Times:
    """Requests of sessions/runs: ``offsets`` are per request, relative to its group's start."""
    sess = np.repeat(np.arange(len(starts)), sizes)
    first = np.cumsum(sizes) - sizes
    pos = np.arange(len(sess)) - np.repeat(first, sizes)
    ts = np.repeat(starts, sizes) + offsets
    keep = ts < t1
    order = np.argsort(ts[keep], kind="stable")
    return ts[keep][order], pos[keep][order], sess[keep][order]


def _times(
    rng: Rng, tm: Timing, level: float, t0: float, t1: float, tz_s: float, kick: bool
) -> Times:
    """Request times of one stream in [t0, t1); ``kick``: a session right at t0 (signup)."""
    if t1 <= t0 or level <= 0:
        return np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)
    rate, bound = _intensity(rng, tm, tz_s, t0, t1)
    grid = np.linspace(t0, t1, max(2, int((t1 - t0) / _GRID_S)))
    days = float(rate(grid).mean()) * (t1 - t0) / DAY
    if tm.mode == "poisson":
        ts = _sample(rng, int(rng.poisson(level * days)), t0, t1, rate, bound)
        return ts, np.zeros(len(ts), np.int64), np.arange(len(ts))
    if tm.mode == "sessions":
        length = max(tm.session_len, level / tm.max_sessions)
        starts = _sample(rng, int(rng.poisson(level / length * days)), t0, t1, rate, bound)
        if kick:
            starts = np.concatenate(([t0 + rng.uniform(5.0, 120.0)], starts))
        sizes = rng.geometric(1.0 / length, len(starts))
        gaps = rng.lognormal(math.log(tm.gap_s), 0.8, int(sizes.sum()))
        first = np.cumsum(sizes) - sizes
        gaps[first] = 0.0
        total = np.cumsum(gaps)
        return _bursts(starts, sizes, total - np.repeat(total[first], sizes), t1)
    low, high = tm.run_size
    mean_run = (high - low) / math.log(high / low)
    n_runs = max(tm.min_runs, int(rng.poisson(level / mean_run * days)))
    starts = _sample(rng, n_runs, t0, t1, rate, bound)
    sizes = np.exp(rng.uniform(math.log(low), math.log(high), n_runs)).astype(np.int64)
    durations = np.repeat(rng.uniform(*tm.run_hours, n_runs) * HOUR, sizes)
    offsets = rng.random(len(durations)) * durations
    run = np.repeat(np.arange(n_runs), sizes)
    return _bursts(starts, sizes, offsets[np.lexsort((offsets, run))], t1)


# --------------------------------------------------------------------------------------------
# Content (vectorised per stream)
# --------------------------------------------------------------------------------------------


def _flips(rng: Rng, n: int, low: int, high: int) -> U64:
    """XOR masks of ``low..high`` random bits (a repeated bit cancels: "up to")."""
    mask = np.zeros(n, dtype=np.uint64)
    if high <= 0 or n == 0:
        return mask
    count = rng.integers(low, high + 1, size=n)
    bits = rng.integers(0, 64, size=(n, high)).astype(np.uint64)
    for j in range(high):
        mask ^= np.where(count > j, np.left_shift(np.uint64(1), bits[:, j]), np.uint64(0))
    return mask


def _bases(rng: Rng, world: _World, prompts: Prompts, shared: _Shared) -> U64:
    """The prompt SimHashes an account's traffic clusters around (empty for fresh prompts)."""
    if prompts.mode == "fresh":
        return _random64(rng, 0)
    if prompts.shared:
        return shared.families
    if prompts.mode == "benchmark":
        public = rng.choice(PUBLIC_BENCHMARKS, _int_in(rng, prompts.families), replace=False)
        own = _random64(rng, _int_in(rng, prompts.private))
        return np.concatenate([*(world.benchmarks[int(b)] for b in public), own])
    return _random64(rng, _int_in(rng, prompts.families))


def _benchmark(rng: Rng, questions: U64, sess: I64, pos: I64) -> U64:
    """Every run walks the same question set in a fresh order (repeating if the run is long)."""
    out = np.empty(len(pos), dtype=np.uint64)
    for run in np.unique(sess):
        sel = sess == run
        out[sel] = questions[rng.permutation(len(questions))[pos[sel] % len(questions)]]
    return out


def _mix(rng: Rng, world: _World, prompts: Prompts, h: U64) -> U64:
    """Blend in brand-new prompts, common ones, and regenerations of the previous prompt."""
    n = len(h)
    u = rng.random(n)
    fresh = u < prompts.p_fresh
    h[fresh] = _random64(rng, int(fresh.sum()))
    common = (u >= prompts.p_fresh) & (u < prompts.p_fresh + prompts.p_common)
    h[common] = world.common[_pick(rng, 1.0 / np.arange(1, N_COMMON + 1), int(common.sum()))]
    if prompts.p_retry > 0 and n > 1:
        retry = rng.random(n) < prompts.p_retry
        retry[0] = False
        source = np.maximum.accumulate(np.where(retry, 0, np.arange(n)))
        h[retry] = h[source[retry]] ^ _flips(rng, int(retry.sum()), 0, 3)
    return h


def _simhashes(
    rng: Rng, world: _World, prompts: Prompts, shared: _Shared, sess: I64, pos: I64
) -> U64:
    n = len(pos)
    bases = _bases(rng, world, prompts, shared)
    if prompts.mode == "fresh":
        h = _random64(rng, n)
    elif prompts.mode == "benchmark":
        h = _benchmark(rng, bases, sess, pos)
    else:  # near one of a few bases, each account with its own favourites
        favourite = _pick(rng, rng.dirichlet(np.ones(len(bases))), n)
        h = bases[favourite] ^ _flips(rng, n, *prompts.flips)
    return _mix(rng, world, prompts, h)


def _weighted(rng: Rng, table: tuple[str, ...], weights: Weights, n: int) -> npt.NDArray[Any]:
    index = np.array([table.index(name) for name, _ in weights], dtype=np.int8)
    return index[_pick(rng, [w for _, w in weights], n)]


def _per_session(rng: Rng, options: list[int], sess: I64) -> npt.NDArray[np.int32]:
    """One of ``options`` per session (a session keeps its network and client)."""
    n_sessions = int(sess.max()) + 1 if len(sess) else 0
    picked = np.asarray(options, dtype=np.int32)[rng.integers(len(options), size=n_sessions)]
    return picked[sess]


def _rotating_nets(rng: Rng, world: _World, acc: _Account, sess: I64) -> npt.NDArray[np.int32]:
    """Proxy networks: a fresh exit address (in one of the account's ASNs) per session."""
    n_sessions = int(sess.max()) + 1 if len(sess) else 0
    asns = rng.integers(len(acc.asns), size=n_sessions)
    hosts = rng.integers((0, 1), (256, 255), size=(n_sessions, 2))
    ids = [
        world.add_net(acc.asns[int(a)], (int(h[0]), int(h[1])))
        for a, h in zip(asns, hosts, strict=True)
    ]
    return np.asarray(ids, dtype=np.int32)[sess]


def _content(
    rng: Rng, world: _World, acc: _Account, c: Content, shared: _Shared, times: Times
) -> dict[str, npt.NDArray[Any]]:
    """Every column but the account's, for one stream's requests."""
    ts, pos, sess = times
    n = len(ts)
    reasoning = rng.random(n) < c.reasoning
    u = rng.random(n)
    status = np.where(u < c.p429, 429, np.where(u < c.p429 + c.p500, 500, 200)).astype(np.int16)
    think = np.where(reasoning, c.think, 1.0)
    median, sigma, low, high = c.output
    output = np.clip(rng.lognormal(math.log(median), sigma, n) * think, low, high * think)
    cot_weights, cot_low, cot_high = (np.array(x) for x in zip(*c.cot, strict=True))
    part = _pick(rng, cot_weights, n)
    cot = cot_low[part] + (cot_high - cot_low)[part] * rng.random(n)
    growth = 1.0 + c.context * pos
    prompt_tokens = rng.lognormal(math.log(c.input[0]), c.input[1], n) * growth
    nets = (
        _rotating_nets(rng, world, acc, sess)
        if acc.profile.rotate_ips
        else _per_session(rng, acc.nets, sess)
    )
    return {
        "ts": ts,
        "net": nets,
        "key": np.asarray(acc.keys, dtype=np.int32)[rng.integers(len(acc.keys), size=n)],
        "fp": _per_session(rng, acc.fingerprints, sess),
        "model": _weighted(rng, MODELS, c.models, n),
        "endpoint": _weighted(rng, ENDPOINTS, c.endpoints, n),
        "status": status,
        "reasoning": reasoning,
        "simhash": _simhashes(rng, world, c.prompts, shared, sess, pos),
        "cot": np.round(cot, 3),
        "input": np.clip(prompt_tokens, 1, 200_000).astype(np.int32),
        "output": np.where(status == 200, output, 0).astype(np.int32),
    }


def _account_columns(world: _World, acc: _Account, shared: _Shared) -> dict[str, npt.NDArray[Any]]:
    """All of one account's requests, in time order."""
    config = world.config
    parts = []
    for k, stream in enumerate(acc.profile.streams):
        begin = max(acc.harvest_ts if stream.harvest else acc.start_ts, config.start_ts)
        level = acc.level * stream.share
        if stream.volume_of is not None:
            level = _level(acc.rng, getattr(config, stream.volume_of).per_day)
        kick = acc.profile.start == "signup" and k == 0
        times = _times(acc.rng, stream.timing, level, begin, config.end_ts, acc.tz_s, kick)
        parts.append(_content(acc.rng, world, acc, stream.content, shared, times))
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.argsort(columns["ts"], kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    columns["ts"] = np.round(columns["ts"], 3)
    return columns


# --------------------------------------------------------------------------------------------
# Scenario: generation, events in time order, labels
# --------------------------------------------------------------------------------------------

AccountRow = tuple[str, str, float, str, str | None]  # id, org, created, payment, routed_via
_BATCH: Final = 4_096
_EVENT_COLUMNS: Final = (
    *("ts", "account", "seq", "net", "key", "fp", "model", "endpoint", "status"),
    *("reasoning", "simhash", "cot", "input", "output"),
)


@dataclass(frozen=True)
class EventTable:
    """The scenario's events as time-sorted columns; iterating yields ``request.v1`` dicts.

    Re-iterable and cheap to hold: dicts exist only for the batch being consumed.
    """

    columns: dict[str, npt.NDArray[Any]]
    accounts: tuple[AccountRow, ...]
    nets: tuple[tuple[int, str, str, str], ...]
    keys: tuple[str, ...]
    fingerprints: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.columns["ts"])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self.batches():
            yield from batch

    def batches(self, size: int = _BATCH) -> Iterator[list[dict[str, Any]]]:
        """Events in time order, ``size`` at a time (dicts exist only for the current batch)."""
        for lo in range(0, len(self), size):
            columns = [self.columns[name][lo : lo + size].tolist() for name in _EVENT_COLUMNS]
            yield [self._event(row) for row in zip(*columns, strict=True)]

    def _event(self, row: tuple[Any, ...]) -> dict[str, Any]:
        ts, account, seq, net, key, fp, model, endpoint, status, *rest = row
        reasoning, simhash, cot, input_tokens, output_tokens = rest
        account_id, org_id, created, payment, routed_via = self.accounts[account]
        asn, asn_type, country, ip = self.nets[net]
        event = {
            "event_id": f"{account_id}-{seq}",
            "ts": ts,
            "account_id": account_id,
            "org_id": org_id,
            "api_key_id": self.keys[key],
            "ip": ip,
            "asn": asn,
            "asn_type": asn_type,
            "country": country,
            "client_fingerprint": self.fingerprints[fp],
            "model": MODELS[model],
            "endpoint": ENDPOINTS[endpoint],
            "status": status,
            "reasoning": reasoning,
            "prompt_simhash": f"{simhash:016x}",
            "cot_elicitation": cot,
            "account_created_ts": created,
            "payment_fingerprint": payment,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        if routed_via is not None:
            event["routed_via"] = routed_via
        return event

    def counts(self) -> dict[str, int]:
        """Events per account id (accounts without events are absent)."""
        per = np.bincount(self.columns["account"], minlength=len(self.accounts)).tolist()
        return {row[0]: n for row, n in zip(self.accounts, per, strict=True) if n}

    def ts_range(self) -> tuple[float, float] | None:
        ts = self.columns["ts"]
        return (float(ts[0]), float(ts[-1])) if len(ts) else None


@dataclass(frozen=True)
class Scenario:
    """Events (time-ordered, re-iterable) and their ground truth."""

    events: EventTable
    labels: dict[str, Any]


def _count(config: ScenarioConfig, params: PopulationParams) -> int:
    return max(1, round(params.accounts * config.scale)) if params.accounts > 0 else 0


def _label(acc: _Account) -> dict[str, Any]:
    attack = acc.profile.group == "attack"
    label: dict[str, Any] = {
        "group": acc.profile.group,
        "kind": acc.population,
        "campaign": acc.population if attack else None,
    }
    if attack:  # when harvesting begins (a laundering router is old and busy long before)
        label["harvest_start_ts"] = round(acc.harvest_ts, 3)
    return label


def simulate(config: ScenarioConfig) -> Scenario:
    """Generate the scenario ``config`` describes; same config, same bytes."""
    world = _build_world(config)
    rows: list[AccountRow] = []
    parts: list[dict[str, npt.NDArray[Any]]] = []
    accounts: dict[str, dict[str, Any]] = {}
    campaigns: dict[str, dict[str, Any]] = {}
    for name, params in config.populations():
        shared = _shared(world, name, params)
        n = _count(config, params)
        for i, org in enumerate(_orgs(world, name, PROFILES[name], n)):
            acc = _account(world, name, params, shared, i, org)
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
        if PROFILES[name].group == "attack":
            campaigns[name] = {
                "kind": name,
                "start_ts": shared.campaign_ts,
                "accounts": n,
                "description": PROFILES[name].description,
            }
    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    del parts
    order = np.argsort(merged["ts"], kind="stable")
    for name in merged:
        merged[name] = merged[name][order]
    events = EventTable(
        merged, tuple(rows), tuple(world.nets), tuple(world.keys), tuple(world.fingerprints)
    )
    labels = {"scenario": dataclasses.asdict(config), "accounts": accounts, "campaigns": campaigns}
    return Scenario(events=events, labels=labels)


def write_scenario(
    scenario: Scenario, out_dir: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[Path, Path]:
    """Write ``events.jsonl`` (one event per line, time order) and ``labels.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    events_path, labels_path = out_dir / "events.jsonl", out_dir / "labels.json"
    total, done = len(scenario.events), 0
    with events_path.open("wb") as handle:
        for batch in scenario.events.batches():
            handle.write(b"".join(orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in batch))
            done += len(batch)
            if progress is not None:
                progress(done, total)
    labels_path.write_bytes(orjson.dumps(scenario.labels, option=orjson.OPT_INDENT_2))
    return events_path, labels_path


# --------------------------------------------------------------------------------------------
# Command line: distillguard simulate
# --------------------------------------------------------------------------------------------


def campaign_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip() and n.strip() != "none")
    unknown = sorted(set(names) - set(CAMPAIGNS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown campaign(s) {', '.join(unknown)}; choose from {', '.join(CAMPAIGNS)}"
        )
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ScenarioConfig()
    parser.add_argument("--out", type=Path, required=True, help="folder for the two files")
    parser.add_argument("--days", type=float, default=defaults.days, help="event-time days")
    parser.add_argument("--scale", type=float, default=defaults.scale, help="account multiplier")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--campaigns",
        type=campaign_list,
        default=defaults.campaigns,
        help=f"comma-separated subset of {','.join(CAMPAIGNS)} ('none': benign only)",
    )


def summary(scenario: Scenario) -> str:
    """Accounts and events per benign kind and campaign, total events, time range."""
    counts = scenario.events.counts()
    rows: dict[tuple[str, str], list[int]] = {}
    for account_id, label in scenario.labels["accounts"].items():
        row = rows.setdefault((label["group"], label["kind"]), [0, 0, 0])
        n = counts.get(account_id, 0)
        row[0] += 1
        row[1] += n > 0
        row[2] += n
    total = len(scenario.events)
    lines = [f"{'group':<7} {'kind / campaign':<22} {'accounts':>8} {'active':>7} {'events':>10}"]
    lines += [
        f"{group:<7} {kind:<22} {a:>8,} {active:>7,} {n:>10,}  {n / max(total, 1):>6.1%}"
        for (group, kind), (a, active, n) in rows.items()
    ]
    span = scenario.events.ts_range()
    when = "no events"
    if span is not None:
        when = " .. ".join(datetime.fromtimestamp(t, UTC).isoformat() for t in span)
    lines.append(f"total   {len(scenario.labels['accounts']):>31,} {'':>7} {total:>10,}")
    lines.append(f"event time: {when}")
    return "\n".join(lines)


def _progress_printer() -> Callable[[int, int], None]:
    """Report writing progress on stderr about every tenth of the way."""
    shown = -1

    def show(done: int, total: int) -> None:
        nonlocal shown
        tenth = 10 * done // max(total, 1)
        if tenth != shown:
            shown = tenth
            end = "\n" if done >= total else ""
            print(f"\rsimulate: wrote {done:,}/{total:,} events", end=end, file=sys.stderr)

    return show


def run(args: argparse.Namespace) -> int:
    """``distillguard simulate``: write a labelled scenario and print what is in it."""
    try:
        config = ScenarioConfig(
            seed=args.seed, days=args.days, scale=args.scale, campaigns=args.campaigns
        )
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    print(f"simulate: generating {config.days:g} days at scale {config.scale:g}", file=sys.stderr)
    scenario = simulate(config)
    print(
        f"simulate: {len(scenario.events):,} events in {time.perf_counter() - began:.1f}s; "
        f"writing {args.out}",
        file=sys.stderr,
    )
    events_path, labels_path = write_scenario(scenario, args.out, _progress_printer())
    print(f"simulate: done in {time.perf_counter() - began:.1f}s", file=sys.stderr)
    print(summary(scenario))
    print(f"wrote {events_path} and {labels_path}")
    return 0
