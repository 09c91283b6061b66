"""The attack campaigns, each built to hide behind one benign lookalike's behaviour."""

from __future__ import annotations

import dataclasses
from typing import Final

from models.simulator.profiles import (
    CHAT,
    COMPAT,
    HARVEST_MODELS,
    LARGE,
    MEDIUM,
    ROUTER,
    SESSIONS,
    Content,
    Profile,
    Prompts,
    Stream,
    Timing,
    router_like,
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


ATTACK_PROFILES: Final[dict[str, Profile]] = {
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
    "router_laundering": router_like(
        "attack",
        "a router account whose ordinary resold traffic hides an extraction stream",
        (
            dataclasses.replace(ROUTER, volume_of="router"),
            Stream(Timing(), _extraction((2, 3), (0.72, 0.9), 4500.0, 0.95), harvest=True),
        ),
        age_days=(365.0, 1200.0),
    ),
}
