"""The ASN agent: network state and risk from batches of activity re-keyed by ASN.

The account agent sends one message per ASN per batch (``publish_activity``), so this agent
sees a small fraction of the request rate. It alerts on networks (never throttles them by
default: see ``Policy.asn``) and publishes each network's risk for the account scoring.
"""

from __future__ import annotations

from typing import Any, Final, cast

import orjson
import structlog
from faust.types import EventT, StreamT

from models import asn as asn_model
from models.pipeline import new_asn_population, process_asn_activity
from streams.accounts.population import partitioned_population
from streams.app import app, batches, each_internal_event, json_table, settings
from streams.control import policy_holder
from streams.emit import send_decision

log = structlog.get_logger(__name__)

# A network's published risk is updated when it moves by at least this much.
RISK_STEP: Final = 0.05

asn_activity_topic = app.topic(settings.asn_activity_topic, key_type=bytes, value_type=bytes)
asn_risk_topic = app.topic(settings.asn_risk_topic, key_type=bytes, value_type=bytes)
asn_table = json_table("asns", "AsnState records by ASN.")
asn_population = partitioned_population(
    "asn-population", new_asn_population, settings.asn_activity_topic
)


async def publish_activity(by_asn: dict[int, list[asn_model.AsnActivity]]) -> None:
    """Called by the account agent once per batch: one message per ASN."""
    for asn, activities in by_asn.items():
        rows = [
            [
                a.account_id,
                a.last_ts,
                a.requests,
                a.output_tokens,
                a.reasoning,
                a.cot_sum,
                a.account_created_ts,
                a.account_output_per_day,
            ]
            for a in activities
        ]
        await asn_activity_topic.send(key=str(asn).encode(), value=orjson.dumps(rows))


@app.agent(asn_activity_topic)
async def process_asn_activity_stream(stream: StreamT[Any]) -> None:
    async for events in batches(stream):
        await each_internal_event(events, handle_event)


async def handle_event(event: EventT[Any]) -> None:
    asn = int(cast(bytes, event.key))
    activities = [asn_model.AsnActivity(*row) for row in orjson.loads(event.value)]
    state = asn_model.AsnState.decode(asn_table.get(str(asn)))
    population = asn_population.for_partition(event.message.partition)
    assessment, decision = process_asn_activity(
        state, asn, activities, population, policy_holder.current
    )
    if decision.alert or decision.command:
        await send_decision(decision)
    # The last published risk lives in the (changelogged) state, so a restart or a move to
    # another worker still withdraws a risk that has since fallen.
    if abs(assessment.score - state.published_risk) >= RISK_STEP:
        state.published_risk = assessment.score
        detail = assessment.reasons[0].detail if assessment.reasons else "no evidence"
        doc = {"risk": round(assessment.score, 4), "detail": detail, "event_ts": state.last_ts}
        await asn_risk_topic.send(key=str(asn).encode(), value=orjson.dumps(doc))
    asn_table[str(asn)] = state.encode()
