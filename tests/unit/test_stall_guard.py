"""The stall guard: a watched partition with records behind what it delivered and nothing
delivered for STALL_S is stalled in delivery; one that delivered records its commit has not
reached, with the commit unchanged for STALL_S, is stalled in commit; a moving or caught-up
partition is neither."""

from __future__ import annotations

from collections import namedtuple

import faust
import pytest
from faust.types import TP as FaustTP

from streams.stall_guard import STALL_S, Stall, StallGuard, diagnose, unstick

TP = namedtuple("TP", "topic partition")
A, B, OTHER = TP("in", 0), TP("in", 1), TP("changelog", 0)


def test_only_a_partition_behind_and_not_delivering_is_stalled() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    watched = guard.watched({A, B, OTHER})
    assert watched == [A, B]  # the changelog is not watched
    # A has records behind offset 40; B delivered its last record (49) and committed it.
    read, done, ends = {A: 40, B: 49}, {A: 41, B: 50}, {A: 100, B: 50}
    assert guard.stalled(watched, read, done, ends) == []
    now[0] = STALL_S - 1
    assert guard.stalled(watched, read, done, ends) == []
    now[0] = STALL_S
    assert guard.stalled(watched, read, done, ends) == [Stall(A, "delivery")]
    now[0] = STALL_S + 1  # at most one report per STALL_S
    assert guard.stalled(watched, read, done, ends) == []


def test_a_never_delivered_partition_with_records_is_stalled_too() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    ends = {A: 10, B: 0}  # B is empty: nothing to deliver
    guard.stalled([A, B], {}, {}, ends)
    now[0] = STALL_S
    assert guard.stalled([A, B], {}, {}, ends) == [Stall(A, "delivery")]


def test_delivered_records_whose_commit_does_not_move_are_a_commit_stall() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    # A delivered up to its end (99) but its commit stays at 60; B is idle after a seek
    # (Faust sets the delivered offset to the committed one) and has nothing to commit.
    read, done, ends = {A: 99, B: 50}, {A: 60, B: 50}, {A: 100, B: 50}
    guard.stalled([A, B], read, done, ends)
    now[0] = STALL_S - 1
    assert guard.stalled([A, B], read, {A: 61, B: 50}, ends) == []  # it moved
    now[0] = 2 * STALL_S - 2
    assert guard.stalled([A, B], read, {A: 61, B: 50}, ends) == []
    now[0] = 2 * STALL_S - 1
    assert guard.stalled([A, B], read, {A: 61, B: 50}, ends) == [Stall(A, "commit")]


def test_a_commit_moved_back_and_forth_is_no_progress() -> None:
    """A seek to the broker's committed offset moves the local one back; coming back up to
    where it was is not progress."""
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    ends = {A: 100}
    for step, done in enumerate([60, 40, 60, 40, 60, 40, 60]):
        now[0] = step * STALL_S / 6
        stalls = guard.stalled([A], {A: 90 + step}, {A: done}, ends)
    assert stalls == [Stall(A, "commit")]


def test_delivery_or_a_reset_restarts_the_clock() -> None:
    now = [0.0]
    guard = StallGuard(frozenset({"in"}), lambda: now[0])
    done = {A: 11}
    guard.stalled([A], {A: 10}, done, {A: 100})
    now[0] = STALL_S - 1
    guard.stalled([A], {A: 11}, done, {A: 100})  # it moved
    now[0] = 2 * STALL_S - 2
    assert guard.stalled([A], {A: 11}, {A: 12}, {A: 100}) == []
    guard.reset()
    now[0] = 3 * STALL_S
    assert guard.stalled([A], {A: 11}, {A: 12}, {A: 100}) == []  # first sight after a reset


@pytest.mark.parametrize("cause", ["buffered", "paused"])
def test_unstick_puts_a_partition_that_fell_out_of_fetching_back(cause: str) -> None:
    """A stream buffer's high-pressure mark or a recovery pause takes a partition out of
    what a Faust consumer fetches; diagnose says why, and unstick brings it back."""
    consumer = faust.App("stall-guard-test", broker="kafka://127.0.0.1:1").consumer
    stuck, flowing = FaustTP("in", 0), FaustTP("in", 1)
    consumer._set_active_tps({stuck, flowing})
    if cause == "buffered":
        consumer.on_buffer_full(stuck)
    else:
        consumer.pause_partitions([stuck])
    assert stuck not in consumer._get_active_partitions()
    seen = diagnose(consumer, Stall(stuck, "delivery"), delivered=40, end=100)
    assert (seen.fetching, seen.buffered, seen.paused) == (
        False,
        cause == "buffered",
        cause == "paused",
    )
    unstick(consumer, stuck)
    assert consumer._get_active_partitions() == {stuck, flowing}
    assert not consumer._buffered_partitions and not consumer._paused_partitions
    unstick(consumer, stuck)
    assert diagnose(consumer, Stall(stuck, "delivery"), 40, 100).fetching
    assert consumer._get_active_partitions() == {stuck, flowing}
