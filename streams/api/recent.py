"""The alerts this worker emitted lately, for the API and the operator page's live feed
(bounded: the last ``KEEP`` alerts; subscribers are the page's open event streams)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Final

KEEP: Final = 500
SUBSCRIBER_BACKLOG: Final = 100  # a slow page loses alerts beyond this, never the worker


class RecentAlerts:
    def __init__(self) -> None:
        self._alerts: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def add(self, alert: dict[str, Any]) -> None:
        self._alerts.append(alert)
        for queue in self._subscribers:
            if queue.qsize() < SUBSCRIBER_BACKLOG:
                queue.put_nowait(alert)

    def latest(
        self, limit: int, entity_type: str | None = None, min_score: float = 0.0
    ) -> list[dict[str, Any]]:
        """Newest first, filtered."""
        out = []
        for alert in reversed(self._alerts):
            if entity_type and alert["entity_type"] != entity_type:
                continue
            if alert["score"] < min_score:
                continue
            out.append(alert)
            if len(out) >= limit:
                break
        return out

    def riskiest(self, entity_type: str, limit: int) -> list[dict[str, Any]]:
        """Entities of a type by their highest recent alert score."""
        best: dict[str, dict[str, Any]] = {}
        for alert in self._alerts:
            if alert["entity_type"] != entity_type:
                continue
            seen = best.get(alert["entity_id"])
            if seen is None or alert["score"] >= seen["score"]:
                best[alert["entity_id"]] = alert
        ranked = sorted(best.values(), key=lambda a: a["score"], reverse=True)[:limit]
        return [
            {
                "entity_type": a["entity_type"],
                "entity_id": a["entity_id"],
                "score": a["score"],
                "severity": a["severity"],
                "reason": a["reasons"][0]["detail"] if a["reasons"] else "",
            }
            for a in ranked
        ]

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)
