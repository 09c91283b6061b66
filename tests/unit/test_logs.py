"""Client-library log floods are limited per message template; our own lines never are."""

from __future__ import annotations

import logging

from streams.logs import REPEAT_WINDOW_S, REPEATS_PER_WINDOW, RepeatLimiter


def record(name: str, msg: str, created: float) -> logging.LogRecord:
    rec = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)
    rec.created = created
    return rec


def test_a_reconnect_flood_is_cut_to_a_few_lines_with_a_count() -> None:
    limiter = RepeatLimiter()
    flood = [record("aiokafka.conn", "Unable connect to %s", 100.0 + i * 0.01) for i in range(500)]
    passed = [r for r in flood if limiter.filter(r)]
    assert len(passed) == REPEATS_PER_WINDOW
    later = record("aiokafka.conn", "Unable connect to %s", 100.0 + REPEAT_WINDOW_S + 1)
    assert limiter.filter(later)
    assert f"[{500 - REPEATS_PER_WINDOW} similar suppressed" in str(later.msg)


def test_other_messages_and_our_own_loggers_pass() -> None:
    limiter = RepeatLimiter()
    for i in range(50):
        assert limiter.filter(record("streams.accounts.agents", "dead-lettered", 100.0 + i))
    for _ in range(REPEATS_PER_WINDOW):
        assert limiter.filter(record("aiokafka", "one message", 100.0))
    assert limiter.filter(record("aiokafka", "another message", 100.0))
    assert not limiter.filter(record("aiokafka", "one message", 100.0))
