"""Seeded random draws shared by the generator's modules.

Every part of a scenario draws from its own generator keyed by what it is, so switching a
population off or changing ``scale`` leaves every other account's draws exactly as they were.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Rng = np.random.Generator


def rng_for(seed: int, *parts: str | int) -> Rng:
    """An independent generator per (seed, parts): stable across processes and Python runs."""
    digest = hashlib.blake2b("/".join(map(str, (seed, *parts))).encode(), digest_size=16)
    return np.random.default_rng(int.from_bytes(digest.digest(), "little"))


def hex_id(rng: Rng, prefix: str, digits: int = 12) -> str:
    value = int(random64(rng, 1)[0]) % 16**digits
    return f"{prefix}{value:0{digits}x}"


def random64(rng: Rng, n: int) -> U64:
    return rng.bit_generator.random_raw(n)


def pick(rng: Rng, weights: Sequence[float] | F64, n: int) -> I64:
    """``n`` indices drawn with probability proportional to ``weights``."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    picked = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return np.asarray(picked, dtype=np.int64)


def log_uniform(rng: Rng, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def int_in(rng: Rng, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))
