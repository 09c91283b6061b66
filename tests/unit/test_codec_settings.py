"""Dead-letter records: what operators see when input is bad (settings: test_settings.py)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from models.request import Invalid
from streams.codec import deadletter_record, redact_prompt


def test_deadletter_keeps_original_bytes_and_coordinates() -> None:
    record = deadletter_record(
        Invalid("not_json", "not valid JSON"),
        value=b"\xff\x00",
        key=b"k",
        topic="t",
        partition=3,
        offset=42,
        timestamp=1.0,
        received_at=2.0,
    )
    assert base64.b64decode(record["value_b64"]) == b"\xff\x00"
    assert record["source"] == {"topic": "t", "partition": 3, "offset": 42, "timestamp": 1.0}
    assert (record["error_code"], record["reason"], record["redacted"]) == (
        "not_json",
        "not valid JSON",
        [],
    )


def test_deadletter_never_keeps_prompt_text() -> None:
    raw = orjson.dumps({"account_id": "a", "prompt": "secret words"})
    cleaned, removed = redact_prompt(raw)
    assert b"secret words" not in cleaned and removed == ["prompt"]
    assert orjson.loads(cleaned) == {"account_id": "a"}


def dead_letter_of(raw: bytes, code: str) -> dict[str, Any]:
    return deadletter_record(
        Invalid(code, "x"),
        value=raw,
        key=None,
        topic="t",
        partition=0,
        offset=1,
        timestamp=None,
        received_at=0.0,
    )


def test_unparseable_values_mentioning_a_prompt_are_withheld() -> None:
    raw = b'{"prompt": "secret words", "ts": 1,}'  # trailing comma: not JSON
    record = dead_letter_of(raw, "not_json")
    assert record["value_b64"] is None and record["value_sha256"] is None
    assert record["value_bytes"] == len(raw) and record["redacted"]
    assert b"secret" not in orjson.dumps(record)


def test_oversized_values_are_kept_as_a_prefix_with_length_and_hash() -> None:
    raw = b"x" * 200_000
    record = dead_letter_of(raw, "too_large")
    assert len(base64.b64decode(record["value_b64"])) == 64 * 1024
    assert record["value_bytes"] == 200_000 and record["value_sha256"] is None
    assert len(orjson.dumps(record)) < 100_000
