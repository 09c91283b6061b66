"""The stall guard: a watched partition with records behind what it delivered, and nothing
delivered for STALL_S, is stalled; a moving or caught-up partition is not."""

from __future__ import annotations

from collections import namedtuple

from streams.stall_guard import STALL_S, StallGuard

TP = namedtuple("TP", "topic partition")
A, B, OTHER = TP("in", 0), TP("in", 1), TP("changelog", 0)


def test_only_a_partition_behind_and_not_delivering_is_stalled() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    watched = guard.watched({A, B, OTHER})
    assert watched == [A, B]  # the changelog is not watched
    read, ends = {A: 40, B: 49}, {A: 100, B: 50}
    assert guard.stalled(watched, read, ends) == []
    now[0] = STALL_S - 1
    assert guard.stalled(watched, read, ends) == []
    now[0] = STALL_S
    # A has records behind offset 40 and has not moved; B delivered its last record (49).
    assert guard.stalled(watched, read, ends) == [A]
    now[0] = STALL_S + 1  # at most one seek per STALL_S
    assert guard.stalled(watched, read, ends) == []


def test_a_never_delivered_partition_with_records_is_stalled_too() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    guard.stalled([A], {}, {A: 10})
    now[0] = STALL_S
    assert guard.stalled([A], {}, {A: 10}) == [A]
    assert guard.stalled([B], {}, {B: 0}) == []  # empty: nothing to deliver


def test_delivery_or_a_reset_restarts_the_clock() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    guard.stalled([A], {A: 10}, {A: 100})
    now[0] = STALL_S - 1
    guard.stalled([A], {A: 11}, {A: 100})  # it moved
    now[0] = 2 * STALL_S - 2
    assert guard.stalled([A], {A: 11}, {A: 100}) == []
    guard.reset()
    now[0] = 3 * STALL_S
    assert guard.stalled([A], {A: 11}, {A: 100}) == []  # first sight after a reset
