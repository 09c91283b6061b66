"""A guard against consumed partitions that stop after a rebalance.

Seen here (2026-12, faust-streaming 0.15.3): after a restart or a failover, now and then one
assigned partition (of the input or of an internal topic) is never delivered again. The group
is stable, ``/ready`` is green, the other partitions flow, and that partition's position stays
put with records behind it (faust-streaming #629 looks like the same bug). Every few seconds
the guard compares, for each assigned partition of the topics it watches, the last offset
delivered to the agent with the partition's end; one with records behind it that has
delivered nothing for ``STALL_S``, while the broker answers and nothing rebalances, is stalled,
and the guard seeks it to where delivery stopped. Nothing that was delivered is skipped;
at most the last delivered record is delivered again (an input record the account state
already holds is skipped as ``replayed``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import structlog

log = structlog.get_logger(__name__)

STALL_S: Final = 30.0
CHECK_EVERY_S: Final = 5.0


@dataclass
class StallGuard:
    """Tracks, per watched partition, the last delivered offset and when it last moved."""

    topics: frozenset[str]
    clock: Callable[[], float]
    _seen: dict[Any, tuple[int | None, float]] = field(default_factory=dict)

    def watched(self, assignment: Collection[Any]) -> list[Any]:
        return sorted(tp for tp in assignment if tp.topic in self.topics)

    def stalled(
        self, watched: list[Any], read: Mapping[Any, int | None], ends: Mapping[Any, int]
    ) -> list[Any]:
        """The partitions stalled now (and forget partitions no longer watched)."""
        now = self.clock()
        for tp in set(self._seen) - set(watched):
            del self._seen[tp]
        stuck = []
        for tp in watched:
            offset = read.get(tp)
            last, since = self._seen.get(tp, (None, now))
            if offset != last or tp not in self._seen:
                self._seen[tp] = (offset, now)
                continue
            if ends.get(tp, 0) > (offset if offset is not None else -1) + 1 and (
                now - since >= STALL_S
            ):
                stuck.append(tp)
                self._seen[tp] = (offset, now)  # at most one seek per STALL_S
        return stuck

    def reset(self) -> None:
        """Forget progress (a rebalance moves offsets and assignments)."""
        self._seen.clear()


def guard_app(
    app: Any,
    topics: frozenset[str],
    counters: Any,
    reachable: Callable[[], bool],
    clock: Callable[[], float],
) -> None:
    """Run a ``StallGuard`` over ``topics`` on ``app``'s consumer as an app timer."""
    guard = StallGuard(topics, clock)

    async def check() -> None:
        consumer = app.consumer
        if app.rebalancing or not consumer.flow_active or not reachable():
            guard.reset()
            return
        watched = guard.watched(consumer.assignment())
        if not watched:
            return
        read = dict(consumer._read_offset)
        stuck = guard.stalled(watched, read, await consumer.highwaters(*watched))
        if not stuck:
            return
        counters["input_stalls_healed"] += 1
        log.warning(
            "partitions stalled; seeking them to where delivery stopped",
            partitions=[f"{tp.topic}:{tp.partition}" for tp in stuck],
            stalled_s=STALL_S,
        )
        committed = dict(consumer._committed_offset)
        for tp in stuck:
            offset = read.get(tp)
            await consumer.seek(tp, offset if offset is not None else committed.get(tp) or 0)

    app.timer(interval=CHECK_EVERY_S, name="stall-guard")(check)
