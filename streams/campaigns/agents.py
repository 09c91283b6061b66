"""Campaign detection: link groups per key, then one registry that forms campaigns.

The account agent publishes each account's link records about every half hour of its
event time (``publish_links``: one message per batch and key partition). The link agent
keeps a bounded group per key (partitioned by key across workers) and forwards only *hot*
groups to the registry, which needs one partition for the whole bus: it turns reports into
campaigns, alerts on them and publishes campaign risks and memberships to a compacted topic
that every worker reads into its ``CampaignView``; member accounts are then throttled by
their own decisions, citing the campaign.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Final

import orjson
import structlog
from faust.types import EventT, StreamT

from models.campaigns import CampaignRegistry, campaign_records
from models.decide import Decision
from models.linkage import GroupEvidence, LinkGroup, Member, process_links
from streams.faust_glue import batches, each_internal_event, json_table
from streams.topics import partition_of
from streams.wiring import Wiring

log = structlog.get_logger(__name__)

# Expired state is swept once per this much event time per partition.
SWEEP_EVERY_S: Final = 6 * 3600.0
REGISTRY_KEY: Final = b"registry"


class CampaignAgents:
    """The link-group table and agent, and the campaign registry with its agent."""

    def __init__(self, wiring: Wiring, counters: Counter[str]) -> None:
        app, settings, topics = wiring.app, wiring.settings, wiring.topics
        self._counters = counters

        def table(name: str, help: str) -> Any:
            return json_table(app, settings, name, help)

        self.link_groups = table("link-groups", "LinkGroup records by link key.")
        self.registry = CampaignRegistry(
            table("campaigns", "CampaignState records by campaign id."),
            table(
                "campaign-members",
                "[campaign, young, harvest-like, output/day, action, until, org, asn] by account.",
            ),
            table("campaign-keys", "Campaign id by link key."),
        )
        self._partitions = settings.partitions
        self._topics = topics
        self._policy = wiring.policy
        self._sender = wiring.sender
        self._swept_at: dict[str, float] = {}  # stage -> event time of its last sweep

        async def process_links_stream(stream: StreamT[Any]) -> None:
            async for events in batches(stream, settings):
                await each_internal_event(events, self.handle_links)

        async def process_reports_stream(stream: StreamT[Any]) -> None:
            async for events in batches(stream, settings):
                await each_internal_event(events, self.handle_report)

        prefix = "streams.campaigns.agents."
        self.links_agent = app.agent(topics.links, name=prefix + "process_links_stream")(
            process_links_stream
        )
        self.reports_agent = app.agent(
            topics.campaign_reports, name=prefix + "process_reports_stream"
        )(process_reports_stream)

    async def publish_links(self, by_key: dict[str, list[Member]]) -> None:
        """Called by the account agent once per batch: one message per *partition* of the
        link keys, holding every key of that partition ({key: member rows}); a message per
        key cost Faust's per-message overhead about ten times per linking account."""
        by_partition: dict[int, dict[str, list[list[Any]]]] = {}
        for key, members in by_key.items():
            rows = by_partition.setdefault(partition_of(key, self._partitions), {})
            rows[key] = [m.row() for m in members]
        for partition, rows in by_partition.items():
            first = next(iter(rows)).encode()
            await self._topics.links.send(key=first, value=orjson.dumps(rows), partition=partition)

    async def handle_links(self, event: EventT[Any]) -> None:
        """One batch's link records for the keys of one partition (the event's). A key whose
        stored group already holds this message (a replay) is skipped; the reports are on
        the broker before the groups are written."""
        offset = event.message.offset
        latest = 0.0
        folded: dict[str, LinkGroup] = {}
        deliveries = []
        for key, rows in orjson.loads(event.value).items():
            group = LinkGroup.decode(self.link_groups.get(key))
            members = [Member.from_row(row) for row in rows]
            if group.holds(offset, max((m.last_ts for m in members), default=0.0)):
                self._counters["replayed.links"] += 1
                continue
            group.applied_offset = offset
            evidence = process_links(group, key, members, self._policy.current)
            folded[key] = group
            latest = max(latest, group.last_ts)
            if evidence is not None:
                report = orjson.dumps(evidence.to_wire())
                deliveries.append(
                    await self._topics.campaign_reports.send(key=REGISTRY_KEY, value=report)
                )
        await asyncio.gather(*deliveries)
        for key, group in folded.items():
            self.link_groups[key] = group.encode()
        if self._sweep_due(f"links:{event.message.partition}", latest):
            self._sweep_groups(event.message.partition, latest)

    def _sweep_due(self, stage: str, now: float) -> bool:
        last = self._swept_at.setdefault(stage, now)
        if now - last < SWEEP_EVERY_S:
            return False
        self._swept_at[stage] = now
        return True

    def _sweep_groups(self, partition: int, now: float) -> None:
        """Delete this partition's groups whose members all expired (event time), so the
        table holds only keys active in the last day."""
        for key, raw in list(self.link_groups.items()):
            if partition_of(key, self._partitions) != partition:
                continue  # another partition's key: deleted when that partition sweeps
            group = LinkGroup.decode(raw)
            group.expire(now)
            if not group.members:
                del self.link_groups[key]

    async def handle_report(self, event: EventT[Any]) -> None:
        evidence = GroupEvidence.from_wire(orjson.loads(event.value))
        update = self.registry.report(evidence, self._policy.current)
        if update.decision.alert is not None:
            await self._sender.send(update.decision)
        for command in update.commands:
            await self._sender.send(Decision(command=command))
        for key, doc in campaign_records(update):
            await self._topics.campaigns.send(key=key.encode(), value=orjson.dumps(doc))
        if update.joined:
            log.info(
                "campaign members joined",
                campaign=update.campaign_id,
                joined=len(update.joined),
                members=update.state.members,
                risk=round(update.assessment.score, 3),
            )
        if self._sweep_due("registry", evidence.last_ts):
            expired, dropped = self.registry.expire(evidence.last_ts)
            for name in [f"c:{c}" for c in expired] + [f"m:{a}" for a in dropped]:
                await self._topics.campaigns.send(key=name.encode(), value=None)
            if expired:
                log.info("campaigns expired", campaigns=len(expired), members=len(dropped))
