"""Population models, one per input partition, and their versioned snapshots.

A population model is shared by every account of a partition, so it lives in process and is
snapshotted every few seconds (not per event). Keyed by partition, it moves with the
partition on a rebalance: the new owner resumes from the last snapshot.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import structlog

from models.decide import MODEL_VERSION
from models.detectors import PopulationTail

log = structlog.get_logger(__name__)

SNAPSHOT_VERSION: Final = 1


def encode_snapshot(model: PopulationTail) -> dict[str, Any]:
    """Versioned envelope; the pickle is only ever read back from our own changelog topic."""
    return {
        "v": SNAPSHOT_VERSION,
        "model_version": MODEL_VERSION,
        "blob": base64.b64encode(pickle.dumps(model, protocol=5)).decode(),
    }


def decode_snapshot(doc: Any) -> PopulationTail | None:
    """The model in a snapshot, or None when the snapshot is from another release (reset)."""
    if not isinstance(doc, dict) or doc.get("v") != SNAPSHOT_VERSION:
        return None
    if doc.get("model_version") != MODEL_VERSION:
        return None
    model = pickle.loads(base64.b64decode(doc["blob"]))
    return model if isinstance(model, PopulationTail) else None


class PopulationModels:
    """In-process models by partition, loaded lazily from a mapping of snapshots."""

    def __init__(self, snapshots: Mapping[str, Any], factory: Callable[[], PopulationTail]) -> None:
        self._snapshots = snapshots
        self._factory = factory
        self._models: dict[int, PopulationTail] = {}
        self._snapshotted_at: dict[int, int] = {}  # n_learned at the last snapshot

    def for_partition(self, partition: int) -> PopulationTail:
        model = self._models.get(partition)
        if model is None:
            model = decode_snapshot(self._snapshots.get(str(partition))) or self._factory()
            log.info("population model loaded", partition=partition, learned=model.n_learned)
            self._models[partition] = model
            self._snapshotted_at[partition] = model.n_learned
        return model

    def changed_snapshots(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(partition, snapshot) for every model that learned since its last snapshot."""
        for partition, model in list(self._models.items()):
            if model.n_learned != self._snapshotted_at.get(partition):
                self._snapshotted_at[partition] = model.n_learned
                yield partition, encode_snapshot(model)

    def keep_only(self, partitions: set[int]) -> None:
        """Drop models of partitions this worker no longer owns (they reload if reassigned)."""
        for partition in set(self._models) - partitions:
            del self._models[partition]
            self._snapshotted_at.pop(partition, None)
