"""Detector outputs for one entity -> an ``Assessment`` (risk and reasons)."""

from __future__ import annotations

from typing import Final

from models.account import AccountFeatures
from models.detectors import PopulationTail
from models.risk import Assessment, Reason, squash

# Own-baseline z-scores are scaled so this many standard deviations count like one population
# tail width; the account is as suspicious as the *smaller* of the two deviations once its
# baseline is warm (a steady heavy customer is exonerated by its own history).
OWN_Z_PER_WIDTH: Final = 3.0

FEATURE_LABELS: Final = {
    "requests_per_min": "requests/min (5-min rate)",
    "output_tokens_per_hour": "output tokens/hour (1-h rate)",
    "requests_per_hour": "requests/hour (1-h rate)",
}


def assess_account(feat: AccountFeatures, population: PopulationTail) -> Assessment:
    """Risk of one account: above the population's tail and (once warm) above its own usual."""
    vector = feat.population_vector()
    excess = population.excess(vector)
    if not excess:
        return Assessment(0.0, ())
    pop_raw = max(excess.values())
    own = [z for z in (feat.own_z_requests, feat.own_z_output_tokens) if z is not None]
    raw = pop_raw if not own else min(pop_raw, max(own) / OWN_Z_PER_WIDTH)
    reasons: list[Reason] = []
    for name, tail_widths in sorted(excess.items(), key=lambda kv: -kv[1]):
        if tail_widths <= 0:
            continue
        edge = population.edge(name)
        label = FEATURE_LABELS.get(name, name)
        reasons.append(
            Reason(
                name,
                vector[name],
                edge,
                f"{label} {vector[name]:,.1f} vs population p99 {edge:,.1f}",
            )
        )
    if own and raw > 0:
        reasons.append(
            Reason(
                "output_tokens_per_hour_vs_own",
                feat.output_tokens_per_hour,
                feat.own_usual_output_tokens_per_hour,
                f"output tokens/hour {feat.output_tokens_per_hour:,.0f} vs this account's usual "
                f"{feat.own_usual_output_tokens_per_hour:,.0f} "
                f"({feat.events:,.0f} requests over {feat.history_s / 3600:,.1f} h)",
            )
        )
    return Assessment(squash(raw), tuple(reasons))
