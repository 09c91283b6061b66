"""Crash points: armed by a valid spec only, fired on the n-th reach of their own point."""

from __future__ import annotations

import signal

import pytest

from streams import failpoints
from streams.failpoints import Failpoints, parse_failpoint
from streams.settings import SettingsError, load_settings


def test_a_spec_names_a_point_and_a_count() -> None:
    assert parse_failpoint("table_write:3") is None
    assert parse_failpoint("nowhere:1") is not None
    assert parse_failpoint("mid_batch:0") is not None
    assert parse_failpoint("mid_batch") is not None
    with pytest.raises(SettingsError, match="DG_FAILPOINT"):
        load_settings({"DG_FAILPOINT": "mid_batch:x"})


def test_the_nth_reach_of_the_armed_point_kills_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kills: list[int] = []
    monkeypatch.setattr(failpoints.os, "kill", lambda pid, sig: kills.append(sig))
    armed = Failpoints("after_alert:2")
    armed.reach("mid_batch")
    armed.reach("after_alert")
    assert kills == []
    armed.reach("after_alert")
    assert kills == [signal.SIGKILL]
    unarmed = Failpoints()
    for point in failpoints.POINTS:
        unarmed.reach(point)
    assert kills == [signal.SIGKILL]
