"""Account features + population model -> an ``Assessment`` (risk in [0, 1] and reasons).

Volume alone cannot separate harvesting from the heaviest legitimate customers, so the volume
evidence (above the population's edge and, once warm, the account's own usual) is weighted by
how harvest-like the traffic is (``models.harvest``) and scaled by account age (``models.age``).
Early evidence: a young account with a profile >= 0.5 counts its volume above the median too.
Own evidence reaches the throttle range only with a profile >= 0.25 and, past 30 days, after
10 h of sustained load of new questions; from 180 days never alone. A shift in the account's
traffic mix against its usual one (``models.shift``) is alert-only evidence. Network and
campaign risk are inherited on top: they can throttle an account its own evidence cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from models import asn as asn_model
from models import harvest
from models.account import AccountFeatures
from models.age import ESTABLISHED_DAYS, NEW_DAYS, YOUNG_DAYS
from models.asn import HEAVY_OUTPUT_PER_DAY
from models.detectors import PopulationTail
from models.risk import ALERT_ONLY_RISK, Assessment, Reason, squash
from models.shift import assess_shift
from models.units import HOUR

# Own-baseline z-scores are scaled so this many standard deviations count like one population
# tail width; once warm, the account is as suspicious as the *smaller* of the two deviations
# (a steady heavy customer is exonerated by its own history).
OWN_Z_PER_WIDTH: Final = 3.0
# Account age scales the account's own evidence: a new account at full harvest speed is the
# reported pattern; an established one (eval harnesses, enterprises) needs far stronger
# evidence. Unknown age is treated as slightly trusted.
AGE_FACTOR_NEW: Final = 1.25
AGE_FACTOR_ESTABLISHED: Final = 0.4
AGE_FACTOR_UNKNOWN: Final = 0.9
# A profile of this harvest-likeness leaves volume evidence unchanged; 1.0 doubles it.
HARVEST_REFERENCE: Final = 0.5
# Below this harvest-likeness, volume alone may alert but never reach the throttle range
# (capped at ALERT_ONLY_RISK); so may an established account's own traffic, while network or
# campaign evidence can still throttle it.
VOLUME_ONLY_PROFILE: Final = 0.25
# Early evidence: a young account whose traffic is this harvest-like needs no volume above
# the population's edge; its position above the median counts, at this weight, so a
# harvester at moderate rates is throttled after its first few requests rather than once a
# day's volume has piled up (new users and launch-day signups sit far below this profile).
SIGNATURE_PROFILE: Final = 0.5
SIGNATURE_WEIGHT: Final = 0.75
# An account's own evidence counts from this many requests on (rates from fewer are noise).
MIN_EVENTS: Final = 10

VOLUME_LABELS: Final = {
    "requests_per_min": "requests/min (5-min rate)",
    "requests_per_day": "requests/day (24-h rate)",
    "output_tokens_per_hour": "output tokens/hour (1-h rate)",
    "output_tokens_per_day": "output tokens/day (24-h rate)",
    "elicitation_requests_per_day": "reasoning-elicitation prompts/day (24-h rate)",
}


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def age_factor(age_days: float | None) -> float:
    """New (<= 7 days) 1.25, established (>= 180 days) 0.4, log-interpolated between."""
    if age_days is None:
        return AGE_FACTOR_UNKNOWN
    span = math.log(ESTABLISHED_DAYS / NEW_DAYS)
    youth = _clip(1.0 - math.log(max(age_days, NEW_DAYS) / NEW_DAYS) / span)
    return AGE_FACTOR_ESTABLISHED + (AGE_FACTOR_NEW - AGE_FACTOR_ESTABLISHED) * youth


@dataclass(frozen=True, slots=True)
class NetworkEvidence:
    """The current risk of the account's ASN, as published by the ASN agent."""

    asn: int
    risk: float
    detail: str


@dataclass(frozen=True, slots=True)
class CampaignEvidence:
    """The campaign the account was linked into, and that campaign's current risk."""

    campaign_id: str
    risk: float
    detail: str


# An account inherits its network's risk in proportion to its own harvest profile: at this
# profile fully, below it partly, so ordinary customers of a bad network are not dragged in.
INHERIT_AT_PROFILE: Final = 0.6


def assess_account(
    feat: AccountFeatures,
    population: PopulationTail,
    network: NetworkEvidence | None = None,
    campaign: CampaignEvidence | None = None,
    *,
    vector: dict[str, float] | None = None,
) -> Assessment:
    """Risk of one account: volume above the population's tail (and, once warm, above its
    own usual), weighted by its harvest profile, combined with its network's and its
    campaign's risk; reasons strongest first. ``vector`` is the volume vector ``feat`` was
    computed from, when the caller has it (else read back from ``feat``)."""
    if vector is None:
        vector = feat.volume_vector()
    excess = population.excess(vector)
    if not excess and campaign is None:
        return Assessment(0.0, ())
    volume = max(0.0, *excess.values()) if excess else 0.0
    indicators = harvest.account_indicators(feat)
    profile = harvest.account_profile(indicators)
    own = [z for z in (feat.own_z_requests, feat.own_z_output_tokens) if z is not None]
    if own and profile < SIGNATURE_PROFILE:
        # Its own history exonerates a steady heavy customer, but not a harvest-like one:
        # an aged or bought account is first seen already harvesting, so its "usual" is that.
        volume = min(volume, max(0.0, max(own) / OWN_Z_PER_WIDTH))
    age = feat.account_age_days
    if profile >= SIGNATURE_PROFILE and age is not None and age < YOUNG_DAYS:
        # The harvest signature on a young account: volume above the population median
        # already counts (early evidence).
        position = max(excess.values(), default=-1.0) + 1.0  # tail widths above the median
        volume = max(volume, SIGNATURE_WEIGHT * position)
    evidence = volume * min(profile / HARVEST_REFERENCE, 2.0) * age_factor(age)
    risk = squash(evidence) if feat.events >= MIN_EVENTS else 0.0
    if profile < VOLUME_ONLY_PROFILE or not _may_command_alone(feat):
        risk = min(risk, ALERT_ONLY_RISK)
    shift = assess_shift(feat)
    risk = max(risk, shift.score)
    own_risk = risk
    # Old accounts inherit less: a fresh campaign's network does not make a customer with
    # years of history part of it.
    trust = age_factor(age) / AGE_FACTOR_NEW
    inherited: list[tuple[float, Reason]] = []
    if network is not None:
        share = network.risk * _clip(profile / INHERIT_AT_PROFILE) * trust
        inherited.append(
            (share, Reason("asn_risk", network.risk, None, f"AS{network.asn}: {network.detail}"))
        )
        risk = 1.0 - (1.0 - risk) * (1.0 - share)
    if campaign is not None:
        # Membership already required a harvest-like group behind a pure key, and campaign
        # risk already weighs its members' age: no profile or age weighting again here.
        detail = f"member of campaign {campaign.campaign_id}: {campaign.detail}"
        inherited.append((campaign.risk, Reason("campaign_risk", campaign.risk, None, detail)))
        with_campaign = 1.0 - (1.0 - risk) * (1.0 - campaign.risk)
        if campaign.risk <= ALERT_ONLY_RISK:
            # An alert-only campaign (too few independent links) must not lift a member into
            # the throttle range that its own and its network's evidence do not reach.
            with_campaign = max(risk, min(with_campaign, ALERT_ONLY_RISK))
        risk = with_campaign
    if risk <= 0.0:
        return Assessment(0.0, ())
    reasons = [*shift.reasons, *(_volume_reasons(vector, excess, population) if excess else [])]
    if own and max(own) > 0:
        reasons.append(_own_reason(feat))
    for share, reason in sorted(inherited, key=lambda item: item[0]):
        if share >= 0.1:
            # The strongest evidence comes first: an inherited risk when it outweighs the
            # account's own.
            reasons.insert(0 if share > own_risk else len(reasons), reason)
    reasons.extend(_profile_reasons(feat, indicators))
    return Assessment(risk, tuple(reasons))


# An account older than YOUNG_DAYS (an eval harness's hours-long benchmark run, a
# developer's burst) may be throttled on its own evidence only once the load has lasted
# this long (clock hours of the last 24 with requests), and only if it keeps asking new
# questions: an evaluation harness re-sends its benchmark, a harvester wants new outputs.
SUSTAINED_HOURS: Final = 10.0
NEW_QUESTIONS: Final = 0.8  # prompt diversity (distinct / requests, lifetime) at least


def _may_command_alone(feat: AccountFeatures) -> bool:
    """Whether an account's own evidence may reach the throttle range: young or of unknown
    age; older than YOUNG_DAYS only for sustained load of new questions; established
    (ESTABLISHED_DAYS) never: network or campaign evidence must add to it."""
    age = feat.account_age_days
    if age is None or age < YOUNG_DAYS:
        return True
    return (
        age < ESTABLISHED_DAYS
        and feat.sustained_hours >= SUSTAINED_HOURS
        and feat.prompt_diversity >= NEW_QUESTIONS
    )


ASN_LABELS: Final = {
    "new_accounts_24h": "accounts created in the last 24 h",
    "young_accounts_24h": f"active accounts younger than {NEW_DAYS:g} days",
    "fresh_heavy_accounts": (
        f"young accounts with > {HEAVY_OUTPUT_PER_DAY / 1000:g}k output tokens/day"
    ),
}


# A network needs at least this many new active accounts before its population can look
# like a campaign (one or two new customers are not a pattern).
MIN_YOUNG_ACCOUNTS: Final = 3


def assess_asn(feat: asn_model.AsnFeatures, population: PopulationTail) -> Assessment:
    """Risk of one network: its account population against other networks' (new, young,
    fresh-and-heavy accounts), weighted by how harvest-like its traffic is. Volume is judged
    per account, not here, so one heavy customer cannot make its own network look bad."""
    vector = feat.population_vector()
    excess = population.excess(vector)
    if not excess or feat.young_accounts_24h < MIN_YOUNG_ACCOUNTS:
        return Assessment(0.0, ())
    volume = max(0.0, *excess.values())
    profile = harvest.network_profile(feat)
    risk = squash(volume * min(profile / HARVEST_REFERENCE, 2.0))
    if profile < VOLUME_ONLY_PROFILE:
        risk = min(risk, ALERT_ONLY_RISK)
    if risk <= 0.0:
        return Assessment(0.0, ())
    reasons = []
    for name, widths in sorted(excess.items(), key=lambda kv: -kv[1]):
        edge = population.edge(name)
        if widths > 0 and edge is not None:
            level = _percentile(population)
            detail = f"{ASN_LABELS[name]} {vector[name]:,.0f} vs network {level} {edge:,.0f}"
            reasons.append(Reason(name, vector[name], edge, detail))
    reasons.append(
        Reason(
            "harvest_profile",
            profile,
            HARVEST_REFERENCE,
            f"reasoning on {feat.reasoning_share:.0%}, CoT elicitation {feat.cot_mean:.2f}, "
            f"{feat.output_tokens_per_request:,.0f} output tokens/request, "
            f"{feat.young_request_share:.0%} of requests from accounts < {NEW_DAYS:g} days old",
        )
    )
    return Assessment(risk, tuple(reasons))


def _volume_reasons(
    vector: dict[str, float], excess: dict[str, float], population: PopulationTail
) -> list[Reason]:
    reasons = []
    for name, widths in sorted(excess.items(), key=lambda kv: -kv[1]):
        edge = population.edge(name)
        if widths <= 0 or edge is None:
            continue
        label = VOLUME_LABELS.get(name, name)
        detail = f"{label} {vector[name]:,.1f} vs population {_percentile(population)} {edge:,.1f}"
        reasons.append(Reason(name, vector[name], edge, detail))
    return reasons


def _own_reason(feat: AccountFeatures) -> Reason:
    return Reason(
        "output_tokens_per_hour_vs_own",
        feat.output_tokens_per_hour,
        feat.own_usual_output_tokens_per_hour,
        f"output tokens/hour {feat.output_tokens_per_hour:,.0f} vs this account's usual "
        f"{feat.own_usual_output_tokens_per_hour:,.0f} "
        f"({feat.events:,.0f} requests over {feat.history_s / HOUR:,.1f} h)",
    )


def _profile_reasons(feat: AccountFeatures, indicators: dict[str, float]) -> list[Reason]:
    """The harvest indicators that are clearly present, said in words."""
    age = feat.account_age_days
    out_per_req = feat.output_tokens_per_request
    words = {
        "reasoning_share": (
            feat.reasoning_share,
            0.1,
            f"reasoning requested on {feat.reasoning_share:.0%} of requests",
        ),
        "cot_elicitation": (
            feat.cot_mean,
            0.05,
            f"chain-of-thought elicitation score {feat.cot_mean:.2f} on average",
        ),
        "long_outputs": (
            out_per_req,
            harvest.LONG_OUTPUT_FROM,
            f"{out_per_req:,.0f} output tokens per request",
        ),
        "diverse_prompts": (
            feat.near_duplicate_share,
            None,
            f"only {feat.near_duplicate_share:.0%} near-duplicate prompts (diverse)",
        ),
        "hosting_share": (
            feat.hosting_share,
            None,
            f"{feat.hosting_share:.0%} of requests from hosting networks",
        ),
        "network_spread": (feat.distinct_asns, 1.0, f"{feat.distinct_asns:,.0f} distinct ASNs"),
    }
    present = sorted(
        (name for name, value in indicators.items() if value >= 0.5 and name in words),
        key=lambda n: -indicators[n],
    )
    reasons = [Reason(name, *words[name]) for name in present]
    if age is not None and age < ESTABLISHED_DAYS:
        detail = f"account {age:,.1f} days old"
        reasons.append(Reason("account_age_days", age, ESTABLISHED_DAYS, detail))
    return reasons


def _percentile(population: PopulationTail) -> str:
    """The population's edge of normal as analysts write it ("p95")."""
    return f"p{population.q_high * 100:g}"
