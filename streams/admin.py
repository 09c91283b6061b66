"""Explicit topic creation with confluent-kafka's admin client (never broker auto-create)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streams.settings import Settings

log = structlog.get_logger(__name__)


class TopicError(RuntimeError):
    """Topics cannot be created or do not have the layout the worker needs."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic distillguard reads or writes, with its partitions and configuration."""
    parts = settings.partitions
    topics = settings.topics
    week = str(7 * 24 * 3600 * 1000)
    return [
        # Input and its tables must be co-partitioned: the table changelogs use this count.
        TopicSpec(topics.requests, parts, {"retention.ms": week}),
        TopicSpec(topics.alerts, parts, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
        TopicSpec(topics.throttle, parts, {"retention.ms": week}),
        TopicSpec(topics.deadletter, 1, {"retention.ms": str(14 * 24 * 3600 * 1000)}),
        TopicSpec(topics.control, 1, {"cleanup.policy": "compact"}),
        TopicSpec(topics.audit, 1, {"retention.ms": str(365 * 24 * 3600 * 1000)}),
        TopicSpec(settings.asn_activity_topic, parts, {"retention.ms": str(24 * 3600 * 1000)}),
        TopicSpec(settings.asn_risk_topic, parts, {"cleanup.policy": "compact"}),
        TopicSpec(settings.links_topic, parts, {"retention.ms": str(24 * 3600 * 1000)}),
        TopicSpec(settings.campaign_reports_topic, parts, {"retention.ms": week}),
        TopicSpec(settings.campaigns_topic, parts, {"cleanup.policy": "compact"}),
    ]


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; fail clearly if the input topic has the wrong partition count.

    Returns the names created. Idempotent: existing topics are left as they are.
    """
    admin = AdminClient(settings.kafka.confluent_config())
    try:
        existing = admin.list_topics(timeout=timeout_s).topics
    except KafkaException as exc:
        raise TopicError(
            f"cannot reach Kafka at {settings.kafka.bootstrap_servers}: {exc}"
        ) from None
    specs = topic_specs(settings)
    requests = existing.get(settings.topics.requests)
    if requests is not None and len(requests.partitions) != settings.partitions:
        raise TopicError(
            f"topic {settings.topics.requests} has {len(requests.partitions)} partitions but "
            f"DG_PARTITIONS={settings.partitions}; tables must be co-partitioned with it, so "
            "set DG_PARTITIONS to match"
        )
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(s.name, s.partitions, settings.replication, config=s.config) for s in missing],
        operation_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise TopicError(f"cannot create topic {name}: {exc}") from None
    log.info("topics created", topics=created)
    return created
