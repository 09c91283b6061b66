"""Profile shift: an account against its own history, for what volume cannot show.

A reseller that mixes an extraction stream into its customers' traffic keeps its volume (its
own baseline exonerates it) and its population tail (it was always heavy); what changes is
the mix: the share of chain-of-thought elicitation prompts rises above the account's usual
share. The shift is tested in the last hour (fast, for a large extraction stream) and over
the last day (slow, for a small one), as a binomial z-score against the usual share, and
must also be material: a few points of share and at least an elicitation-heavy user's worth
of extra prompts a day. Alert only: throttling a reseller that also serves legitimate
customers is the operator's call, made in the policy.
"""

from __future__ import annotations

import math
from typing import Final

from models.account import AccountFeatures
from models.risk import ALERT_ONLY_RISK, Assessment, Reason
from models.units import DAY, HOUR

# The usual mix must have been learned over this much event time, from this many requests
# a day, before a shift against it counts.
MIN_USUAL_H: Final = 12.0
MIN_REQUESTS_PER_DAY: Final = 200.0
SHIFT_Z: Final = 4.0  # binomial z-score of the share against the usual one
MIN_SHIFT: Final = 0.03  # absolute rise in share
MIN_EXTRA_PER_DAY: Final = 50.0  # extra elicitation prompts a day the rise amounts to
NO_SHIFT: Final = Assessment(0.0, ())


def _z(share: float, usual: float, n: float) -> float:
    p = min(max(usual, 0.01), 0.99)
    return (share - usual) / math.sqrt(p * (1.0 - p) / max(n, 1.0))


def assess_shift(feat: AccountFeatures) -> Assessment:
    """Alert-level risk when the account's elicitation share has shifted above its usual."""
    usual = feat.usual_cot_high_share
    if feat.usual_h < MIN_USUAL_H or feat.requests_last_day < MIN_REQUESTS_PER_DAY:
        return NO_SHIFT
    windows = (
        ("last hour", feat.cot_high_share_1h, feat.requests_last_hour, DAY / HOUR),
        ("last 24 h", feat.cot_high_share, feat.requests_last_day, 1.0),
    )
    for label, share, n, per_day in windows:
        extra_per_day = (share - usual) * n * per_day
        material = share - usual >= MIN_SHIFT and extra_per_day >= MIN_EXTRA_PER_DAY
        if material and _z(share, usual, n) >= SHIFT_Z:
            detail = (
                f"traffic mix shifted: CoT-elicitation prompts {share:.1%} of requests in the "
                f"{label} vs {usual:.1%} usual over {feat.usual_h:,.0f} h "
                f"(~{extra_per_day:,.0f} extra a day)"
            )
            return Assessment(
                ALERT_ONLY_RISK, (Reason("cot_high_share_shift", share, usual, detail),)
            )
    return NO_SHIFT
