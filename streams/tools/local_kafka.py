"""The project's local broker for tools: started on demand, stopped by whoever started it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"


class LocalKafka:
    """``KAFKA_BOOTSTRAP_SERVERS`` if set, else the local broker (started if needed)."""

    def __init__(self) -> None:
        self.started = False

    def bootstrap(self, say: str = "starting the local Kafka broker") -> str:
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            return external
        status = subprocess.run(
            ["bash", str(KAFKA_SH), "status"], capture_output=True, text=True, check=False
        )
        if status.returncode == 0:  # someone else's broker (make kafka-up): use it, leave it
            return status.stdout.strip().splitlines()[-1]
        print(f"==> {say} (deploy/kafka/kafka.sh start)", flush=True)
        proc = subprocess.run(["bash", str(KAFKA_SH), "start"], stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit("the local broker did not start; see the messages above")
        self.started = True
        return proc.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.started:
            subprocess.run(["bash", str(KAFKA_SH), "stop"], check=False)
            self.started = False


def run_environment(run_id: str, bootstrap: str) -> dict[str, str]:
    """Fresh topic and group names for one tool run, so runs never see each other's data."""
    prefix = f"run.{run_id}"
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DG_APP_ID": f"distillguard-{run_id}",
        "DG_TOPIC_REQUESTS": f"{prefix}.requests",
        "DG_TOPIC_ALERTS": f"{prefix}.alerts",
        "DG_TOPIC_THROTTLE": f"{prefix}.throttle",
        "DG_TOPIC_DEADLETTER": f"{prefix}.deadletter",
        "DG_TOPIC_CONTROL": f"{prefix}.control",
        "DG_LOG_FORMAT": "json",
    }
