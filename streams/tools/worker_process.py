"""``distillguard worker`` as a child process of a tool (demo, bench)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from streams.settings import Settings
from streams.tools.kafka_io import wait_drained

REPO = Path(__file__).resolve().parents[2]


WORKER: Final = ("-m", "streams.cli", "worker")


class WorkerProcess:
    def __init__(self, env: dict[str, str], work: Path, command: Sequence[str] = WORKER) -> None:
        """``command``: the Python arguments that start it (another Faust app, for the bench)."""
        self.env = {**os.environ, **env, "DG_DATA_DIR": str(work / "data")}
        self.command = tuple(command)
        self.log_path = work / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None
        work.mkdir(parents=True, exist_ok=True)

    def start(self, timeout_s: float = 120.0) -> WorkerProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *self.command],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while b"Worker ready" not in self.log_path.read_bytes()[offset:]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start; see {self.log_path}")
            time.sleep(0.2)
        return self

    def wait_drained(self, settings: Settings, timeout_s: float) -> None:
        """Until the worker's group has committed the end of the input topic and of the
        internal topics it feeds, in pipeline order (campaign reports come from link
        records, which come from requests); fails at once if the worker dies."""
        for topic in (
            settings.topics.requests,
            settings.asn_activity_topic,
            settings.links_topic,
            settings.campaign_reports_topic,
        ):
            wait_drained(
                settings.kafka.confluent_config(),
                settings.app_id,
                topic,
                settings.partitions,
                timeout_s,
                alive=self.alive,
            )

    def dump_tasks(self, lines: int = 400) -> str:
        """The tail of the worker's log after asking it for a dump of every asyncio task's
        stack (SIGUSR1: mode's worker writes one to its stderr), for a failure report."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(2.0)
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        """The worker's peak resident memory (VmHWM), in MiB."""
        return self._status_mib("VmHWM")

    def rss_mib(self) -> float:
        """The worker's resident memory now (VmRSS), in MiB."""
        return self._status_mib("VmRSS")

    def _status_mib(self, field: str) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM (graceful: offsets committed), SIGKILL after ``timeout_s``; exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode
