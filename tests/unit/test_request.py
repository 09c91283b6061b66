"""request.v1 parsing: exact field rules, and no input can make the parser raise."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.prompt import prompt_simhash
from models.request import MAX_EVENT_BYTES, Invalid, Request, parse_request
from tests.fixtures import T0, request_json
from tests.hostile import HOSTILE, Hostile

VALID = request_json(ts=T0 + 0.5, input_tokens=120, output_tokens=900)  # only required fields


def parse(doc: object) -> Request | Invalid:
    return parse_request(orjson.dumps(doc))


def test_minimal_valid_event() -> None:
    req = parse(VALID)
    assert isinstance(req, Request)
    assert (req.event_id, req.account_id, req.asn, req.input_tokens, req.output_tokens) == (
        VALID["event_id"],
        "acct_1",
        64500,
        120,
        900,
    )
    assert req.ts == T0 + 0.5
    assert req.asn_type == "unknown" and req.reasoning is False and req.prompt_simhash is None


def test_optional_fields_and_rfc3339_time() -> None:
    req = parse(
        {
            **VALID,
            "ts": "2026-09-21T14:13:20Z",  # T0
            "asn_type": "hosting",
            "reasoning": True,
            "prompt_simhash": "00000000000000ff",
            "cot_elicitation": 0.75,
            "account_created_ts": "2026-09-20T00:00:00+00:00",
            "routed_via": "router-9",
            "status": 429,
            "unknown_field": {"ignored": True},
        }
    )
    assert isinstance(req, Request)
    assert req.ts == T0
    assert req.account_created_ts == 1_789_862_400.0
    assert (req.asn_type, req.reasoning, req.prompt_simhash, req.cot_elicitation) == (
        "hosting",
        True,
        255,
        0.75,
    )
    assert req.routed_via == "router-9" and req.status == 429


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"account_id": None}, "missing_field", "'account_id' is missing"),
        ({"input_tokens": -1}, "bad_field", "'input_tokens' must be between 0"),
        ({"output_tokens": 1.5}, "bad_field", "'output_tokens' must be an integer"),
        ({"asn": True}, "bad_field", "'asn' must be an integer"),
        ({"ts": int(T0) * 1000}, "bad_field", "seconds, not milliseconds"),
        ({"ts": "2026-09-21T14:13:20"}, "bad_field", "UTC offset"),
        ({"ts": "soon"}, "bad_field", "RFC 3339"),
        ({"asn_type": "cloud"}, "bad_field", "'asn_type' must be one of"),
        ({"prompt_simhash": "0x0000000000000f"}, "bad_field", "16 hex characters"),
        ({"cot_elicitation": 1.2}, "bad_field", "between 0 and 1"),
        ({"reasoning": "yes"}, "bad_field", "true or false"),
        ({"account_id": "   "}, "bad_field", "must not be blank"),
        ({"status": 42}, "bad_field", "'status' must be between 100 and 599"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, object], code: str, words: str) -> None:
    doc = {**VALID, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    result = parse(doc)
    assert isinstance(result, Invalid)
    assert result.code == code
    assert words in result.reason


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", "not_json"),
        (b"[1,2]", "not_object"),
        (b"null", "not_object"),
        (b'{"a": "' + b"x" * MAX_EVENT_BYTES + b'"}', "too_large"),
    ],
)
def test_unreadable_messages(raw: bytes, code: str) -> None:
    result = parse_request(raw)
    assert isinstance(result, Invalid) and result.code == code


def test_raw_prompt_becomes_features_and_is_dropped() -> None:
    text = "Solve this step by step and show your full reasoning: 17 * 23"
    req = parse({**VALID, "prompt": text})
    assert isinstance(req, Request)
    assert req.prompt_simhash == prompt_simhash(text)
    assert req.cot_elicitation is not None and req.cot_elicitation > 0.5
    assert text not in repr(req) and "prompt" not in req.to_wire()


def test_upstream_features_win_over_derived_ones() -> None:
    req = parse(
        {
            **VALID,
            "prompt": "step by step",
            "prompt_simhash": "0000000000000001",
            "cot_elicitation": 0.1,
        }
    )
    assert isinstance(req, Request)
    assert (req.prompt_simhash, req.cot_elicitation) == (1, 0.1)


def test_to_wire_round_trips() -> None:
    req = parse({**VALID, "prompt_simhash": "00000000000000ff", "reasoning": True})
    assert isinstance(req, Request)
    assert parse(req.to_wire()) == req


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_bytes_never_raise(raw: bytes) -> None:
    result = parse_request(raw)
    # "internal" would mean a validator raised: every input must get a field-level verdict.
    assert isinstance(result, Request) or result.code != "internal", result


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*VALID, "asn_type", "prompt", "ts", "reasoning", "x"]), json_values
    )
)
def test_garbage_objects_never_raise(doc: dict[str, object]) -> None:
    try:
        raw = orjson.dumps(doc)
    except TypeError:  # e.g. integers beyond 64 bits: not representable on the wire anyway
        return
    result = parse_request(raw)
    # "internal" would mean a validator raised: every input must get a field-level verdict.
    assert isinstance(result, Request) or result.code != "internal", result


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries({k: st.just(v) for k, v in VALID.items()}),
    st.dictionaries(st.sampled_from(list(VALID)), json_values, max_size=2),
)
def test_corrupting_a_valid_event_never_raises(
    base: dict[str, object], patch: dict[str, object]
) -> None:
    try:
        raw = orjson.dumps({**base, **patch})
    except TypeError:
        return
    result = parse_request(raw)
    # "internal" would mean a validator raised: every input must get a field-level verdict.
    assert isinstance(result, Request) or result.code != "internal", result


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.kind)
def test_each_hostile_kind_gets_its_dead_letter_code(hostile: Hostile) -> None:
    parsed = parse_request(hostile.value)  # type: ignore[arg-type]  # a tombstone is None
    assert (parsed.code if isinstance(parsed, Invalid) else None) == hostile.code
