"""Decisions -> the alert and throttle topics (keys ``entity_type:entity_id``)."""

from __future__ import annotations

import time

import orjson
import structlog

from models.decide import Decision
from streams.control.recent import recent_alerts
from streams.topics import alerts_topic, throttle_topic

log = structlog.get_logger(__name__)


async def send_decision(decision: Decision) -> None:
    """Publish what a decision says; the ids inside make retries and replays idempotent."""
    now = time.time()
    if decision.alert is not None:
        alert = decision.alert
        wire = alert.to_wire(now)
        await alerts_topic.send(key=alert.key.encode(), value=orjson.dumps(wire))
        recent_alerts.add(wire)
        log.info(
            "alert",
            entity=alert.key,
            severity=alert.severity,
            score=round(alert.score, 3),
            reason=alert.reasons[0]["detail"] if alert.reasons else None,
            shadow=alert.shadow,
        )
    if decision.command is not None:
        command = decision.command
        await throttle_topic.send(
            key=command.key.encode(), value=orjson.dumps(command.to_wire(now))
        )
        log.info("command", entity=command.key, action=command.action, ttl_s=command.ttl_s)
