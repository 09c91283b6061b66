"""Whether a record is already folded into a state: what makes a replay after a crash or a
stall harmless. Each state keeps the offset of the last record it folded in (its key lives
in one partition, so that partition has all its records) beside its event time."""

from __future__ import annotations


def held(applied_offset: float, last_ts: float, offset: int, ts: float) -> bool:
    """Whether the record at ``offset`` with event time ``ts`` is already folded into a state
    that last folded in ``applied_offset`` and has seen event time ``last_ts``. A newer event
    time never is: a recreated topic restarts its offsets.

    >>> held(41.0, 100.0, 41, 100.0), held(41.0, 100.0, 42, 100.0), held(41.0, 100.0, 7, 101.0)
    (True, False, False)
    """
    return offset <= applied_offset and ts <= last_ts
