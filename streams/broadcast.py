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
) -> None:
    """Apply every record of ``topic`` from the beginning; reconnects are aiokafka's job."""
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
        async for message in consumer:
            try:
                apply(message.key, message.value)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("bad record", topic=topic, error=str(exc), offset=message.offset)
    except asyncio.CancelledError:
        raise
    finally:
        await consumer.stop()
