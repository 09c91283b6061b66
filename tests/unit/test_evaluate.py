"""The evaluation arithmetic on a hand-made case with known answers, and the report folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from models.evaluation import (
    attach_trigger_times,
    evaluate,
    index_events,
    index_requests,
    render_markdown,
)
from streams.tools import plots
from streams.tools.report import headline, write_report

LABELS = {
    "scenario": {"start_ts": 0.0},
    "accounts": {
        "a1": {"group": "attack", "kind": "bulk_harvest", "campaign": "bulk_harvest"},
        "a2": {"group": "attack", "kind": "bulk_harvest", "campaign": "bulk_harvest"},
        "b1": {"group": "benign", "kind": "chat", "campaign": None},
        "b2": {"group": "benign", "kind": "chat", "campaign": None},
        "b3": {"group": "benign", "kind": "eval_runner", "campaign": None},
    },
    "campaigns": {"bulk_harvest": {"kind": "bulk_harvest", "start_ts": 50.0, "accounts": 2}},
}


def write_events(path: Path) -> Path:
    rows = [("a1", t) for t in (100, 200, 300, 400)] + [("a2", t) for t in (150, 250)]
    rows += [("b1", 10), ("b2", 20), ("b3", 30)]
    path.write_bytes(b"".join(orjson.dumps({"account_id": a, "ts": t}) + b"\n" for a, t in rows))
    return path


def command(account: str, ts: float, action: str = "throttle") -> dict[str, object]:
    return {
        "entity_type": "account",
        "entity_id": account,
        "action": action,
        "event_ts": ts,
        "_kafka_ts_ms": 1_000,
        "_trigger_kafka_ts_ms": 900,
    }


def test_metrics_have_the_expected_values(tmp_path: Path) -> None:
    traffic = index_events(write_events(tmp_path / "events.jsonl"), LABELS)
    alerts = [
        {"entity_type": "account", "entity_id": "a1", "event_ts": 250.0, "score": 0.9},
        {
            "entity_type": "asn",
            "entity_id": "7",
            "event_ts": 260.0,
            "score": 0.6,
            "accounts": ["b3"],
        },
    ]
    commands = [command("a1", 300.0), command("a1", 400.0, "block"), command("b3", 35.0)]
    report = evaluate(LABELS, traffic, alerts, commands)
    assert (report.true_throttles, report.false_throttles) == (1, 1)
    assert report.precision == 0.5 and report.recall == 0.5
    assert report.benign_throttle_rate == 1 / 3
    rows = {r.name: r for r in report.rows}
    bulk = rows["bulk_harvest"]
    assert (bulk.accounts, bulk.alerted, bulk.throttled) == (2, 1, 1)
    # a1 served 2 of 4 requests before its throttle at t=300; a2 (never throttled) all 2.
    assert bulk.events == 6 and bulk.served_before_throttle == 4
    assert bulk.first_to_throttle_s == [200.0]
    assert bulk.first_member_throttle_ts == 300.0 and bulk.start_ts == 50.0
    assert rows["eval_runner"].alerted == 1 and rows["eval_runner"].throttled == 1
    assert report.latency_ms == [100, 100, 100]
    text = render_markdown(report)
    assert "| attack | bulk_harvest | 2 | 1 | 1 | 50.0% |" in text
    assert "4.2 h" not in text and "0.1 h" in text  # first request -> throttle: 200 s


def test_time_from_campaign_start_and_traffic_around_the_first_signal(tmp_path: Path) -> None:
    traffic = index_events(write_events(tmp_path / "events.jsonl"), LABELS)
    rows = [orjson.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().splitlines()]
    assert index_requests(rows, LABELS) == traffic  # the in-memory index is the file's
    alerts = [{"entity_type": "account", "entity_id": "a1", "event_ts": 250.0, "score": 0.9}]
    report = evaluate(LABELS, traffic, alerts, [command("a1", 300.0)])
    bulk = {r.name: r for r in report.rows}["bulk_harvest"]
    assert bulk.start_to_throttle_s == [250.0]  # campaign start 50 -> a1 throttled at 300
    # First signal: a1's alert at 250. Before it a1 served 100, 200 and a2 150; after it, a2's
    # 250 (a2 is never throttled); a1's 300 and 400 come at or after its throttle.
    assert bulk.member_alert_ts == 250.0
    assert (bulk.served_before_member_alert, bulk.served_after_member_alert) == (3, 1)
    assert bulk.served_before_member_alert_share == 0.5
    silent = {r.name: r for r in evaluate(LABELS, traffic, [], []).rows}["bulk_harvest"]
    assert silent.member_alert_ts is None and silent.served_before_member_alert == 6


def test_commands_get_their_trigger_request_timestamp() -> None:
    commands = [{"trigger_event_id": "e1"}, {"trigger_event_id": "e2"}, {"trigger_event_id": "e1"}]
    attach_trigger_times(
        commands, [{"event_id": "e1", "_kafka_ts_ms": 5}, {"event_id": "x", "_kafka_ts_ms": 9}]
    )
    assert [c.get("_trigger_kafka_ts_ms") for c in commands] == [5, None, 5]


def test_campaign_rows_attribute_campaign_entities_and_traffic_after_detection(
    tmp_path: Path,
) -> None:
    traffic = index_events(write_events(tmp_path / "events.jsonl"), LABELS)
    alerts = [
        # Lists two bulk_harvest members: attributed to bulk_harvest, detected at t=180.
        {"entity_type": "campaign", "entity_id": "cmp-1", "event_ts": 180.0, "score": 0.9,
         "accounts": ["a1", "a2"]},
        # Mostly benign members: found nothing.
        {"entity_type": "campaign", "entity_id": "cmp-2", "event_ts": 90.0, "score": 0.6,
         "accounts": ["b1", "b2", "a1"]},
    ]  # fmt: skip
    report = evaluate(LABELS, traffic, alerts, [command("a1", 300.0)])
    bulk = {r.name: r for r in report.rows}["bulk_harvest"]
    assert bulk.entities == {"cmp-1"} and bulk.detected_ts == 180.0
    # After t=180: a1 served 200 (throttled at 300), a2 served 250 (never throttled).
    assert bulk.served_after_detection == 2 and bulk.events == 6
    assert "| bulk_harvest | 1 | 0.0 h | 0.1 h | 50.0% | 33.3% |" in render_markdown(report)


def write_labelled_case(tmp_path: Path) -> tuple[Path, Path]:
    labels = tmp_path / "labels.json"
    labels.write_bytes(orjson.dumps(LABELS))
    return labels, write_events(tmp_path / "events.jsonl")


def test_report_folder_has_summary_and_linked_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    labels, events = write_labelled_case(tmp_path)
    out = tmp_path / "report"
    report = write_report(out, labels, events, [], [command("a1", 300.0)], "case")
    text = (out / "summary.md").read_text()
    assert text == render_markdown(report, "case") + (
        "\n![timeline](timeline.png)\n![scores](scores.png)\n![latency](latency.png)\n"
    )
    assert all((out / f"{name}.png").stat().st_size > 0 for name in ("timeline", "scores"))
    assert "1/2 attack accounts" in headline(report)


def test_report_without_matplotlib_says_so_and_skips_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plots, "available", lambda: False)
    labels, events = write_labelled_case(tmp_path)
    out = tmp_path / "report"
    report = write_report(out, labels, events, [], [command("a1", 300.0)], "case")
    text = (out / "summary.md").read_text()
    assert text.startswith(render_markdown(report, "case"))
    assert "matplotlib is not installed" in text and "distillguard[plots]" in text
    assert not list(out.glob("*.png"))
    assert "matplotlib is not installed" in capsys.readouterr().err


def test_the_arithmetic_needs_no_plotting_library() -> None:
    code = (
        "import sys, models.evaluation; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'streams'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_evaluate_needs_events_and_labels_unless_it_runs_the_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from streams.cli import build_parser

    args = build_parser().parse_args(["evaluate", "--offline", "--out", str(tmp_path)])
    assert args.func(args) == 2
    assert "--events and --labels are required" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
