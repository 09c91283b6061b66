"""The ASN agent: network state and risk from batches of activity re-keyed by ASN.

The account agent sends one message per ASN per batch (``publish_activity``), so this agent
sees a small fraction of the request rate. It alerts on networks (never throttles them by
default: see ``Policy.asn``) and publishes each network's risk for the account scoring.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, cast

import orjson
from faust.types import EventT, StreamT

from models import asn as asn_model
from models.pipeline import new_asn_population, process_asn_activity
from models.risk import moved
from streams.faust_glue import batches, each_internal_event, json_table
from streams.population import partitioned_population
from streams.wiring import Wiring


class AsnAgent:
    """The ASN table, the network population models and the agent over activity."""

    def __init__(self, wiring: Wiring, counters: Counter[str]) -> None:
        app, settings, topics = wiring.app, wiring.settings, wiring.topics
        self._counters = counters
        self.table = json_table(app, settings, "asns", "AsnState records by ASN.")
        self.population = partitioned_population(
            app, settings, "asn-population", new_asn_population, settings.asn_activity_topic
        )
        self._activity = topics.asn_activity
        self._risk = topics.asn_risk
        self._policy = wiring.policy
        self._sender = wiring.sender

        async def process_asn_activity_stream(stream: StreamT[Any]) -> None:
            async for events in batches(stream, settings):
                await each_internal_event(events, self.handle_event)
                self.population.snapshot_changed()

        self.agent = app.agent(
            topics.asn_activity, name="streams.asn.agents.process_asn_activity_stream"
        )(process_asn_activity_stream)

    async def publish_activity(self, by_asn: dict[int, list[asn_model.AsnActivity]]) -> None:
        """Called by the account agent once per batch: one message per ASN."""
        for asn, activities in by_asn.items():
            rows = [a.row() for a in activities]
            await self._activity.send(key=str(asn).encode(), value=orjson.dumps(rows))

    async def handle_event(self, event: EventT[Any]) -> None:
        asn = int(cast(bytes, event.key))
        activities = [asn_model.AsnActivity.from_row(row) for row in orjson.loads(event.value)]
        state = asn_model.AsnState.decode(self.table.get(str(asn)))
        offset = event.message.offset
        if state.holds(offset, max((a.last_ts for a in activities), default=0.0)):
            self._counters["replayed.asn_activity"] += 1  # folded in before a crash or stall
            return
        state.applied_offset = offset
        population = self.population.for_partition(event.message.partition)
        assessment, decision = process_asn_activity(
            state, asn, activities, population, self._policy.current
        )
        deliveries = await self._sender.send(decision) if decision.alert or decision.command else []
        # The last published risk lives in the (changelogged) state, so a restart or a move
        # to another worker still withdraws a risk that has since fallen.
        if moved(assessment.score, state.published_risk):
            state.published_risk = assessment.score
            detail = assessment.reasons[0].detail if assessment.reasons else "no evidence"
            doc = {"risk": round(assessment.score, 4), "detail": detail, "event_ts": state.last_ts}
            deliveries.append(await self._risk.send(key=str(asn).encode(), value=orjson.dumps(doc)))
        # A replay skips what the written state holds: what it sent must be on the broker first.
        await asyncio.gather(*deliveries)
        self.table[str(asn)] = state.encode()
