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
from models.activity import ActivityBatch
from models.decide import NOTHING, Decision
from models.linkage import collect_links
from models.pipeline import new_account_population, process_request
from models.request import Invalid, Request, parse_request
from streams.asn.agents import AsnAgent
from streams.asn.evidence import NetworkRiskView
from streams.campaigns.agents import CampaignAgents
from streams.campaigns.evidence import CampaignView
from streams.codec import deadletter_record
from streams.faust_glue import batches, json_table, use_partition_of
from streams.population import partitioned_population
from streams.wiring import Wiring

log = structlog.get_logger(__name__)


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
                await self.handle_batch(events)

        self.agent = app.agent(topics.requests, name="streams.accounts.agents.process_requests")(
            process_requests
        )

    async def handle_batch(self, events: Sequence[EventT[Any]]) -> None:
        """Process one batch. A bad message or a detector bug costs that one event (it goes
        to the dead-letter topic); a failure to *send* propagates, so the batch is not
        acknowledged and is processed again (decisions carry deterministic ids)."""
        touched: dict[str, Touched] = {}
        activity = ActivityBatch()
        halfway = len(events) // 2
        for i, event in enumerate(events):
            if i == halfway:
                self._failpoints.reach("mid_batch")
            use_partition_of(event)  # table reads/writes use this event's partition
            try:
                outcome = self._process_event(event, touched, activity)
            except Exception as exc:  # a bug on one event must not kill the worker
                log.exception("event failed", offset=event.message.offset)
                outcome = Invalid("internal", f"processing failed: {exc!r}")
            if isinstance(outcome, Invalid):
                await self._dead_letter(event, outcome)
            elif outcome.alert or outcome.command:
                await self._sender.send(outcome)
        links = collect_links((t.state, t.request) for t in touched.values())
        for written, (account_id, t) in enumerate(touched.items()):
            use_partition_of(t.event)
            self.table[account_id] = t.state.encode()
            if written == 0:
                self._failpoints.reach("table_write")
        self.population.snapshot_changed()
        await self._asn.publish_activity(activity.by_asn(lambda account: touched[account].state))
        await self._campaigns.publish_links(links)

    def _process_event(
        self, event: EventT[Any], touched: dict[str, Touched], activity: ActivityBatch
    ) -> Decision | Invalid:
        """Validate and score one event against its account's state."""
        parsed = parse_request(event.value)
        if isinstance(parsed, Invalid):
            return parsed
        req: Request = parsed
        self._counters["processed"] += 1
        cached = touched.get(req.account_id)
        state = cached.state if cached else AccountState.decode(self.table.get(req.account_id))
        offset = event.message.offset
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

    async def _dead_letter(self, event: EventT[Any], invalid: Invalid) -> None:
        self._counters["deadletter"] += 1
        self._counters[f"deadletter.{invalid.code}"] += 1
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
        await self._deadletter.send(key=message.key, value=orjson.dumps(record))
        log.warning(
            "dead-lettered",
            code=invalid.code,
            reason=invalid.reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )
