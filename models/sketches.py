"""Bounded-state building blocks driven by event time.

Everything here is a handful of floats, so per-entity state stays a compact record that a
Faust table can store and a replay at any speed reproduces exactly.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from typing import Final

from models.units import MINUTE

# The shortest history a rate is computed over: one request is not an infinite rate, and a
# daily rate is not extrapolated from a few minutes (the floor is 1/12 of the horizon).
MIN_OBSERVED_S: Final = MINUTE
MIN_OBSERVED_SHARE: Final = 1 / 12
_MASK64: Final = (1 << 64) - 1
_TWO32: Final = float(1 << 32)


def decay_factor(dt: float, tau: float) -> float:
    """Weight of something ``dt`` seconds old under exponential decay with time constant tau."""
    return math.exp(-dt / tau) if dt > 0 else 1.0


def decay_pair(last_ts: float, ts: float, tau: float) -> tuple[float, float]:
    """(weight of the existing sum, weight of a new amount) for an event at ``ts`` on a sum
    anchored at ``last_ts``. One pair serves every sum with the same horizon, so folding an
    event into many sums costs one ``exp`` per horizon."""
    if ts >= last_ts:
        return decay_factor(ts - last_ts, tau), 1.0
    return 1.0, decay_factor(last_ts - ts, tau)


def decayed_add(total: float, last_ts: float, ts: float, amount: float, tau: float) -> float:
    """Add ``amount`` at ``ts`` to a decayed sum anchored at ``last_ts``; returns the new sum.

    The sum stays anchored at ``max(last_ts, ts)``: a late event (``ts < last_ts``) is added
    with the weight it would have now, so out-of-order arrival within the lateness window
    gives the same total as in-order arrival.

    >>> s = decayed_add(0.0, 0.0, 0.0, 1.0, tau=60.0)
    >>> round(decayed_add(s, 0.0, 60.0, 1.0, tau=60.0), 4)  # 1/e of the first + the second
    1.3679
    >>> round(decayed_add(1.0, 60.0, 0.0, 1.0, tau=60.0), 4)  # late: same total as in order
    1.3679
    """
    keep, weight = decay_pair(last_ts, ts, tau)
    return total * keep + amount * weight


def decayed_rate(
    total: float, last_ts: float, now: float, tau: float, observed_s: float = math.inf
) -> float:
    """Per-second rate of a decayed sum, read at event time ``now``.

    ``observed_s`` is how long the entity has been observed. A decayed sum fills up over
    ~tau, so a young entity's rate is divided by the decayed length of its real history
    (bias correction), never less than ``MIN_OBSERVED_S`` or 1/12 of the horizon: a fresh
    account that starts at full speed shows its full hourly rate within minutes and its
    daily rate within two hours, instead of after a day.

    >>> round(decayed_rate(10.0, 0.0, 0.0, tau=3600.0) * 3600, 1)  # old entity: sum / tau
    10.0
    >>> round(decayed_rate(10.0, 0.0, 0.0, tau=3600.0, observed_s=600.0) * 3600, 1)
    65.1
    >>> round(decayed_rate(10.0, 0.0, 0.0, tau=3600.0, observed_s=1.0) * 3600, 1)  # floor: 5 min
    125.1
    """
    floor = max(MIN_OBSERVED_S, tau * MIN_OBSERVED_SHARE)
    window = tau * -math.expm1(-max(observed_s, floor) / tau)
    return total * decay_factor(now - last_ts, tau) / window


def ew_update(mean: float, var: float, x: float, weight: float) -> tuple[float, float]:
    """Exponentially weighted mean and variance (West's incremental form).

    >>> ew_update(0.0, 0.0, 10.0, 0.5)
    (5.0, 25.0)
    """
    delta = x - mean
    mean += weight * delta
    var = (1.0 - weight) * (var + weight * delta * delta)
    return mean, var


def splitmix64(x: int) -> int:
    """A fast, well-mixed 64-bit hash of an integer (same in every process, unlike hash())."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def hash32(value: str | int) -> int:
    """32-bit hash of an identifier for cardinality sketches."""
    if isinstance(value, int):
        return splitmix64(value) >> 32
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), "little")


def kmv_add(sketch: list[int], h: int, k: int) -> None:
    """K-minimum-values sketch: keep the k smallest distinct 32-bit hashes, sorted (in place).

    Bounded at k ints however many values arrive; ``kmv_estimate`` turns it into a count.
    """
    if len(sketch) >= k and h >= sketch[-1]:
        return
    i = bisect.bisect_left(sketch, h)
    if i < len(sketch) and sketch[i] == h:
        return
    sketch.insert(i, h)
    if len(sketch) > k:
        sketch.pop()


def kmv_estimate(sketch: list[int], k: int) -> float:
    """Distinct values seen: exact below k, else the KMV estimate (k-1) / kth-smallest.

    >>> s: list[int] = []
    >>> for v in range(5):
    ...     kmv_add(s, hash32(v), k=8)
    >>> kmv_estimate(s, k=8)
    5.0
    >>> for v in range(5):
    ...     kmv_add(s, hash32(v), k=8)  # repeats change nothing
    >>> kmv_estimate(s, k=8)
    5.0
    """
    if len(sketch) < k:
        return float(len(sketch))
    return (k - 1) * _TWO32 / max(sketch[-1], 1)


def hamming64(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def normalised_entropy(counts: list[float]) -> float:
    """Shannon entropy of a histogram divided by its maximum: 0 = one bin, 1 = uniform."""
    total = sum(counts)
    if total <= 0 or len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts if c > 0)
    return h / math.log(len(counts))


def mark_hour(mask: int, last_hour: int, hour: int) -> tuple[int, int]:
    """A sliding 24-hour activity bitmap (bit ``h % 24`` for clock hour ``h``): mark
    ``hour``, clearing the hours that passed since ``last_hour``; returns (mask, latest hour).
    An hour more than a day before the latest is not marked.

    >>> mask, last = mark_hour(0, 0, 100)
    >>> mask, last = mark_hour(mask, last, 101)
    >>> mask, last = mark_hour(mask, last, 99)  # late, still within the day
    >>> mask.bit_count(), mark_hour(mask, last, 130)[0].bit_count()
    (3, 1)
    """
    if hour > last_hour:
        for passed in range(last_hour + 1, min(hour, last_hour + 24) + 1):
            mask &= ~(1 << (passed % 24))
        last_hour = hour
    if hour > last_hour - 24:
        mask |= 1 << (hour % 24)
    return mask, last_hour
