"""Every network's current risk, in every worker: a broadcast read of a compacted topic.

The ASN agent owns each network on one worker, but every worker scores accounts of every
network, so each worker reads the whole compacted ``<app>-asn-risk`` topic with a plain
consumer outside any group (Faust's GlobalTable has known recovery bugs). The view lags the
ASN agent by about one batch; an account's decision uses the network risk it saw.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer

from models.scoring import NetworkEvidence

log = structlog.get_logger(__name__)


class NetworkRiskView:
    """asn -> NetworkEvidence, kept current by ``follow``."""

    def __init__(self) -> None:
        self._by_asn: dict[int, NetworkEvidence] = {}

    def get(self, asn: int) -> NetworkEvidence | None:
        return self._by_asn.get(asn)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of the compacted topic: a risk, or a tombstone (risk cleared)."""
        if key is None:
            return
        asn = int(key)
        if value is None:
            self._by_asn.pop(asn, None)
            return
        doc = orjson.loads(value)
        self._by_asn[asn] = NetworkEvidence(asn, float(doc["risk"]), str(doc["detail"]))

    def __len__(self) -> int:
        return len(self._by_asn)

    async def follow(self, topic: str, connection: dict[str, Any]) -> None:
        """Read the topic from the beginning, forever; reconnects are aiokafka's job."""
        consumer = AIOKafkaConsumer(
            topic,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **connection,
        )
        await consumer.start()
        log.info("following network risk", topic=topic)
        try:
            async for message in consumer:
                try:
                    self.apply(message.key, message.value)
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("bad network risk record", error=str(exc), offset=message.offset)
        except asyncio.CancelledError:
            raise
        finally:
            await consumer.stop()
