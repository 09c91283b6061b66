"""Hostile input for the worker: every kind of bad message a producer bug or an attacker can
put on the request topic, each with the dead-letter code it must get (or ``None``: odd but
valid, so it is processed). The integration tests interleave them with valid traffic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from tests.fixtures import T0, request_json

SECRET_PROMPT = "my secret prompt"


@dataclass(frozen=True, slots=True)
class Hostile:
    kind: str
    value: bytes | None
    code: str | None  # the dead-letter error_code; None when the message is valid


def _event(**changes: Any) -> dict[str, Any]:
    """A valid event with ``changes`` applied (a value of ``...`` removes the field)."""
    doc = request_json(event_id="hostile", ts=T0 + 60, account_id="hostile-account", asn=64999)
    for name, value in changes.items():
        if value is ...:
            doc.pop(name, None)
        else:
            doc[name] = value
    return doc


def _raw(**changes: Any) -> bytes:
    return orjson.dumps(_event(**changes))


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


_VALID = _raw()

HOSTILE: tuple[Hostile, ...] = (
    Hostile("binary garbage", b"\x00\x01not json at all", "not_json"),
    Hostile("truncated JSON", _VALID[: len(_VALID) // 2], "not_json"),
    Hostile("invalid UTF-8", _VALID.replace(b"hostile-account", b"hostile-\xff\xfe"), "not_json"),
    Hostile("lone surrogate", _VALID.replace(b"hostile-account", b"\\ud800"), "not_json"),
    Hostile("NaN", _VALID.replace(b'"asn":64999', b'"asn":NaN'), "not_json"),
    Hostile("Infinity", _VALID.replace(b'"asn":64999', b'"asn":Infinity'), "not_json"),
    # orjson reads an integer over 64 bits as a float: an ill-typed field, not bad JSON.
    Hostile("integer over 64 bits", _VALID.replace(b"64999", b"1" * 30), "bad_field"),
    Hostile("nested 5,000 deep", _nested(5000), "not_json"),
    Hostile("empty bytes", b"", "not_json"),
    Hostile("tombstone", None, "empty"),
    Hostile("array", b"[1, 2, 3]", "not_object"),
    Hostile("string", b'"an event"', "not_object"),
    Hostile("number", b"42", "not_object"),
    Hostile("null", b"null", "not_object"),
    Hostile("nested 500 deep", _nested(500), "not_object"),
    Hostile("missing account_id", _raw(account_id=...), "missing_field"),
    Hostile("null ts", _raw(ts=None), "missing_field"),
    Hostile("empty object", b"{}", "missing_field"),
    Hostile("tokens as string", _raw(input_tokens="5"), "bad_field"),
    Hostile("negative tokens", _raw(output_tokens=-5), "bad_field"),
    Hostile("boolean asn", _raw(asn=True), "bad_field"),
    Hostile("huge tokens", _raw(output_tokens=2**62), "bad_field"),
    Hostile("milliseconds ts", _raw(ts=T0 * 1000), "bad_field"),
    Hostile("year 1970 ts", _raw(ts=0), "bad_field"),
    Hostile("ts as text", _raw(ts="yesterday"), "bad_field"),
    Hostile("blank account_id", _raw(account_id="   "), "bad_field"),
    Hostile("300-char account_id", _raw(account_id="a" * 300), "bad_field"),
    Hostile("prompt not text", _raw(prompt=["a", "b"]), "bad_field"),
    Hostile("bad field with a prompt", _raw(ts="soon", prompt=SECRET_PROMPT), "bad_field"),
    Hostile("100 KiB value", _raw(user_agent="x" * 100 * 1024), "too_large"),
    Hostile(
        "duplicated keys",
        _VALID.replace(b'{"event_id"', b'{"account_id":"decoy","event_id"'),
        None,
    ),
    Hostile("deep unknown field", _raw(extra=orjson.loads(_nested(200))), None),
)
