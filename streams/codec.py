"""Bytes on the wire <-> records: requests in, dead-letter records for what cannot be read.

A dead-letter record keeps everything needed to replay the message once its producer is
fixed (original bytes, source coordinates, reason) — except raw prompt text, which must not
be stored anywhere, so it is cut out of the original before the record is written.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Final

import orjson

from models.request import Invalid

# A dead-letter record must stay far below the producer's 1 MB message limit: oversized
# originals are kept as a prefix plus their length and SHA-256.
MAX_KEPT_BYTES: Final = 64 * 1024


def redact_prompt(raw: bytes) -> tuple[bytes | None, list[str]]:
    """The original bytes minus any ``prompt`` field, and what was removed. Bytes that cannot
    be parsed but mention a prompt field are withheld entirely (None): the text cannot be
    cut out safely, and it must never be stored."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return (None, ["unparseable value mentioning a prompt"]) if b"prompt" in raw else (raw, [])
    if isinstance(doc, dict) and "prompt" in doc:
        doc.pop("prompt")
        return orjson.dumps(doc), ["prompt"]
    if not isinstance(doc, dict) and b"prompt" in raw:
        return None, ["non-object value mentioning a prompt"]
    return raw, []


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
    kept = original
    if original is not None and len(original) > MAX_KEPT_BYTES:
        kept = original[:MAX_KEPT_BYTES]
        redacted = [*redacted, f"truncated to the first {MAX_KEPT_BYTES} bytes"]
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
        "value_b64": base64.b64encode(kept).decode() if kept is not None else None,
        "value_bytes": len(value) if value is not None else None,
        # No hash of withheld or redacted bytes: it would let a guessed prompt be confirmed.
        "value_sha256": hashlib.sha256(value).hexdigest() if value and not redacted else None,
        "redacted": redacted,
        "received_at": received_at,
    }
