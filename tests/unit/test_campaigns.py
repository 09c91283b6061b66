"""Campaign formation and membership, and the popular-template negative (pure models)."""

from __future__ import annotations

import copy
import random
from dataclasses import replace

import orjson

from models.account import AccountState
from models.campaigns import CampaignBoard, CampaignRegistry, assess_campaign, campaign_records
from models.decide import DecisionState
from models.linkage import (
    GROUP_MEMBERS,
    GroupEvidence,
    LinkGroup,
    Member,
    collect_links,
    process_links,
)
from models.pipeline import new_account_population, process_request
from models.policy import DEFAULT_POLICY
from models.units import DAY, HOUR, MINUTE
from tests.fixtures import T0, make_request, near_duplicate

TEMPLATE = 0x5A5A_1234_F0F0_9876


def hydra_member(i: int, rng: random.Random, ts: float = T0) -> Member:
    """Young (created hours ago, in one wave), reasoning-heavy, templated."""
    return Member(
        f"acct_h{i:03d}",
        ts,
        ts - HOUR - i * MINUTE,
        200_000.0,
        0.8,
        0.4,
        prompt=near_duplicate(TEMPLATE, rng),
    )


def popular_member(i: int, rng: random.Random, ts: float = T0) -> Member:
    """Years old, light, non-reasoning, on the same template."""
    return Member(
        f"acct_p{i:03d}",
        ts,
        ts - (200 + i) * DAY,
        3_000.0,
        0.05,
        0.05,
        prompt=near_duplicate(TEMPLATE, rng),
    )


class Harness:
    """Link groups and the registry wired as the worker wires them (dicts for tables)."""

    def __init__(self) -> None:
        self.groups: dict[str, LinkGroup] = {}
        self.registry = CampaignRegistry({}, {}, {})
        self.board = CampaignBoard()

    def feed(self, key: str, members: list[Member]) -> GroupEvidence | None:
        group = self.groups.setdefault(key, LinkGroup())
        evidence = process_links(group, key, members, DEFAULT_POLICY)
        if evidence is not None:
            update = self.registry.report(evidence, DEFAULT_POLICY)
            for name, doc in campaign_records(update):
                self.board.apply(name, doc)
        return evidence


def test_linked_young_harvesters_form_one_campaign_that_throttles_its_members() -> None:
    rng = random.Random(1)
    members = [hydra_member(i, rng) for i in range(20)]
    h = Harness()
    h.feed("t:b0:1234", members)
    h.feed("p:pm_shared", members)
    assert len(h.registry.campaigns) == 1, "both keys must land in one campaign"
    (campaign_id,) = h.registry.campaigns
    state = h.registry.load(campaign_id)
    assert state is not None and state.members == 20 and state.signals() == 3  # t, p, wave
    assessment = assess_campaign(state, DEFAULT_POLICY)
    assert assessment.score >= DEFAULT_POLICY.account.throttle
    assert "20 accounts linked by 1 payment fingerprint, 1 prompt template" in (
        assessment.reasons[0].detail
    )
    evidence = h.board.get("acct_h000")
    assert evidence is not None and evidence.campaign_id == campaign_id
    assert h.board.get("acct_someone_else") is None


def test_campaign_ids_are_stable_across_replays() -> None:
    ids = []
    for _ in range(2):
        rng = random.Random(7)
        h = Harness()
        h.feed("p:pm_shared", [hydra_member(i, rng) for i in range(12)])
        ids.append(next(iter(h.registry.campaigns)))
    assert ids[0] == ids[1] and ids[0].startswith("cmp-")


def test_a_replayed_report_changes_no_campaign_and_commands_nobody_again() -> None:
    """The registry folds a report it has seen again without change (members are refreshed,
    not added; a key's kind counts once), so re-reading its topic after a crash or a stall
    doubles nothing."""
    rng = random.Random(3)
    members = [hydra_member(i, rng) for i in range(20)]
    h = Harness()
    reports = [h.feed(key, members) for key in ("t:b0:1234", "p:pm_shared")]
    tables = (h.registry.campaigns, h.registry.members, h.registry.keys)
    before = copy.deepcopy(tables)
    alerts_before = [h.registry.load(c).decision.alert_ts for c in h.registry.campaigns]
    for evidence in reports:
        assert evidence is not None
        update = h.registry.report(evidence, DEFAULT_POLICY)
        assert update.commands == () and update.joined == ()
        assert update.decision.alert is None
    assert tables == before
    assert [h.registry.load(c).decision.alert_ts for c in h.registry.campaigns] == alerts_before


def linked_fleet(seed: int) -> Harness:
    """16 hydra members linked two ways (a shared card and a shared client fingerprint)."""
    rng = random.Random(seed)
    h = Harness()
    members = [hydra_member(i, rng) for i in range(16)]
    h.feed("p:pm_shared", members)
    h.feed("c:fp_shared", members)
    return h


def test_an_account_joining_a_known_campaign_is_throttled_on_its_first_request() -> None:
    h = linked_fleet(seed=2)
    # A brand-new account pays with the same card: its first link record joins it.
    newcomer = Member("acct_new", T0 + 600, T0 + 300, 0.0, 1.0, 0.5)
    evidence = h.feed("p:pm_shared", [newcomer])
    assert evidence is not None and "acct_new" in {m.account_id for m in evidence.members}
    campaign = h.board.get("acct_new")
    assert campaign is not None
    state = AccountState()
    req = make_request(
        ts=T0 + 660, account_id="acct_new", input_tokens=400, output_tokens=2000, reasoning=True,
        account_created_ts=T0 + 300,
    )  # fmt: skip
    decision = process_request(state, req, new_account_population(), DEFAULT_POLICY, None, campaign)
    assert decision.command is not None and decision.command.action in ("throttle", "block")
    assert campaign.campaign_id in decision.command.reason


def test_a_popular_template_never_makes_a_campaign() -> None:
    """Hundreds of old, light, non-reasoning users of one app share its template and its
    client fingerprint: the groups are never hot, so nothing reaches the registry."""
    rng = random.Random(3)
    users = [popular_member(i, rng, T0 + i) for i in range(200)]
    h = Harness()
    for start in range(0, 200, 20):
        assert h.feed("t:b1:5a5a", users[start : start + 20]) is None
        assert h.feed("c:fp_app", users[start : start + 20]) is None
    assert not h.registry.campaigns
    assert all(h.board.get(u.account_id) is None for u in users)


def test_popular_users_on_a_campaigns_template_weigh_against_it_and_are_not_members() -> None:
    rng = random.Random(4)
    h = Harness()
    hydra = [hydra_member(i, rng) for i in range(12)]
    popular = [popular_member(i, rng) for i in range(40)]
    # The shared template bucket is dominated by old light users: not hot.
    assert h.feed("t:b2:1234", hydra + popular) is None
    # The campaign is still found through what only its accounts share.
    h.feed("p:pm_shared", hydra)
    h.feed("c:fp_kit", hydra)
    assert all(h.board.get(m.account_id) is not None for m in hydra)
    assert all(h.board.get(m.account_id) is None for m in popular)


def test_one_linking_signal_alone_can_alert_but_not_throttle() -> None:
    rng = random.Random(5)
    h = Harness()
    # Created days apart (no signup wave), linked by one template only.
    members = [
        Member(
            f"acct_{i}",
            T0,
            T0 - (1 + i) * DAY,
            100_000.0,
            0.9,
            0.4,
            prompt=near_duplicate(TEMPLATE, rng),
        )
        for i in range(30)
    ]
    h.feed("t:b0:9876", members)
    (campaign_id,) = h.registry.campaigns
    state = h.registry.load(campaign_id)
    assert state is not None and state.signals() == 1
    score = assess_campaign(state, DEFAULT_POLICY).score
    assert DEFAULT_POLICY.campaign.alert <= score < DEFAULT_POLICY.account.throttle


def test_template_bucket_counts_only_verified_near_duplicates() -> None:
    """Prompts that share a 16-bit band by chance are not a template family."""
    rng = random.Random(6)
    band = 0x1234
    chance = [
        Member(f"acct_{i}", T0, T0 - HOUR, 1e5, 0.9, 0.4, prompt=(rng.getrandbits(48) << 16) | band)
        for i in range(30)
    ]
    group = LinkGroup()
    assert process_links(group, "t:b0:1234", chance, DEFAULT_POLICY) is None
    assert group.evidence("t:b0:1234").members == ()


def test_link_group_is_bounded_expires_in_event_time_and_round_trips() -> None:
    rng = random.Random(8)
    group = LinkGroup()
    for i in range(3 * GROUP_MEMBERS):
        group.add(hydra_member(i, rng, T0 + i))
    assert len(group.members) == GROUP_MEMBERS
    assert min(m.last_ts for m in group.members.values()) == T0 + 2 * GROUP_MEMBERS
    assert LinkGroup.decode(group.encode()) == group
    group.applied_offset = 12
    assert LinkGroup.decode(group.encode()) == group
    assert group.holds(12, T0) and not group.holds(13, T0)
    v3 = group.encode()[:-1]  # before the applied offset
    v3[0] = 3
    assert LinkGroup.decode(v3) == replace(group, applied_offset=-1.0)
    group.expire(T0 + 3 * GROUP_MEMBERS + 2 * DAY)
    assert not group.members


def test_campaigns_expire_with_their_members_in_event_time() -> None:
    rng = random.Random(9)
    h = Harness()
    h.feed("p:pm_shared", [hydra_member(i, rng) for i in range(10)])
    assert h.registry.expire(T0 + DAY) == ([], [])
    expired, dropped = h.registry.expire(T0 + 4 * DAY)
    assert len(expired) == 1 and len(dropped) == 10
    assert not h.registry.campaigns and not h.registry.members and not h.registry.keys


def test_accounts_publish_link_keys_about_every_half_hour_of_event_time() -> None:
    state = AccountState(
        n_events=5, last_ts=T0, created_ts=T0 - DAY, req_24h=5.0, reasoning_24h=4.0,
        recent_prompts=[TEMPLATE], decision=DecisionState(),
    )  # fmt: skip
    req = make_request(account_id="acct_x", org_id="org_1", client_fingerprint="fp_1",
                       payment_fingerprint="pm_1")  # fmt: skip
    links = collect_links([(state, req)])
    assert sorted(k[0] for k in links) == ["c", "p", "t", "t", "t", "t"]
    assert links["p:pm_1"][0].org_id == "org_1" and links["p:pm_1"][0].asn == 64500
    assert state.last_link_ts == T0
    state.last_ts = T0 + 60
    assert collect_links([(state, req)]) == {}
    state.last_ts = T0 + 1801
    assert collect_links([(state, req)])


def test_old_light_accounts_in_a_hot_group_are_not_members() -> None:
    rng = random.Random(10)
    h = Harness()
    hydra = [hydra_member(i, rng) for i in range(12)]
    bystanders = [popular_member(i, rng) for i in range(3)]  # a minority: the group is hot
    h.feed("p:pm_shared", hydra + bystanders)
    assert all(h.board.get(m.account_id) is not None for m in hydra)
    assert all(h.board.get(m.account_id) is None for m in bystanders)


def test_a_key_shared_by_many_ordinary_accounts_links_nobody() -> None:
    """A stock SDK fingerprint: 150 ordinary accounts used it yesterday, so 20 harvesters on
    it today are not a campaign (the same 20 on a key of their own are)."""
    rng = random.Random(12)
    yesterday = T0 - 1.5 * DAY
    ordinary = [popular_member(i, rng, ts=yesterday + i * MINUTE) for i in range(150)]
    hydra = [hydra_member(i, rng) for i in range(20)]
    popular = LinkGroup()
    assert process_links(popular, "c:sdk-python", ordinary, DEFAULT_POLICY) is None
    assert process_links(popular, "c:sdk-python", hydra, DEFAULT_POLICY) is None
    assert popular.evidence("c:sdk-python").purity < 0.2
    own = process_links(LinkGroup(), "c:fleet-fp", hydra, DEFAULT_POLICY)
    assert own is not None and own.purity == 1.0
    assert GroupEvidence.from_wire(orjson.loads(orjson.dumps(own.to_wire()))) == own
    assert LinkGroup.decode(orjson.loads(orjson.dumps(popular.encode()))) == popular


def test_an_old_account_joins_through_a_payment_not_through_a_client_fingerprint_alone() -> None:
    h = linked_fleet(seed=13)
    # An old account that asks for reasoning too (a developer on the same stock SDK).
    old = replace(
        hydra_member(99, random.Random(13)), account_id="acct_old_dev", created_ts=T0 - 400 * DAY
    )
    h.feed("c:fp_shared", [old])
    assert h.board.get("acct_old_dev") is None
    h.feed("p:pm_shared", [old])  # ... but one that pays with the fleet's card is one of it
    assert h.board.get("acct_old_dev") is not None


def test_an_allow_listed_org_gets_no_member_commands() -> None:
    rng = random.Random(11)
    members = [replace(hydra_member(i, rng), org_id="org_partner") for i in range(16)]
    entry = {"entity_type": "org", "entity_id": "org_partner", "reason": "audited partner"}
    policy = DEFAULT_POLICY.with_changes({"allow": [entry]})
    registry = CampaignRegistry({}, {}, {})
    for key in ("p:pm_shared", "c:fp_shared"):
        evidence = process_links(LinkGroup(), key, members, policy)
        assert evidence is not None
        assert registry.report(evidence, policy).commands == ()
    unlisted = CampaignRegistry({}, {}, {})
    commands = []
    for key in ("p:pm_shared", "c:fp_shared"):
        evidence = process_links(LinkGroup(), key, members, DEFAULT_POLICY)
        assert evidence is not None
        commands += unlisted.report(evidence, DEFAULT_POLICY).commands
    assert {c.entity_id for c in commands} == {m.account_id for m in members}
    assert all("campaign cmp-" in c.reason for c in commands)
