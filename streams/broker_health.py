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

log = structlog.get_logger(__name__)

PROBE_EVERY_S: Final = 2.0
PROBE_TIMEOUT_S: Final = 3.0
# Reachable while the last answer is this recent (two probes may be lost to a slow broker).
UNHEALTHY_AFTER_S: Final = 3 * PROBE_EVERY_S + PROBE_TIMEOUT_S


class BrokerProbe:
    def __init__(self, connection: Callable[[], dict[str, Any]]) -> None:
        self._connection = connection
        self._last_ok: float | None = None
        self._down_since: float | None = None

    def reachable(self) -> bool:
        return self._last_ok is not None and time.monotonic() - self._last_ok < UNHEALTHY_AFTER_S

    async def run(self) -> None:
        """Probe forever (a task of the app); transitions are logged once each."""
        client = AIOKafkaClient(
            request_timeout_ms=int(PROBE_TIMEOUT_S * 1000), **self._connection()
        )
        try:
            while True:
                await self._probe(client)
                await asyncio.sleep(PROBE_EVERY_S)
        finally:
            await client.close()

    async def _probe(self, client: AIOKafkaClient) -> None:
        try:
            # bootstrap() learns the brokers (and is the request itself, the first time);
            # afterwards a metadata request to any known broker answers.
            request = client.fetch_all_metadata() if self._last_ok else client.bootstrap()
            await asyncio.wait_for(request, PROBE_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._down_since is None and not self.reachable():
                self._down_since = time.monotonic()
                log.warning("broker unreachable", error=type(exc).__name__)
            return
        if self._down_since is not None:
            log.info(
                "broker reachable again", after_s=round(time.monotonic() - self._down_since, 1)
            )
            self._down_since = None
        self._last_ok = time.monotonic()
