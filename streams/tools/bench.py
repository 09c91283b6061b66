"""``distillguard bench``: throughput, latency and state size through the real broker.

Writes ``docs/benchmarks.md``. Each measurement uses fresh topics and a fresh consumer group:
1. baseline: a bare confluent-kafka consumer that only parses the events with orjson;
2. maximum sustained throughput of one worker process: a pre-loaded backlog drained from
   "Worker ready" to "group committed the end of every partition";
2b. the same backlog drained by a Faust agent that does nothing (Faust's own ceiling);
3. end-to-end latency (request in Kafka -> command in Kafka, from Kafka timestamps) at fixed
   offered loads, replaying the part of the scenario where campaigns are active;
4. state size per 100k accounts (encoded table records) and the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from models.backtest import Backtest, read_jsonl
from models.evaluation import percentile
from models.policy import DEFAULT_POLICY
from streams.admin import ensure_topics
from streams.settings import Settings, load_settings
from streams.tools.kafka_io import fast_producer, produce_all, read_outputs, wait_drained
from streams.tools.local_kafka import REPO, LocalKafka, run_environment
from streams.tools.stages import StageCost, stage_costs
from streams.tools.worker_process import WorkerProcess


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, default=3.0, help="simulated days")
    parser.add_argument("--scale", type=float, default=0.5, help="simulator scale")
    # Both below one worker's capacity (~1.8k events/s measured): latency, not backlog.
    parser.add_argument(
        "--loads", default="2000,5000,10000", help="offered loads for latency (events/s)"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each load step")
    parser.add_argument(
        "--profile-events", type=int, default=50_000, help="events profiled for the stage table"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")


@dataclass(frozen=True, slots=True)
class Ceilings:
    """What the same topic drains at without our code."""

    bare_consumer: float  # events/s: confluent-kafka consume(10000) + orjson
    empty_agent: float  # events/s: a Faust agent that only takes batches


@dataclass(frozen=True, slots=True)
class Drain:
    """One worker draining a pre-loaded backlog."""

    input_rate: float  # events/s until the input topic is committed
    pipeline_rate: float  # events/s until every internal topic is committed too
    cpu_s_per_1k: float  # worker CPU seconds (user + system) per 1,000 input events
    peak_rss_mib: float


def drained(settings: Settings, topic: str, process: WorkerProcess) -> None:
    """Until ``process``'s group has committed the end of ``topic``."""
    wait_drained(
        settings.kafka.confluent_config(),
        settings.app_id,
        topic,
        settings.partitions,
        1800,
        alive=process.alive,
    )


@dataclass
class LoadResult:
    rate: float
    events: int
    commands: int
    p50_ms: float
    p99_ms: float


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kafka = LocalKafka()
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
        self.work = REPO / ".local" / "bench" / self.run_id

    def run(self) -> int:
        try:
            bootstrap = self.kafka.bootstrap()
            events = self.scenario()
            lines = list(read_jsonl(events))
            baseline = self.baseline(bootstrap, lines)
            empty = self.empty_agent(bootstrap, lines)
            drain = self.throughput(bootstrap, lines)
            loads = [self.latency(bootstrap, lines, float(r)) for r in self.args.loads.split(",")]
            state = self.state_size(lines)
            stages = stage_costs(lines[: self.args.profile_events])
            self.write(len(lines), Ceilings(baseline, empty), drain, loads, state, stages)
            print(f"==> wrote {self.args.out}")
            return 0
        finally:
            self.kafka.stop()

    def scenario(self) -> Path:
        from models.simulator import ScenarioConfig, simulate, write_scenario

        print(f"==> simulating {self.args.days:g} days at scale {self.args.scale:g}", flush=True)
        config = ScenarioConfig(seed=7, days=self.args.days, scale=self.args.scale)
        events, _ = write_scenario(simulate(config), self.work)
        return events

    def fresh(self, bootstrap: str, name: str) -> dict[str, str]:
        env = run_environment(f"bench-{self.run_id}-{name}", bootstrap)
        ensure_topics(load_settings(env))
        return env

    def preload(self, env: dict[str, str], lines: list[bytes]) -> None:
        settings = load_settings(env)
        keyed = ((orjson.loads(line)["account_id"].encode(), line) for line in lines)
        produce_all(fast_producer(settings.kafka), settings.topics.requests, keyed)

    def baseline(self, bootstrap: str, lines: list[bytes]) -> float:
        print("==> baseline: bare confluent-kafka consumer + orjson", flush=True)
        env = self.fresh(bootstrap, "baseline")
        self.preload(env, lines)
        settings = load_settings(env)
        consumer = Consumer(
            {
                **settings.kafka.confluent_config(),
                "group.id": env["DG_APP_ID"],
                "enable.partition.eof": True,
                "enable.auto.commit": False,
                "fetch.min.bytes": 64 * 1024,
                "queued.max.messages.kbytes": 256 * 1024,
            }
        )
        parts = [
            TopicPartition(settings.topics.requests, p, OFFSET_BEGINNING)
            for p in range(settings.partitions)
        ]
        consumer.assign(parts)
        started, seen, eof = time.perf_counter(), 0, 0
        while eof < len(parts):
            for msg in consumer.consume(10_000, timeout=1.0):
                error = msg.error()
                if error is not None:
                    eof += error.code() == KafkaError._PARTITION_EOF
                    continue
                orjson.loads(msg.value() or b"{}")
                seen += 1
        consumer.close()
        return seen / (time.perf_counter() - started)

    def empty_agent(self, bootstrap: str, lines: list[bytes]) -> float:
        print("==> Faust alone: an agent that only takes batches of the input", flush=True)
        env = self.fresh(bootstrap, "empty")
        self.preload(env, lines)
        settings = load_settings(env)
        agent = WorkerProcess(env, self.work / "empty", ("-m", "streams.tools.empty_agent"))
        agent.start()
        started = time.perf_counter()
        try:
            drained(settings, settings.topics.requests, agent)
            return len(lines) / (time.perf_counter() - started)
        finally:
            agent.stop()

    def throughput(self, bootstrap: str, lines: list[bytes]) -> Drain:
        print("==> maximum throughput: one worker drains a pre-loaded backlog", flush=True)
        env = self.fresh(bootstrap, "throughput")
        self.preload(env, lines)
        settings = load_settings(env)
        worker = WorkerProcess(env, self.work / "throughput").start()
        started, cpu_before = time.perf_counter(), worker.cpu_seconds()
        try:
            drained(settings, settings.topics.requests, worker)
            input_s = time.perf_counter() - started
            worker.wait_drained(settings, 1800)
            pipeline_s = time.perf_counter() - started
            cpu_per_1k = (worker.cpu_seconds() - cpu_before) / len(lines) * 1000
            return Drain(
                len(lines) / input_s, len(lines) / pipeline_s, cpu_per_1k, worker.peak_rss_mib()
            )
        finally:
            worker.stop()

    def latency(self, bootstrap: str, lines: list[bytes], rate: float) -> LoadResult:
        count = int(rate * self.args.seconds)
        # Start where campaigns are active (the second half), so commands are frequent.
        window = lines[len(lines) // 2 :][:count]
        print(f"==> latency at {rate:,.0f} events/s for {len(window):,} events", flush=True)
        env = self.fresh(bootstrap, f"latency-{int(rate)}")
        settings = load_settings(env)
        worker = WorkerProcess(env, self.work / f"latency-{int(rate)}").start()
        try:
            keyed = ((orjson.loads(line)["account_id"].encode(), line) for line in window)
            produce_all(fast_producer(settings.kafka), settings.topics.requests, keyed, rate=rate)
            worker.wait_drained(settings, 600)
            time.sleep(2)
        finally:
            worker.stop()
        _, commands = read_outputs(settings)
        latencies = [
            c["_kafka_ts_ms"] - c["_trigger_kafka_ts_ms"]
            for c in commands
            if "_trigger_kafka_ts_ms" in c
        ]
        if not latencies:
            return LoadResult(rate, len(window), 0, float("nan"), float("nan"))
        return LoadResult(
            rate,
            len(window),
            len(latencies),
            statistics.median(latencies),
            percentile(latencies, 0.99),
        )

    def state_size(self, lines: list[bytes]) -> dict[str, float]:
        backtest = Backtest(DEFAULT_POLICY, partitions=8)
        for line in lines:
            backtest.feed(line)
        account_sizes = [len(orjson.dumps(s.encode())) for s in backtest.accounts.values()]
        asn_sizes = [len(orjson.dumps(s.encode())) for s in backtest.asns.values()]
        return {
            "accounts": len(account_sizes),
            "account_mean_b": statistics.mean(account_sizes),
            "account_max_b": max(account_sizes),
            "asns": len(asn_sizes),
            "asn_mean_b": statistics.mean(asn_sizes),
            "asn_max_b": max(asn_sizes),
        }

    def write(
        self,
        n: int,
        ceilings: Ceilings,
        drain: Drain,
        loads: list[LoadResult],
        state: dict[str, float],
        stages: list[StageCost],
    ) -> None:
        versions = ", ".join(
            f"{p} {metadata.version(p)}"
            for p in ("faust-streaming", "aiokafka", "confluent-kafka", "river", "orjson")
        )
        per_100k_mib = state["account_mean_b"] * 100_000 / 2**20
        rows = "\n".join(
            f"| {r.rate:,.0f} | {r.events:,} | {r.commands} | {r.p50_ms:,.0f} | {r.p99_ms:,.0f} |"
            for r in loads
        )
        stage_rows = "\n".join(
            f"| {c.stage} | {c.us_per_event:,.1f} | {c.share:.1%} |" for c in stages
        )
        bare, empty = ceilings.bare_consumer, ceilings.empty_agent
        text = f"""# Benchmarks

Measured by `make bench` (`distillguard bench --days {self.args.days:g} --scale {self.args.scale:g}
--loads {self.args.loads} --seconds {self.args.seconds:g}`) on {time.strftime("%Y-%m-%d")}, every
figure in one run on one machine and one topic.

- machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}; Python
  {platform.python_version()}; {versions}; Apache Kafka 3.9.1 (KRaft, single local node)
- workload: the simulator's scenario ({n:,} request.v1 events, benign populations and five
  campaigns), one process, 8 partitions, memory store, default policy

## Throughput

Each row drains the same pre-loaded backlog with fresh topics and a fresh consumer group,
timed from start to the group's committed end.

| consumer | events/s | vs bare | vs empty agent |
|---|---:|---:|---:|
| bare confluent-kafka consumer, `consume(10000)`, `fetch.min.bytes` 64 KiB, orjson parse | \
{bare:,.0f} | 100% | - |
| Faust agent that only takes `take_events(1000, within=0.05)` batches | {empty:,.0f} | \
{empty / bare:.1%} | 1.00x |
| worker, input topic committed | {drain.input_rate:,.0f} | {drain.input_rate / bare:.1%} | \
{drain.input_rate / empty:.2f}x |
| worker, whole pipeline (input and every internal topic committed) | \
{drain.pipeline_rate:,.0f} | {drain.pipeline_rate / bare:.1%} | {drain.pipeline_rate / empty:.2f}x |

The worker used **{drain.cpu_s_per_1k:.3f} CPU seconds per 1,000 events** (user + system,
whole pipeline) and peaked at **{drain.peak_rss_mib:,.0f} MiB** RSS. The empty agent is the
ceiling of any design that hands Faust one event per record.

## Where our own time goes

cProfile over the first {self.args.profile_events:,} events through `Backtest.feed` (the
worker's pipeline without Kafka or Faust), each function's own time charged to its module's
stage. Profiled times are inflated (~2x); read the shares.

| stage | us/event (profiled) | share |
|---|---:|---:|
{stage_rows}

## End-to-end latency (request in Kafka -> command in Kafka)

From the Kafka timestamps of each command and of the request that triggered it, at fixed
offered loads (replaying the campaign-active half of the scenario at that rate). A load above
the worker's throughput builds a backlog, and the latency is then the backlog's age.

| offered load (events/s) | events | commands measured | p50 (ms) | p99 (ms) |
|---:|---:|---:|---:|---:|
{rows}

## State size

| entity | entities | mean encoded | max encoded | per 100k entities |
|---|---:|---:|---:|---:|
| account | {state["accounts"]:,.0f} | {state["account_mean_b"]:,.0f} B \
| {state["account_max_b"]:,.0f} B | {per_100k_mib:,.1f} MiB |
| ASN | {state["asns"]:,.0f} | {state["asn_mean_b"]:,.0f} B | {state["asn_max_b"]:,.0f} B | - |
"""
        self.args.out.write_text(text)


def run(args: argparse.Namespace) -> int:
    return Bench(args).run()
