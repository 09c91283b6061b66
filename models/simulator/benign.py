"""The benign populations: the hard negatives every detector must leave alone.

Each one is the lookalike of an attack: enterprise batch jobs out-volume every harvester, eval
runners want reasoning and re-send the same questions, a popular app makes hundreds of
accounts share one template and one client, and new users (and a launch day's surge of
signups) are as young as attack accounts.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from models.simulator.profiles import (
    CHAT,
    LARGE,
    MEDIUM,
    ROUTER,
    SESSIONS,
    SMALL,
    Content,
    Profile,
    Prompts,
    Stream,
    Timing,
    router_like,
)

BENIGN_PROFILES: Final[dict[str, Profile]] = {
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
    "router": router_like(
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
    # Empty by default; the scenario family sizes it (models.simulator.tactics).
    "launch_surge": Profile(
        "benign",
        "a launch day: many new accounts signing up within hours, most trying the demo prompt",
        (
            Stream(
                SESSIONS,
                dataclasses.replace(
                    CHAT, prompts=Prompts("template", flips=(0, 3), shared=True, p_fresh=0.8)
                ),
            ),
        ),
        asn_types=(("residential", 0.7), ("mobile", 0.3)),
        start="surge",
        age_days=(1.0 / 1440.0, 2.0 / 24.0),
    ),
}
