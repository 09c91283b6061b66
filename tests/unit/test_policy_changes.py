"""Policy changes in process: validated and size-checked before anything is written, the audit
record before the control record, large lists summarised in the log line."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from models.policy import MAX_LIST_ENTRIES, MAX_REASON_CHARS, MAX_TTL_S, PolicyError
from streams.control.changes import PolicyChanges, PolicyTooLarge, _loggable
from streams.control.policy import PolicyHolder
from streams.emit import DecisionSender
from tests.fixtures import RecordingTopic


def changes() -> tuple[PolicyChanges, RecordingTopic, RecordingTopic, PolicyHolder]:
    control, audit, throttle = RecordingTopic(), RecordingTopic(), RecordingTopic()
    holder = PolicyHolder()
    sender = DecisionSender(RecordingTopic(), throttle, Counter())
    return PolicyChanges(holder, control, audit, sender), control, audit, holder


def allow_list(n: int, reason_chars: int) -> list[dict[str, str]]:
    return [
        {"entity_type": "account", "entity_id": f"acct-{i:05d}", "reason": "r" * reason_chars}
        for i in range(n)
    ]


def test_the_audit_record_is_written_before_the_control_record() -> None:
    policy_changes, control, audit, holder = changes()
    order: list[str] = []
    audit_send, control_send = audit.send, control.send

    async def audited(key: bytes | None, value: bytes | None, partition: int | None = None) -> None:
        order.append("audit")
        await audit_send(key, value)

    async def controlled(
        key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        order.append("control")
        await control_send(key, value)

    audit.send, control.send = audited, controlled  # type: ignore[method-assign]
    new = asyncio.run(policy_changes.change({"shadow": True}, "count mode", "test"))
    assert order == ["audit", "control"]
    [record] = audit.values()
    assert (record["new_version"], record["changes"]["shadow"]) == (2, {"old": False, "new": True})
    assert control.values()[0]["policy"]["version"] == new.version == holder.current.version


def test_a_policy_too_large_for_one_message_writes_nothing() -> None:
    policy_changes, control, audit, holder = changes()
    big = allow_list(MAX_LIST_ENTRIES, MAX_REASON_CHARS)
    with pytest.raises(PolicyTooLarge, match="at most 900,000"):
        asyncio.run(policy_changes.change({"allow": big}, "bulk import", "test"))
    assert control.sent == [] and audit.sent == []
    assert holder.current.version == 1


def test_lists_and_numbers_have_upper_bounds() -> None:
    policy_changes, control, _, _ = changes()
    for change, says in (
        ({"account.ttl_s": 2**63 - 1}, f"ttl_s must be between 1 and {MAX_TTL_S}"),
        ({"account.realert_s": 2**63 - 1}, "realert_s must be between"),
        ({"account.limit_rpm": 2**63 - 1}, "limit_rpm must be between"),
        ({"version": 999}, "version is not a setting"),
        ({"allow": allow_list(MAX_LIST_ENTRIES + 1, 5)}, "at most 2,000"),
        ({"allow": allow_list(1, MAX_REASON_CHARS + 1)}, "at most 500 characters"),
    ):
        with pytest.raises(PolicyError, match=says):
            asyncio.run(policy_changes.change(change, "test", "test"))
    assert control.sent == []


def test_the_log_line_summarises_long_lists() -> None:
    entries = allow_list(1_500, 10)
    logged = _loggable({"allow": {"old": [], "new": entries}, "shadow": {"old": 0, "new": 1}})
    assert logged == {
        "allow": {"old": [], "new": "[1,500 entries]"},
        "shadow": {"old": 0, "new": 1},
    }


def test_an_older_control_record_read_back_late_changes_nothing() -> None:
    policy_changes, control, _, holder = changes()

    async def two_changes() -> None:
        await policy_changes.change({"shadow": True}, "first", "test")
        await policy_changes.change({"shadow": False}, "second", "test")

    asyncio.run(two_changes())
    first, second = control.sent
    holder.apply_record(*second[:2])
    holder.apply_record(*first[:2])  # this worker's own first change, read back after
    assert (holder.current.version, holder.current.shadow) == (3, False)


def test_concurrent_changes_against_one_version_have_one_winner() -> None:
    policy_changes, _, audit, holder = changes()
    audit_send = audit.send

    async def slow_audit(
        key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        await asyncio.sleep(0.01)  # a real send yields to other requests
        await audit_send(key, value)

    audit.send = slow_audit  # type: ignore[method-assign]

    async def race() -> list[object]:
        return await asyncio.gather(
            *(
                policy_changes.change({"account.limit_rpm": 100 + i}, "race", "test", 1)
                for i in range(5)
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(race())
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert holder.current.version == 2
