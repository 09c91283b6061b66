"""``/metrics`` in the Prometheus text format, read from the same counters as ``/stats``.

One registry per app (not prometheus_client's global one), so two apps in a process (tests)
each report their own; the counters are read at scrape time, so nothing here sits on the
event path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Final, get_args

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.control.policy import PolicyHolder
from streams.stall_guard import StallKind

DEADLETTER_PREFIX: Final = "deadletter."


class WorkerCollector(Collector):
    """The worker's counters, readiness checks and view sizes as Prometheus families."""

    def __init__(
        self,
        counters: Counter[str],
        ready_checks: Callable[[], dict[str, bool]],
        view_sizes: Callable[[], dict[str, int]],
        policy: PolicyHolder,
    ) -> None:
        self._counters = counters
        self._ready_checks = ready_checks
        self._view_sizes = view_sizes
        self._policy = policy

    def collect(self) -> Iterator[Metric]:
        counts = self._counters
        yield _counter("events_processed", "Valid request events processed.", counts["processed"])
        yield _counter(
            "events_replayed",
            "Valid events skipped as already held by their account's state (a replay).",
            counts["replayed"],
        )
        yield _counter(
            "input_chunks",
            "Input events that carried a fetched run of records (streams.chunks).",
            counts["input_chunks"],
        )
        stalls = CounterMetricFamily(
            "distillguard_partition_stalls",
            "Consumed partitions the stall guard found stalled, by kind (streams.stall_guard).",
            labels=["kind"],
        )
        for kind in get_args(StallKind):
            stalls.add_metric([kind], counts[f"stalls.{kind}"])
        yield stalls
        dead = CounterMetricFamily(
            "distillguard_events_deadlettered",
            "Events sent to the dead-letter topic, by reason code.",
            labels=["reason"],
        )
        for key, value in sorted(counts.items()):
            if key.startswith(DEADLETTER_PREFIX):
                dead.add_metric([key.removeprefix(DEADLETTER_PREFIX)], value)
        yield dead
        yield _counter("alerts", "Alerts sent to the alert topic.", counts["alerts"])
        yield _counter("commands", "Commands sent to the throttle topic.", counts["commands"])
        ready = GaugeMetricFamily(
            "distillguard_ready_check", "1 when the readiness check holds.", labels=["check"]
        )
        for name, ok in sorted(self._ready_checks().items()):
            ready.add_metric([name], 1.0 if ok else 0.0)
        yield ready
        for name, size in sorted(self._view_sizes().items()):
            yield GaugeMetricFamily(f"distillguard_{name}", f"Entries in the {name} view.", size)
        yield GaugeMetricFamily(
            "distillguard_policy_version",
            "Version of the policy in force.",
            self._policy.current.version,
        )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"distillguard_{name}", documentation, value=value)


def worker_registry(collector: WorkerCollector) -> CollectorRegistry:
    """A registry of its own holding ``collector`` (read it with ``generate_latest``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
