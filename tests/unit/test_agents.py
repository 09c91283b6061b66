"""The agents' glue in process: Faust's ``agent.test_context()`` feeds the account agent of
an app built by ``create_app``; output topics are recording stand-ins, tables are in memory.
(The same agents run on the real broker in tests/integration.)"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import faust
import orjson
import pytest

from models.account import AccountState
from models.asn import AsnState
from models.linkage import LinkGroup
from models.policy import DEFAULT_POLICY
from streams.accounts.agents import record_batches, records_of
from streams.app import Distillguard, create_app
from streams.chunks import RawRecord
from streams.settings import Settings
from streams.topics import WorkerTopics, declare_topics
from tests.fixtures import T0, RecordingTopic, request_json


def recording_topics(app: faust.App, settings: Settings) -> WorkerTopics:
    real = declare_topics(app, settings)
    outputs = ("alerts", "throttle", "deadletter", "asn_activity", "links")
    return dataclasses.replace(real, **{name: RecordingTopic() for name in outputs})


def event(account: str, ts: float) -> bytes:
    return orjson.dumps(request_json(account_id=account, ts=ts, asn=64501))


async def run_batch(dg: Distillguard, values: list[bytes]) -> None:
    """Put ``values`` as one batch through the account agent and wait until it is handled
    (the account table written for the last valid account, or every value accounted for)."""
    async with dg.accounts.agent.test_context() as agent:
        for value in values:
            await agent.put(value, key=b"k", partition=0, wait=False)
        await wait_for(lambda: dg.counters["processed"] + dg.counters["deadletter"] >= len(values))
        # The batch's table writes and per-batch messages follow the last event's handling.
        await wait_for(lambda: bool(topic(dg, "asn_activity").sent) or not dg.counters["processed"])


def topic(dg: Distillguard, name: str) -> RecordingTopic:
    recorder = getattr(dg.topics, name)
    assert isinstance(recorder, RecordingTopic)
    return recorder


async def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def dg() -> Distillguard:
    # One batch per test: the whole input fits in batch_max and arrives within the window.
    return create_app(Settings(batch_max=50, batch_within_s=0.3), recording_topics)


def test_a_batch_writes_each_account_once_with_all_its_events(dg: Distillguard) -> None:
    values = [event("acct-a", T0 + i) for i in range(5)]
    values.append(event("acct-b", T0 + 10))
    asyncio.run(run_batch(dg, values))

    assert dg.counters["processed"] == 6
    a = AccountState.decode(dg.accounts.table.get("acct-a"))
    b = AccountState.decode(dg.accounts.table.get("acct-b"))
    assert (a.n_events, a.first_ts, a.last_ts) == (5, T0, T0 + 4)
    assert b.n_events == 1
    # Network activity leaves once per ASN per batch, summed per account.
    [(key, rows)] = [(k, orjson.loads(v)) for k, v in topic(dg, "asn_activity").sent]
    assert key == b"64501"
    assert sorted((row[0], row[2]) for row in rows) == [("acct-a", 5), ("acct-b", 1)]


def test_bad_messages_are_dead_lettered_with_reason_and_source(dg: Distillguard) -> None:
    values = [b"not json", orjson.dumps({"ts": T0}), event("acct-ok", T0)]
    asyncio.run(run_batch(dg, values))

    letters = topic(dg, "deadletter").values()
    assert [d["error_code"] for d in letters] == ["not_json", "missing_field"]
    assert all(d["reason"] and d["source"]["topic"] == dg.settings.topics.requests for d in letters)
    assert [d["source"]["offset"] for d in letters] == [0, 1]
    assert dg.counters["deadletter"] == 2
    assert dg.counters["processed"] == 1  # the good event after them is not lost
    assert dg.accounts.table.get("acct-ok") is not None


def test_a_detector_failure_costs_one_event_not_the_worker(
    dg: Distillguard, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streams.accounts.agents as agents

    real = agents.process_request

    def fail_on_one(state: AccountState, req: Any, *args: Any) -> Any:
        if req.account_id == "acct-bug":
            raise ZeroDivisionError("detector bug")
        return real(state, req, *args)

    monkeypatch.setattr(agents, "process_request", fail_on_one)
    values = [event("acct-bug", T0), event("acct-fine", T0 + 1)]
    asyncio.run(run_batch(dg, values))

    [letter] = topic(dg, "deadletter").values()
    assert letter["error_code"] == "internal"
    assert "detector bug" in letter["reason"]
    assert AccountState.decode(dg.accounts.table.get("acct-fine")).n_events == 1


def test_decisions_reach_the_alert_and_command_topics_and_the_feed(dg: Distillguard) -> None:
    deny = [{"entity_type": "account", "entity_id": "acct-bad", "reason": "chargeback fraud"}]
    dg.policy.current = DEFAULT_POLICY.with_changes({"deny": deny})
    values = [event("acct-bad", T0), event("acct-good", T0)]
    asyncio.run(run_batch(dg, values))

    [alert] = topic(dg, "alerts").values()
    [command] = topic(dg, "throttle").values()
    assert (alert["entity_id"], alert["severity"]) == ("acct-bad", "critical")
    assert (command["entity_id"], command["action"]) == ("acct-bad", "block")
    assert command["policy_version"] == dg.policy.current.version
    assert dg.recent.latest(10) == [alert]  # the API's feed listens to the sender
    assert (dg.counters["alerts"], dg.counters["commands"]) == (1, 1)


def test_two_apps_in_one_process_keep_their_own_state() -> None:
    first = create_app(Settings(app_id="first"), recording_topics)
    second = create_app(Settings(app_id="second"), recording_topics)
    first.policy.current = DEFAULT_POLICY.with_changes({"shadow": True})
    assert second.policy.current.shadow is False
    assert first.accounts.table is not second.accounts.table
    assert first.app.conf.id == "first"
    assert second.app.conf.id == "second"


def test_a_replay_of_processed_events_changes_no_account_state(dg: Distillguard) -> None:
    """After a crash the input is re-read from the last committed offset; events the stored
    state already holds are recognised by their offset and skipped, not counted twice."""
    values = [event("acct-a", T0 + i) for i in range(5)]
    asyncio.run(run_batch(dg, values))
    stored = dg.accounts.table.get("acct-a")

    async def replay() -> None:  # the same offsets again, as after a crash
        async with dg.accounts.agent.test_context() as agent:
            for value in values:
                await agent.put(value, key=b"k", partition=0, wait=False)
            await wait_for(lambda: dg.counters["processed"] >= 2 * len(values))

    asyncio.run(replay())
    assert dg.counters["replayed"] == 5
    assert dg.accounts.table.get("acct-a") == stored
    assert AccountState.decode(stored).n_events == 5


def consuming(name: str) -> Distillguard:
    """An app whose topic ``name`` is real (its agent consumes it in ``test_context``) and
    whose other output topics are recording stand-ins."""
    outputs = {"alerts", "throttle", "deadletter", "asn_activity", "asn_risk", "links"}
    outputs.add("campaign_reports")
    return create_app(
        Settings(batch_max=50, batch_within_s=0.3),
        lambda app, settings: dataclasses.replace(
            declare_topics(app, settings),
            **{topic: RecordingTopic() for topic in outputs - {name}},
        ),
    )


async def feed_twice(
    agent: Any, messages: list[tuple[bytes, bytes]], stored: Callable[[], Any]
) -> Any:
    """Put ``messages`` through ``agent``, then again under the same offsets (as a crash or
    a stall-guard seek re-reads a topic from its committed offset); what ``stored`` read
    after the first pass."""
    first = None
    for _ in range(2):
        async with agent.test_context() as context:
            for key, value in messages:
                await context.put(value, key=key, partition=0, wait=False)
            await wait_for(lambda: stored() is not None)
            await asyncio.sleep(0.5)  # the batch window closes and the batch is handled
        first = stored() if first is None else first
    return first


def test_a_replay_of_network_activity_changes_no_network_state() -> None:
    """The ASN agent skips, by offset, activity messages its stored state already holds."""
    dg = consuming("asn_activity")
    messages = [  # one account's activity in three batches: [account, last_ts, requests, ...]
        (b"64501", orjson.dumps([[f"acct-{i}", T0 + 60 * i, 3, 900, 0, 0.0, None, 2e3]]))
        for i in range(3)
    ]
    stored = asyncio.run(feed_twice(dg.asn.agent, messages, lambda: dg.asn.table.get("64501")))
    assert AsnState.decode(stored).req_24h > 0 and len(AsnState.decode(stored).accounts) == 3
    assert dg.counters["replayed.asn_activity"] == len(messages)
    assert dg.asn.table.get("64501") == stored


def test_a_replay_of_link_records_changes_no_link_group() -> None:
    """The link agent skips, by offset, the keys whose stored group already holds a message."""
    dg = consuming("links")
    key = "c:fleet-fp"
    messages = [  # member rows: [account, last_ts, created_ts, output/day, reasoning, cot, ...]
        (
            key.encode(),
            orjson.dumps({key: [[f"acct-{i}", T0 + i, T0 - 3600, 1e5, 0.9, 0.4, "o", 1, 7]]}),
        )
        for i in range(4)
    ]
    groups = dg.campaigns.link_groups
    stored = asyncio.run(feed_twice(dg.campaigns.links_agent, messages, lambda: groups.get(key)))
    assert len(LinkGroup.decode(stored).members) == 4
    assert dg.counters["replayed.links"] == len(messages)
    assert groups.get(key) == stored


def test_records_are_batched_by_count_without_splitting_a_chunk() -> None:
    def chunk_event(n: int, start: int) -> Any:
        records = [RawRecord(start + i, None, b"k", b"{}") for i in range(n)]
        return SimpleNamespace(value=records, message=None)

    single = SimpleNamespace(
        value=b"{}", message=SimpleNamespace(offset=99, timestamp=1.0, key=b"k", value=b"{}")
    )
    events = [chunk_event(300, 0), chunk_event(300, 300), single, chunk_event(50, 600)]
    sizes = [len(batch) for batch in record_batches(events, 500)]
    assert sizes == [300, 351]  # the second chunk would overflow the first batch
    assert records_of(single) == [RawRecord(99, 1.0, b"k", b"{}")]
