"""Population models on the Faust app: a snapshot table, snapshots per batch, rebalances."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.types import TP

from models.detectors import PopulationTail
from models.population import PopulationModels
from streams.faust_glue import json_table
from streams.settings import Settings


class PartitionedPopulation:
    """One app's population models by partition and the table their snapshots live in."""

    def __init__(self, models: PopulationModels, table: Any) -> None:
        self._models = models
        self._table = table

    def for_partition(self, partition: int) -> PopulationTail:
        return self._models.for_partition(partition)

    def snapshot_changed(self) -> None:
        """Write every model that learned to its partition's changelog. Called at the end of
        each batch, after the batch's table writes: what a restarted or new owner recovers
        is then the model as of a batch the account states also hold (a snapshot is ~3 KB
        and ~30 us to encode), not as of a wall-clock timer's last tick."""
        for partition, doc in self._models.changed_snapshots():
            # The in-memory copy too: send_changelog writes only the changelog, and a model
            # dropped on a rebalance and assigned back reloads from this table (it reloaded
            # the start-up snapshot, learned 2 instead of ~250: a harvester went unflagged).
            self._table.data[str(partition)] = doc
            self._table.send_changelog(partition, str(partition), doc)


def partitioned_population(
    app: faust.App,
    settings: Settings,
    name: str,
    factory: Callable[[], PopulationTail],
    source_topic: str,
) -> PartitionedPopulation:
    """Population models for the partitions of ``source_topic``, registered on ``app``."""
    # Always the memory store: snapshots are written to the changelog only (an explicit
    # partition, whatever event is being handled), and a memory table is rebuilt from the
    # whole compacted changelog at every start, where RocksDB would resume past the
    # snapshots it never saw.
    table = json_table(
        app,
        settings,
        name,
        f"Population-model snapshots of {source_topic} by partition.",
        store="memory://",
    )
    models = PopulationModels(table, factory)

    async def keep_assigned(sender: Any, assigned: set[TP], **_: Any) -> None:
        models.keep_only({tp.partition for tp in assigned if tp.topic == source_topic})

    app.on_partitions_assigned.connect(keep_assigned)  # type: ignore[arg-type]
    return PartitionedPopulation(models, table)
