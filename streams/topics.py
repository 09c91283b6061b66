"""Every topic the worker reads or writes, declared on one app (raw bytes; JSON via orjson)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from streams.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkerTopics:
    """The Faust topic objects of one app: the public contract topics and the internal ones
    (``<app>-...``) that carry evidence between the agents."""

    requests: Any
    alerts: Any
    throttle: Any
    deadletter: Any
    control: Any
    audit: Any
    asn_activity: Any
    asn_risk: Any
    links: Any
    campaign_reports: Any
    campaigns: Any


def declare_topics(app: faust.App, settings: Settings) -> WorkerTopics:
    def topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes)

    names = settings.topics
    return WorkerTopics(
        requests=topic(names.requests),
        alerts=topic(names.alerts),
        throttle=topic(names.throttle),
        deadletter=topic(names.deadletter),
        control=topic(names.control),
        audit=topic(names.audit),
        asn_activity=topic(settings.asn_activity_topic),
        asn_risk=topic(settings.asn_risk_topic),
        links=topic(settings.links_topic),
        campaign_reports=topic(settings.campaign_reports_topic),
        campaigns=topic(settings.campaigns_topic),
    )


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``: where a table row
    keyed by it lives, for reads and sweeps outside the stream that wrote it."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions
