"""``distillguard soak``: one worker at half its measured maximum for a long while, through the
real broker; RSS and consumer lag sampled every few seconds. Fails (exit 1) when RSS grows by
``MAX_RSS_GROWTH`` or more after the warm-up, when lag is not bounded, or when the worker dies.

The traffic is one simulated day replayed in a loop, each pass shifted by the day's span in
event time (same accounts, later days), so state reaches its steady size in the first pass
and anything that still grows afterwards is a leak.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import orjson
from confluent_kafka import Consumer

from streams.admin import ensure_topics
from streams.settings import Settings, load_settings
from streams.tools.kafka_io import behind_by_partition, fast_producer, produce_all
from streams.tools.local_kafka import REPO, LocalKafka, run_environment
from streams.tools.worker_process import WorkerProcess

MAX_RSS_GROWTH: Final = 0.05
# Lag is bounded when it never exceeds this many seconds of input after the warm-up.
MAX_LAG_S: Final = 30.0
SAMPLE_EVERY_S: Final = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="soak duration")
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=None,
        help="excluded from the RSS check (default: a third of the duration, at most 5)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="events/s (default: half of the maximum measured first)",
    )


@dataclass(frozen=True, slots=True)
class Sample:
    at_s: float
    rss_mib: float
    lag: int


def one_day() -> list[dict[str, object]]:
    from models.simulator import ScenarioConfig, simulate

    scenario = simulate(ScenarioConfig(seed=7, days=1, scale=0.1))
    return [event for batch in scenario.events.batches() for event in batch]


def looped(day: list[dict[str, object]]) -> Iterator[tuple[bytes, bytes]]:
    """The day again and again, each pass later by the day's span; event ids stay unique."""
    times = [float(e["ts"]) for e in day]  # type: ignore[arg-type]
    span = max(times) - min(times) + 60.0
    n = 0
    while True:
        for event in day:
            shifted = {
                **event,
                "ts": float(event["ts"]) + n * span,  # type: ignore[arg-type]
                "event_id": f"{event['event_id']}:{n}",
            }
            yield str(event["account_id"]).encode(), orjson.dumps(shifted)
        n += 1


def lag(settings: Settings, consumer: Consumer) -> int:
    """Input records past the group's committed offsets."""
    behind = behind_by_partition(consumer, settings.topics.requests, settings.partitions)
    return sum(behind.values())


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kafka = LocalKafka()
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
        self.work = REPO / ".local" / "soak" / self.run_id

    def fresh(self, bootstrap: str, name: str) -> dict[str, str]:
        env = run_environment(f"soak-{self.run_id}-{name}", bootstrap)
        ensure_topics(load_settings(env))
        return env

    def maximum(self, bootstrap: str, day: list[dict[str, object]]) -> float:
        """Events/s one worker drains from a pre-loaded backlog of two passes."""
        print("==> measuring one worker's maximum on a pre-loaded backlog", flush=True)
        env = self.fresh(bootstrap, "maximum")
        settings = load_settings(env)
        source = looped(day)
        backlog = [next(source) for _ in range(2 * len(day))]
        produce_all(fast_producer(settings.kafka), settings.topics.requests, backlog)
        worker = WorkerProcess(env, self.work / "maximum").start()
        started = time.perf_counter()
        try:
            worker.wait_drained(settings, 900)
            return len(backlog) / (time.perf_counter() - started)
        finally:
            worker.stop()

    def run(self) -> int:
        try:
            bootstrap = self.kafka.bootstrap()
            day = one_day()
            rate = self.args.rate or self.maximum(bootstrap, day) / 2
            return self.soak(bootstrap, day, rate)
        finally:
            self.kafka.stop()

    def soak(self, bootstrap: str, day: list[dict[str, object]], rate: float) -> int:
        minutes = self.args.minutes
        warmup_s = 60 * (self.args.warmup_minutes or min(minutes / 3, 5.0))
        duration_s = 60 * minutes
        print(
            f"==> soak: {rate:,.0f} events/s for {minutes:g} min (warm-up {warmup_s / 60:g} min)",
            flush=True,
        )
        env = self.fresh(bootstrap, "soak")
        settings = load_settings(env)
        worker = WorkerProcess(env, self.work / "soak").start()
        source = looped(day)
        count = int(rate * duration_s)
        messages = (next(source) for _ in range(count))
        producer = threading.Thread(
            target=produce_all,
            args=(fast_producer(settings.kafka), settings.topics.requests, messages),
            kwargs={"rate": rate},
            daemon=True,
        )
        consumer = Consumer({**settings.kafka.confluent_config(), "group.id": settings.app_id})
        samples: list[Sample] = []
        started = time.monotonic()
        producer.start()
        try:
            while producer.is_alive() and worker.alive():
                time.sleep(SAMPLE_EVERY_S)
                sample = Sample(
                    time.monotonic() - started, worker.rss_mib(), lag(settings, consumer)
                )
                samples.append(sample)
                if len(samples) % max(1, int(60 / SAMPLE_EVERY_S)) == 0:
                    print(
                        f"    {sample.at_s / 60:5.1f} min: RSS {sample.rss_mib:,.0f} MiB, "
                        f"lag {sample.lag:,} events",
                        flush=True,
                    )
            alive = worker.alive()
        finally:
            consumer.close()
            worker.stop()
        return report(samples, warmup_s, rate, alive)


def report(samples: list[Sample], warmup_s: float, rate: float, alive: bool) -> int:
    after = [s for s in samples if s.at_s >= warmup_s]
    if not alive or len(after) < 4:
        print(f"==> soak FAILED: worker alive {alive}, {len(after)} samples after the warm-up")
        return 1
    window = max(2, len(after) // 5)
    start = statistics.median(s.rss_mib for s in after[:window])
    end = statistics.median(s.rss_mib for s in after[-window:])
    growth = (end - start) / start
    worst_lag = max(s.lag for s in after)
    bound = int(rate * MAX_LAG_S)
    ok = growth < MAX_RSS_GROWTH and worst_lag <= bound
    print(
        f"==> soak {'passed' if ok else 'FAILED'}: RSS {start:,.0f} -> {end:,.0f} MiB after the "
        f"warm-up ({growth:+.1%}; limit {MAX_RSS_GROWTH:.0%}); lag at most {worst_lag:,} events "
        f"({worst_lag / rate:.1f} s of input; limit {MAX_LAG_S:g} s) at {rate:,.0f} events/s"
    )
    return 0 if ok else 1


def run(args: argparse.Namespace) -> int:
    return Soak(args).run()
