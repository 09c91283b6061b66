"""Real-broker helpers: start the project's broker, run the worker as a subprocess, produce
and consume with confluent-kafka (an independent client, not the worker's aiokafka)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from streams.settings import Settings, load_settings
from streams.tools.kafka_io import fast_producer, produce_all, wait_drained
from streams.tools.worker_process import WorkerProcess

__all__ = ["WorkerProcess", "wait_drained"]

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerError(RuntimeError):
    pass


def start_broker(state_dir: Path, port: int | None = None) -> str:
    """Start a broker with the project's own script (again on ``port``, to restart one);
    returns its bootstrap address."""
    env = {
        **os.environ,
        "KAFKA_STATE_DIR": str(state_dir),
        "KAFKA_PORT": str(port or free_port()),
    }
    proc = subprocess.run(
        ["bash", str(KAFKA_SH), "start"], env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise BrokerError(f"deploy/kafka/kafka.sh start failed:\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1]


def stop_broker(state_dir: Path) -> None:
    env = {**os.environ, "KAFKA_STATE_DIR": str(state_dir)}
    subprocess.run(["bash", str(KAFKA_SH), "stop"], env=env, capture_output=True, timeout=60)


@dataclass
class Names:
    """Unique topic and group names for one test (faust's own integration-test pattern)."""

    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def env(self) -> dict[str, str]:
        s = self.suffix
        return {
            "DG_APP_ID": f"dg-test-{s}",
            "DG_PARTITIONS": "4",
            "DG_TOPIC_REQUESTS": f"test.requests.{s}",
            "DG_TOPIC_ALERTS": f"test.alerts.{s}",
            "DG_TOPIC_THROTTLE": f"test.throttle.{s}",
            "DG_TOPIC_DEADLETTER": f"test.deadletter.{s}",
            "DG_TOPIC_CONTROL": f"test.control.{s}",
            "DG_TOPIC_AUDIT": f"test.audit.{s}",
        }

    def topic(self, name: str) -> str:
        return self.env[f"DG_TOPIC_{name.upper()}"]

    def settings(self, bootstrap: str) -> Settings:
        """The settings a worker with these names on ``bootstrap`` runs with."""
        return load_settings({**self.env, "KAFKA_BOOTSTRAP_SERVERS": bootstrap})


def start_worker(bootstrap: str, names: Names, work: Path, **extra_env: str) -> WorkerProcess:
    """The worker with this test's unique names, 4 partitions and a free web port."""
    env = {
        **names.env,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DG_WEB_PORT": str(free_port()),
        "DG_LOG_FORMAT": "json",
        "DG_BATCH_WITHIN_S": "0.1",
        **extra_env,
    }
    return WorkerProcess(env, work).start(timeout_s=90)


def group_members(bootstrap: str, group: str) -> str:
    """Who in ``group`` owns which partitions, as the broker sees it (for failure reports)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    lines = [f"group {group}: {described.state}"]
    for member in described.members:
        owned = sorted((tp.topic, tp.partition) for tp in member.assignment.topic_partitions)
        lines.append(f"  {member.member_id} on {member.host}: {owned}")
    return "\n".join(lines)


def drain_or_explain(worker: WorkerProcess, settings: Settings, timeout_s: float) -> None:
    """``worker.wait_drained``; when it is not drained in time, fail with the group's
    assignment, the worker's readiness, counters and warnings, and its asyncio tasks' stacks
    (the counters and the last warning also go in the failure's one-line summary)."""
    try:
        worker.wait_drained(settings, timeout_s)
    except (TimeoutError, RuntimeError) as err:
        try:
            members = group_members(settings.kafka.bootstrap_servers, settings.app_id)
        except Exception as exc:  # a report must not hide the failure it reports
            members = f"(group not described: {exc!r})"
        port = worker.env["DG_WEB_PORT"]
        ready, stats = _get_text(port, "/ready"), _get_text(port, "/stats")
        warnings = [
            line
            for line in worker.log_path.read_text(errors="replace").splitlines()
            if '"level": "warning"' in line or '"level": "error"' in line
        ]
        print(f"\n{members}\n/ready: {ready}\n/stats: {stats}\nwarnings:")
        print("\n".join(warnings[-40:]))
        print("the worker's log with its tasks' stacks:")
        print(worker.dump_tasks(lines=200))
        last = warnings[-1][:400] if warnings else "none"
        pytest.fail(f"the worker did not drain: {err}; /stats {stats[:600]}; last warning {last}")


def _get_text(port: str, path: str) -> str:
    """The body of a GET on the worker's web port, or why there is none (for reports)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as res:
            return str(res.read().decode())
    except Exception as exc:
        return repr(exc) + " " + getattr(exc, "read", lambda: b"")().decode()


def log_lines(worker: WorkerProcess) -> list[dict[str, Any]]:
    """The worker's JSON log records."""
    out = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(orjson.JSONDecodeError):
                out.append(orjson.loads(line))
    return out


def produce(
    bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]
) -> int:
    """Produce (key, value) pairs in order, keyed as a gateway would; returns the count."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    return produce_all(producer, topic, messages)


def request_message(event: dict[str, Any]) -> tuple[bytes, bytes]:
    return event["account_id"].encode(), orjson.dumps(event)


def consume_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float,
) -> list[dict[str, Any]]:
    """Read a topic from the start until ``done(records)`` or the timeout; returns records."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(records):
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            record = orjson.loads(msg.value())
            record["_kafka_ts_ms"] = msg.timestamp()[1]
            records.append(record)
    finally:
        consumer.close()
    return records


def run_through_worker(
    bootstrap: str, events: list[dict[str, Any]], work: Path, rate: float | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Replay ``events`` into a fresh worker at ``rate`` events/s (near one worker's
    throughput, so partitions advance together in event time), wait until it and its
    internal topics are drained, and return (commands, alerts)."""
    names = Names()
    worker = start_worker(bootstrap, names, work)
    try:
        settings = names.settings(bootstrap)
        messages = (request_message(e) for e in events)
        produce_all(fast_producer(settings.kafka), names.topic("requests"), messages, rate=rate)
        drain_or_explain(worker, settings, 300)
        commands = consume_until(bootstrap, names.topic("throttle"), lambda r: False, 8)
        alerts = consume_until(bootstrap, names.topic("alerts"), lambda r: False, 8)
    finally:
        worker.stop()
    return commands, alerts
