"""How a population behaves: the behaviour types, and the pieces several profiles share.

A population is data, not code: one :class:`Profile` (networks, identities, account ages)
with one or more :class:`Stream` s of traffic, each a :class:`Timing` and a :class:`Content`.
One generator serves them all, so adding a population means adding a table entry
(``benign`` and ``attacks`` hold the tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Weights = tuple[tuple[str, float], ...]


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
    start: Literal["scenario", "signup", "campaign", "waves", "surge"] = "scenario"
    age_days: tuple[float, float] = (60.0, 1800.0)  # before scenario start, or before own start
    # Scenario-family tactics (models.simulator.tactics); 0 leaves the tables as they are.
    aged_share: float = 0.0  # accounts bought or aged: created ``aged_days`` before own start
    aged_days: tuple[float, float] = (30.0, 720.0)
    sdk_share: float = 0.0  # accounts whose clients come from the world's common SDK pool
    routed_share: float = 0.0  # accounts reaching the API through one of 1-3 resellers
    team: tuple[int, int] = (1, 1)  # accounts per org (shared org id and payment)
    fingerprints: tuple[int, int] = (1, 2)
    shared_fingerprints: bool = False
    payments: int = 0  # > 0: a pool of this many shared by the population; 0: one per org
    keys: tuple[int, int] = (1, 1)
    router: bool = False


# Events index into these two tables, so their order is part of the output format.
LARGE: Final = "model-large-2026-07"
MEDIUM: Final = "model-medium-2026-05"
SMALL: Final = "model-small-2026-03"
MODELS: Final = (LARGE, MEDIUM, SMALL)
ENDPOINTS: Final = ("/v1/messages", "/v1/chat/completions", "/v1/responses")

HUMAN_MODELS: Final = ((LARGE, 0.35), (MEDIUM, 0.5), (SMALL, 0.15))
HARVEST_MODELS: Final = ((LARGE, 0.85), (MEDIUM, 0.15))
COMPAT: Final = (("/v1/chat/completions", 0.6), ("/v1/messages", 0.4))
HUMAN_COT: Final = ((0.88, 0.0, 0.08), (0.12, 0.1, 0.6))

# Shared on purpose: hydra's ordinary traffic is chat's, a laundering router's is a router's,
# so the attacks hide behind exactly the behaviour of their benign lookalikes.
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


def router_like(
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
