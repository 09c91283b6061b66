"""An agent that only counts, for ``distillguard bench``: what Faust's consumer, stream and
commit machinery cost on the input topic before any of our code runs (the ceiling a worker
built on per-record Faust events cannot pass). Run as ``python -m streams.tools.empty_agent``
with the worker's environment; it consumes in the worker's group, so the bench measures it
the same way: from start to the group's committed end of the input topic."""

from __future__ import annotations

from typing import Any

import faust

from streams.app import faust_app
from streams.logs import configure_logging
from streams.settings import load_settings
from streams.worker import BoundedShutdownWorker

BATCH = 1000
WITHIN_S = 0.05


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = faust_app(settings)
    topic = app.topic(settings.topics.requests, key_type=bytes, value_type=bytes)

    async def count(stream: Any) -> None:
        async for _ in stream.take_events(BATCH, within=WITHIN_S):
            pass  # taking the batch is the measured work; Faust acks it when the next starts

    app.agent(topic, name="bench.count")(count)
    worker: faust.Worker = BoundedShutdownWorker(
        app, loglevel=settings.log_level, override_logging=False, quiet=True
    )
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
