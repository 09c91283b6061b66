"""``distillguard`` command line: the worker and the operator/developer tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import structlog

from streams.logs import configure_logging
from streams.settings import SettingsError, load_settings

log = structlog.get_logger(__name__)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the Faust worker until SIGINT/SIGTERM."""
    from faust import Worker

    from streams.admin import ensure_topics
    from streams.app import app, settings

    ensure_topics(settings)
    import streams.accounts.agents  # noqa: F401  (registers the agents and tables)

    log.info(
        "worker starting",
        bootstrap=settings.kafka.bootstrap_servers,
        app_id=settings.app_id,
        requests_topic=settings.topics.requests,
        partitions=settings.partitions,
        store=settings.store,
        web=f"http://{settings.web_host}:{settings.web_port}",
    )
    worker = Worker(app, loglevel=settings.log_level, override_logging=False, quiet=True)
    worker.execute_from_commandline()
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    """Create every distillguard topic that does not exist yet."""
    from streams.admin import ensure_topics

    created = ensure_topics(load_settings())
    print("created: " + (", ".join(created) if created else "nothing (all topics exist)"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distillguard",
        description="Real-time detection of distillation attacks on LLM APIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help=cmd_worker.__doc__).set_defaults(func=cmd_worker)
    sub.add_parser("topics", help=cmd_topics.__doc__).set_defaults(func=cmd_topics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"distillguard: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
