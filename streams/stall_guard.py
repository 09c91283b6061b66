"""A guard against input partitions that stop after a rebalance.

Seen here (2026-12, faust-streaming 0.15.3): after a rebalance, now and then one assigned
input partition is never consumed again. The group is stable, ``/ready`` is green, the other
partitions flow, and that partition's committed offset stays put with records behind it
(faust-streaming #629 looks like the same bug). Every few seconds the guard compares each
assigned input partition's committed offset with its end; a partition that has records
behind it and has not committed for ``STALL_S`` while nothing rebalances is stalled, and the
guard seeks the consumer back to the committed offsets. That replays at most what was not
committed, which the account states recognise and skip (``replayed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import structlog

log = structlog.get_logger(__name__)

STALL_S: Final = 30.0
CHECK_EVERY_S: Final = 5.0


@dataclass
class StallGuard:
    """Tracks, per input partition, the committed offset and when it last moved."""

    topic: str
    clock: Callable[[], float]
    _seen: dict[Any, tuple[int | None, float]] = field(default_factory=dict)

    def stalled(
        self, assignment: set[Any], committed: dict[Any, int | None], end: Callable[[Any], int]
    ) -> list[Any]:
        """The input partitions stalled now (and forget partitions no longer assigned)."""
        now = self.clock()
        mine = {tp for tp in assignment if tp.topic == self.topic}
        for tp in set(self._seen) - mine:
            del self._seen[tp]
        stuck = []
        for tp in sorted(mine):
            offset = committed.get(tp)
            last, since = self._seen.get(tp, (None, now))
            if offset != last or tp not in self._seen:
                self._seen[tp] = (offset, now)
                continue
            if end(tp) > (offset or 0) and now - since >= STALL_S:
                stuck.append(tp)
                self._seen[tp] = (offset, now)  # at most one heal per STALL_S
        return stuck

    def reset(self) -> None:
        """Forget progress (a rebalance moves offsets and assignments)."""
        self._seen.clear()


def guard_app(app: Any, topic: str, counters: Any, clock: Callable[[], float]) -> None:
    """Run a ``StallGuard`` on ``app``'s consumer for ``topic`` as an app timer."""
    guard = StallGuard(topic, clock)

    async def check() -> None:
        consumer = app.consumer
        if app.rebalancing or not consumer.flow_active:
            guard.reset()
            return
        stuck = guard.stalled(
            consumer.assignment(), dict(consumer._committed_offset), consumer.highwater
        )
        if stuck:
            counters["input_stalls_healed"] += 1
            log.warning(
                "input partitions stalled; seeking back to their committed offsets",
                partitions=[tp.partition for tp in stuck],
                stalled_s=STALL_S,
            )
            await consumer.perform_seek()  # as a recovery does: positions and read offsets

    app.timer(interval=CHECK_EVERY_S, name="input-stall-guard")(check)
