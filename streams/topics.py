"""Every topic the worker reads or writes, in one place (raw bytes; JSON via orjson)."""

from __future__ import annotations

from typing import Final

from aiokafka.partitioner import murmur2

from streams.app import app, settings

requests_topic: Final = app.topic(settings.topics.requests, key_type=bytes, value_type=bytes)
alerts_topic: Final = app.topic(settings.topics.alerts, key_type=bytes, value_type=bytes)
throttle_topic: Final = app.topic(settings.topics.throttle, key_type=bytes, value_type=bytes)
deadletter_topic: Final = app.topic(settings.topics.deadletter, key_type=bytes, value_type=bytes)
control_topic: Final = app.topic(settings.topics.control, key_type=bytes, value_type=bytes)
audit_topic: Final = app.topic(settings.topics.audit, key_type=bytes, value_type=bytes)


def partition_of(key: str, partitions: int = settings.partitions) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``: where a table row
    keyed by it lives, for reads and sweeps outside the stream that wrote it."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions
