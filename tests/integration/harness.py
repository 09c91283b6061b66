"""Real-broker helpers: start the project's broker, run the worker as a subprocess, produce
and consume with confluent-kafka (an independent client, not the worker's aiokafka)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer, TopicPartition

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerError(RuntimeError):
    pass


def start_broker(state_dir: Path) -> str:
    """Start a broker with the project's own script; returns its bootstrap address."""
    env = {**os.environ, "KAFKA_STATE_DIR": str(state_dir), "KAFKA_PORT": str(free_port())}
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
            "DG_TOPIC_REQUESTS": f"test.requests.{s}",
            "DG_TOPIC_ALERTS": f"test.alerts.{s}",
            "DG_TOPIC_THROTTLE": f"test.throttle.{s}",
            "DG_TOPIC_DEADLETTER": f"test.deadletter.{s}",
            "DG_TOPIC_CONTROL": f"test.control.{s}",
        }

    def topic(self, name: str) -> str:
        return self.env[f"DG_TOPIC_{name.upper()}"]


class WorkerProcess:
    """``distillguard worker`` as a subprocess, with its log captured to a file."""

    def __init__(self, bootstrap: str, names: Names, log_path: Path, **extra_env: str) -> None:
        self.log_path = log_path
        self.env = {
            **os.environ,
            **names.env,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DG_PARTITIONS": "4",
            "DG_WEB_PORT": str(free_port()),
            "DG_LOG_FORMAT": "json",
            "DG_BATCH_WITHIN_S": "0.1",
            "DG_DATA_DIR": str(log_path.parent / f"data-{names.suffix}"),
            **extra_env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 90.0) -> WorkerProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if "Worker ready" in text:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{text[-4000:]}")
            time.sleep(0.2)
        raise RuntimeError(
            f"worker not ready in {ready_timeout}s:\n{self.log_path.read_text()[-4000:]}"
        )

    def stop(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(orjson.JSONDecodeError):
                    out.append(orjson.loads(line))
        return out


def produce(
    bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]
) -> int:
    """Produce (key, value) pairs in order, keyed partitioning as a gateway would; returns count."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    count = 0
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.1)
        count += 1
    remaining = producer.flush(30)
    assert remaining == 0, f"{remaining} messages not delivered"
    return count


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


def wait_drained(bootstrap: str, group: str, topic: str, partitions: int, timeout: float) -> None:
    """Wait until the consumer group has committed up to the end of every partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    deadline = time.monotonic() + timeout
    try:
        while True:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            committed = consumer.committed(tps, timeout=10)
            lag = 0
            for tp in committed:
                _, high = consumer.get_watermark_offsets(tp, timeout=10)
                lag += high - max(tp.offset, 0)
            if lag == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"group {group} still {lag} messages behind on {topic}")
            time.sleep(0.5)
    finally:
        consumer.close()
