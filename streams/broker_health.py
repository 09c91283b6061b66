"""Is the broker answering? A metadata request every few seconds, so ``/ready`` turns 503
during an outage (the Faust consumer and producer retry silently, and a worker that cannot
reach Kafka must not be routed traffic or counted as healthy)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

import structlog
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.metadata import MetadataRequest_v1

log = structlog.get_logger(__name__)

PROBE_EVERY_S: Final = 2.0
PROBE_TIMEOUT_S: Final = 3.0
# Reachable while the last answer is this recent (two probes may be lost to a slow broker).
UNHEALTHY_AFTER_S: Final = 3 * PROBE_EVERY_S + PROBE_TIMEOUT_S
BROKERS_ONLY: Final = MetadataRequest_v1(topics=[])  # an empty list: no topic's metadata


class BrokerProbe:
    def __init__(self, connection: Callable[[], dict[str, Any]]) -> None:
        self._connection = connection
        self._last_ok: float | None = None
        self._down_since: float | None = None

    def reachable(self) -> bool:
        return self._last_ok is not None and time.monotonic() - self._last_ok < UNHEALTHY_AFTER_S

    async def run(self) -> None:
        """Probe forever (a task of the app); transitions are logged once each. A failed
        probe drops its client: the next one connects and bootstraps afresh (a restarted
        broker is not reached through the old client's dead connections)."""
        client: AIOKafkaClient | None = None
        try:
            while True:
                if client is None:
                    client = AIOKafkaClient(
                        request_timeout_ms=int(PROBE_TIMEOUT_S * 1000), **self._connection()
                    )
                    fresh = True
                if not await self._probe(client, fresh):
                    await client.close()
                    client = None
                fresh = False
                await asyncio.sleep(PROBE_EVERY_S)
        finally:
            if client is not None:
                await client.close()

    async def _probe(self, client: AIOKafkaClient, fresh: bool) -> bool:
        try:
            # A fresh client bootstraps (that is the request); afterwards a metadata request
            # for no topic (brokers only: cheap on a cluster of thousands of topics).
            if fresh:
                await asyncio.wait_for(client.bootstrap(), PROBE_TIMEOUT_S)
            else:
                node = client.get_random_node()
                await asyncio.wait_for(client.send(node, BROKERS_ONLY), PROBE_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._down_since is None and not self.reachable():
                self._down_since = time.monotonic()
                log.warning("broker unreachable", error=type(exc).__name__)
            return False
        if self._down_since is not None:
            log.info(
                "broker reachable again", after_s=round(time.monotonic() - self._down_since, 1)
            )
            self._down_since = None
        self._last_ok = time.monotonic()
        return True
