"""``distillguard demo``: a newcomer's first five minutes, end to end on a real broker.

Starts the local broker (unless ``KAFKA_BOOTSTRAP_SERVERS`` is set), simulates a few days of
traffic with planted campaigns, starts the worker, replays the traffic while showing alerts
and throttles as they arrive, then writes the evaluation report and prints its headline.
Every run uses fresh topic and group names, so runs never see each other's data. Ctrl-C
stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer

from models.simulator import CAMPAIGNS
from streams.settings import load_settings
from streams.tools.local_kafka import REPO, LocalKafka, run_environment
from streams.tools.simulate import add_cell_argument, campaign_list
from streams.tools.worker_process import WorkerProcess


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, default=3.0, help="simulated days of event time")
    parser.add_argument("--scale", type=float, default=0.4, help="simulator scale (accounts)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--campaigns",
        type=campaign_list,
        default=CAMPAIGNS,
        help=f"comma-separated subset of {','.join(CAMPAIGNS)} (e.g. hydra)",
    )
    add_cell_argument(parser)
    # Paced below one worker's throughput, so the input partitions advance together in event
    # time (as in live traffic) and latency means latency, not backlog.
    parser.add_argument("--rate", type=float, default=700.0, help="replay events/s (0: max)")
    parser.add_argument("--out", type=Path, default=Path("reports/demo"), help="report folder")


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
        self.work = REPO / ".local" / "demo" / self.run_id
        self.kafka = LocalKafka()
        self.worker: WorkerProcess | None = None
        self.stop_tail = threading.Event()
        self.shown = {"alerts": 0, "commands": 0}

    def say(self, text: str) -> None:
        print(f"\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"==> {text}", flush=True)

    def run(self) -> int:
        try:
            return self._run()
        except KeyboardInterrupt:
            self.say("interrupted: stopping everything")
            return 130
        finally:
            self.cleanup()

    def _run(self) -> int:
        env = run_environment(f"demo-{self.run_id}", self.kafka.bootstrap())
        os.environ.update(env)
        events, labels = self.simulate()
        self.say("starting the worker")
        self.worker = WorkerProcess(env, self.work).start()
        tail = threading.Thread(target=self.tail, args=(env,), daemon=True)
        tail.start()
        self.replay(events)
        self.wait_drained(env)
        self.stop_tail.set()
        tail.join(5)
        return self.report(events, labels)

    def simulate(self) -> tuple[Path, Path]:
        from models.simulator import ScenarioConfig, simulate, write_scenario

        days, scale = self.args.days, self.args.scale
        seed, cell = self.args.seed, self.args.cell
        self.say(f"simulating {days:g} days of traffic (scale {scale:g}, seed {seed}, cell {cell})")
        config = ScenarioConfig(
            seed=seed, days=days, scale=scale, campaigns=self.args.campaigns, cell=cell
        )
        scenario = simulate(config)
        return write_scenario(scenario, self.work)

    def replay(self, events: Path) -> None:
        from models.backtest import read_jsonl
        from streams.tools.kafka_io import fast_producer, print_progress, produce_all

        settings = load_settings()
        topic = settings.topics.requests
        self.say(f"replaying {events.name} into {topic}; alerts and throttles as they happen:")
        messages = (
            (orjson.loads(line)["account_id"].encode(), line) for line in read_jsonl(events)
        )
        produce_all(
            fast_producer(settings.kafka),
            topic,
            messages,
            rate=self.args.rate or None,
            on_progress=print_progress("replay"),
        )
        print(file=sys.stderr)

    def tail(self, env: dict[str, str]) -> None:
        """Show alerts and commands as they land, one readable line each."""
        settings = load_settings(env)
        consumer = Consumer(
            {
                **settings.kafka.confluent_config(),
                "group.id": f"demo-tail-{self.run_id}",
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([settings.topics.alerts, settings.topics.throttle])
        try:
            while not self.stop_tail.is_set():
                msg = consumer.poll(0.3)
                if msg is None or msg.error() or msg.value() is None:
                    continue
                print("\r" + describe(orjson.loads(msg.value() or b"{}")), flush=True)
                kind = "commands" if msg.topic() == settings.topics.throttle else "alerts"
                self.shown[kind] += 1
        finally:
            consumer.close()

    def wait_drained(self, env: dict[str, str]) -> None:
        assert self.worker is not None
        self.say("waiting for the worker to finish the backlog")
        try:
            self.worker.wait_drained(load_settings(env), 600)
        except RuntimeError as exc:
            raise SystemExit(f"{exc}; see {self.worker.log_path}") from None
        time.sleep(2)

    def report(self, events: Path, labels: Path) -> int:
        from streams.tools.kafka_io import read_outputs
        from streams.tools.report import headline, write_report

        self.say(f"evaluating: {self.shown['alerts']} alerts and {self.shown['commands']} commands")
        alerts, commands = read_outputs(load_settings())
        report = write_report(self.args.out, labels, events, alerts, commands, "distillguard demo")
        self.say(headline(report))
        print(f"    report: {self.args.out / 'summary.md'} (plots beside it)")
        return 0

    def cleanup(self) -> None:
        self.stop_tail.set()
        if self.worker is not None:
            self.worker.stop()
        self.kafka.stop()


def describe(record: dict[str, Any]) -> str:
    when = time.strftime("%m-%d %H:%M", time.gmtime(record["event_ts"]))
    entity = f"{record['entity_type']}:{record['entity_id']}"
    if "action" in record:
        return f"  {when}  COMMAND {record['action']:<8} {entity:<32} {record['reason'][:90]}"
    top = record["reasons"][0]["detail"] if record["reasons"] else ""
    return (
        f"  {when}  ALERT   {record['severity']:<8} {entity:<32} "
        f"score {record['score']:.2f}  {top[:70]}"
    )


def run(args: argparse.Namespace) -> int:
    return Demo(args).run()
