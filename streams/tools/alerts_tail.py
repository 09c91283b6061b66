"""``distillguard alerts tail``: follow the alert topic with filters; a table on a terminal,
JSON lines when piped."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from confluent_kafka import Consumer

from models.decide import SEVERITIES
from streams.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entity-type", choices=("account", "asn", "campaign"))
    parser.add_argument("--severity", choices=SEVERITIES[1:], help="at least this severity")
    parser.add_argument("--min-score", type=float, default=0.0)
    parser.add_argument("--from-beginning", action="store_true", help="not only new alerts")


def wanted(alert: dict[str, Any], args: argparse.Namespace) -> bool:
    if args.entity_type and alert.get("entity_type") != args.entity_type:
        return False
    if args.severity and SEVERITIES.index(alert.get("severity", "none")) < SEVERITIES.index(
        args.severity
    ):
        return False
    return float(alert.get("score", 0.0)) >= float(args.min_score)


def table_row(alert: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(alert["event_ts"], UTC).strftime("%Y-%m-%d %H:%M:%S")
    entity = f"{alert['entity_type']}:{alert['entity_id']}"
    reason = alert["reasons"][0]["detail"] if alert.get("reasons") else ""
    shadow = " (shadow)" if alert.get("shadow") else ""
    return f"{when}  {alert['severity']:<8} {alert['score']:.2f}  {entity:<34} {reason}{shadow}"


def tail(settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Print matching alerts until interrupted."""
    consumer = Consumer(
        {
            **settings.kafka.confluent_config(),
            # A throwaway group: tailing must never move anyone's committed offsets.
            "group.id": f"distillguard-tail-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        }
    )
    consumer.subscribe([settings.topics.alerts])
    pretty = out.isatty()
    if pretty:
        print(f"{'event time (UTC)':<20} {'severity':<8} score {'entity':<34} top reason", file=out)
    try:
        while True:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            try:
                alert = orjson.loads(message.value() or b"null")
            except orjson.JSONDecodeError:
                continue  # not an alert; the topic is distillguard's own
            if isinstance(alert, dict) and wanted(alert, args):
                print(table_row(alert) if pretty else orjson.dumps(alert).decode(), file=out)
                out.flush()
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()
