"""Decisions -> the alert and throttle topics (keys ``entity_type:entity_id``)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from models.decide import Decision
from streams.failpoints import Failpoints

log = structlog.get_logger(__name__)

AlertListener = Callable[[dict[str, Any]], None]


class DecisionSender:
    """Publishes what a decision says, for every agent; the ids inside make retries and
    replays idempotent. ``on_alert`` listeners (the API's recent-alert feed) see each alert
    as sent, so this low-level sender knows nothing about HTTP."""

    def __init__(
        self,
        alerts_topic: Any,
        throttle_topic: Any,
        counters: Counter[str],
        failpoints: Failpoints | None = None,
    ) -> None:
        self._alerts = alerts_topic
        self._failpoints = failpoints or Failpoints()
        self._throttle = throttle_topic
        self._counters = counters
        self._listeners: list[AlertListener] = []

    def on_alert(self, listener: AlertListener) -> None:
        self._listeners.append(listener)

    async def send(self, decision: Decision) -> list[Any]:
        """Queue what ``decision`` says; returns the deliveries to await (each resolves once
        the broker has the record) for a caller that must not persist state before them."""
        now = time.time()
        deliveries: list[Any] = []
        if decision.alert is not None:
            alert = decision.alert
            wire = alert.to_wire(now)
            deliveries.append(
                await self._alerts.send(key=alert.key.encode(), value=orjson.dumps(wire))
            )
            self._counters["alerts"] += 1
            for listener in self._listeners:
                listener(wire)
            log.info(
                "alert",
                entity=alert.key,
                severity=alert.severity,
                score=round(alert.score, 3),
                reason=alert.reasons[0]["detail"] if alert.reasons else None,
                shadow=alert.shadow,
            )
        if decision.command is not None:
            if decision.alert is not None:
                self._failpoints.reach("after_alert")
            command = decision.command
            deliveries.append(
                await self._throttle.send(
                    key=command.key.encode(), value=orjson.dumps(command.to_wire(now))
                )
            )
            self._counters["commands"] += 1
            log.info("command", entity=command.key, action=command.action, ttl_s=command.ttl_s)
        return deliveries
