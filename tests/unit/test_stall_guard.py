"""The stall guard: a partition with records behind its committed offset and no commit for
STALL_S is stalled; a moving or caught-up partition is not."""

from __future__ import annotations

from collections import namedtuple

from streams.stall_guard import STALL_S, StallGuard

TP = namedtuple("TP", "topic partition")
A, B, OTHER = TP("in", 0), TP("in", 1), TP("links", 0)


def test_only_a_partition_behind_and_not_committing_is_stalled() -> None:
    now = [0.0]
    guard = StallGuard("in", lambda: now[0])
    ends = {A: 100, B: 50, OTHER: 10}
    assigned = {A, B, OTHER}
    assert guard.stalled(assigned, {A: 40, B: 50, OTHER: 0}, ends.__getitem__) == []
    now[0] = STALL_S - 1
    assert guard.stalled(assigned, {A: 40, B: 50, OTHER: 0}, ends.__getitem__) == []
    now[0] = STALL_S
    # A is behind (40 of 100) and has not moved; B is caught up; OTHER is not an input.
    assert guard.stalled(assigned, {A: 40, B: 50, OTHER: 0}, ends.__getitem__) == [A]
    now[0] = STALL_S + 1  # at most one heal per STALL_S
    assert guard.stalled(assigned, {A: 40, B: 50, OTHER: 0}, ends.__getitem__) == []


def test_a_commit_or_a_reset_restarts_the_clock() -> None:
    now = [0.0]
    guard = StallGuard("in", lambda: now[0])
    guard.stalled({A}, {A: 10}, lambda tp: 100)
    now[0] = STALL_S - 1
    guard.stalled({A}, {A: 11}, lambda tp: 100)  # it moved
    now[0] = 2 * STALL_S - 2
    assert guard.stalled({A}, {A: 11}, lambda tp: 100) == []
    guard.reset()
    now[0] = 3 * STALL_S
    assert guard.stalled({A}, {A: 11}, lambda tp: 100) == []  # first sight after a reset
