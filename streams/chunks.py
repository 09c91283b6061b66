"""Input in chunks through Faust: one Faust event per fetched run of one partition's records.

Faust pays ~94 us per message before an agent sees it (a ``wait_first`` per message in the
consumer, a lock per message in the conductor, the stream's acks). For the request topic the
consumer here yields one message per (partition, fetch) whose value is the run's records, so
that cost is paid once per run; every other topic (internal topics, changelogs) is delivered
record by record, as Faust does. Proven on faust-streaming 0.15.3 (pinned in pyproject).

Offsets stay right: a chunk message carries the offset of its last record. Faust registers
the offsets between two messages of a partition as a *gap* (treated as acked once a later
offset is acked), but it includes the delivered message's own offset in the gap, so that
offset is acked twice and the committed offset stalls at the duplicate. ``_add_gap`` here
leaves the delivered offset out, and a chunk registers its own earlier offsets when Faust
does not (the first message after an assignment). So a chunk is committed only once its
last record's event is acked, which happens after the agent has processed the whole chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, AppT, Message


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One input record inside a chunk (what the agent needs of a Kafka message)."""

    offset: int
    timestamp: float | None  # seconds
    key: bytes | None
    value: bytes | None


class ChunkedConsumer(faust_aiokafka.Consumer):
    """The aiokafka driver's consumer, delivering ``chunked_topics`` a run at a time."""

    chunked_topics: ClassVar[frozenset[str]] = frozenset()

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        records, active_partitions = await self._wait_next_records(timeout)
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            await self.perform_seek()  # as Faust's own getmany: resume from committed offsets
            return
        generation_id = self.app.consumer_generation_id
        for tp, batch in records.items():
            if not self.flow_active or self.app.consumer_generation_id != generation_id:
                break
            if not (
                active_partitions is None
                or tp in active_partitions
                or tp in self._buffered_partitions
            ):
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            if tp.topic not in self.chunked_topics or len(batch) < 2:
                for record in batch:
                    yield tp, self._to_message(tp, record)
                continue
            first, last = batch[0].offset, batch[-1].offset
            await super()._add_gap(tp, first, last - 1)  # offsets before the last one
            message = self._to_message(tp, batch[-1])
            message.value = [  # type: ignore[assignment]  # the raw codec passes it through
                RawRecord(
                    r.offset,
                    r.timestamp / 1000.0 if r.timestamp is not None else None,
                    r.key,
                    r.value,
                )
                for r in batch
            ]
            yield tp, message

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # Faust passes the delivered message's own offset as ``offset_to``; that message is
        # acked by itself, so it must not also be part of the gap (see the module doc).
        await super()._add_gap(tp, offset_from, offset_to - 1)


def chunked_transport(app: AppT, topics: frozenset[str]) -> faust_aiokafka.Transport:
    """The aiokafka transport for ``app`` with ``topics`` delivered in chunks."""
    consumer = type("Consumer", (ChunkedConsumer,), {"chunked_topics": topics})
    transport = type("Transport", (faust_aiokafka.Transport,), {"Consumer": consumer})
    made: Any = transport(app.conf.broker_consumer, app)
    return made  # type: ignore[no-any-return]
