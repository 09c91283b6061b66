"""The Faust worker with a bounded shutdown: SIGTERM or SIGINT exits within
``SHUTDOWN_BOUND_S`` even when the broker is unreachable (Faust then waits for commits and
producer flushes that cannot finish). A normal shutdown commits and exits in ~1.5 s; the
Helm chart's grace period must exceed the bound."""

from __future__ import annotations

import os
import threading
from typing import Final

import faust
import structlog

log = structlog.get_logger(__name__)

SHUTDOWN_BOUND_S: Final = 25.0
EXIT_AFTER_BOUND: Final = 70  # EX_SOFTWARE: the shutdown did not complete


def _force_exit() -> None:
    log.error("shutdown did not finish; exiting without it", bound_s=SHUTDOWN_BOUND_S)
    os._exit(EXIT_AFTER_BOUND)


class BoundedShutdownWorker(faust.Worker):
    """``faust.Worker`` whose shutdown signals arm a watchdog first."""

    _watchdog: threading.Timer | None = None

    def _arm_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(SHUTDOWN_BOUND_S, _force_exit)
            self._watchdog.daemon = True
            self._watchdog.start()

    def _on_sigterm(self) -> None:
        self._arm_watchdog()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._arm_watchdog()
        super()._on_sigint()
