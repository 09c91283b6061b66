"""How harvest-like traffic is, in one place.

A *harvest profile* is a weighted sum of indicators in [0, 1]: account scoring weighs an
account's volume evidence by its account profile, network scoring a network's by its network
profile. *Harvest-like* is the yes/no test campaign linkage counts members by.
"""

from __future__ import annotations

import math
from typing import Final

from models.account import AccountFeatures, AccountState
from models.asn import AsnFeatures

# Output tokens per request: an indicator of 0 at the first, 1 from the second, log-scaled.
LONG_OUTPUT_FROM: Final = 500.0
LONG_OUTPUT_TO: Final = 4000.0
# A mean chain-of-thought elicitation score this high counts as fully eliciting.
FULL_COT_MEAN: Final = 0.5
# Weights of the indicators in each profile; each set sums to 1.
ACCOUNT_WEIGHTS: Final = {
    "reasoning_share": 0.25,
    "cot_elicitation": 0.15,
    "long_outputs": 0.25,
    "diverse_prompts": 0.10,
    "hosting_share": 0.12,
    "network_spread": 0.13,
}
NETWORK_WEIGHTS: Final = {
    "reasoning_share": 0.3,
    "cot_elicitation": 0.2,
    "long_outputs": 0.2,
    "new_account_requests": 0.3,
}
# Harvest-like (a campaign member): at least this reasoning share, or this mean CoT
# elicitation.
LIKE_REASONING_SHARE: Final = 0.5
LIKE_COT_MEAN: Final = 0.25


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def long_outputs(output_tokens_per_request: float) -> float:
    per_request = max(output_tokens_per_request, 1.0)
    span = math.log(LONG_OUTPUT_TO / LONG_OUTPUT_FROM)
    return _clip(math.log(per_request / LONG_OUTPUT_FROM) / span)


def account_indicators(feat: AccountFeatures) -> dict[str, float]:
    """How harvest-like the account's traffic looks, per indicator, each in [0, 1]."""
    return {
        "reasoning_share": _clip(feat.reasoning_share),
        "cot_elicitation": _clip(feat.cot_mean / FULL_COT_MEAN),
        "long_outputs": long_outputs(feat.output_tokens_per_request),
        # Reuse shows in the recent window (near duplicates) or over the account's life
        # (few distinct prompts: benchmark questions re-run every evaluation).
        "diverse_prompts": _clip(min(1.0 - feat.near_duplicate_share, feat.prompt_diversity)),
        "hosting_share": _clip(feat.hosting_share),
        "network_spread": _clip((feat.distinct_asns - 1.0) / 4.0),
    }


def account_profile(indicators: dict[str, float]) -> float:
    """The account's harvest profile in [0, 1] from its ``account_indicators``."""
    return sum(ACCOUNT_WEIGHTS[name] * value for name, value in indicators.items())


def network_indicators(feat: AsnFeatures) -> dict[str, float]:
    """How harvest-like the network's traffic looks, per indicator, each in [0, 1]."""
    return {
        "reasoning_share": _clip(feat.reasoning_share),
        "cot_elicitation": _clip(feat.cot_mean / FULL_COT_MEAN),
        "long_outputs": long_outputs(feat.output_tokens_per_request),
        "new_account_requests": _clip(feat.young_request_share),
    }


def network_profile(feat: AsnFeatures) -> float:
    """The network's harvest profile in [0, 1] (reasoning, elicitation, long outputs, requests
    from new accounts)."""
    return sum(NETWORK_WEIGHTS[name] * value for name, value in network_indicators(feat).items())


def is_harvest_like(reasoning_share: float, cot_mean: float) -> bool:
    """Whether traffic with these shares counts as harvest-like for campaign linkage."""
    return reasoning_share >= LIKE_REASONING_SHARE or cot_mean >= LIKE_COT_MEAN


def state_is_harvest_like(state: AccountState) -> bool:
    """``is_harvest_like`` of an account's last day, straight from its state (two divisions:
    cheap enough for every request)."""
    requests = max(state.req_24h, 1e-9)
    return is_harvest_like(state.reasoning_24h / requests, state.cot_24h / requests)
