"""A guard against consumed partitions that stop after a rebalance.

Seen here (2026-12, faust-streaming 0.15.3): after a restart or a failover, now and then one
assigned partition stops for good while the group is stable, ``/ready`` is green and the
other partitions flow (faust-streaming #629 looks like the same bug). It takes two forms:

- *delivery*: the partition delivers nothing more although records are behind it;
- *commit*: records are delivered and processed, but its committed offset never moves again
  (an offset that never gets acked holds every later one back), so the group never catches up
  and a restart would replay everything since.

Every few seconds the guard compares, for each assigned partition of the topics it watches,
the last offset delivered to the agent, the committed offset and the partition's end. While
the broker answers and nothing rebalances or recovers, a partition with records behind what
it delivered and nothing delivered for ``STALL_S`` is put back among the partitions the
consumer fetches (a stream buffer's high-pressure mark or a recovery pause that was never
lifted leaves it assigned but unfetched) and sought to where delivery stopped: at most the
last delivered record comes again. A partition whose commit has not moved for ``STALL_S``
with delivered records beyond it is sought back to the committed offset: its records come
again and are acked again, and the agent skips what its state already holds
(``models.replay``), or folds it again without change (the campaign registry).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import structlog

log = structlog.get_logger(__name__)

STALL_S: Final = 30.0
CHECK_EVERY_S: Final = 5.0

StallKind = Literal["delivery", "commit"]


@dataclass(frozen=True, slots=True)
class Position:
    """What a partition had last delivered and the furthest it had committed, and since
    when each was unchanged."""

    delivered: int | None
    committed: int | None
    delivered_since: float
    committed_since: float


@dataclass(frozen=True, slots=True)
class Stall:
    """One stalled partition and how it stalled."""

    tp: Any
    kind: StallKind


@dataclass
class StallGuard:
    """Tracks, per watched partition, the delivered and committed offsets and when each
    last moved."""

    topics: frozenset[str]
    clock: Callable[[], float]
    _seen: dict[Any, Position] = field(default_factory=dict)

    def watched(self, assignment: Collection[Any]) -> list[Any]:
        return sorted(tp for tp in assignment if tp.topic in self.topics)

    def stalled(
        self,
        watched: list[Any],
        delivered: Mapping[Any, int | None],
        committed: Mapping[Any, int | None],
        ends: Mapping[Any, int],
    ) -> list[Stall]:
        """The partitions stalled now, at most one report per partition per ``STALL_S``
        (and forget partitions no longer watched). ``committed`` is the next offset to
        consume, as Kafka commits it; ``delivered`` the last offset handed to the agent."""
        now = self.clock()
        for tp in set(self._seen) - set(watched):
            del self._seen[tp]
        stalls = []
        for tp in watched:
            read, done = delivered.get(tp), committed.get(tp)
            last = self._seen.get(tp)
            if last is None:
                self._seen[tp] = Position(read, done, now, now)
                continue
            read_since = last.delivered_since if read == last.delivered else now
            # Progress is a commit beyond the furthest seen: a seek back to the broker's
            # committed offset moves the local one back, and must not count as progress.
            advanced = (done or 0) > (last.committed or 0)
            done_since = now if advanced else last.committed_since
            last_read = read if read is not None else -1
            if ends.get(tp, 0) > last_read + 1 and now - read_since >= STALL_S:
                stalls.append(Stall(tp, "delivery"))
                read_since = now
            elif (
                read is not None
                and ends.get(tp, 0) > (done or 0) <= read  # delivered records not committed
                and now - done_since >= STALL_S
            ):
                stalls.append(Stall(tp, "commit"))
                done_since = now
            furthest = max(done or 0, last.committed or 0)
            self._seen[tp] = Position(read, furthest, read_since, done_since)
        return stalls

    def reset(self) -> None:
        """Forget progress (a rebalance moves offsets and assignments)."""
        self._seen.clear()


@dataclass(frozen=True, slots=True)
class StalledPartition:
    """Why a stalled partition was not delivering or committing, as the consumer saw it (for
    the log)."""

    partition: str
    kind: StallKind
    delivered: int | None
    committed: int | None
    end: int
    fetching: bool  # among the partitions the consumer fetches
    paused: bool  # paused by Faust (recovery pauses active partitions until it is done)
    buffered: bool  # dropped from fetching by a stream buffer's high-pressure mark
    acked_waiting: int  # acked offsets held back from the commit by an earlier one
    first_acked_waiting: int | None


def diagnose(consumer: Any, stall: Stall, delivered: int | None, end: int) -> StalledPartition:
    """What ``consumer`` (a Faust consumer) knows of the stalled partition."""
    tp = stall.tp
    acked = sorted(consumer._acked.get(tp) or ())
    return StalledPartition(
        partition=f"{tp.topic}:{tp.partition}",
        kind=stall.kind,
        delivered=delivered,
        committed=consumer._committed_offset.get(tp),
        end=end,
        fetching=tp in consumer._get_active_partitions(),
        paused=tp in consumer._paused_partitions,
        buffered=tp in consumer._buffered_partitions,
        acked_waiting=len(acked),
        first_acked_waiting=acked[0] if acked else None,
    )


def unstick(consumer: Any, tp: Any) -> None:
    """Put ``tp`` back among the partitions ``consumer`` (a Faust consumer) fetches."""
    if tp not in consumer._get_active_partitions():
        consumer._buffered_partitions.discard(tp)
        consumer.resume_partitions([tp])


async def end_offsets(consumer: Any, watched: list[Any]) -> dict[Any, int]:
    """Each partition's end: the high watermark of its last fetch response while the
    consumer fetches it, else the broker's end offset (a partition out of the fetched set
    has a stale or no local watermark). Asking the broker only then matters: aiokafka's end
    offsets request retries metadata in a tight loop for its whole timeout when the broker
    has just gone (a worker at 92% of a core through an outage in CI)."""
    fetching = consumer._get_active_partitions()
    ends: dict[Any, int] = {}
    for tp in watched:
        local = consumer.highwater(tp) if tp in fetching else None
        if local is not None:
            ends[tp] = local
    missing = [tp for tp in watched if tp not in ends]
    if missing:
        ends.update(await consumer.highwaters(*missing))
    return ends


def guard_app(
    app: Any,
    topics: frozenset[str],
    counters: Any,
    reachable: Callable[[], bool],
    clock: Callable[[], float],
) -> None:
    """Run a ``StallGuard`` over ``topics`` on ``app``'s consumer as an app timer. Every one
    of ``topics`` must be replay-safe: a commit stall is healed by consuming it again."""
    guard = StallGuard(topics, clock)

    async def check() -> None:
        consumer = app.consumer
        if app.rebalancing or app.in_recovery or not consumer.flow_active or not reachable():
            guard.reset()
            return
        watched = guard.watched(consumer.assignment())
        if not watched:
            return
        delivered = dict(consumer._read_offset)
        committed = {tp: consumer._committed_offset.get(tp) for tp in watched}
        ends = await end_offsets(consumer, watched)
        for stall in guard.stalled(watched, delivered, committed, ends):
            tp = stall.tp
            seen = diagnose(consumer, stall, delivered.get(tp), ends.get(tp, 0))
            if stall.kind == "delivery":
                unstick(consumer, tp)
                to = seen.delivered if seen.delivered is not None else seen.committed or 0
            else:
                to = seen.committed or 0
            counters[f"stalls.{stall.kind}"] += 1
            log.warning(
                f"partition stalled; consuming it again from {to}",
                stalled_s=STALL_S,
                **asdict(seen),
            )
            await consumer.seek(tp, to)

    app.timer(interval=CHECK_EVERY_S, name="stall-guard")(check)
