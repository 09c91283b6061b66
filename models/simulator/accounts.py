"""The accounts of a population: identities, networks, schedules and activity levels.

Each account draws from its own generator keyed by ``(seed, population, index)``, and what
a population's accounts share (templates, fingerprint and payment pools, ASN set, campaign
clock) from one keyed by ``(seed, population, "shared")``, so scenarios stay comparable when
campaigns are switched off or ``scale`` changes. Scenario-family tactics (aged accounts, SDK
clients, resellers) draw from generators of their own, so with them off nothing moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from models.simulator.config import PopulationParams, ScenarioConfig
from models.simulator.draws import U64, Rng, hex_id, int_in, log_uniform, pick, random64, rng_for
from models.simulator.profiles import Profile, Weights
from models.simulator.world import TIME_ZONES, Asn, World
from models.units import DAY, HOUR


@dataclass(slots=True)
class Shared:
    """What a population's accounts have in common (templates, pools, campaign clock)."""

    asns: list[Asn]
    families: U64
    fingerprints: list[int]
    payments: list[str]
    campaign_ts: float
    resellers: list[tuple[str, list[int]]] = field(default_factory=list)  # (routed_via, nets)


@dataclass(frozen=True, slots=True)
class Flags:
    """Which of a population's tactics an account takes part in (exact shares, see below)."""

    aged: bool = False
    sdk: bool = False
    routed: bool = False

    def names(self) -> list[str]:
        return [name for name in ("aged", "sdk", "routed") if getattr(self, name)]


@dataclass(slots=True)
class Account:
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
    asns: list[Asn]
    nets: list[int]
    keys: list[int]
    fingerprints: list[int]
    rotate: bool = False  # a fresh exit address per session
    flags: Flags = Flags()


def draw_level(rng: Rng, per_day: tuple[float, float]) -> float:
    """Log-normal activity level, ~95% inside ``per_day`` and truncated to it."""
    low, high = per_day
    sigma = math.log(high / low) / 4.0
    z = float(rng.standard_normal())
    while abs(z) > 2.0:
        z = float(rng.standard_normal())
    return math.sqrt(low * high) * math.exp(sigma * z)


def _campaign_start(config: ScenarioConfig, params: PopulationParams) -> float:
    return config.start_ts + min(params.start_h, config.days * 12.0) * HOUR


def _choose_asns(rng: Rng, world: World, types: Weights, n: int) -> list[Asn]:
    """``n`` distinct ASNs of the given type mix, popular ones more likely."""
    chosen: dict[int, Asn] = {}
    kinds = [t for t, _ in types]
    for kind_index in pick(rng, [w for _, w in types], n):
        pool = [a for a in world.pools[kinds[int(kind_index)]] if a.number not in chosen]
        pool = pool or [a for k in kinds for a in world.pools[k] if a.number not in chosen]
        if not pool:
            break
        asn = pool[int(pick(rng, [a.weight for a in pool], 1)[0])]
        chosen[asn.number] = asn
    return list(chosen.values())


def population_shared(
    world: World, name: str, profile: Profile, params: PopulationParams
) -> Shared:
    """What ``name``'s accounts have in common, from the population's own generator."""
    rng = rng_for(world.config.seed, name, "shared")
    shared_prompts = [s.content.prompts for s in profile.streams if s.content.prompts.shared]
    families = random64(rng, int_in(rng, shared_prompts[0].families) if shared_prompts else 0)
    fingerprints: list[int] = []
    if profile.shared_fingerprints:
        for _ in range(int_in(rng, profile.fingerprints)):
            world.fingerprints.append(hex_id(rng, "fp_", 16))
            fingerprints.append(len(world.fingerprints) - 1)
    return Shared(
        asns=_choose_asns(rng, world, profile.asn_types, params.asns),
        families=families,
        fingerprints=fingerprints,
        payments=[hex_id(rng, "pm_") for _ in range(profile.payments)],
        campaign_ts=_campaign_start(world.config, params),
        resellers=_resellers(world, name) if profile.routed_share > 0 else [],
    )


def _resellers(world: World, name: str) -> list[tuple[str, list[int]]]:
    """1-3 resellers a population routes through: business ASNs, many egress addresses."""
    rng = rng_for(world.config.seed, name, "resellers")
    out = []
    for _ in range(int_in(rng, (1, 3))):
        router_id = hex_id(rng, "rtr_", 8)
        nets = []
        for asn in _choose_asns(rng, world, (("business", 1.0),), int_in(rng, (1, 2))):
            hosts = rng.integers((0, 1), (256, 255), size=(int_in(rng, (8, 40)), 2))
            nets += [world.add_net(asn, (int(h[0]), int(h[1]))) for h in hosts]
        out.append((router_id, nets))
    return out


def account_flags(seed: int, name: str, profile: Profile, n: int) -> list[Flags]:
    """Per account index: its tactics. Exactly ``round(share * n)`` accounts take each part,
    so a drawn share is the population's share, not just its expectation."""
    shares = (profile.aged_share, profile.sdk_share, profile.routed_share)
    if not any(shares):
        return [Flags()] * n
    rng = rng_for(seed, name, "flags")
    chosen = [set(rng.permutation(n)[: round(share * n)].tolist()) for share in shares]
    return [Flags(*(i in part for part in chosen)) for i in range(n)]


def _account_networks(rng: Rng, profile: Profile, shared: Shared) -> list[Asn]:
    first = shared.asns[int(pick(rng, [a.weight for a in shared.asns], 1)[0])]
    asns = [first]
    for _ in range(int_in(rng, profile.asns_per_account) - 1):
        pool = [a for a in shared.asns if all(a.number != b.number for b in asns)]
        if profile.same_country:
            pool = [a for a in pool if a.country == first.country] or pool
        if pool:
            asns.append(pool[int(rng.integers(len(pool)))])
    return asns


def _schedule(
    rng: Rng, world: World, profile: Profile, params: PopulationParams, shared: Shared, i: int
) -> tuple[float, float, float]:
    """(start_ts, harvest_ts, created_ts): first traffic, first harvesting, account creation."""
    t0, t1 = world.config.start_ts, world.config.end_ts
    age = log_uniform(rng, *profile.age_days) * DAY
    if profile.start == "waves":
        # Three signup waves spread over the campaign; each wave's accounts are created within
        # hours of each other and start within ramp_h (or before the next wave).
        spacing = (t1 - shared.campaign_ts) / 3.0
        created = shared.campaign_ts + (i % 3) * spacing + float(rng.normal(0.0, 1.5 * HOUR))
        start = created + rng.uniform(0.5 * HOUR, max(HOUR, min(params.ramp_h * HOUR, spacing)))
        return start, start, created
    harvest = shared.campaign_ts + rng.uniform(0.0, params.ramp_h * HOUR)
    if profile.start in ("campaign", "surge"):
        return harvest, harvest, harvest - age
    if profile.start == "signup":
        start = rng.uniform(t0, t1 - HOUR)
        return start, start, start - age
    return t0, harvest, t0 - age


def orgs(world: World, name: str, profile: Profile, n: int) -> list[tuple[str, str]]:
    """(org_id, payment) per account; teams of ``profile.team`` accounts share both."""
    rng = rng_for(world.config.seed, name, "orgs")
    out: list[tuple[str, str]] = []
    while len(out) < n:
        out.extend([(hex_id(rng, "org_"), hex_id(rng, "pm_"))] * int_in(rng, profile.team))
    return out[:n]


def _new_ids(rng: Rng, table: list[str], prefix: str, n: int) -> list[int]:
    table.extend(hex_id(rng, prefix, 16) for _ in range(n))
    return list(range(len(table) - n, len(table)))


def new_account(
    world: World,
    name: str,
    profile: Profile,
    params: PopulationParams,
    shared: Shared,
    i: int,
    org: tuple[str, str],
    flags: Flags = Flags(),
) -> Account:
    """Account ``i`` of population ``name``, drawn from its own generator ``(seed, name, i)``
    (its tactics from ``(seed, name, i, "tactics")``)."""
    rng = rng_for(world.config.seed, name, i)
    account_id = hex_id(rng, "acct_")
    asns = _account_networks(rng, profile, shared)
    offset, spread = TIME_ZONES[asns[0].country]
    start, harvest, created = _schedule(rng, world, profile, params, shared, i)
    nets = []
    if not profile.rotate_ips:
        for asn in asns:
            hosts = rng.integers((0, 1), (256, 255), size=(int_in(rng, profile.ips), 2))
            nets += [world.add_net(asn, (int(h[0]), int(h[1]))) for h in hosts]
    fingerprints = shared.fingerprints or _new_ids(
        rng, world.fingerprints, "fp_", int_in(rng, profile.fingerprints)
    )
    payment = shared.payments[int(rng.integers(len(shared.payments)))] if shared.payments else ""
    # The account generator's draw order is part of the output: level, zone, router, keys.
    level = draw_level(rng, params.per_day)
    tz_s = (offset + rng.uniform(-spread, spread)) * HOUR
    routed_via = hex_id(rng, "rtr_", 8) if profile.router else None
    keys = _new_ids(rng, world.keys, "key_", int_in(rng, profile.keys))
    rotate = profile.rotate_ips
    if flags.aged or flags.sdk or flags.routed:
        tactics = rng_for(world.config.seed, name, i, "tactics")
        if flags.aged:  # bought or aged: created long before it starts
            created = start - log_uniform(tactics, *profile.aged_days) * DAY
        if flags.sdk:
            fingerprints = world.pick_sdk(tactics, int_in(tactics, (1, 2)))
        if flags.routed:  # the reseller's egress, not the account's own networks
            routed_via, nets = shared.resellers[int(tactics.integers(len(shared.resellers)))]
            rotate = False
    return Account(
        account_id=account_id,
        population=name,
        profile=profile,
        rng=rng,
        level=level,
        tz_s=tz_s,
        start_ts=start,
        harvest_ts=harvest,
        created_ts=created,
        org_id=org[0],
        payment=payment or org[1],
        routed_via=routed_via,
        asns=asns,
        nets=nets,
        keys=keys,
        fingerprints=fingerprints,
        rotate=rotate,
        flags=flags,
    )
