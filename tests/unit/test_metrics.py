"""/metrics reads the same counters as /stats, in the Prometheus text format."""

from __future__ import annotations

from collections import Counter

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.api.metrics import WorkerCollector, worker_registry
from streams.control.policy import PolicyHolder


def scrape(counters: Counter[str], ready: dict[str, bool]) -> dict[tuple[str, tuple], float]:
    registry = worker_registry(
        WorkerCollector(counters, lambda: ready, lambda: {"networks_with_risk": 4}, PolicyHolder())
    )
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counters_and_dead_letters_by_reason() -> None:
    counters = Counter(
        {"processed": 7, "deadletter": 3, "deadletter.not_json": 2, "deadletter.too_large": 1}
    )
    samples = scrape(counters, {"broker_reachable": True, "policy_loaded": False})
    assert samples[("distillguard_events_processed_total", ())] == 7
    dead = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name == "distillguard_events_deadlettered_total"
    }
    assert dead == {"not_json": 2, "too_large": 1}
    assert samples[("distillguard_alerts_total", ())] == 0
    assert samples[("distillguard_ready_check", (("check", "broker_reachable"),))] == 1
    assert samples[("distillguard_ready_check", (("check", "policy_loaded"),))] == 0
    assert samples[("distillguard_networks_with_risk", ())] == 4


def test_a_scrape_sees_counts_made_after_the_registry() -> None:
    counters: Counter[str] = Counter()
    registry = worker_registry(WorkerCollector(counters, dict, dict, PolicyHolder()))
    counters["processed"] += 5
    assert b"distillguard_events_processed_total 5.0" in generate_latest(registry)
