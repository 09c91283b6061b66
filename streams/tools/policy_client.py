"""``distillguard policy ...``: read and change the live policy through a worker's API
(``DG_API_URL``; writes send ``DG_API_TOKEN`` as a bearer token; both from the settings)."""

from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.request
from typing import Any

import orjson

from streams.settings import load_settings


class ApiError(RuntimeError):
    """The worker refused the request (the message is its reason) or could not be reached."""


def api_url() -> str:
    return load_settings().api_url


def call(method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        api_url() + path, data=None if body is None else orjson.dumps(body), method=method
    )
    token = load_settings().api_token
    if token and method != "GET":
        req.add_header("Authorization", f"Bearer {token.reveal()}")
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return orjson.loads(res.read())
    except urllib.error.HTTPError as err:
        try:
            reason = orjson.loads(err.read())["error"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            reason = err.reason
        raise ApiError(f"{err.code}: {reason}") from None
    except urllib.error.URLError as err:
        raise ApiError(f"cannot reach the worker at {api_url()}: {err.reason}") from None


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with a JSON value (``0.7``, ``true``); bare words are strings."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return key, raw


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", required=True)
    sub.add_parser("show", help="print the policy in force")
    setter = sub.add_parser("set", help="change policy keys: key=value ...")
    setter.add_argument("assignments", nargs="+", type=parse_assignment, metavar="KEY=VALUE")
    setter.add_argument("--reason", required=True, help="why (recorded in the audit topic)")
    for name in ("allow", "deny"):
        lister = sub.add_parser(name, help=f"add an account, org or ASN to the {name} list")
        lister.add_argument("entity_type", choices=("account", "org", "asn"))
        lister.add_argument("entity_id")
        lister.add_argument("--reason", required=True)
        lister.add_argument("--expires-ts", type=float, default=None, help="event time (unix)")


def run(args: argparse.Namespace) -> int:
    try:
        policy = call("GET", "/policy") if args.policy_command == "show" else _change(args)
    except ApiError as exc:
        print(f"distillguard policy: {exc}")
        return 1
    print(orjson.dumps(policy, option=orjson.OPT_INDENT_2).decode())
    return 0


def _change(args: argparse.Namespace) -> Any:
    current = call("GET", "/policy")
    if args.policy_command == "set":
        changes = dict(args.assignments)
    else:
        entry = {
            "entity_type": args.entity_type,
            "entity_id": args.entity_id,
            "reason": args.reason,
            "expires_ts": args.expires_ts,
        }
        kept = [
            e
            for e in current[args.policy_command]
            if (e["entity_type"], e["entity_id"]) != (args.entity_type, args.entity_id)
        ]
        changes = {args.policy_command: [*kept, entry]}
    body = {
        "changes": changes,
        "reason": args.reason,
        "actor": f"cli:{os.environ.get('USER', 'unknown')}",
        "expected_version": current["version"],
    }
    return call("PATCH", "/policy", body)
