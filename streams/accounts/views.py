"""``GET /stats``: what this worker has processed, dead-lettered and decided (counters since
start), for operators and health checks."""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from streams.accounts.agents import campaign_view, counters, network_risk
from streams.app import app
from streams.control import policy_holder


@app.page("/stats")
class Stats(View):
    async def get(self, request: Request) -> Response:
        body: dict[str, Any] = {
            "counters": dict(sorted(counters.items())),
            "networks_with_risk": len(network_risk),
            "accounts_in_campaigns": len(campaign_view),
            "policy_version": policy_holder.current.version,
        }
        return self.json(body)
