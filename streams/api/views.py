"""The worker's HTTP API (documented in docs/openapi.yaml): policy, entities, alerts,
health, stats and the operator page, on one blueprint built around the app's collaborators.
Policy writes need ``Authorization: Bearer $DG_API_TOKEN``; with no token configured,
writes are refused."""

from __future__ import annotations

import asyncio
import hmac
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import orjson
from aiohttp import web
from faust.web import Blueprint, Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.policy import ENTITY_TYPES, PolicyError
from streams.api.entities import EntityDescriber
from streams.api.metrics import WorkerCollector, worker_registry
from streams.api.recent import RecentAlerts
from streams.control.changes import PolicyChanges, PolicyConflict, PolicyTooLarge
from streams.control.policy import PolicyHolder
from streams.settings import Secret

PAGE = Path(__file__).with_name("operator.html")
SSE_KEEPALIVE_S = 15.0
# A policy change is a few keys or two bounded lists (models.policy.MAX_LIST_ENTRIES).
MAX_BODY_BYTES: Final = 1_000_000


def _problem(view: View, status: int, error: str) -> Response:
    return view.json({"error": error}, status=status)


@dataclass(frozen=True, slots=True)
class Api:
    """What the views read and change: one app's collaborators."""

    policy: PolicyHolder
    changes: PolicyChanges
    entities: EntityDescriber
    recent: RecentAlerts
    counters: Counter[str]
    view_sizes: Callable[[], dict[str, int]]  # broadcast views' sizes for /stats
    ready_checks: Callable[[], dict[str, bool]]
    api_token: Secret | None


def _authorised(request: Request, token: Secret | None) -> str | None:
    """None when the request may write, else why not."""
    if token is None:
        return "policy writes are disabled: set DG_API_TOKEN on the worker"
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    # Bytes, not str: compare_digest raises on non-ASCII str (a 500 before authentication).
    given_bytes, expected = given.encode("utf-8", "surrogateescape"), token.reveal().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given_bytes, expected):
        return "missing or wrong bearer token"
    return None


async def _read_body(view: View, request: Request) -> bytes | Response:
    """The request body, or the answer to give instead: 413 when it is over the server's
    ``client_max_size`` (``streams.app`` sets it to ``MAX_BODY_BYTES``; aiohttp stops
    reading there), 400 when it does not decode (e.g. ``Content-Encoding: gzip`` on a body
    that is not gzip: aiohttp raises, which was a 500)."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(view, 413, f"body over {MAX_BODY_BYTES:,} bytes")
    except web.RequestPayloadError:
        encoding = request.headers.get("Content-Encoding", "none")
        # The broken body is over: else aiohttp reads it again after the answer, to drain the
        # connection, and logs that error as unhandled; the connection closes after the 400.
        cast(web.Request, request).content.feed_eof()
        answer = _problem(view, 400, f"body could not be read (Content-Encoding: {encoding})")
        cast(web.Response, answer).force_close()
        return answer


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = int(raw)  # ValueError -> 400 by the caller
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def api_blueprint(api: Api) -> Blueprint:
    """Every route of the API, bound to ``api``; register it with ``blueprint.register(app)``."""
    blueprint = Blueprint("distillguard")

    @blueprint.route("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @blueprint.route("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            checks = api.ready_checks()
            ready = all(checks.values())
            return self.json({"ready": ready, "checks": checks}, status=200 if ready else 503)

    @blueprint.route("/policy")
    class PolicyView(View):
        async def get(self, request: Request) -> Response:
            return self.json(api.policy.current.to_dict())

        async def patch(self, request: Request) -> Response:
            denied = _authorised(request, api.api_token)
            if denied is not None:
                status = 403 if api.api_token is None else 401
                return _problem(self, status, denied)
            raw = await _read_body(self, request)
            if not isinstance(raw, bytes):
                return raw
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                return _problem(self, 400, f"body is not JSON: {exc}")
            if not isinstance(body, dict):
                return _problem(self, 400, "body must be a JSON object")
            unknown = sorted(set(body) - {"changes", "reason", "actor", "expected_version"})
            if unknown:
                return _problem(self, 400, f"unknown field(s): {', '.join(unknown)}")
            expected = body.get("expected_version")
            if expected is not None and (
                isinstance(expected, bool) or not isinstance(expected, int)
            ):
                return _problem(self, 400, "expected_version must be an integer")
            # The audit record keeps who changed the policy as given, not a str() of anything.
            actor = body.get("actor")
            if actor is not None and not isinstance(actor, str):
                return _problem(self, 400, "actor must be a string")
            try:
                policy = await api.changes.change(
                    body.get("changes"),  # type: ignore[arg-type]  # validated inside
                    body.get("reason", ""),
                    actor or "api",
                    expected,
                )
            except PolicyConflict as exc:
                return _problem(self, 409, str(exc))
            except PolicyTooLarge as exc:
                return _problem(self, 413, str(exc))
            except PolicyError as exc:
                return _problem(self, 400, str(exc))
            return self.json(policy.to_dict())

    @blueprint.route("/entities/{entity_type}/{entity_id}")
    class EntityView(View):
        async def get(self, request: Request, entity_type: str, entity_id: str) -> Response:
            if entity_type not in ENTITY_TYPES:
                return _problem(self, 400, f"entity type must be one of {', '.join(ENTITY_TYPES)}")
            doc = api.entities.describe(entity_type, entity_id)
            if doc is None:
                return _problem(self, 404, f"{entity_type} {entity_id} is not known to this worker")
            return self.json(doc)

    @blueprint.route("/entities")
    class RiskiestView(View):
        async def get(self, request: Request) -> Response:
            entity_type = request.query.get("type", "account")
            if entity_type not in ENTITY_TYPES:
                return _problem(self, 400, f"type must be one of {', '.join(ENTITY_TYPES)}")
            try:
                limit = _int(request, "limit", 10, 1, 100)
            except ValueError as exc:
                return _problem(self, 400, str(exc))
            return self.json({"entities": api.recent.riskiest(entity_type, limit)})

    @blueprint.route("/alerts/recent")
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
            return self.json({"alerts": api.recent.latest(limit, entity_type, min_score)})

    @blueprint.route("/alerts/stream")
    class AlertStream(View):
        """Server-sent events: one ``alert`` event per alert this worker emits."""

        async def get(self, request: Request) -> Any:
            response = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
            )
            await response.prepare(request)  # type: ignore[arg-type]  # aiohttp's request
            queue = api.recent.subscribe()
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
                api.recent.unsubscribe(queue)
            return response

    @blueprint.route("/")
    class OperatorPage(View):
        async def get(self, request: Request) -> Response:
            return self.html(PAGE.read_text())

    @blueprint.route("/stats")
    class Stats(View):
        """What this worker has processed, dead-lettered and decided (since start)."""

        async def get(self, request: Request) -> Response:
            body: dict[str, Any] = {
                "counters": dict(sorted(api.counters.items())),
                **api.view_sizes(),
                "policy_version": api.policy.current.version,
            }
            return self.json(body)

    registry = worker_registry(
        WorkerCollector(api.counters, api.ready_checks, api.view_sizes, api.policy)
    )

    @blueprint.route("/metrics")
    class Metrics(View):
        """The same counters as /stats, for Prometheus."""

        async def get(self, request: Request) -> Response:
            # As a header: aiohttp refuses a content_type argument with a charset (a 500).
            headers = {"Content-Type": CONTENT_TYPE_LATEST}
            return self.bytes(generate_latest(registry), headers=headers)

    return blueprint
