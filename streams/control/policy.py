"""The live policy of this worker process and how it changes.

Every decision reads ``PolicyHolder.current`` of its app's one holder. Changes arrive
through the compacted control topic (see ``streams.control.changes``), which every worker
follows from the beginning, so all workers converge within seconds and a restarted worker
resumes with the latest policy; a change takes effect on the next event.
"""

from __future__ import annotations

import asyncio

import orjson
import structlog

from models.policy import DEFAULT_POLICY, Policy, PolicyError

log = structlog.get_logger(__name__)


class PolicyHolder:
    def __init__(self, policy: Policy = DEFAULT_POLICY) -> None:
        self.current = policy
        self.loaded = asyncio.Event()  # set once the control topic has been read to its end

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        """One control.v1 record; a record that does not validate, or is older than the
        policy in force, changes nothing."""
        if key != b"policy" or value is None:
            return
        doc = orjson.loads(value)
        try:
            policy = Policy.from_dict(doc["policy"])
        except (PolicyError, KeyError, TypeError) as exc:
            log.error("control record rejected", error=str(exc))
            return
        if policy.version < self.current.version:
            return  # this worker's own earlier change, read back after a later one
        if policy != self.current:  # the latest record is the latest accepted change
            log.info("policy applied", version=policy.version, actor=doc.get("actor"))
        self.current = policy
