"""Accounting on the real broker: a stream of valid events with hostile messages of every kind
interleaved. Each message is either processed or dead-lettered with its reason — by /stats,
by /metrics and by the dead-letter topic's offsets — and the valid events around the hostile
ones go through at about a clean run's rate."""

from __future__ import annotations

import base64
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from models.request import Invalid, parse_request
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.tools.kafka_io import fast_producer, produce_all, read_topic
from tests.hostile import HOSTILE, SECRET_PROMPT
from tests.integration.harness import Names, log_lines, request_message, start_worker
from tests.traffic import benign_background

HOSTILE_COUNT = 500
# Generous on purpose: a noisy 2-core machine; a per-message slow path (a traceback, a
# flush per dead letter) costs far more than this. Each rate is the better of two drains
# (one drain takes 2-3 s; single pairs measured 0.49-1.00 on the same code, best of two
# 0.71 here and 0.57 in a clean-clone CI run, where this test runs first). Printed.
MIN_RATE_RATIO = 0.5

Message = tuple[bytes | None, bytes | None]


@dataclass(frozen=True, slots=True)
class Drained:
    """What one worker reported after draining a pre-loaded stream."""

    seconds: float  # from the first counted message to the last
    counted: int  # messages counted over those seconds
    stats: dict[str, Any]
    metrics: dict[tuple[str, str], float]  # (sample name, reason label) -> value
    deadletter_offsets: int
    deadletters: list[dict[str, Any]]
    log: list[dict[str, Any]]

    @property
    def rate(self) -> float:
        return self.counted / self.seconds


def interleave(valid: list[Message], count: int) -> tuple[list[Message], Counter[str | None]]:
    """``count`` hostile messages spread evenly through ``valid``; and the expected
    outcomes (dead-letter code, or None for processed) of all of them."""
    messages = list(valid)
    expected: Counter[str | None] = Counter({None: len(valid)})
    step = len(valid) // (count + 1)
    for i in range(count):
        hostile = HOSTILE[i % len(HOSTILE)]
        messages.insert((i + 1) * step + i, (f"hostile-{i}".encode(), hostile.value))
        expected[hostile.code] += 1
    return messages, expected


def get(port: str, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as res:
        body: bytes = res.read()
        return body


def scrape(port: str) -> dict[tuple[str, str], float]:
    return {
        (sample.name, sample.labels.get("reason", "")): sample.value
        for family in text_string_to_metric_families(get(port, "/metrics").decode())
        for sample in family.samples
    }


def offsets(settings: Settings, topic: str) -> int:
    consumer = Consumer({**settings.kafka.confluent_config(), "group.id": "offsets"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        total = 0
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def drain(bootstrap: str, messages: list[Message], work: Path) -> Drained:
    """Pre-load ``messages``, start a worker, and time it until every one is counted."""
    names = Names()
    settings = names.settings(bootstrap)
    ensure_topics(settings)
    produce_all(fast_producer(settings.kafka), settings.topics.requests, messages)
    worker = start_worker(bootstrap, names, work)
    port = worker.env["DG_WEB_PORT"]
    try:
        first: tuple[float, int] | None = None
        deadline = time.monotonic() + 240
        while True:
            stats = orjson.loads(get(port, "/stats"))
            seen = stats["counters"].get("processed", 0) + stats["counters"].get("deadletter", 0)
            now = time.monotonic()
            if first is None and seen > 0:
                first = (now, seen)
            if seen >= len(messages):
                break
            assert now < deadline, f"only {seen:,} of {len(messages):,} counted"
            assert worker.alive(), "the worker died"
            time.sleep(0.1)
        assert first is not None
        time.sleep(1.0)  # anything counted twice would show up now
        stats = orjson.loads(get(port, "/stats"))
        return Drained(
            seconds=now - first[0],
            counted=seen - first[1],
            stats=stats,
            metrics=scrape(port),
            deadletter_offsets=offsets(settings, settings.topics.deadletter),
            deadletters=read_topic(settings.kafka, settings.topics.deadletter),
            log=log_lines(worker),
        )
    finally:
        worker.stop()


def test_every_message_is_processed_or_dead_lettered(kafka_bootstrap: str, tmp_path: Path) -> None:
    events = benign_background(n_accounts=80, duration_s=4 * 3600)
    valid = [request_message(e) for e in events]
    messages, expected = interleave(valid, HOSTILE_COUNT)
    clean = drain(kafka_bootstrap, valid, tmp_path / "clean")
    hostile = drain(kafka_bootstrap, messages, tmp_path / "hostile")

    processed, dead = expected[None], sum(n for code, n in expected.items() if code)
    by_code = {code: n for code, n in expected.items() if code}
    counters = hostile.stats["counters"]
    assert (counters["processed"], counters["deadletter"]) == (processed, dead)
    assert processed + dead == len(messages)
    dead_counts = {k: v for k, v in counters.items() if k.startswith("deadletter.")}
    assert {k.removeprefix("deadletter."): v for k, v in dead_counts.items()} == by_code
    # /metrics reads the same numbers.
    assert hostile.metrics[("distillguard_events_processed_total", "")] == processed
    dead_metrics = {
        reason: value
        for (name, reason), value in hostile.metrics.items()
        if name == "distillguard_events_deadlettered_total"
    }
    assert dead_metrics == by_code
    # The dead-letter topic holds one record per dead letter, each with its reason.
    assert hostile.deadletter_offsets == dead == len(hostile.deadletters)
    assert Counter(d["error_code"] for d in hostile.deadletters) == by_code
    assert all(d["reason"] for d in hostile.deadletters)
    assert SECRET_PROMPT not in str(hostile.deadletters)
    assert SECRET_PROMPT not in str(hostile.log)
    assert not [line for line in hostile.log if "Traceback" in str(line)]
    # Each dead letter's reason is the parser's for the message it came from.
    hostile_by_key = {f"hostile-{i}": HOSTILE[i % len(HOSTILE)] for i in range(HOSTILE_COUNT)}
    for record in hostile.deadletters:
        source = hostile_by_key[_key(record)]
        parsed = parse_request(source.value)  # type: ignore[arg-type]  # tombstones are None
        assert isinstance(parsed, Invalid) and record["reason"] == parsed.reason
    chunks = clean.stats["counters"].get("input_chunks", 0)
    assert 0 < chunks < len(valid) // 10, "the input arrives in chunks of records"
    assert clean.stats["counters"]["processed"] == len(valid)
    assert "deadletter" not in clean.stats["counters"]

    # Second drains, in the other order: only their rates are used.
    hostile_rate = max(hostile.rate, drain(kafka_bootstrap, messages, tmp_path / "h2").rate)
    clean_rate = max(clean.rate, drain(kafka_bootstrap, valid, tmp_path / "c2").rate)
    ratio = hostile_rate / clean_rate
    print(
        f"\naccounting: {len(messages):,} messages = {processed:,} processed + {dead:,} "
        f"dead-lettered ({len(by_code)} codes); valid-event rate {hostile_rate:,.0f}/s with "
        f"hostile input vs {clean_rate:,.0f}/s clean, best of two (ratio {ratio:.2f}); the "
        f"clean input came in {chunks:,} chunks"
    )
    assert ratio >= MIN_RATE_RATIO


def _key(record: dict[str, Any]) -> str:
    return base64.b64decode(record["key_b64"]).decode()
