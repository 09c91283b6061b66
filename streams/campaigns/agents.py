"""Campaign detection: link groups per key, then one registry that forms campaigns.

The account agent publishes each account's link records about every half hour of its
event time (``publish_links``: one message per batch and key partition). The link agent keeps a
bounded group per key (partitioned by key across workers) and forwards only *hot* groups
to the registry, which needs one partition for the whole bus: it turns reports into
campaigns, alerts on them and publishes campaign risks and memberships to a compacted topic
that every worker reads into its ``CampaignView``; member accounts are then throttled by
their own decisions, citing the campaign.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
import structlog
from faust.types import EventT, StreamT

from models.campaigns import CampaignRegistry, campaign_records
from models.decide import Decision
from models.linkage import GroupEvidence, LinkGroup, Member, process_links
from streams.app import app, batches, each_internal_event, json_table, settings
from streams.control import policy_holder
from streams.emit import send_decision
from streams.topics import partition_of

log = structlog.get_logger(__name__)

# Expired state is swept once per this much event time per partition.
SWEEP_EVERY_S: Final = 6 * 3600.0
REGISTRY_KEY: Final = b"registry"

links_topic = app.topic(settings.links_topic, key_type=bytes, value_type=bytes)
reports_topic = app.topic(settings.campaign_reports_topic, key_type=bytes, value_type=bytes)
campaigns_topic = app.topic(settings.campaigns_topic, key_type=bytes, value_type=bytes)
link_groups = json_table("link-groups", "LinkGroup records by link key.")
registry = CampaignRegistry(
    json_table("campaigns", "CampaignState records by campaign id."),
    json_table(
        "campaign-members",
        "[campaign, young, harvest-like, output/day, action, until, org, asn] by account.",
    ),
    json_table("campaign-keys", "Campaign id by link key."),
)
swept_at: dict[str, float] = {}  # stage -> event time of its last sweep


async def publish_links(by_key: dict[str, list[Member]]) -> None:
    """Called by the account agent once per batch: one message per *partition* of the link
    keys, holding every key of that partition ({key: member rows}); a message per key cost
    Faust's per-message overhead about ten times per linking account."""
    by_partition: dict[int, dict[str, list[list[Any]]]] = {}
    for key, members in by_key.items():
        by_partition.setdefault(partition_of(key), {})[key] = [m.row() for m in members]
    for partition, rows in by_partition.items():
        first = next(iter(rows)).encode()
        await links_topic.send(key=first, value=orjson.dumps(rows), partition=partition)


@app.agent(links_topic)
async def process_links_stream(stream: StreamT[Any]) -> None:
    async for events in batches(stream):
        await each_internal_event(events, handle_links)


@app.agent(reports_topic)
async def process_reports_stream(stream: StreamT[Any]) -> None:
    async for events in batches(stream):
        await each_internal_event(events, handle_report)


async def handle_links(event: EventT[Any]) -> None:
    """One batch's link records for the keys of one partition (the event's)."""
    latest = 0.0
    for key, rows in orjson.loads(event.value).items():
        group = LinkGroup.decode(link_groups.get(key))
        members = [Member.from_row(row) for row in rows]
        evidence = process_links(group, key, members, policy_holder.current)
        link_groups[key] = group.encode()
        latest = max(latest, group.last_ts)
        if evidence is not None:
            await reports_topic.send(key=REGISTRY_KEY, value=orjson.dumps(evidence.to_wire()))
    if _sweep_due(f"links:{event.message.partition}", latest):
        _sweep_groups(event.message.partition, latest)


def _sweep_due(stage: str, now: float) -> bool:
    last = swept_at.setdefault(stage, now)
    if now - last < SWEEP_EVERY_S:
        return False
    swept_at[stage] = now
    return True


def _sweep_groups(partition: int, now: float) -> None:
    """Delete this partition's groups whose members all expired (event time), so the
    table holds only keys active in the last day."""
    for key, raw in list(link_groups.items()):
        if partition_of(key) != partition:
            continue  # another partition's key: deleted when that partition sweeps
        group = LinkGroup.decode(raw)
        group.expire(now)
        if not group.members:
            del link_groups[key]


async def handle_report(event: EventT[Any]) -> None:
    evidence = GroupEvidence.from_wire(orjson.loads(event.value))
    update = registry.report(evidence, policy_holder.current)
    if update.decision.alert is not None:
        await send_decision(update.decision)
    for command in update.commands:
        await send_decision(Decision(command=command))
    for key, doc in campaign_records(update):
        await campaigns_topic.send(key=key.encode(), value=orjson.dumps(doc))
    if update.joined:
        log.info(
            "campaign members joined",
            campaign=update.campaign_id,
            joined=len(update.joined),
            members=update.state.members,
            risk=round(update.assessment.score, 3),
        )
    if _sweep_due("registry", evidence.last_ts):
        expired, dropped = registry.expire(evidence.last_ts)
        for name in [f"c:{c}" for c in expired] + [f"m:{a}" for a in dropped]:
            await campaigns_topic.send(key=name.encode(), value=None)
        if expired:
            log.info("campaigns expired", campaigns=len(expired), members=len(dropped))
