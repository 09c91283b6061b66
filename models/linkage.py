"""Cross-account linkage: which accounts share a prompt template, a payment or a client
fingerprint, and whether the accounts sharing one look like a harvesting operation together.

Each account periodically publishes its *link keys* with a small summary of itself (a
``Member``); a ``LinkGroup`` per key remembers the recent members (at most
``GROUP_MEMBERS``, each forgotten ``MEMBER_TTL_S`` of event time after it was last seen).
A group is *hot* when enough linked members are harvest-like (``models.harvest``) and the
key is *pure*: of the distinct accounts that used it over the last one to two days, at least
``MIN_KEY_PURITY`` were harvest-like. The purity counts every account behind the key, not
only the ``GROUP_MEMBERS`` remembered, in two KMV sketches per key (the anchor is Metwally
and Paduano's count of users behind an IP), so a client fingerprint, template or payment
shared by thousands of ordinary users (a stock SDK string, a popular app's template) carries
no weight however many harvesters also use it. Only hot groups reach the campaign registry.

Template keys come from ``models.lsh`` bands, so a bucket also collects unrelated prompts
that happen to share 16 bits; members are counted as linked only when their prompt is
within ``TEMPLATE_BITS`` of another member's (LSH candidate verification).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Final

from models import lsh
from models.account import AccountState, features
from models.age import is_young
from models.harvest import is_harvest_like, state_is_harvest_like
from models.policy import Policy
from models.replay import held
from models.request import Request
from models.sketches import hamming64, hash32, kmv_add, kmv_estimate
from models.units import DAY, HOUR, MINUTE

# A suspicious-looking account (young or harvest-like) refreshes its link keys this often in
# event time; others far less often (they can only weigh against a group, not make it hot).
LINK_EVERY_S: Final = 30 * MINUTE
LINK_EVERY_QUIET_S: Final = 6 * HOUR
LINK_MIN_EVENTS: Final = 1  # an account links from its first request on
LINK_PROMPTS: Final = 2  # the most recent prompts whose LSH bands an account links by
GROUP_MEMBERS: Final = 64
MEMBER_TTL_S: Final = DAY
TEMPLATE_BITS: Final = 8  # two prompts this close come from the same template
WAVE_S: Final = 6 * HOUR  # accounts created this close together signed up in one wave
MIN_WAVE: Final = 5  # ... when there are at least this many of them
# A hot group reports to the registry when it gains a member, else at most this often.
REPORT_EVERY_S: Final = 15 * MINUTE
# Key purity: distinct accounts behind a key (and the harvest-like ones) are counted per
# epoch of this much event time; purity reads the current epoch plus the previous one.
KEY_EPOCH_S: Final = DAY
KEY_SKETCH_K: Final = 32  # KMV size: ~18% relative error, 2 x 32 ints per key
# Below this share of harvest-like accounts behind it, a key links nobody: it is popular.
MIN_KEY_PURITY: Final = 0.8

KIND_NAMES: Final = {"t": "prompt template", "p": "payment fingerprint", "c": "client fingerprint"}


@dataclass(frozen=True, slots=True)
class Member:
    """One account as a link group sees it: who, when, and how harvest-like."""

    account_id: str
    last_ts: float
    created_ts: float  # 0 = unknown
    output_per_day: float
    reasoning_share: float
    cot_mean: float
    org_id: str = ""  # so org allow-list entries reach campaign decisions too
    asn: int = 0
    prompt: int = 0  # the SimHash behind a template key (0 for other keys)

    def row(self) -> list[Any]:
        return [
            self.account_id,
            self.last_ts,
            self.created_ts,
            round(self.output_per_day, 1),
            round(self.reasoning_share, 3),
            round(self.cot_mean, 3),
            self.org_id,
            self.asn,
            self.prompt,
        ]

    @classmethod
    def from_row(cls, row: list[Any]) -> Member:
        account, last, created, out, reasoning, cot, org, asn, prompt = row
        return cls(
            str(account), float(last), float(created), float(out), float(reasoning), float(cot),
            str(org), int(asn), int(prompt),
        )  # fmt: skip

    def young(self, now: float) -> bool:
        return is_young(self.created_ts, now)

    def harvest_like(self) -> bool:
        return is_harvest_like(self.reasoning_share, self.cot_mean)


def link_due(state: AccountState, last_link_ts: float) -> bool:
    """Whether the account should (re)publish its link keys at its latest event."""
    if state.n_events < LINK_MIN_EVENTS:
        return False
    suspicious = is_young(state.created_ts, state.last_ts) or state_is_harvest_like(state)
    every = LINK_EVERY_S if suspicious else LINK_EVERY_QUIET_S
    return last_link_ts <= 0 or state.last_ts - last_link_ts >= every


def link_records(state: AccountState, req: Request) -> list[tuple[str, Member]]:
    """(link key, member) pairs for one account at its latest event (``req`` is its latest
    request in the batch): the LSH buckets of its most recent prompts, its payment
    fingerprint and its client fingerprint."""
    feat = features(state, warmup_min_events=0, warmup_min_seconds=0)
    base = Member(
        req.account_id,
        state.last_ts,
        state.created_ts,
        feat.output_tokens_per_day,
        feat.reasoning_share,
        feat.cot_mean,
        req.org_id or "",
        req.asn,
    )
    payment, client = req.payment_fingerprint, req.client_fingerprint
    out: list[tuple[str, Member]] = []
    for prompt in dict.fromkeys(state.recent_prompts[-LINK_PROMPTS:]):
        member = replace(base, prompt=prompt)
        out.extend((f"t:{bucket}", member) for bucket in lsh.buckets(prompt))
    if payment:
        out.append((f"p:{payment}", base))
    if client:
        out.append((f"c:{client}", base))
    return out


@dataclass(frozen=True, slots=True)
class GroupEvidence:
    """What the linked members of one key have in common (also the registry's input)."""

    key: str
    last_ts: float
    members: tuple[Member, ...]  # the linked ones
    wave: int  # most members created within WAVE_S of each other
    purity: float = 1.0  # harvest-like share of the distinct accounts behind the key

    @property
    def young(self) -> int:
        return sum(m.young(self.last_ts) for m in self.members)

    @property
    def harvest_like(self) -> int:
        return sum(m.harvest_like() for m in self.members)

    def hot(self, policy: Policy) -> bool:
        n = len(self.members)
        return (
            n >= policy.campaign_min_accounts
            and self.purity >= MIN_KEY_PURITY
            and self.young >= policy.campaign_min_young_share * n
            and self.harvest_like >= policy.campaign_min_harvest_share * n
        )

    def to_wire(self) -> dict[str, Any]:
        rows = [m.row() for m in self.members]
        return {"key": self.key, "last_ts": self.last_ts, "wave": self.wave,
                "purity": round(self.purity, 3), "members": rows}  # fmt: skip

    @classmethod
    def from_wire(cls, doc: dict[str, Any]) -> GroupEvidence:
        members = tuple(Member.from_row(row) for row in doc["members"])
        purity = float(doc.get("purity", 1.0))
        return cls(str(doc["key"]), float(doc["last_ts"]), members, int(doc["wave"]), purity)


@dataclass(slots=True)
class KeyPopulation:
    """Distinct accounts behind one key, and how many of them were harvest-like: two KMV
    sketches for the current epoch, the estimates of the previous one (bounded: 2 x
    ``KEY_SKETCH_K`` ints and three floats)."""

    epoch_ts: float = 0.0
    accounts: list[int] = field(default_factory=list)
    harvesting: list[int] = field(default_factory=list)
    previous_accounts: float = 0.0
    previous_harvesting: float = 0.0

    def encode(self) -> list[Any]:
        return [self.epoch_ts, self.accounts, self.harvesting, self.previous_accounts,
                self.previous_harvesting]  # fmt: skip

    @classmethod
    def decode(cls, raw: list[Any]) -> KeyPopulation:
        epoch, accounts, harvesting, previous, previous_harvesting = raw
        return cls(float(epoch), list(accounts), list(harvesting), float(previous),
                   float(previous_harvesting))  # fmt: skip

    def add(self, member: Member) -> None:
        if member.last_ts - self.epoch_ts >= KEY_EPOCH_S:
            self.previous_accounts = round(kmv_estimate(self.accounts, KEY_SKETCH_K), 1)
            self.previous_harvesting = round(kmv_estimate(self.harvesting, KEY_SKETCH_K), 1)
            self.epoch_ts, self.accounts, self.harvesting = member.last_ts, [], []
        h = hash32(member.account_id)
        kmv_add(self.accounts, h, KEY_SKETCH_K)
        if member.harvest_like():
            kmv_add(self.harvesting, h, KEY_SKETCH_K)

    def purity(self) -> float:
        """Harvest-like share of the distinct accounts behind the key (1.0 before any)."""
        accounts = kmv_estimate(self.accounts, KEY_SKETCH_K) + self.previous_accounts
        harvesting = kmv_estimate(self.harvesting, KEY_SKETCH_K) + self.previous_harvesting
        return min(harvesting / accounts, 1.0) if accounts > 0 else 1.0


@dataclass(slots=True)
class LinkGroup:
    """The recent members of one link key and the key's population (bounded; module doc)."""

    VERSION: ClassVar[int] = 4

    last_ts: float = 0.0
    reported_ts: float = 0.0  # event time of the last report to the registry
    reported: list[str] = field(default_factory=list)  # the linked members it listed
    members: dict[str, Member] = field(default_factory=dict)
    population: KeyPopulation = field(default_factory=KeyPopulation)
    # Links-topic offset of the last message folded in (-1: none); see ``models.replay``.
    applied_offset: float = -1.0

    def encode(self) -> list[Any]:
        rows = [m.row() for m in self.members.values()]
        return [self.VERSION, self.last_ts, self.reported_ts, self.reported, rows,
                self.population.encode(), self.applied_offset]  # fmt: skip

    def holds(self, offset: int, ts: float) -> bool:
        """Whether the links message at ``offset`` is already folded in."""
        return held(self.applied_offset, self.last_ts, offset, ts)

    @classmethod
    def decode(cls, raw: list[Any] | None) -> LinkGroup:
        """A stored group; version 3 (before the applied offset) is read with it at its
        default, another version starts the group afresh (it refills in a day)."""
        if not raw or (raw[0], len(raw)) not in ((cls.VERSION, 7), (3, 6)):
            return cls()
        members = (Member.from_row(row) for row in raw[4])
        by_id = {m.account_id: m for m in members}
        population = KeyPopulation.decode(raw[5])
        applied = float(raw[6]) if len(raw) == 7 else -1.0
        return cls(float(raw[1]), float(raw[2]), list(raw[3]), by_id, population, applied)

    def add(self, member: Member) -> None:
        """Remember a member; past the cap, the least recently seen member is forgotten."""
        self.population.add(member)
        self.members.pop(member.account_id, None)
        self.members[member.account_id] = member
        self.last_ts = max(self.last_ts, member.last_ts)
        if len(self.members) > GROUP_MEMBERS:
            oldest = min(self.members.values(), key=lambda m: m.last_ts)
            del self.members[oldest.account_id]

    def expire(self, now: float) -> None:
        """Forget members not seen for ``MEMBER_TTL_S`` of event time."""
        for account, member in list(self.members.items()):
            if now - member.last_ts > MEMBER_TTL_S:
                del self.members[account]

    def evidence(self, key: str) -> GroupEvidence:
        linked = _linked(key, list(self.members.values()))
        return GroupEvidence(
            key=key,
            last_ts=self.last_ts,
            members=tuple(linked),
            wave=_largest_wave(sorted(m.created_ts for m in linked if m.created_ts > 0)),
            purity=self.population.purity(),
        )


def _linked(key: str, members: list[Member]) -> list[Member]:
    """Members that share the key for real: for a template bucket, those whose prompt is
    within ``TEMPLATE_BITS`` of another member's (a 16-bit band match alone is chance)."""
    if not key.startswith("t:"):
        return members
    return [
        m
        for m in members
        if any(o is not m and hamming64(m.prompt, o.prompt) <= TEMPLATE_BITS for o in members)
    ]


def _largest_wave(created: list[float]) -> int:
    """The most creation times within ``WAVE_S`` of each other (sliding window)."""
    best, start = 0, 0
    for end, ts in enumerate(created):
        while ts - created[start] > WAVE_S:
            start += 1
        best = max(best, end - start + 1)
    return best if best >= MIN_WAVE else 0


def process_links(
    group: LinkGroup, key: str, members: list[Member], policy: Policy
) -> GroupEvidence | None:
    """Fold one batch of members into the key's group; the evidence when the group is hot
    and has something new to say to the registry (a new linked member, or time passed)."""
    for member in members:
        group.add(member)
    group.expire(group.last_ts)
    evidence = group.evidence(key)
    if not evidence.hot(policy):
        return None
    linked = [m.account_id for m in evidence.members]
    grew = not set(linked) <= set(group.reported)
    if not grew and group.last_ts - group.reported_ts < REPORT_EVERY_S:
        return None
    group.reported_ts, group.reported = group.last_ts, linked
    return evidence


def collect_links(touched: Iterable[tuple[AccountState, Request]]) -> dict[str, list[Member]]:
    """Link records of a batch's accounts that are due, grouped by key (one message per
    key per batch); marks each account's ``last_link_ts``. Items are (state, the account's
    latest request in the batch)."""
    out: dict[str, list[Member]] = {}
    for state, req in touched:
        if link_due(state, state.last_link_ts):
            state.last_link_ts = state.last_ts
            for key, member in link_records(state, req):
                out.setdefault(key, []).append(member)
    return out
