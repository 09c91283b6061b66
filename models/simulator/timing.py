"""When an account's requests happen, in event time only.

Inhomogeneous Poisson arrivals of single requests, human sessions or benchmark runs, shaped
by a diurnal curve in the account's own time zone, a weekend factor and day-to-day noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np

from models.simulator.draws import F64, I64, Rng
from models.simulator.profiles import Timing
from models.units import DAY, HOUR

# Relative activity by local hour; normalised to mean 1 below.
_CURVES_RAW: Final = {
    "human": (
        *(0.30, 0.18, 0.11, 0.08, 0.07, 0.09, 0.18, 0.35, 0.58, 0.78, 0.90, 0.95),
        *(0.92, 0.92, 0.95, 0.95, 0.92, 0.88, 0.86, 0.90, 0.95, 0.88, 0.70, 0.48),
    ),
    "work": (
        *(0.04, 0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.45, 0.85, 1.00, 1.00),
        *(0.80, 0.90, 1.00, 1.00, 0.90, 0.70, 0.40, 0.25, 0.18, 0.12, 0.08, 0.05),
    ),
}
_CURVES: Final = {
    name: np.array([*raw, raw[0]]) / (sum(raw) / len(raw)) for name, raw in _CURVES_RAW.items()
}
_HOURS: Final = np.arange(25, dtype=np.float64)
_GRID_S: Final = 600.0

Times = tuple[F64, I64, I64]  # ts, position in its session/run, session/run id


def _intensity(
    rng: Rng, tm: Timing, tz_s: float, t0: float, t1: float
) -> tuple[Callable[[F64], F64], float]:
    """The account's relative rate over time (diurnal, weekly, daily noise, warm-up) and a
    bound on it; mean ~1 on a weekday, so ``level`` keeps meaning requests per day."""
    curve = _CURVES[tm.curve]
    first_day = math.floor((t0 + tz_s) / DAY)
    n_days = math.floor((t1 + tz_s) / DAY) - first_day + 1
    sigma = tm.day_sigma
    noise = rng.lognormal(-(sigma**2) / 2.0, sigma, n_days) if sigma else np.ones(n_days)

    def rate(t: F64) -> F64:
        local = t + tz_s
        w = (1.0 - tm.diurnal) + tm.diurnal * np.interp(local % DAY / HOUR, _HOURS, curve)
        day = np.floor(local / DAY).astype(np.int64)
        if tm.weekend != 1.0:
            w = w * np.where((day + 3) % 7 >= 5, tm.weekend, 1.0)  # 1970-01-01 was a Thursday
        w = w * noise[day - first_day]
        if tm.warmup_h > 0:
            w = w * np.clip((t - t0) / (tm.warmup_h * HOUR), 0.0, 1.0)
        return np.asarray(w, dtype=np.float64)

    peak = (1.0 - tm.diurnal) + tm.diurnal * float(curve.max())
    return rate, peak * float(noise.max()) * max(1.0, tm.weekend)


def _sample(
    rng: Rng, n: int, t0: float, t1: float, rate: Callable[[F64], F64], bound: float
) -> F64:
    """``n`` sorted times in [t0, t1) with density proportional to ``rate`` (rejection)."""
    parts: list[F64] = []
    need = n
    while need > 0:
        candidates = rng.uniform(t0, t1, 2 * need + 16)
        keep = candidates[rng.random(len(candidates)) * bound < rate(candidates)][:need]
        parts.append(keep)
        need -= len(keep)
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)


def _bursts(starts: F64, sizes: I64, offsets: F64, t1: float) -> Times:
    """Requests of sessions/runs: ``offsets`` are per request, relative to its group's start."""
    sess = np.repeat(np.arange(len(starts)), sizes)
    first = np.cumsum(sizes) - sizes
    pos = np.arange(len(sess)) - np.repeat(first, sizes)
    ts = np.repeat(starts, sizes) + offsets
    keep = ts < t1
    order = np.argsort(ts[keep], kind="stable")
    return ts[keep][order], pos[keep][order], sess[keep][order]


def request_times(
    rng: Rng, tm: Timing, level: float, t0: float, t1: float, tz_s: float, kick: bool
) -> Times:
    """Request times of one stream in [t0, t1); ``kick``: a session right at t0 (signup)."""
    if t1 <= t0 or level <= 0:
        return np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)
    rate, bound = _intensity(rng, tm, tz_s, t0, t1)
    grid = np.linspace(t0, t1, max(2, int((t1 - t0) / _GRID_S)))
    days = float(rate(grid).mean()) * (t1 - t0) / DAY
    if tm.mode == "poisson":
        ts = _sample(rng, int(rng.poisson(level * days)), t0, t1, rate, bound)
        return ts, np.zeros(len(ts), np.int64), np.arange(len(ts))
    if tm.mode == "sessions":
        length = max(tm.session_len, level / tm.max_sessions)
        starts = _sample(rng, int(rng.poisson(level / length * days)), t0, t1, rate, bound)
        if kick:
            starts = np.concatenate(([t0 + rng.uniform(5.0, 120.0)], starts))
        sizes = rng.geometric(1.0 / length, len(starts))
        gaps = rng.lognormal(math.log(tm.gap_s), 0.8, int(sizes.sum()))
        first = np.cumsum(sizes) - sizes
        gaps[first] = 0.0
        total = np.cumsum(gaps)
        return _bursts(starts, sizes, total - np.repeat(total[first], sizes), t1)
    low, high = tm.run_size
    mean_run = (high - low) / math.log(high / low)
    n_runs = max(tm.min_runs, int(rng.poisson(level / mean_run * days)))
    starts = _sample(rng, n_runs, t0, t1, rate, bound)
    sizes = np.exp(rng.uniform(math.log(low), math.log(high), n_runs)).astype(np.int64)
    durations = np.repeat(rng.uniform(*tm.run_hours, n_runs) * HOUR, sizes)
    offsets = rng.random(len(durations)) * durations
    run = np.repeat(np.arange(n_runs), sizes)
    return _bursts(starts, sizes, offsets[np.lexsort((offsets, run))], t1)
