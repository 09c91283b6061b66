"""Crash points for the fault tests: with ``DG_FAILPOINT=name:n`` the worker kills itself
(SIGKILL, as the OOM killer or a lost node would) the n-th time it reaches the named point,
so a test can crash it exactly where a promise is most at risk. Unset, reaching a point is
one comparison."""

from __future__ import annotations

import os
import signal
from typing import Final

POINTS: Final = (
    "mid_batch",  # half of a batch's events processed, none of its table writes made
    "table_write",  # the first of a batch's table writes made, the others not
    "after_alert",  # an alert sent, the command decided with it not yet
)


def parse_failpoint(spec: str) -> str | None:
    """The problem with a ``name:n`` spec, or None when it is valid."""
    name, _, count = spec.partition(":")
    if name not in POINTS:
        return f"names no crash point (one of {', '.join(POINTS)})"
    if not count.isdigit() or int(count) < 1:
        return "must be name:n with n >= 1"
    return None


class Failpoints:
    def __init__(self, spec: str | None = None) -> None:
        name, _, count = (spec or "").partition(":")
        self._armed = name or None
        self._left = int(count) if count else 0

    def reach(self, point: str) -> None:
        if point != self._armed:
            return
        self._left -= 1
        if self._left <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
