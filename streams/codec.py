"""Bytes on the wire <-> records: requests in, dead-letter records for what cannot be read.

A dead-letter record keeps everything needed to replay the message once its producer is
fixed (original bytes, source coordinates, reason) — except raw prompt text, which must not
be stored anywhere, so it is cut out of the original before the record is written.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from models.request import Invalid


def redact_prompt(raw: bytes) -> tuple[bytes, list[str]]:
    """The original bytes, minus any ``prompt`` field; and the names of what was removed."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw, []
    if not isinstance(doc, dict) or "prompt" not in doc:
        return raw, []
    doc.pop("prompt")
    return orjson.dumps(doc), ["prompt"]


def deadletter_record(
    invalid: Invalid,
    *,
    value: bytes | None,
    key: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    timestamp: float | None,
    received_at: float,
) -> dict[str, Any]:
    """The dead-letter JSON object for one rejected message."""
    original, redacted = redact_prompt(value) if value else (value, [])
    return {
        "schema": "deadletter.v1",
        "error_code": invalid.code,
        "reason": invalid.reason,
        "source": {
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "timestamp": timestamp,
        },
        "key_b64": base64.b64encode(key).decode() if key is not None else None,
        "value_b64": base64.b64encode(original).decode() if original is not None else None,
        "redacted": redacted,
        "received_at": received_at,
    }
