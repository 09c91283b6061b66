"""Shared fixtures. Integration tests use the real broker started by deploy/kafka/kafka.sh
(or KAFKA_BOOTSTRAP_SERVERS); if it cannot start they fail, never skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import start_broker, stop_broker


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    state_dir: Path = tmp_path_factory.mktemp("kafka")
    bootstrap = start_broker(state_dir)  # raises (test error) when the broker cannot start
    try:
        yield bootstrap
    finally:
        stop_broker(state_dir)
