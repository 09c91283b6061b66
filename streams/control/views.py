"""The worker's HTTP API (documented in docs/openapi.yaml): policy, entities, alerts,
health, and the operator page. Policy writes need ``Authorization: Bearer $DG_API_TOKEN``;
with no token configured, writes are refused."""

from __future__ import annotations

import asyncio
import hmac
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from faust.web import Request, Response, View

from models.policy import PolicyError
from streams.app import app, settings
from streams.control import policy_holder
from streams.control.changes import PolicyConflict, change_policy
from streams.control.entities import ENTITY_TYPES, describe
from streams.control.recent import recent_alerts

PAGE = Path(__file__).with_name("operator.html")
SSE_KEEPALIVE_S = 15.0


def _problem(view: View, status: int, error: str) -> Response:
    return view.json({"error": error}, status=status)


def _authorised(request: Request) -> str | None:
    """None when the request may write, else why not."""
    token = settings.api_token
    if token is None:
        return "policy writes are disabled: set DG_API_TOKEN on the worker"
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given, token.reveal()):
        return "missing or wrong bearer token"
    return None


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = int(raw)  # ValueError -> 400 by the caller
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


@app.page("/health")
class Health(View):
    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"})


@app.page("/ready")
class Ready(View):
    async def get(self, request: Request) -> Response:
        checks = {
            "policy_loaded": policy_holder.loaded.is_set(),
            "tables_recovered": app.tables.recovery.completed.is_set(),  # type: ignore[attr-defined]
            "not_rebalancing": not app.rebalancing,
        }
        ready = all(checks.values())
        return self.json({"ready": ready, "checks": checks}, status=200 if ready else 503)


@app.page("/policy")
class PolicyView(View):
    async def get(self, request: Request) -> Response:
        return self.json(policy_holder.current.to_dict())

    async def patch(self, request: Request) -> Response:
        denied = _authorised(request)
        if denied is not None:
            status = 403 if settings.api_token is None else 401
            return _problem(self, status, denied)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            return _problem(self, 400, f"body is not JSON: {exc}")
        if not isinstance(body, dict):
            return _problem(self, 400, "body must be a JSON object")
        unknown = sorted(set(body) - {"changes", "reason", "actor", "expected_version"})
        if unknown:
            return _problem(self, 400, f"unknown field(s): {', '.join(unknown)}")
        expected = body.get("expected_version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            return _problem(self, 400, "expected_version must be an integer")
        try:
            policy = await change_policy(
                body.get("changes"),  # type: ignore[arg-type]  # validated inside
                body.get("reason", ""),
                str(body.get("actor") or "api"),
                expected,
            )
        except PolicyConflict as exc:
            return _problem(self, 409, str(exc))
        except PolicyError as exc:
            return _problem(self, 400, str(exc))
        return self.json(policy.to_dict())


@app.page("/entities/{entity_type}/{entity_id}")
class EntityView(View):
    async def get(self, request: Request, entity_type: str, entity_id: str) -> Response:
        if entity_type not in ENTITY_TYPES:
            return _problem(self, 400, f"entity type must be one of {', '.join(ENTITY_TYPES)}")
        doc = describe(entity_type, entity_id)
        if doc is None:
            return _problem(self, 404, f"{entity_type} {entity_id} is not known to this worker")
        return self.json(doc)


@app.page("/entities")
class RiskiestView(View):
    async def get(self, request: Request) -> Response:
        entity_type = request.query.get("type", "account")
        if entity_type not in ENTITY_TYPES:
            return _problem(self, 400, f"type must be one of {', '.join(ENTITY_TYPES)}")
        try:
            limit = _int(request, "limit", 10, 1, 100)
        except ValueError as exc:
            return _problem(self, 400, str(exc))
        return self.json({"entities": recent_alerts.riskiest(entity_type, limit)})


@app.page("/alerts/recent")
class RecentAlertsView(View):
    async def get(self, request: Request) -> Response:
        entity_type = request.query.get("entity_type") or None
        try:
            limit = _int(request, "limit", 50, 1, 500)
            min_score = float(request.query.get("min_score", "0"))
        except ValueError as exc:
            return _problem(self, 400, str(exc))
        if entity_type is not None and entity_type not in ENTITY_TYPES:
            return _problem(self, 400, f"entity_type must be one of {', '.join(ENTITY_TYPES)}")
        return self.json({"alerts": recent_alerts.latest(limit, entity_type, min_score)})


@app.page("/alerts/stream")
class AlertStream(View):
    """Server-sent events: one ``alert`` event per alert this worker emits."""

    async def get(self, request: Request) -> Any:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)  # type: ignore[arg-type]  # aiohttp's request
        queue = recent_alerts.subscribe()
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    alert = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                await response.write(b"event: alert\ndata: " + orjson.dumps(alert) + b"\n\n")
        except ConnectionResetError:
            pass  # the page went away; a cancelled handler propagates (and unsubscribes)
        finally:
            recent_alerts.unsubscribe(queue)
        return response


@app.page("/")
class OperatorPage(View):
    async def get(self, request: Request) -> Response:
        return self.html(PAGE.read_text())
