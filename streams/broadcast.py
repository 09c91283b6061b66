"""Read a whole compacted topic in every worker, forever: how evidence owned by one worker
(a network's risk, a campaign's members) reaches the account scoring on all of them.

A plain consumer outside any group (Faust's GlobalTable has known recovery bugs); each
record is handed to ``apply`` (a ``None`` value is a tombstone). The view lags its owner by
about one batch, and a bad record is logged and skipped, never fatal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer

log = structlog.get_logger(__name__)


async def follow_compacted(
    topic: str,
    connection: dict[str, Any],
    apply: Callable[[bytes | None, bytes | None], None],
    caught_up: asyncio.Event | None = None,
) -> None:
    """Apply every record of ``topic`` from the beginning; reconnects are aiokafka's job.
    ``caught_up`` is set at the first poll that finds nothing new (the end was reached)."""
    consumer = AIOKafkaConsumer(
        topic,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **connection,
    )
    await consumer.start()
    log.info("following compacted topic", topic=topic)
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches and caught_up is not None:
                caught_up.set()
            for message in (m for batch in batches.values() for m in batch):
                try:
                    apply(message.key, message.value)
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("bad record", topic=topic, error=str(exc), offset=message.offset)
    except asyncio.CancelledError:
        raise
    finally:
        await consumer.stop()
