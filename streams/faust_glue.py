"""What every agent shares on top of Faust: JSON tables, batches, and partition context."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Final, cast

import faust
import structlog
from faust import streams as faust_streams
from faust.streams import Stream
from faust.types import EventT, StreamT

from streams.settings import Settings

log = structlog.get_logger(__name__)

JSON_SCHEMA: Final[faust.Schema[Any, Any]] = faust.Schema(
    key_serializer="json", value_serializer="json"
)
# RocksDB's default block cache is 2 GiB per DB (one DB per partition), which would not fit.
ROCKSDB_BLOCK_CACHE: Final = 32 * 1024 * 1024


def json_table(
    app: faust.App, settings: Settings, name: str, help: str, store: str | None = None
) -> Any:
    """A changelogged table of JSON values, co-partitioned with the input topic (in the
    configured store unless ``store`` overrides it)."""
    rocksdb = store is None and settings.store == "rocksdb://"
    return app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        schema=JSON_SCHEMA,
        help=help,
        store=store,
        options={"block_cache_size": ROCKSDB_BLOCK_CACHE} if rocksdb else {},
    )


def use_partition_of(event: EventT[Any]) -> None:
    """Make table reads and writes in this task use ``event``'s partition.

    Sets only Faust's per-task context variable that tables read, never the stream's shared
    ``current_event`` attribute: ``take_events`` pairs each value arriving while a batch is
    being processed with that attribute, so overwriting it mid-batch would record the wrong
    event for the next value (one event lost, another processed twice)."""
    faust_streams._current_event.set(weakref.ref(event))


def batches(stream: StreamT[Any], settings: Settings) -> AsyncIterator[Sequence[EventT[Any]]]:
    """The agents' unit of work: up to DG_BATCH_MAX events, or what came within
    DG_BATCH_WITHIN_S (one table write per entity per batch, not per event)."""
    concrete = cast(Stream[Any], stream)  # take_events is on the class, not the protocol
    return concrete.take_events(settings.batch_max, within=settings.batch_within_s)


async def each_internal_event(
    events: Sequence[EventT[Any]], handle: Callable[[EventT[Any]], Awaitable[None]]
) -> None:
    """Handle a batch of an internal topic one event at a time, each with its partition set
    for table writes. A record that fails is logged and skipped, never fatal: internal
    records are our own, so a failure is a bug to fix, not input to dead-letter."""
    for event in events:
        use_partition_of(event)
        try:
            await handle(event)
        except Exception:
            log.exception("internal record failed", topic=event.message.topic)
