"""The Faust app: one instance per worker process, configured from the environment."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Final, cast

import faust
import structlog
from faust import streams as faust_streams
from faust.streams import Stream
from faust.types import EventT, StreamT

from streams.settings import Settings, load_settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings`` (aiokafka transport: the confluent driver drops
    headers and timestamps and partitions with Python's ``hash()``)."""
    return faust.App(
        settings.app_id,
        broker=settings.kafka.faust_broker_url(),
        broker_credentials=settings.kafka.faust_credentials(),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        key_serializer="raw",
        value_serializer="raw",
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        # One worker must not spend start-up waiting for a standby that may never come.
        table_standby_replicas=0,
        # ~500 records a poll avoids consumer stalls on busy partitions.
        broker_max_poll_records=500,
        # At-least-once: a crash replays at most one interval (ids make replays idempotent).
        broker_commit_interval=settings.commit_interval_s,
        producer_linger_ms=5,
        consumer_auto_offset_reset="earliest",
        loghandlers=[],
    )


def table_options(settings: Settings) -> dict[str, Any]:
    """Per-table store options: RocksDB's default block cache is 2 GiB per DB (one DB per
    partition), which would not fit; 32 MiB each keeps 8 partitions x 2 tables at 512 MiB."""
    return {"block_cache_size": 32 * 1024 * 1024} if settings.store == "rocksdb://" else {}


settings: Final = load_settings()
app: Final = create_app(settings)
JSON_SCHEMA: Final[faust.Schema[Any, Any]] = faust.Schema(
    key_serializer="json", value_serializer="json"
)


def json_table(name: str, help: str, store: str | None = None) -> Any:
    """A changelogged table of JSON values, co-partitioned with the input topic (in the
    configured store unless ``store`` overrides it)."""
    return app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        schema=JSON_SCHEMA,
        help=help,
        store=store,
        options=table_options(settings) if store is None else {},
    )


def use_partition_of(event: EventT[Any]) -> None:
    """Make table reads and writes in this task use ``event``'s partition.

    Sets only Faust's per-task context variable that tables read, never the stream's shared
    ``current_event`` attribute: ``take_events`` pairs each value arriving while a batch is
    being processed with that attribute, so overwriting it mid-batch recorded the wrong
    event for the next value (one event silently lost, another processed twice; seen once
    in CI under load)."""
    faust_streams._current_event.set(weakref.ref(event))


def batches(stream: StreamT[Any]) -> AsyncIterator[Sequence[EventT[Any]]]:
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
