"""A scenario family member: the default tables with one seed's drawn tactics applied.

``tactics`` says what may vary and by how much; this module turns one draw into the
:class:`PopulationParams` and :class:`Profile` the generator already understands, so the
generator has one code path for every cell (``default`` changes nothing).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Final

from models.simulator.attacks import ATTACK_PROFILES
from models.simulator.benign import BENIGN_PROFILES
from models.simulator.config import PopulationParams, ScenarioConfig
from models.simulator.profiles import CHAT, SESSIONS, Profile, Prompts, Stream
from models.simulator.tactics import (
    AttackTactics,
    BenignTactics,
    draw_attack,
    draw_benign,
    drawn,
)

PROFILES: Final[dict[str, Profile]] = {**BENIGN_PROFILES, **ATTACK_PROFILES}
# A style's own account ages when it is not bought or aged (hydra's waves set their own).
YOUNG_DAYS: Final = {
    "bulk_harvest": (0.02, 3.0),
    "reasoning_extraction": (1.0, 14.0),
    "rubric_harvest": (14.0, 60.0),
    "hydra": (0.02, 0.5),
}


@dataclass(frozen=True)
class Plan:
    """What the generator runs: the config with drawn params, and each population's profile."""

    config: ScenarioConfig
    populations: list[tuple[str, PopulationParams, Profile]]
    tactics: dict[str, dict[str, Any]]  # population -> drawn tactics (empty for ``default``)


def plan(config: ScenarioConfig) -> Plan:
    """The populations ``config`` describes, with its cell's tactics for ``config.seed``."""
    if config.cell == "default":
        rows = [(name, params, PROFILES[name]) for name, params in config.populations()]
        return Plan(config, rows, {})
    changed: dict[str, PopulationParams] = {}
    profiles: dict[str, Profile] = {}
    tactics: dict[str, dict[str, Any]] = {}
    for name, params in config.populations():
        base = PROFILES[name]
        if base.group == "benign":
            b = draw_benign(config.seed, name)
            changed[name], profiles[name] = _benign(name, params, base, b)
            tactics[name] = drawn(b)
        else:
            a = draw_attack(config.seed, name, config.cell)
            changed[name], profiles[name] = _attack(name, params, base, a, config.scale)
            tactics[name] = drawn(a)
    effective = dataclasses.replace(config, **changed)  # type: ignore[arg-type]
    rows = [(name, params, profiles[name]) for name, params in effective.populations()]
    return Plan(effective, rows, tactics)


def _first(profile: Profile, **changes: Any) -> tuple[Stream, ...]:
    """The profile's streams with its first (main) stream's content changed."""
    main = profile.streams[0]
    return (
        dataclasses.replace(main, content=dataclasses.replace(main.content, **changes)),
        *profile.streams[1:],
    )


def _cot(centre: float, half: float) -> tuple[tuple[float, float, float], ...]:
    return ((1.0, round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)),)


def _harvest_prompts(t: AttackTactics) -> Prompts:
    if t.prompts == "diverse":
        return Prompts("fresh", p_retry=0.01)
    return Prompts(
        "template", families=(t.families or 1,) * 2, flips=(1, t.flips or 1), shared=True
    )


def _attack(
    name: str, params: PopulationParams, base: Profile, t: AttackTactics, scale: float
) -> tuple[PopulationParams, Profile]:
    assert t.rate is not None and t.start_h is not None and t.ramp_h is not None
    assert t.diurnal is not None and t.warmup_h is not None and t.reasoning is not None
    assert t.cot is not None
    harvest = next(s for s in base.streams if s.harvest and s.volume_of is None)
    timing = dataclasses.replace(harvest.timing, diurnal=t.diurnal, warmup_h=t.warmup_h)
    content = dataclasses.replace(
        harvest.content, prompts=_harvest_prompts(t), reasoning=t.reasoning, cot=_cot(t.cot, 0.1)
    )
    per_day = (t.rate / 2.0, t.rate * 2.0)
    if name == "router_laundering":  # the router's own traffic stays a router's
        own = dataclasses.replace(harvest, timing=timing, content=content)
        new = PopulationParams(1, per_day, params.asns, t.start_h, t.ramp_h)
        return new, dataclasses.replace(base, streams=(base.streams[0], own))
    assert t.accounts is not None and t.hosting is not None and t.mobile is not None
    chat = t.chat_share or 0.0
    streams: tuple[Stream, ...] = (
        dataclasses.replace(harvest, timing=timing, content=content, share=1.0 - chat),
    )
    if chat > 0:
        mixed = dataclasses.replace(CHAT, reasoning=0.25)
        streams += (Stream(SESSIONS, mixed, share=chat, harvest=True),)
    weights = {
        "residential": (1.0 - t.hosting) * (1.0 - t.mobile),
        "mobile": (1.0 - t.hosting) * t.mobile,
        "hosting": t.hosting,
    }
    count = max(1, round(t.accounts * scale))
    group = t.payment_group or 1
    fleet = t.fingerprints == "fleet"
    profile = dataclasses.replace(
        base,
        streams=streams,
        asn_types=tuple((kind, w) for kind, w in weights.items() if w > 0),
        asns_per_account=(1, 3) if t.rotate_ips else (1, 2),
        same_country=not t.rotate_ips,
        rotate_ips=bool(t.rotate_ips),
        start="waves" if t.signup == "waves" else "campaign",
        age_days=YOUNG_DAYS[name],
        aged_share=t.aged_share or 0.0,
        fingerprints=(t.fleet_fps or 1,) * 2 if fleet else (1, 2),
        shared_fingerprints=fleet,
        sdk_share=1.0 if t.fingerprints == "sdk" else 0.0,
        payments=math.ceil(count / group) if group > 1 else 0,
        routed_share=t.routed_share or 0.0,
    )
    new = PopulationParams(t.accounts, per_day, t.asns or params.asns, t.start_h, t.ramp_h)
    return new, profile


def _benign(
    name: str, params: PopulationParams, base: Profile, t: BenignTactics
) -> tuple[PopulationParams, Profile]:
    factor = t.rate_factor or 1.0
    new = dataclasses.replace(
        params,
        accounts=t.accounts if t.accounts is not None else params.accounts,
        per_day=(params.per_day[0] * factor, params.per_day[1] * factor),
        start_h=t.start_h if t.start_h is not None else params.start_h,
        ramp_h=t.ramp_h if t.ramp_h is not None else params.ramp_h,
    )
    main = base.streams[0].content
    prompts = main.prompts
    if t.families is not None:
        prompts = dataclasses.replace(prompts, families=(max(1, t.families - 2), t.families))
    if t.flips is not None:
        prompts = dataclasses.replace(prompts, flips=(min(prompts.flips[0], t.flips), t.flips))
    if t.p_fresh is not None:
        prompts = dataclasses.replace(prompts, p_fresh=t.p_fresh)
    if t.private is not None and t.public is not None:
        prompts = dataclasses.replace(
            prompts, families=(0, t.public), private=(t.private, 4 * t.private)
        )
    changes: dict[str, Any] = {"prompts": prompts}
    if t.reasoning is not None:
        changes["reasoning"] = t.reasoning
    if t.cot is not None:
        changes["cot"] = _cot(t.cot, 0.15)
    profile = dataclasses.replace(base, streams=_first(base, **changes))
    if t.run_hours is not None:
        main_stream = profile.streams[0]
        timing = dataclasses.replace(main_stream.timing, run_hours=(t.run_hours / 2, t.run_hours))
        profile = dataclasses.replace(
            profile, streams=(dataclasses.replace(main_stream, timing=timing),)
        )
    if t.min_age_days is not None:
        profile = dataclasses.replace(profile, age_days=(t.min_age_days, base.age_days[1]))
    if t.sdk_share is not None:
        profile = dataclasses.replace(profile, sdk_share=t.sdk_share)
    if t.app_client == "sdk":  # the app ships a stock SDK: its users look like everyone's
        profile = dataclasses.replace(profile, shared_fingerprints=False, sdk_share=1.0)
    return new, profile
