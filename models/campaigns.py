"""Campaigns: hot link groups joined into campaign entities with stable ids and members.

Only hot groups reach the registry (a tiny fraction of traffic), so it runs on one
partition. Its state is three mappings (Faust tables in the worker, dicts in backtests):
campaigns by id (fixed-size aggregates, never the member list), members by account id
(their campaign and flags), and link keys by key (their campaign). A report joins the
campaign that already owns its key or most of its members, or founds one whose id is a
hash of the founding report, so replays name campaigns the same. Campaigns not reported
for ``CAMPAIGN_TTL_S`` of event time expire with their members and keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Final

from models.age import YOUNG_DAYS
from models.decide import (
    Command,
    Decision,
    DecisionState,
    alert_id_for,
    decide,
    severity_of,
    stable_id,
)
from models.linkage import KIND_NAMES, WAVE_S, GroupEvidence, Member
from models.policy import Policy
from models.risk import ALERT_ONLY_RISK, Assessment, Reason, moved, squash
from models.scoring import CampaignEvidence
from models.units import DAY, HOUR

CAMPAIGN_TTL_S: Final = 3 * DAY
SAMPLE: Final = 20  # member accounts listed in a campaign alert
# risk = squash(GAIN x harvest share x size x signals x youth factor): the strength of the
# coordination evidence. A full-size campaign of harvest-like accounts linked two
# independent ways scores 0.81 when its members are old (a bought or aged fleet) and 0.94
# when they are young; three ways, 0.92 and 0.99.
GAIN: Final = 0.7
# Youth is one factor, not a gate: a fleet of old accounts keeps this share of the evidence.
OLD_FLEET_FACTOR: Final = 0.6


@dataclass(slots=True)
class CampaignState:
    """Aggregates over a campaign's members (fixed size however many members it has)."""

    VERSION: ClassVar[int] = 1

    first_ts: float = 0.0
    last_ts: float = 0.0
    members: int = 0
    young: int = 0
    harvest_like: int = 0
    output_per_day: float = 0.0  # sum of the members' 24-h output rates at last report
    wave: int = 0  # the largest signup wave among its members
    published_risk: float = 0.0
    member_action: int = 0  # the action its members were last commanded (index in ACTIONS)
    kinds: dict[str, int] = field(default_factory=dict)  # kind -> distinct link keys
    sample: list[str] = field(default_factory=list)
    decision: DecisionState = field(default_factory=DecisionState)

    def encode(self) -> list[Any]:
        numbers = [getattr(self, n) for n in _NUMBERS]
        return [self.VERSION, numbers, self.kinds, self.sample, self.decision.encode()]

    @classmethod
    def decode(cls, raw: list[Any] | None) -> CampaignState | None:
        if not raw or raw[0] != cls.VERSION or len(raw) != 5 or len(raw[1]) != len(_NUMBERS):
            return None
        return cls(
            **dict(zip(_NUMBERS, raw[1], strict=True)),
            kinds=dict(raw[2]),
            sample=list(raw[3]),
            decision=DecisionState.decode(raw[4]),
        )

    def signals(self) -> int:
        """Independent ways the members are linked: key kinds, plus a signup wave."""
        return sum(1 for n in self.kinds.values() if n > 0) + (self.wave > 0)


_NUMBERS: Final = tuple(
    f.name for f in fields(CampaignState) if f.name not in ("kinds", "sample", "decision")
)


@dataclass(frozen=True, slots=True)
class CampaignUpdate:
    """What one report changed: the campaign, its risk and alert, and who joined."""

    campaign_id: str
    state: CampaignState
    assessment: Assessment
    decision: Decision
    joined: tuple[str, ...]
    publish_risk: bool
    commands: tuple[Command, ...] = ()


def decide_member_action(risk: float, policy: Policy) -> int:
    """The action (index in ACTIONS) a member account gets at this campaign risk."""
    return max(severity_of(risk, policy.account) - 1, 0)


def assess_campaign(state: CampaignState, policy: Policy) -> Assessment:
    """Risk of a campaign from what its members share and what they are like."""
    n = state.members
    if n < policy.campaign_min_accounts:
        return Assessment(0.0, ())
    youth, harvest = state.young / n, state.harvest_like / n
    size = min(1.0, n / (2.0 * policy.campaign_min_accounts))
    signals = state.signals()
    youth_factor = OLD_FLEET_FACTOR + (1.0 - OLD_FLEET_FACTOR) * youth
    risk = squash(GAIN * harvest * size * signals * youth_factor)
    if signals < policy.campaign_min_signals:
        # Fewer independent linking signals than the policy asks: alert only (a shared
        # template alone must never throttle).
        risk = min(risk, ALERT_ONLY_RISK)
    links = ", ".join(
        f"{count} {KIND_NAMES[kind]}{'s' if count > 1 else ''}"
        for kind, count in sorted(state.kinds.items())
    )
    within = f"{WAVE_S / HOUR:g} h"
    wave = f"; {state.wave} signed up within {within} of each other" if state.wave else ""
    reasons = (
        Reason("campaign_accounts", n, None, f"{n} accounts linked by {links}"),
        Reason(
            "campaign_young_share",
            youth,
            None,
            f"{youth:.0%} of them created in the last {YOUNG_DAYS:g} days{wave}",
        ),
        Reason(
            "campaign_harvest_share",
            harvest,
            None,
            f"{harvest:.0%} reasoning-heavy or eliciting chain of thought",
        ),
        Reason(
            "campaign_output_tokens_per_day",
            state.output_per_day,
            None,
            f"together {state.output_per_day:,.0f} output tokens/day",
        ),
    )
    return Assessment(risk, reasons)


class CampaignRegistry:
    """Campaign formation and membership over three mappings (see module doc)."""

    def __init__(
        self,
        campaigns: MutableMapping[str, Any],
        members: MutableMapping[str, Any],
        keys: MutableMapping[str, Any],
    ) -> None:
        self.campaigns = campaigns
        self.members = members
        self.keys = keys

    def load(self, campaign_id: str) -> CampaignState | None:
        return CampaignState.decode(self.campaigns.get(campaign_id))

    def report(self, evidence: GroupEvidence, policy: Policy) -> CampaignUpdate:
        """Fold one hot group's report into its campaign (founding one if needed)."""
        campaign_id = self._campaign_for(evidence)
        state = self.load(campaign_id)
        if state is None:
            state = CampaignState(first_ts=evidence.last_ts)
        state.last_ts = max(state.last_ts, evidence.last_ts)
        state.wave = max(state.wave, evidence.wave)
        kind = evidence.key[0]
        if self.keys.get(evidence.key) != campaign_id:
            self.keys[evidence.key] = campaign_id
            state.kinds[kind] = state.kinds.get(kind, 0) + 1
        joined = [m.account_id for m in evidence.members if self._join(state, campaign_id, m, kind)]
        assessment = assess_campaign(state, policy)
        decision = decide(
            state.decision,
            assessment,
            policy,
            entity_type="campaign",
            entity_id=campaign_id,
            event_ts=state.last_ts,
            event_id=f"campaign:{campaign_id}:{evidence.key}:{evidence.last_ts!r}",
            accounts=tuple(state.sample),
        )
        publish = moved(assessment.score, state.published_risk)
        if publish:
            state.published_risk = assessment.score
        # The gateway enforces per account: one command per member (none per campaign).
        commands = self._member_commands(campaign_id, state, assessment, joined, policy)
        self.campaigns[campaign_id] = state.encode()
        return CampaignUpdate(
            campaign_id,
            state,
            assessment,
            Decision(alert=decision.alert),
            tuple(joined),
            publish,
            tuple(commands),
        )

    def _member_commands(
        self,
        campaign_id: str,
        state: CampaignState,
        assessment: Assessment,
        joined: list[str],
        policy: Policy,
    ) -> list[Command]:
        """Commands at once, without waiting for the member's next request: for members
        that just joined, and for every member when the campaign's action escalates. Each
        member's risk is the campaign's, as its account scoring inherits it; refreshes near
        the TTL's end come from that account scoring, at the member's next requests."""
        now = state.last_ts
        action = decide_member_action(assessment.score, policy)
        escalated, state.member_action = action > state.member_action, action
        if action == 0:
            return []
        targets = joined
        if escalated:
            targets = [a for a, rec in list(self.members.items()) if rec[0] == campaign_id]
        cited = Reason(
            "campaign_risk",
            assessment.score,
            None,
            f"member of campaign {campaign_id}: "
            + (assessment.reasons[0].detail if assessment.reasons else "linked accounts"),
        )
        member_assessment = Assessment(assessment.score, (cited, *assessment.reasons))
        # Member commands answer to the campaign's alert (the accounts have none).
        alert_id = alert_id_for(
            "campaign", campaign_id, int(state.decision.alert_severity), state.decision.alert_ts
        )
        commands = []
        for account in targets:
            record = self.members.get(account)
            if record is None or record[0] != campaign_id:
                continue
            org, asn = record[6], record[7]
            if policy.listed("allow", now, account, org or None, asn or None) is not None:
                continue
            member_state = DecisionState(action=record[4], action_until=record[5])
            decision = decide(
                member_state,
                member_assessment,
                policy,
                entity_type="account",
                entity_id=account,
                event_ts=now,
                event_id=f"campaign:{campaign_id}:{now!r}",
            )
            if decision.command is not None:
                commands.append(replace(decision.command, alert_id=alert_id))
                until = [member_state.action, member_state.action_until]
                self.members[account] = [*record[:4], *until, *record[6:]]
        return commands

    def _live(self, campaign_id: Any) -> bool:
        return isinstance(campaign_id, str) and campaign_id in self.campaigns

    def _campaign_for(self, evidence: GroupEvidence) -> str:
        """The campaign owning the key, else the one most members belong to, else a new
        one named after the founding report."""
        owner = self.keys.get(evidence.key)
        if self._live(owner):
            return str(owner)
        votes = Counter(
            str(record[0])
            for m in evidence.members
            if (record := self.members.get(m.account_id)) and self._live(record[0])
        )
        if votes:
            return votes.most_common(1)[0][0]
        first = min(m.account_id for m in evidence.members)
        return "cmp-" + stable_id("campaign", evidence.key, first, evidence.last_ts)[:16]

    def _join(self, state: CampaignState, campaign_id: str, member: Member, kind: str) -> bool:
        """Add or refresh a member's flags in the aggregates; True when it is new. An
        account already in another live campaign stays there (campaigns are not merged)."""
        young, harvest = int(member.young(state.last_ts)), int(member.harvest_like())
        record = self.members.get(member.account_id)
        new = record is None or not self._live(record[0])
        if new and not harvest:
            # An account that does not harvest, however young, sharing a key with a campaign
            # (a popular app's template, a launch day's stock SDK) weighed against the
            # group; it is not a member.
            return False
        if new and kind == "c" and not young:
            # A client fingerprint is the weakest key (anyone can run a stock SDK): an old
            # account joins through a payment or a template, not a client string alone.
            return False
        if record is not None and not new and record[0] != campaign_id:
            return False
        if new:
            state.members += 1
            if len(state.sample) < SAMPLE:
                state.sample.append(member.account_id)
        elif record is not None:
            state.young -= int(record[1])
            state.harvest_like -= int(record[2])
            state.output_per_day -= float(record[3])
        state.young += young
        state.harvest_like += harvest
        state.output_per_day += member.output_per_day
        action = record[4:6] if record is not None and not new else [0.0, 0.0]
        self.members[member.account_id] = [
            campaign_id, young, harvest, member.output_per_day, *action,
            member.org_id, member.asn,
        ]  # fmt: skip
        return new

    def expire(self, now: float) -> tuple[list[str], list[str]]:
        """Drop campaigns not reported for ``CAMPAIGN_TTL_S`` before ``now`` (event time),
        with their members and keys; returns (campaign ids, member account ids) dropped."""
        expired = [
            cid
            for cid, raw in list(self.campaigns.items())
            if (state := CampaignState.decode(raw)) is None or now - state.last_ts > CAMPAIGN_TTL_S
        ]
        for cid in expired:
            del self.campaigns[cid]
        gone = set(expired)
        dropped = [a for a, rec in list(self.members.items()) if rec[0] in gone]
        for account in dropped:
            del self.members[account]
        for key, cid in list(self.keys.items()):
            if cid in gone:
                del self.keys[key]
        return expired, dropped


def campaign_records(update: CampaignUpdate) -> list[tuple[str, dict[str, Any]]]:
    """What the accounts' scoring must learn from an update, as records of the compacted
    campaigns topic: ``c:<campaign>`` (risk and why) and ``m:<account>`` (membership)."""
    records: list[tuple[str, dict[str, Any]]] = []
    if update.publish_risk:
        top = update.assessment.reasons
        detail = "; ".join(r.detail for r in top[:3]) if top else "no evidence"
        doc = {"risk": round(update.assessment.score, 4), "detail": detail}
        records.append((f"c:{update.campaign_id}", doc))
    records.extend((f"m:{account}", {"campaign": update.campaign_id}) for account in update.joined)
    return records


class CampaignBoard:
    """Each account's campaign evidence, as every worker sees it (built from the records
    of ``campaign_records``; a ``None`` document is a tombstone)."""

    def __init__(self) -> None:
        self._risk: dict[str, CampaignEvidence] = {}
        self._member_of: dict[str, str] = {}

    def apply(self, key: str, doc: dict[str, Any] | None) -> None:
        kind, _, name = key.partition(":")
        if kind == "c":
            if doc is None:
                self._risk.pop(name, None)
            else:
                self._risk[name] = CampaignEvidence(name, float(doc["risk"]), str(doc["detail"]))
        elif kind == "m":
            if doc is None:
                self._member_of.pop(name, None)
            else:
                self._member_of[name] = str(doc["campaign"])
        else:
            raise ValueError(f"unknown campaign record key {key!r}")

    def get(self, account_id: str) -> CampaignEvidence | None:
        """The account's campaign evidence, if its campaign has any risk."""
        campaign = self._member_of.get(account_id)
        evidence = self._risk.get(campaign) if campaign else None
        return evidence if evidence is not None and evidence.risk > 0 else None

    def __len__(self) -> int:
        return len(self._member_of)
