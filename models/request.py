"""The validated ``request.v1`` record and its field rules.

The parser never raises: it returns either a :class:`Request` or an :class:`Invalid` with a
reason a human can act on, because one bad message must never stop the worker. Raw prompt
text is reduced to features here (the edge) and never kept on the record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeVar, get_args

import orjson

from models.prompt import cot_elicitation_score, prompt_simhash

T = TypeVar("T")

MAX_EVENT_BYTES: Final = 64 * 1024
MAX_ID_CHARS: Final = 256
MAX_TOKENS: Final = 10_000_000
# Event times outside this range are a producer bug (ms instead of s, zero, year 3000), not
# traffic. A fixed range keeps validation independent of the wall clock, so replays agree.
MIN_TS: Final = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_TS: Final = 4_102_444_800.0  # 2100-01-01T00:00:00Z
_HEX: Final = frozenset("0123456789abcdefABCDEF")
AsnType = Literal["hosting", "residential", "mobile", "business", "education", "unknown"]
ASN_TYPES: Final[frozenset[AsnType]] = frozenset(get_args(AsnType))
_ASN_TYPE_OF: Final[dict[str, AsnType]] = {t: t for t in ASN_TYPES}


@dataclass(frozen=True, slots=True)
class Request:
    """One API request, validated. ``prompt_simhash`` is the 64-bit SimHash as an int."""

    event_id: str
    ts: float
    account_id: str
    asn: int
    input_tokens: int
    output_tokens: int
    org_id: str | None = None
    api_key_id: str | None = None
    ip: str | None = None
    asn_type: AsnType = "unknown"
    country: str | None = None
    user_agent: str | None = None
    client_fingerprint: str | None = None
    model: str | None = None
    endpoint: str | None = None
    status: int | None = None
    reasoning: bool = False
    prompt_simhash: int | None = None
    cot_elicitation: float | None = None
    account_created_ts: float | None = None
    payment_fingerprint: str | None = None
    routed_via: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``request.v1`` JSON object for this record (never contains prompt text)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = f"{value:016x}" if name == "prompt_simhash" else value
        return out


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why an event was rejected. ``code`` is stable (for metrics); ``reason`` is for people."""

    code: str
    reason: str


class _Reject(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_request(raw: bytes) -> Request | Invalid:
    """Decode and validate one ``request.v1`` message; never raises."""
    try:
        return _parse(raw)
    except _Reject as rejected:
        return Invalid(rejected.code, rejected.reason)
    except Exception as exc:  # defence in depth: a parser bug must not kill the worker
        return Invalid("internal", f"unexpected {type(exc).__name__} while validating: {exc}")


def _parse(raw: bytes) -> Request:
    if raw is None:
        raise _Reject("empty", "message has no value (tombstone or null)")
    if len(raw) > MAX_EVENT_BYTES:
        raise _Reject("too_large", f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Reject("not_json", f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _Reject("not_object", f"expected a JSON object, got {type(doc).__name__}")
    return _from_dict(doc)


def _from_dict(doc: dict[str, Any]) -> Request:
    """Validate a decoded object; raises ``_Reject`` on the first bad field."""
    prompt = doc.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise _Reject("bad_field", "field 'prompt' must be a string")
    simhash = _optional(doc, "prompt_simhash", _simhash)
    cot = _optional(doc, "cot_elicitation", _unit_interval)
    if prompt is not None:
        # The raw text is reduced to these two features here and goes no further.
        if simhash is None:
            simhash = prompt_simhash(prompt)
        if cot is None:
            cot = cot_elicitation_score(prompt)
    return Request(
        event_id=_required(doc, "event_id", _identifier),
        ts=_required(doc, "ts", _timestamp),
        account_id=_required(doc, "account_id", _identifier),
        asn=_required(doc, "asn", _asn),
        input_tokens=_required(doc, "input_tokens", _tokens),
        output_tokens=_required(doc, "output_tokens", _tokens),
        org_id=_optional(doc, "org_id", _identifier),
        api_key_id=_optional(doc, "api_key_id", _identifier),
        ip=_optional(doc, "ip", _short_text),
        asn_type=_optional(doc, "asn_type", _asn_type) or "unknown",
        country=_optional(doc, "country", _short_text),
        user_agent=_optional(doc, "user_agent", _text),
        client_fingerprint=_optional(doc, "client_fingerprint", _short_text),
        model=_optional(doc, "model", _short_text),
        endpoint=_optional(doc, "endpoint", _short_text),
        status=_optional(doc, "status", _status),
        reasoning=_optional(doc, "reasoning", _bool) or False,
        prompt_simhash=simhash,
        cot_elicitation=cot,
        account_created_ts=_optional(doc, "account_created_ts", _timestamp),
        payment_fingerprint=_optional(doc, "payment_fingerprint", _short_text),
        routed_via=_optional(doc, "routed_via", _identifier),
    )


def _required(doc: dict[str, Any], name: str, check: Callable[[str, Any], T]) -> T:
    value = doc.get(name)
    if value is None:
        raise _Reject("missing_field", f"required field '{name}' is missing")
    return check(name, value)


def _optional(doc: dict[str, Any], name: str, check: Callable[[str, Any], T]) -> T | None:
    value = doc.get(name)
    return None if value is None else check(name, value)


def _bad(name: str, rule: str, value: Any) -> _Reject:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return _Reject("bad_field", f"field '{name}' {rule}; got {shown}")


def _text(name: str, value: Any, limit: int = 1024) -> str:
    if not isinstance(value, str):
        raise _bad(name, "must be a string", value)
    if len(value) > limit:
        raise _bad(name, f"must be at most {limit} characters", value)
    return value


def _short_text(name: str, value: Any) -> str:
    return _text(name, value, MAX_ID_CHARS)


def _identifier(name: str, value: Any) -> str:
    text = _text(name, value, MAX_ID_CHARS)
    if not text.strip():
        raise _bad(name, "must not be blank", value)
    return text


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, "must be an integer", value)
    if not low <= value <= high:
        raise _bad(name, f"must be between {low} and {high}", value)
    return value


def _asn(name: str, value: Any) -> int:
    return _int(name, value, 0, 2**32 - 1)


def _tokens(name: str, value: Any) -> int:
    return _int(name, value, 0, MAX_TOKENS)


def _status(name: str, value: Any) -> int:
    return _int(name, value, 100, 599)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(name, "must be true or false", value)
    return value


def _unit_interval(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(name, "must be a number", value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise _bad(name, "must be between 0 and 1", value)
    return float(value)


def _timestamp(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _bad(name, "must be epoch seconds or an RFC 3339 string", value)
    if isinstance(value, int | float):
        ts = float(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _bad(name, "must be epoch seconds or an RFC 3339 string", value) from None
        if parsed.tzinfo is None:
            raise _bad(name, "must carry a UTC offset (RFC 3339)", value)
        ts = parsed.timestamp()
    else:
        raise _bad(name, "must be epoch seconds or an RFC 3339 string", value)
    if not (math.isfinite(ts) and MIN_TS <= ts <= MAX_TS):
        raise _bad(name, "is outside 2000-01-01..2100-01-01 (seconds, not milliseconds)", value)
    return ts


def _asn_type(name: str, value: Any) -> AsnType:
    asn_type = _ASN_TYPE_OF.get(value) if isinstance(value, str) else None
    if asn_type is None:
        raise _bad(name, f"must be one of {', '.join(sorted(ASN_TYPES))}", value)
    return asn_type


def _simhash(name: str, value: Any) -> int:
    if not (isinstance(value, str) and len(value) == 16 and _HEX.issuperset(value)):
        raise _bad(name, "must be 16 hex characters", value)
    return int(value, 16)
