"""confluent-kafka helpers for the tools: fast batched produce, read a topic to its end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from models.evaluation import attach_trigger_times
from streams.settings import KafkaSettings, Settings


def fast_producer(kafka: KafkaSettings) -> Producer:
    return Producer(
        {
            **kafka.confluent_config(),
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "compression.type": "lz4",
            "acks": "all",
            "enable.idempotence": True,
        }
    )


def produce_all(
    producer: Producer,
    topic: str,
    messages: Iterable[tuple[bytes | None, bytes | None]],
    *,
    rate: float | None = None,
    on_progress: Callable[[int, float], None] | None = None,
) -> int:
    """Produce (key, value) pairs in order, at most ``rate`` per second if given; flushes."""
    started = time.monotonic()
    last_report = started
    sent = 0
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        sent += 1
        if sent % 1000 == 0:
            producer.poll(0)
            now = time.monotonic()
            if rate is not None:
                ahead = sent / rate - (now - started)
                if ahead > 0:
                    time.sleep(ahead)
            if on_progress is not None and now - last_report >= 1.0:
                on_progress(sent, now - started)
                last_report = now
    remaining = producer.flush(60)
    if remaining:
        raise RuntimeError(f"{remaining} messages were not delivered to {topic}")
    if on_progress is not None:
        on_progress(sent, time.monotonic() - started)
    return sent


def print_progress(label: str) -> Callable[[int, float], None]:
    def report(sent: int, elapsed: float) -> None:
        rate = sent / elapsed if elapsed > 0 else 0.0
        print(
            f"\r{label}: {sent:,} events in {elapsed:,.1f}s ({rate:,.0f}/s)",
            end="",
            file=sys.stderr,
        )

    return report


def read_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Every JSON record of a topic from the beginning to the current end, each with its
    Kafka timestamp as ``_kafka_ts_ms`` (for wall-clock latency)."""
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": "distillguard-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise RuntimeError(f"cannot read {topic}: {metadata.error}")
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
        ends = {}
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s)
            if high > low:
                ends[tp.partition] = high
        consumer.assign(partitions)
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, timeout=0.5):
                error = msg.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"reading {topic}: {error}")
                    continue
                partition, offset, value = msg.partition(), msg.offset(), msg.value()
                if value is not None:
                    record = orjson.loads(value)
                    record["_kafka_ts_ms"] = msg.timestamp()[1]
                    records.append(record)
                if (
                    partition is not None
                    and offset is not None
                    and offset + 1 >= ends.get(partition, 0)
                ):
                    ends.pop(partition, None)
        if ends:
            raise TimeoutError(f"read only part of {topic} in {timeout_s:g}s: {sorted(ends)}")
        return records
    finally:
        consumer.close()


def behind_by_partition(consumer: Consumer, topic: str, partitions: int) -> dict[int, int]:
    """Records past the consumer group's committed offset, for each partition behind."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    behind = {}
    for tp in consumer.committed(tps, timeout=10):
        _, high = consumer.get_watermark_offsets(tp, timeout=10)
        if high > max(tp.offset, 0):
            behind[tp.partition] = high - max(tp.offset, 0)
    return behind


def wait_drained(
    connection: dict[str, Any],
    group: str,
    topic: str,
    partitions: int,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Wait until the consumer group has committed up to the end of every partition; fail
    at once if ``alive()`` says the consumer died."""
    consumer = Consumer({**connection, "group.id": group})
    deadline = time.monotonic() + timeout
    try:
        while True:
            behind = behind_by_partition(consumer, topic, partitions)
            if not behind:
                return
            where = ", ".join(f"partition {p}: {n}" for p, n in sorted(behind.items()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"group {group} still behind on {topic} ({where})")
            if not alive():
                raise RuntimeError(f"the consumer of {topic} died behind ({where})")
            time.sleep(0.5)
    finally:
        consumer.close()


def read_outputs(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alerts and commands from Kafka, each command with its trigger's Kafka timestamp."""
    alerts = read_topic(settings.kafka, settings.topics.alerts)
    commands = read_topic(settings.kafka, settings.topics.throttle)
    requests = read_topic(settings.kafka, settings.topics.requests, timeout_s=120)
    attach_trigger_times(commands, requests)
    return alerts, commands
