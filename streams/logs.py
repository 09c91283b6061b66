"""structlog set-up: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Final

import structlog

# Client libraries log one line per failed reconnect: during a broker outage that was ~1.9 MB/s.
REPEAT_WINDOW_S: Final = 10.0
REPEATS_PER_WINDOW: Final = 5
LIMITED_LOGGERS: Final = ("aiokafka", "faust", "mode", "kafka")
MAX_TRACKED: Final = 1_000  # distinct message templates remembered (bounded state)


class RepeatLimiter(logging.Filter):
    """At most ``REPEATS_PER_WINDOW`` records per logger and message template per window
    from the client libraries; the first record of the next window says how many were
    suppressed. Our own loggers are never limited."""

    def __init__(self) -> None:
        super().__init__()
        self._windows: dict[tuple[str, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(LIMITED_LOGGERS):
            return True
        key = (record.name, str(record.msg)[:200])
        start, count, suppressed = self._windows.get(key, (record.created, 0, 0))
        if record.created - start >= REPEAT_WINDOW_S:
            if suppressed:
                record.msg = (
                    f"{record.msg} [{suppressed} similar suppressed in {REPEAT_WINDOW_S:g} s]"
                )
            start, count, suppressed = record.created, 0, 0
        count += 1
        passed = count <= REPEATS_PER_WINDOW
        if len(self._windows) >= MAX_TRACKED and key not in self._windows:
            self._windows.clear()
        self._windows[key] = (start, count, suppressed + (not passed))
        return passed


def configure_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Route structlog (and stdlib logging, for Faust/aiokafka) to stderr in one format."""
    fmt = fmt or ("console" if sys.stderr.isatty() else "json")
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Faust, mode and aiokafka narrate every start-up step and rebalance at INFO; keep them
    # for real problems, but keep recovery progress ("Worker ready").
    for noisy in ("aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("faust.tables.recovery").setLevel(root.level)
