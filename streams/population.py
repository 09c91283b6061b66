"""Population models on the Faust app: a snapshot table, a snapshot timer, rebalances."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.types import TP

from models.detectors import PopulationTail
from models.population import PopulationModels
from streams.faust_glue import json_table
from streams.settings import Settings


def partitioned_population(
    app: faust.App,
    settings: Settings,
    name: str,
    factory: Callable[[], PopulationTail],
    source_topic: str,
) -> PopulationModels:
    """Population models for the partitions of ``source_topic``, registered on ``app``."""
    # Always the memory store: snapshots are written to the changelog only (from a timer,
    # outside any stream event), and a memory table is rebuilt from the whole compacted
    # changelog at every start, where RocksDB would resume past the snapshots it never saw.
    table = json_table(
        app,
        settings,
        name,
        f"Population-model snapshots of {source_topic} by partition.",
        store="memory://",
    )
    models = PopulationModels(table, factory)

    async def snapshot() -> None:
        """Write changed models to their partition's changelog only: it is what a restarted
        or new owner recovers from, and an explicit partition needs no stream event."""
        for partition, doc in models.changed_snapshots():
            table.send_changelog(partition, str(partition), doc)

    app.timer(interval=settings.snapshot_every_s, name=f"{name}-snapshot")(snapshot)

    async def keep_assigned(sender: Any, assigned: set[TP], **_: Any) -> None:
        models.keep_only({tp.partition for tp in assigned if tp.topic == source_topic})

    app.on_partitions_assigned.connect(keep_assigned)  # type: ignore[arg-type]
    return models
