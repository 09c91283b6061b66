"""Allow- and deny-lists: validated as data, matched by account, org or ASN, expiring in
event time, and applied before any decision."""

from __future__ import annotations

import pytest

from models.account import AccountState
from models.pipeline import new_account_population, process_request
from models.policy import DEFAULT_POLICY, Policy, PolicyError
from models.scoring import CampaignEvidence
from models.units import HOUR, MINUTE
from tests.fixtures import T0, make_request

# A new, reasoning-heavy account of org_1 on AS64500: the entity every list entry here names.
LISTED = make_request(
    account_id="acct_1", org_id="org_1", output_tokens=2000, reasoning=True,
    account_created_ts=T0 - HOUR,
)  # fmt: skip


def entry(kind: str, name: str, expires: float | None = None) -> dict[str, object]:
    return {"entity_type": kind, "entity_id": name, "reason": "test", "expires_ts": expires}


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({"entity_type": "user", "entity_id": "a", "reason": "x"}, "entity_type must be"),
        ({"entity_type": "account", "entity_id": "", "reason": "x"}, "entity_id must be"),
        ({"entity_type": "account", "entity_id": "a"}, "reason is required"),
        (
            {"entity_type": "account", "entity_id": "a", "reason": "x", "expires_ts": "soon"},
            "expires_ts must be",
        ),
        ({"entity_type": "account", "entity_id": "a", "reason": "x", "why": 1}, "unknown key"),
    ],
)
def test_bad_entries_are_rejected_with_the_reason(item: dict[str, object], says: str) -> None:
    with pytest.raises(PolicyError, match=says):
        DEFAULT_POLICY.with_changes({"allow": [item]})


def test_lists_round_trip_and_match_account_org_or_asn_until_they_expire() -> None:
    policy = DEFAULT_POLICY.with_changes(
        {"allow": [entry("org", "org_1", T0 + MINUTE)], "deny": [entry("asn", "64501")]}
    )
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.listed("allow", T0, "acct_9", "org_1", 1) is not None
    assert policy.listed("allow", T0 + 61, "acct_9", "org_1", 1) is None  # expired
    assert policy.listed("deny", T0, "acct_9", None, 64501) is not None
    assert policy.listed("deny", T0, "acct_9", None, 64500) is None


def test_a_denied_account_is_blocked_on_its_next_request() -> None:
    policy = DEFAULT_POLICY.with_changes({"deny": [entry("account", "acct_1")]})
    decision = process_request(AccountState(), LISTED, new_account_population(), policy)
    assert decision.command is not None and decision.command.action == "block"
    assert "deny-listed account acct_1" in decision.command.reason


def test_an_allow_listed_org_is_not_acted_on_even_as_a_campaign_member() -> None:
    campaign = CampaignEvidence("cmp-1", 0.99, "linked")
    allowed = DEFAULT_POLICY.with_changes({"allow": [entry("org", "org_1")]})
    model = new_account_population()
    decision = process_request(AccountState(), LISTED, model, allowed, None, campaign)
    assert decision.alert is None and decision.command is None
    decision = process_request(AccountState(), LISTED, model, DEFAULT_POLICY, None, campaign)
    assert decision.command is not None  # the same request without the allow entry
