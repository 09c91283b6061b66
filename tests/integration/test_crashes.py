"""Crashes and stops on the real broker. The worker kills itself (SIGKILL, ``DG_FAILPOINT``)
in the middle of a batch, between a batch's table writes and between an alert and its
command; restarted with the same settings it must end with the same decisions, under the
same ids, as a worker that never crashed. SIGTERM while busy exits within the documented
bound with what it processed committed."""

from __future__ import annotations

import signal
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition

from models.backtest import throttled_accounts
from streams.settings import Settings
from streams.tools.kafka_io import fast_producer, produce_all
from streams.tools.worker_process import WorkerProcess
from streams.worker import SHUTDOWN_BOUND_S
from tests.integration.harness import (
    Names,
    consume_until,
    drain_or_explain,
    request_message,
    run_through_worker,
    start_worker,
)
from tests.traffic import benign_background, harvest_scenario

RATE = 1500.0  # events/s offered: near one worker's throughput, as in production replays
CRASHES = {"mid_batch": 12, "table_write": 8, "after_alert": 2}
# Between a batch's table writes, the accounts already written skip their replayed events and
# so do not teach the population model again, which restarts from the previous batch's
# snapshot: a later decision can be made a few events earlier or later, under another id.
MAY_MOVE = frozenset({"table_write"})


def decisions_of(commands: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Distinct decisions by (entity, action), re-sent duplicates counted once."""
    unique = {c["command_id"]: c for c in commands}.values()
    return Counter((c["entity_id"], c["action"]) for c in unique)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return harvest_scenario("harvester-crash", stagger_s=600)


@pytest.fixture(scope="module")
def reference(
    kafka_bootstrap: str, events: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    commands, _ = run_through_worker(
        kafka_bootstrap, events, tmp_path_factory.mktemp("reference"), rate=RATE
    )
    assert len(throttled_accounts(commands)) == 4, "precondition: the harvesters are throttled"
    return commands


def restart(crashed: WorkerProcess) -> tuple[WorkerProcess, float]:
    """The same worker (settings, data folder) without the crash point; seconds to ready."""
    env = {k: v for k, v in crashed.env.items() if k != "DG_FAILPOINT"}
    again = WorkerProcess(env, crashed.log_path.parent)
    started = time.monotonic()
    again.start()
    return again, time.monotonic() - started


@pytest.mark.parametrize("point", sorted(CRASHES))
def test_a_crash_loses_and_doubles_no_decision(
    kafka_bootstrap: str,
    events: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    point: str,
    tmp_path: Path,
) -> None:
    names = Names()
    settings = names.settings(kafka_bootstrap)
    crashing = start_worker(
        kafka_bootstrap, names, tmp_path, DG_FAILPOINT=f"{point}:{CRASHES[point]}"
    )
    produce_all(
        fast_producer(settings.kafka),
        names.topic("requests"),
        map(request_message, events),
        rate=RATE,
    )
    assert crashing.proc is not None
    assert crashing.proc.wait(120) == -signal.SIGKILL, f"the worker never reached {point}"
    worker, to_ready = restart(crashing)
    try:
        started = time.monotonic()
        drain_or_explain(worker, settings, 180)
        to_drained = time.monotonic() - started
        commands = consume_until(kafka_bootstrap, names.topic("throttle"), lambda r: False, 8)
    finally:
        worker.stop()

    ids = Counter(c["command_id"] for c in commands)
    expected = {c["command_id"] for c in reference}
    print(
        f"\ncrash at {point}: ready {to_ready:.1f} s after the restart, drained "
        f"{to_drained:.1f} s later; {len(commands)} commands, {len(ids)} distinct "
        f"({sum(ids.values()) - len(ids)} re-sent under their id), reference {len(expected)}"
    )
    assert throttled_accounts(commands) == throttled_accounts(reference)
    # Each decision once: per entity the same actions, none lost and none doubled.
    assert decisions_of(commands) == decisions_of(reference)
    if point in MAY_MOVE:
        return
    assert set(ids) - expected == set(), "a decision re-made under a different id"
    assert expected - set(ids) == set(), "a decision lost"
    by_id = {c["command_id"]: c for c in reference}
    for command in commands:  # an id names one record: the same entity, action and time
        same = by_id[command["command_id"]]
        assert (command["entity_id"], command["action"], command["event_ts"]) == (
            same["entity_id"],
            same["action"],
            same["event_ts"],
        )


def committed_total(settings: Settings) -> int:
    consumer = Consumer({**settings.kafka.confluent_config(), "group.id": settings.app_id})
    try:
        parts = [TopicPartition(settings.topics.requests, p) for p in range(settings.partitions)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(parts, timeout=10))
    finally:
        consumer.close()


def processed(worker: WorkerProcess) -> int:
    """Events folded into account state (read, less the replays the states already held)."""
    port = worker.env["DG_WEB_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as res:
        counters = orjson.loads(res.read())["counters"]
    return int(counters.get("processed", 0)) - int(counters.get("replayed", 0))


def test_sigterm_while_busy_exits_within_the_bound_and_commits_what_it_processed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    names = Names()
    settings = names.settings(kafka_bootstrap)
    events = benign_background(n_accounts=150, duration_s=6 * 3600)
    worker = start_worker(kafka_bootstrap, names, tmp_path)
    produce_all(
        fast_producer(settings.kafka), names.topic("requests"), map(request_message, events)
    )
    deadline = time.monotonic() + 60
    while (before := processed(worker)) < len(events) // 4:
        assert time.monotonic() < deadline, "the worker is not processing"
        time.sleep(0.2)
    assert before < len(events), "precondition: still busy when stopped"
    assert worker.proc is not None
    started = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    code = worker.proc.wait(SHUTDOWN_BOUND_S + 10)
    took = time.monotonic() - started
    committed = committed_total(settings)

    again = WorkerProcess(worker.env, worker.log_path.parent).start()
    try:
        drain_or_explain(again, settings, 180)
        rest = processed(again)
    finally:
        again.stop()
    print(
        f"\nSIGTERM while busy: exit {code} in {took:.2f} s (bound {SHUTDOWN_BOUND_S:g} s); "
        f"{before:,} processed when signalled, {committed:,} committed; the restart "
        f"processed the other {rest:,} of {len(events):,}"
    )
    assert code == 0 and took <= SHUTDOWN_BOUND_S
    assert before <= committed <= len(events)
    assert rest == len(events) - committed  # nothing skipped, nothing applied twice
