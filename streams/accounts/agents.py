"""The request agent: validate -> account state -> score -> decide -> emit.

Records arrive in chunks (``streams.chunks``: one Faust event per fetched run of a partition)
or one per event, and are processed in batches, so each account touched in a batch writes its
state to the changelog once per batch, not once per record. Table writes name the partition
through the event that carried the account (the input topic and the tables are
co-partitioned).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from faust.types import EventT, StreamT

from models.account import AccountState
from models.activity import ActivityBatch
from models.decide import NOTHING, Decision
from models.linkage import collect_links
from models.pipeline import new_account_population, process_request
from models.request import Invalid, Request, parse_request
from streams.asn.agents import AsnAgent
from streams.asn.evidence import NetworkRiskView
from streams.campaigns.agents import CampaignAgents
from streams.campaigns.evidence import CampaignView
from streams.chunks import RawRecord
from streams.codec import deadletter_record
from streams.faust_glue import batches, json_table, use_partition_of
from streams.population import partitioned_population
from streams.wiring import Wiring

log = structlog.get_logger(__name__)


# A record of the input and the Faust event that carried it (its partition, its ack).
Item = tuple[EventT[Any], RawRecord]


def records_of(event: EventT[Any]) -> list[RawRecord]:
    """The input records an event carries: a chunk's run, or the event's own message."""
    if isinstance(event.value, list):
        return event.value
    message = event.message
    return [RawRecord(message.offset, message.timestamp, message.key, message.value)]


def record_batches(events: Sequence[EventT[Any]], most: int) -> Iterator[list[Item]]:
    """The records of ``events`` in batches of about ``most`` (a chunk is never split): one
    table write per account per batch, and the loop is given back between batches."""
    batch: list[Item] = []
    for event in events:
        records = records_of(event)
        if batch and len(batch) + len(records) > most:
            yield batch
            batch = []
        batch.extend((event, record) for record in records)
    if batch:
        yield batch


@dataclass(slots=True)
class Touched:
    """An account touched in the batch: its state, and its latest event and request."""

    state: AccountState
    event: EventT[Any]
    request: Request


class AccountAgent:
    """The account table, the per-partition population models and the request agent of
    one app; network and campaign evidence come in through the broadcast views."""

    def __init__(
        self,
        wiring: Wiring,
        counters: Counter[str],
        network_risk: NetworkRiskView,
        campaign_view: CampaignView,
        asn: AsnAgent,
        campaigns: CampaignAgents,
    ) -> None:
        app, settings, topics = wiring.app, wiring.settings, wiring.topics
        self.table = json_table(app, settings, "accounts", "AccountState records by account_id.")
        self.population = partitioned_population(
            app, settings, "population", new_account_population, settings.topics.requests
        )
        self._deadletter = topics.deadletter
        self._policy = wiring.policy
        self._sender = wiring.sender
        self._failpoints = wiring.failpoints
        self._counters = counters
        self._network_risk = network_risk
        self._campaign_view = campaign_view
        self._asn = asn
        self._campaigns = campaigns

        async def process_requests(stream: StreamT[Any]) -> None:
            async for events in batches(stream, settings):
                self._counters["input_chunks"] += sum(isinstance(e.value, list) for e in events)
                for part in record_batches(events, settings.batch_max):
                    await self.handle_batch(part)

        self.agent = app.agent(topics.requests, name="streams.accounts.agents.process_requests")(
            process_requests
        )

    async def handle_batch(self, items: Sequence[Item]) -> None:
        """Process one batch. A bad message or a detector bug costs that one record (it goes
        to the dead-letter topic); a failure to *send* propagates, so the batch is not
        acknowledged and is processed again (decisions carry deterministic ids)."""
        touched: dict[str, Touched] = {}
        activity = ActivityBatch()
        deliveries: list[Any] = []
        halfway = len(items) // 2
        for i, (event, record) in enumerate(items):
            if i == halfway:
                self._failpoints.reach("mid_batch")
            use_partition_of(event)  # table reads/writes use this event's partition
            try:
                outcome = self._process_record(event, record, touched, activity)
            except Exception as exc:  # a bug on one record must not kill the worker
                log.exception("event failed", offset=record.offset)
                outcome = Invalid("internal", f"processing failed: {exc!r}")
            if isinstance(outcome, Invalid):
                await self._dead_letter(event, record, outcome)
            elif outcome.alert or outcome.command:
                deliveries.extend(await self._sender.send(outcome))
        # The states about to be written hold these events, and a replay after a crash skips
        # what a state holds: its decisions must be on the broker first (a SIGKILL right
        # after a table write lost one that was still in the producer's buffer).
        await asyncio.gather(*deliveries)
        links = collect_links((t.state, t.request) for t in touched.values())
        for written, (account_id, t) in enumerate(touched.items()):
            use_partition_of(t.event)
            self.table[account_id] = t.state.encode()
            if written == 0:
                self._failpoints.reach("table_write")
        self.population.snapshot_changed()
        await self._asn.publish_activity(activity.by_asn(lambda account: touched[account].state))
        await self._campaigns.publish_links(links)

    def _process_record(
        self,
        event: EventT[Any],
        record: RawRecord,
        touched: dict[str, Touched],
        activity: ActivityBatch,
    ) -> Decision | Invalid:
        """Validate and score one record against its account's state."""
        parsed = parse_request(record.value)  # type: ignore[arg-type]  # None: a tombstone
        if isinstance(parsed, Invalid):
            return parsed
        req: Request = parsed
        self._counters["processed"] += 1
        cached = touched.get(req.account_id)
        state = cached.state if cached else AccountState.decode(self.table.get(req.account_id))
        offset = record.offset
        if state.holds(offset, req.ts):
            self._counters["replayed"] += 1  # processed before a crash: nothing to redo
            return NOTHING
        state.applied_offset = offset
        touched[req.account_id] = Touched(state, event, req)
        activity.add(req)
        return process_request(
            state,
            req,
            self.population.for_partition(event.message.partition),
            self._policy.current,
            self._network_risk.get(req.asn),
            self._campaign_view.get(req.account_id),
        )

    async def _dead_letter(self, event: EventT[Any], record: RawRecord, invalid: Invalid) -> None:
        self._counters["deadletter"] += 1
        self._counters[f"deadletter.{invalid.code}"] += 1
        message = event.message
        letter = deadletter_record(
            invalid,
            value=record.value,
            key=record.key,
            topic=message.topic,
            partition=message.partition,
            offset=record.offset,
            timestamp=record.timestamp,
            received_at=time.time(),
        )
        await self._deadletter.send(key=record.key, value=orjson.dumps(letter))
        log.warning(
            "dead-lettered",
            code=invalid.code,
            reason=invalid.reason,
            topic=message.topic,
            partition=message.partition,
            offset=record.offset,
        )
