"""``distillguard`` command line: the worker and the operator/developer tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import structlog

from streams.logs import configure_logging
from streams.settings import SettingsError, load_settings

log = structlog.get_logger(__name__)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the Faust worker until SIGINT/SIGTERM."""
    from streams.admin import ensure_topics
    from streams.app import create_app
    from streams.worker import BoundedShutdownWorker

    settings = load_settings()
    ensure_topics(settings)
    worker_app = create_app(settings)
    log.info(
        "worker starting",
        bootstrap=settings.kafka.bootstrap_servers,
        app_id=settings.app_id,
        requests_topic=settings.topics.requests,
        partitions=settings.partitions,
        store=settings.store,
        web=f"http://{settings.web_host}:{settings.web_port}",
    )
    worker = BoundedShutdownWorker(
        worker_app.app, loglevel=settings.log_level, override_logging=False, quiet=True
    )
    worker.execute_from_commandline()
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    """Create every distillguard topic that does not exist yet."""
    from streams.admin import ensure_topics

    created = ensure_topics(load_settings())
    print("created: " + (", ".join(created) if created else "nothing (all topics exist)"))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Produce a JSONL file of request.v1 events to the input topic (keyed by account)."""
    return _replay(args.file, args.rate, args.topic)


def _replay(path: Path, rate: float | None, topic_name: str | None) -> int:
    from models.backtest import read_jsonl
    from streams.admin import ensure_topics
    from streams.tools.kafka_io import fast_producer, print_progress, produce_all

    settings = load_settings()
    ensure_topics(settings)
    topic = topic_name or settings.topics.requests

    def messages() -> Iterator[tuple[bytes | None, bytes]]:
        for line in read_jsonl(path):
            try:
                key = orjson.loads(line).get("account_id")
            except (orjson.JSONDecodeError, AttributeError):
                key = None  # malformed lines go through as they are: the worker dead-letters them
            yield (key.encode() if isinstance(key, str) else None), line

    sent = produce_all(
        fast_producer(settings.kafka),
        topic,
        messages(),
        rate=rate,
        on_progress=print_progress(f"replay -> {topic}"),
    )
    print(f"\nreplayed {sent:,} events to {topic}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score alerts/commands against the simulator's labels; write a report folder."""
    if args.matrix:
        from streams.tools import matrix

        return matrix.run(args)
    if args.events is None or args.labels is None:
        print("distillguard evaluate: --events and --labels are required", file=sys.stderr)
        print("(or --matrix: the backtest over seeds x tactic cells)", file=sys.stderr)
        return 2
    from streams.tools.report import headline, write_report

    if args.offline:
        from models.backtest import read_jsonl, run_backtest
        from models.policy import DEFAULT_POLICY

        result = run_backtest(read_jsonl(args.events), DEFAULT_POLICY, partitions=args.partitions)
        alerts, commands = result.alerts, result.commands
        title = "distillguard evaluation (offline backtest)"
    else:
        from streams.tools.kafka_io import read_outputs

        alerts, commands = read_outputs(load_settings())
        title = "distillguard evaluation (from Kafka)"
    report = write_report(args.out, args.labels, args.events, alerts, commands, title)
    print(headline(report))
    print(f"report: {args.out / 'summary.md'}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Generate seeded request.v1 traffic with ground-truth labels (events.jsonl, labels.json)."""
    from streams.tools import simulate

    status = simulate.run(args)
    if status != 0 or not args.to_kafka:
        return status
    return _replay(args.out / "events.jsonl", args.rate, None)


def cmd_demo(args: argparse.Namespace) -> int:
    """Broker + worker + simulated campaigns replayed live + evaluation report, in one go."""
    from streams.tools import demo

    return demo.run(args)


def cmd_bench(args: argparse.Namespace) -> int:
    """Throughput, latency and state size through the real broker -> docs/benchmarks.md."""
    from streams.tools import bench

    return bench.run(args)


def cmd_soak(args: argparse.Namespace) -> int:
    """One worker at half its maximum for a long while: RSS growth and lag, pass or fail."""
    from streams.tools import soak

    return soak.run(args)


def cmd_policy(args: argparse.Namespace) -> int:
    """Show or change the live policy through a worker's API (DG_API_URL, DG_API_TOKEN)."""
    from streams.tools import policy_client

    return policy_client.run(args)


def cmd_alerts(args: argparse.Namespace) -> int:
    """Follow the alert topic: a table on a terminal, JSON lines when piped."""
    from streams.tools import alerts_tail

    return alerts_tail.tail(load_settings(), args)


def cmd_backtest(args: argparse.Namespace) -> int:
    """Re-run the detectors over recorded traffic with the current and a candidate policy."""
    from models.backtest import compare_policies, read_jsonl
    from models.policy import DEFAULT_POLICY, Policy, PolicyError
    from streams.tools import policy_client
    from streams.tools.report import load_labels

    try:
        if args.policy_file:
            current, source = Policy.from_dict(orjson.loads(args.policy_file.read_bytes())), "file"
        else:
            try:
                current = Policy.from_dict(policy_client.call("GET", "/policy"))
                source = policy_client.api_url()
            except policy_client.ApiError:
                current, source = DEFAULT_POLICY, "defaults (no worker reachable)"
        candidate = current.with_changes(dict(args.set)) if args.set else current
    except (PolicyError, orjson.JSONDecodeError) as exc:
        print(f"distillguard backtest: {exc}", file=sys.stderr)
        return 2
    print(f"current policy: version {current.version} from {source}")
    print(f"candidate: {dict(args.set) or 'no changes'}")
    labels = load_labels(args.labels) if args.labels else None
    lines = list(read_jsonl(args.file))
    print(compare_policies(lines, current, candidate, labels, args.partitions))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distillguard",
        description="Real-time detection of distillation attacks on LLM APIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help=cmd_worker.__doc__).set_defaults(func=cmd_worker)
    sub.add_parser("topics", help=cmd_topics.__doc__).set_defaults(func=cmd_topics)

    simulate_parser = sub.add_parser("simulate", help=cmd_simulate.__doc__)
    from streams.tools import simulate

    simulate.add_arguments(simulate_parser)
    simulate_parser.add_argument(
        "--to-kafka", action="store_true", help="also produce the events to DG_TOPIC_REQUESTS"
    )
    simulate_parser.add_argument(
        "--rate", type=float, default=None, help="with --to-kafka: events/s"
    )
    simulate_parser.set_defaults(func=cmd_simulate)

    replay = sub.add_parser("replay", help=cmd_replay.__doc__)
    replay.add_argument("file", type=Path, help="JSONL of request.v1 events")
    replay.add_argument(
        "--rate", type=float, default=None, help="events/s (default: as fast as possible)"
    )
    replay.add_argument("--topic", default=None, help="target topic (default: DG_TOPIC_REQUESTS)")
    replay.set_defaults(func=cmd_replay)

    evaluate = sub.add_parser("evaluate", help=cmd_evaluate.__doc__)
    evaluate.add_argument("--events", type=Path, help="the simulated events.jsonl")
    evaluate.add_argument("--labels", type=Path, help="the simulated labels.json")
    evaluate.add_argument("--out", type=Path, default=Path("reports/latest"), help="report folder")
    evaluate.add_argument(
        "--offline",
        action="store_true",
        help="run the detectors in process over --events instead of reading Kafka's topics",
    )
    evaluate.add_argument("--partitions", type=int, default=8, help="emulated partitions (offline)")
    from streams.tools import matrix

    matrix.add_arguments(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    from streams.tools import alerts_tail, policy_client

    policy = sub.add_parser("policy", help=cmd_policy.__doc__)
    policy_client.add_arguments(policy)
    policy.set_defaults(func=cmd_policy)

    alerts = sub.add_parser("alerts", help="alert topic tools")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    tail = alerts_sub.add_parser("tail", help=cmd_alerts.__doc__)
    alerts_tail.add_arguments(tail)
    tail.set_defaults(func=cmd_alerts)

    backtest = sub.add_parser("backtest", help=cmd_backtest.__doc__)
    backtest.add_argument("file", type=Path, help="recorded request.v1 JSONL")
    backtest.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=policy_client.parse_assignment,
        help="candidate change (repeat)",
    )
    backtest.add_argument("--labels", type=Path, help="labels.json to group changes by kind")
    backtest.add_argument("--policy-file", type=Path, help="current policy (default: GET /policy)")
    backtest.add_argument("--partitions", type=int, default=8, help="emulated partitions")
    backtest.set_defaults(func=cmd_backtest)

    from streams.tools import demo

    demo_parser = sub.add_parser("demo", help=cmd_demo.__doc__)
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=cmd_demo)

    from streams.tools import bench

    bench_parser = sub.add_parser("bench", help=cmd_bench.__doc__)
    bench.add_arguments(bench_parser)
    bench_parser.set_defaults(func=cmd_bench)

    from streams.tools import soak

    soak_parser = sub.add_parser("soak", help=cmd_soak.__doc__)
    soak.add_arguments(soak_parser)
    soak_parser.set_defaults(func=cmd_soak)
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
