"""Policy changes: validate, publish to the compacted control topic, audit, release.

A change is applied to this worker at once and reaches every other worker (and any worker
started later) through the control topic; the audit topic and the log keep who changed what,
when, from which value to which, and why. An invalid change raises ``PolicyError`` and
changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import orjson
import structlog

from models.decide import Decision, release_command
from models.policy import Policy, PolicyError
from streams.control.policy import PolicyHolder
from streams.emit import DecisionSender

log = structlog.get_logger(__name__)


# Control and audit records must fit one Kafka message (the producer's limit is 1 MiB).
MAX_RECORD_BYTES: Final = 900_000
# A list value in the "policy changed" log line is summarised beyond this many entries.
LOGGED_LIST_ENTRIES: Final = 3


class PolicyConflict(PolicyError):
    """The change was written against an older version than the one in force."""


class PolicyTooLarge(PolicyError):
    """The new policy or its audit record would not fit one Kafka message."""


def policy_diff(old: Policy, new: Policy) -> dict[str, dict[str, Any]]:
    """Dotted key -> {"old", "new"} for every value that differs (version excluded)."""
    before, after = _flatten(old.to_dict()), _flatten(new.to_dict())
    return {
        key: {"old": before.get(key), "new": after.get(key)}
        for key in sorted(set(before) | set(after))
        if key != "version" and before.get(key) != after.get(key)
    }


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _loggable(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The changes for a log line: long lists summarised by their length."""

    def short(value: Any) -> Any:
        if isinstance(value, list) and len(value) > LOGGED_LIST_ENTRIES:
            return f"[{len(value):,} entries]"
        return value

    return {key: {side: short(v) for side, v in values.items()} for key, values in changes.items()}


class PolicyChanges:
    """Changes the policy of one app: its holder, control and audit topics, and sender."""

    def __init__(
        self, holder: PolicyHolder, control_topic: Any, audit_topic: Any, sender: DecisionSender
    ) -> None:
        self._holder = holder
        self._control = control_topic
        self._audit = audit_topic
        self._sender = sender
        # One change at a time per worker: the version check, the writes and the new policy
        # in force are one step, so concurrent changes against one version have one winner.
        self._one_at_a_time = asyncio.Lock()

    async def change(
        self,
        changes: dict[str, Any],
        reason: str,
        actor: str,
        expected_version: int | None = None,
    ) -> Policy:
        """Apply dotted-key ``changes`` (validated) and publish the new policy everywhere."""
        async with self._one_at_a_time:
            return await self._change(changes, reason, actor, expected_version)

    async def _change(
        self, changes: dict[str, Any], reason: str, actor: str, expected_version: int | None
    ) -> Policy:
        current = self._holder.current
        if not isinstance(changes, dict) or not changes:
            raise PolicyError("changes must be a non-empty object of dotted keys to values")
        if not isinstance(reason, str) or not reason.strip():
            raise PolicyError("reason is required: say why the policy changes")
        if expected_version is not None and expected_version != current.version:
            raise PolicyConflict(
                f"policy is at version {current.version}, the change was made against "
                f"{expected_version}; re-read it and retry"
            )
        new = current.with_changes(changes)
        now = time.time()
        record = {
            "schema": "control.v1",
            "policy": new.to_dict(),
            "actor": actor,
            "reason": reason,
            "changed_at": now,
        }
        diff = policy_diff(current, new)
        audit = {
            "schema": "audit.v1",
            "actor": actor,
            "at": now,
            "reason": reason,
            "old_version": current.version,
            "new_version": new.version,
            "changes": diff,
        }
        control_bytes, audit_bytes = orjson.dumps(record), orjson.dumps(audit)
        for name, size in (("policy", len(control_bytes)), ("audit record", len(audit_bytes))):
            if size > MAX_RECORD_BYTES:
                raise PolicyTooLarge(
                    f"the new {name} would be {size:,} bytes; at most {MAX_RECORD_BYTES:,} fit "
                    "one Kafka message (shorten the lists or their reasons)"
                )
        # Audit first: a control record at version v always has its audit record before it.
        await self._audit.send(key=b"policy", value=audit_bytes)
        await self._control.send(key=b"policy", value=control_bytes)
        log.info(
            "policy changed",
            **{k: v for k, v in audit.items() if k not in ("schema", "changes")},
            changes=_loggable(diff),
        )
        self._holder.current = new
        await self._release_newly_allowed(current, new, now)
        return new

    async def _release_newly_allowed(self, old: Policy, new: Policy, now: float) -> None:
        """A release command for each entity that became allow-listed (the gateway ignores a
        release for an entity it does not throttle)."""
        before = {(e.entity_type, e.entity_id) for e in old.allow}
        for entry in new.allow:
            if (entry.entity_type, entry.entity_id) in before:
                continue
            reason = f"allow-listed {entry.entity_type} {entry.entity_id}: {entry.reason}"
            command = release_command(entry.entity_type, entry.entity_id, reason, new.version, now)
            await self._sender.send(Decision(command=command))
