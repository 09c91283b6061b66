"""Golden samples of the positional wire layouts: changelog records and internal-topic rows.

These records are JSON lists, compact on the wire and in the changelogs, and their positions
come from field order. A reordered or inserted field would shift every value after it and
still decode. Each sample below is a literal, as a worker of this release writes it. Each
test decodes it and compares the result, field by field and by name, with the values the
layout puts there; then it checks that encoding gives the literal back. A layout change must
bump the record's version and add a new sample (and keep reading the old one where the
record says so).
"""

from __future__ import annotations

import orjson

from models.account import AccountState
from models.asn import AsnActivity, AsnState
from models.campaigns import CampaignState
from models.decide import DecisionState
from models.linkage import Member

DECISION = b"[1.0,2.0,3.0,4.0,5.0]"
DECISION_FIELDS = ("action", "action_until", "alert_severity", "alert_ts", "alert_seen_ts")

ACCOUNT_V5 = (
    b"[5,[100.0,101.0,102.0,103.0,104.0,105.0,106.0,107.0,108.0,109.0,110.0,111.0,112.0,"
    b"113.0,114.0,115.0,116.0,117.0,118.0,119.0,120.0,121.0,122.0,123.0,124.0,125.0,126.0,"
    b"127.0,128.0,129.0,130.0,131.0,132.0,133.0,134.0],[1.0,2.0,3.0,4.0,5.0],[11],[12],[13],"
    b"[14],[15],[0.0,1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0,12.0,13.0,14.0,15.0,16.0,"
    b"17.0,18.0,19.0,20.0,21.0,22.0,23.0]]"
)
ACCOUNT_NUMBERS = (
    "first_ts", "last_ts", "n_events", "n_hashed", "created_ts", "req_5m", "req_1h", "req_24h",
    "out_1h", "out_24h", "in_24h", "reasoning_24h", "cot_24h", "cot_high_24h", "cot_high_1h",
    "hashed_24h", "near_dup_24h", "hosting_24h", "routed_24h", "error_24h", "gap_mean",
    "gap_var", "base_ts", "base_n", "base_req_mean", "base_req_var", "base_out_mean",
    "base_out_var", "usual_cot_high", "usual_s", "active_hours", "active_hour",
    "last_learn_ts", "last_link_ts", "applied_offset",
)  # fmt: skip
ACCOUNT_LISTS = ("recent_prompts", "prompts_kmv", "asns_kmv", "ips_kmv", "fingerprints_kmv")

ASN_V3 = (
    b"[3,[200.0,201.0,202.0,203.0,204.0,205.0,206.0,207.0,208.0,209.0,210.0,211.0],"
    b'[1.0,2.0,3.0,4.0,5.0],{"acct-a":[1.0,2.0,3.0]}]'
)
ASN_NUMBERS = (
    "first_ts", "last_ts", "req_1h", "req_24h", "out_1h", "out_24h", "reasoning_24h",
    "cot_24h", "young_req_24h", "last_learn_ts", "published_risk", "applied_offset",
)  # fmt: skip

CAMPAIGN_V1 = (
    b'[1,[500.0,501.0,502,503,504,505.0,506,507.0,508],{"c":2},["acct-a"],[1.0,2.0,3.0,4.0,5.0]]'
)
CAMPAIGN_NUMBERS = (
    "first_ts", "last_ts", "members", "young", "harvest_like", "output_per_day", "wave",
    "published_risk", "member_action",
)  # fmt: skip

ACTIVITY_ROW = b'["acct-a",301.0,302,303,304,305.5,306.0,307.5]'
MEMBER_ROW = b'["acct-b",401.0,402.0,403.0,0.25,0.5,"org-c",64512,406]'


def expected_decision() -> DecisionState:
    return DecisionState(**{name: float(i + 1) for i, name in enumerate(DECISION_FIELDS)})


def test_decision_state_layout() -> None:
    assert DecisionState.decode(orjson.loads(DECISION)) == expected_decision()
    assert orjson.dumps(expected_decision().encode()) == DECISION


def test_account_state_v5_layout() -> None:
    expected = AccountState(
        **{name: float(100 + i) for i, name in enumerate(ACCOUNT_NUMBERS)},
        **{name: [11 + i] for i, name in enumerate(ACCOUNT_LISTS)},
        decision=expected_decision(),
        hours=[float(h) for h in range(24)],
    )
    assert AccountState.decode(orjson.loads(ACCOUNT_V5)) == expected
    assert orjson.dumps(expected.encode()) == ACCOUNT_V5


def test_asn_state_v3_layout() -> None:
    expected = AsnState(
        **{name: float(200 + i) for i, name in enumerate(ASN_NUMBERS)},
        decision=expected_decision(),
        accounts={"acct-a": [1.0, 2.0, 3.0]},
    )
    assert AsnState.decode(orjson.loads(ASN_V3)) == expected
    assert orjson.dumps(expected.encode()) == ASN_V3


def test_campaign_state_v1_layout() -> None:
    numbers = orjson.loads(CAMPAIGN_V1)[1]
    expected = CampaignState(
        **dict(zip(CAMPAIGN_NUMBERS, numbers, strict=True)),
        kinds={"c": 2},
        sample=["acct-a"],
        decision=expected_decision(),
    )
    assert (expected.first_ts, expected.members, expected.member_action) == (500.0, 502, 508)
    assert CampaignState.decode(orjson.loads(CAMPAIGN_V1)) == expected
    assert orjson.dumps(expected.encode()) == CAMPAIGN_V1


def test_activity_and_member_rows_layout() -> None:
    activity = AsnActivity(
        account_id="acct-a",
        last_ts=301.0,
        requests=302,
        output_tokens=303,
        reasoning=304,
        cot_sum=305.5,
        account_created_ts=306.0,
        account_output_per_day=307.5,
    )
    assert AsnActivity.from_row(orjson.loads(ACTIVITY_ROW)) == activity
    assert orjson.dumps(activity.row()) == ACTIVITY_ROW
    member = Member(
        account_id="acct-b",
        last_ts=401.0,
        created_ts=402.0,
        output_per_day=403.0,
        reasoning_share=0.25,
        cot_mean=0.5,
        org_id="org-c",
        asn=64512,
        prompt=406,
    )
    assert Member.from_row(orjson.loads(MEMBER_ROW)) == member
    assert orjson.dumps(member.row()) == MEMBER_ROW
