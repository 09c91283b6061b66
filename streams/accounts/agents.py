"""The request agent: validate -> account state -> score -> decide -> emit.

Events are taken in small batches so each account touched in a batch writes its state to the
changelog once per batch, not once per event. Table writes name the partition through the
event that carried the account (the input topic and the tables are co-partitioned).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from faust.types import EventT, StreamT

from models.account import AccountState
from models.decide import Decision
from models.linkage import collect_links
from models.pipeline import new_account_population, process_request
from models.request import Invalid, Request, parse_request
from streams.accounts.activity import ActivityBatch
from streams.accounts.population import partitioned_population
from streams.app import app, batches, json_table, settings, use_partition_of
from streams.asn.agents import publish_activity
from streams.asn.evidence import NetworkRiskView
from streams.broadcast import follow_compacted
from streams.campaigns.agents import publish_links
from streams.campaigns.evidence import CampaignView
from streams.codec import deadletter_record
from streams.control import policy_holder
from streams.emit import send_decision
from streams.topics import deadletter_topic, requests_topic

log = structlog.get_logger(__name__)

account_table = json_table("accounts", "AccountState records by account_id.")
population = partitioned_population("population", new_account_population, settings.topics.requests)
network_risk = NetworkRiskView()
campaign_view = CampaignView()
counters: Counter[str] = Counter()


@app.task
async def follow_network_risk() -> None:
    connection = settings.kafka.aiokafka_config()
    await follow_compacted(settings.asn_risk_topic, connection, network_risk.apply)


@app.task
async def follow_control() -> None:
    """The live policy: the compacted control topic from the beginning (latest wins)."""
    connection = settings.kafka.aiokafka_config()
    await follow_compacted(
        settings.topics.control, connection, policy_holder.apply_record, policy_holder.loaded
    )


@app.task
async def follow_campaigns() -> None:
    connection = settings.kafka.aiokafka_config()
    await follow_compacted(settings.campaigns_topic, connection, campaign_view.apply_record)


@app.agent(requests_topic)
async def process_requests(stream: StreamT[Any]) -> None:
    async for events in batches(stream):
        await handle_batch(events)


async def handle_batch(events: Sequence[EventT[Any]]) -> None:
    """Process one batch. A bad message or a detector bug costs that one event (it goes to
    the dead-letter topic); a failure to *send* propagates, so the batch is not acknowledged
    and is processed again (decisions carry deterministic ids, so nothing is doubled)."""
    touched: dict[str, Touched] = {}
    activity = ActivityBatch()
    for event in events:
        use_partition_of(event)  # table reads/writes use this event's partition
        try:
            outcome = process_event(event, touched, activity)
        except Exception as exc:  # a bug on one event must not kill the worker
            log.exception("event failed", offset=event.message.offset)
            outcome = Invalid("internal", f"processing failed: {exc!r}")
        if isinstance(outcome, Invalid):
            await dead_letter(event, outcome)
        elif outcome.alert or outcome.command:
            counters["alerts"] += outcome.alert is not None
            counters["commands"] += outcome.command is not None
            await send_decision(outcome)
    links = collect_links((t.state, t.request) for t in touched.values())
    for account_id, t in touched.items():
        use_partition_of(t.event)
        account_table[account_id] = t.state.encode()
    await publish_activity(activity.by_asn(lambda account: touched[account].state))
    await publish_links(links)


@dataclass(slots=True)
class Touched:
    """An account touched in the batch: its state, and its latest event and request."""

    state: AccountState
    event: EventT[Any]
    request: Request


def process_event(
    event: EventT[Any],
    touched: dict[str, Touched],
    activity: ActivityBatch,
) -> Decision | Invalid:
    """Validate and score one event against its account's state (pure but for the reads)."""
    parsed = parse_request(event.value)
    if isinstance(parsed, Invalid):
        return parsed
    req: Request = parsed
    counters["processed"] += 1
    cached = touched.get(req.account_id)
    state = cached.state if cached else AccountState.decode(account_table.get(req.account_id))
    touched[req.account_id] = Touched(state, event, req)
    activity.add(req)
    return process_request(
        state,
        req,
        population.for_partition(event.message.partition),
        policy_holder.current,
        network_risk.get(req.asn),
        campaign_view.get(req.account_id),
    )


async def dead_letter(event: EventT[Any], invalid: Invalid) -> None:
    counters["deadletter"] += 1
    counters[f"deadletter.{invalid.code}"] += 1
    message = event.message
    record = deadletter_record(
        invalid,
        value=message.value,
        key=message.key,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=message.timestamp,
        received_at=time.time(),
    )
    await deadletter_topic.send(key=message.key, value=orjson.dumps(record))
    log.warning(
        "dead-lettered",
        code=invalid.code,
        reason=invalid.reason,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )
