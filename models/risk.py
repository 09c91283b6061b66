"""Risk in [0, 1] and the reasons behind it: the common language of every detector."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

# risk = 1 - exp(-RISK_GAIN * raw): one tail width above p99 -> 0.86, two -> 0.98.
RISK_GAIN: Final = 2.0
# Evidence that may raise an alert but must never command on its own is capped here: above
# the default policy's alert threshold (0.5), below its throttle threshold (0.8). A fixed
# number, not read from the policy: a policy that throttles from 0.6 removes the guarantee.
ALERT_ONLY_RISK: Final = 0.6
# A published risk (a network's, a campaign's) is published again when it moves this much.
PUBLISH_STEP: Final = 0.05


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence: ``value`` against ``baseline``, said in words in ``detail``."""

    feature: str
    value: float
    baseline: float | None
    detail: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": round(self.value, 4),
            "baseline": None if self.baseline is None else round(self.baseline, 4),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """An entity's risk at one event and the evidence behind it (strongest first)."""

    score: float
    reasons: tuple[Reason, ...]


def squash(raw: float) -> float:
    """Map a non-negative raw excess to risk in [0, 1)."""
    return 1.0 - math.exp(-RISK_GAIN * max(raw, 0.0))


def moved(risk: float, published: float) -> bool:
    """Whether ``risk`` is far enough from the last ``published`` one to publish it again."""
    return abs(risk - published) >= PUBLISH_STEP
