"""Thresholds, shadow mode and warm-up minimums: the policy that turns risk into action.

Policy is data (a versioned document), so operators can change it live and every alert and
command can say which version made it. ``Policy.from_dict`` validates a whole document and
raises ``PolicyError`` with a readable message, changing nothing, when any part is wrong.

Every field is live policy: code reads it from the ``Policy`` it is given, never from a
module constant with the same value, so an operator's change takes effect everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, get_args

# What distillguard scores and decides on (one EntityPolicy each).
EntityType = Literal["account", "asn", "campaign"]
# What an operator may allow- or deny-list.
ListedType = Literal["account", "org", "asn"]
ListName = Literal["allow", "deny"]

ENTITY_TYPES: Final[tuple[EntityType, ...]] = get_args(EntityType)
LISTED_TYPES: Final[tuple[ListedType, ...]] = get_args(ListedType)
LISTS: Final[tuple[ListName, ...]] = get_args(ListName)


class PolicyError(ValueError):
    """A policy document or change that cannot be applied; the message says why."""


# Upper bounds on durations and rates: event_ts + ttl must stay far inside int64 and float
# precision, and no real command lasts longer than a year.
MAX_TTL_S: Final = 366 * 24 * 3600
MAX_REALERT_S: Final = 366 * 24 * 3600
MAX_LIMIT_RPM: Final = 1_000_000
MAX_WARMUP_SECONDS: Final = 366 * 24 * 3600
MAX_WARMUP_EVENTS: Final = 10_000_000
MAX_CAMPAIGN_ACCOUNTS: Final = 100_000
# Per list: the whole policy travels as one Kafka record (< 1 MB); a longer list belongs in
# the gateway's own store.
MAX_LIST_ENTRIES: Final = 2_000
MAX_REASON_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class EntityPolicy:
    """Risk thresholds in [0, 1] and the command that follows, for one entity type."""

    alert: float = 0.5
    throttle: float = 0.8
    block: float = 0.97
    limit_rpm: int = 10
    ttl_s: int = 3600
    # Re-send a command once this share of its TTL has passed (in event time) and the entity
    # is still over the threshold; never once per event.
    refresh_after: float = 0.8
    # An alert episode (models.decide.DecisionState) closes after this long below the alert
    # threshold; only then is an entity alerted again at a severity it already had.
    realert_s: int = 12 * 3600

    def validate(self, where: str) -> None:
        for name in ("alert", "throttle", "block"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise PolicyError(f"{where}.{name} must be between 0 and 1, got {value}")
        if not self.alert <= self.throttle <= self.block:
            raise PolicyError(
                f"{where}: thresholds must satisfy alert <= throttle <= block, got "
                f"{self.alert} / {self.throttle} / {self.block}"
            )
        if not 0 <= self.limit_rpm <= MAX_LIMIT_RPM:
            raise PolicyError(
                f"{where}.limit_rpm must be between 0 and {MAX_LIMIT_RPM}, got {self.limit_rpm}"
            )
        if not 0 < self.ttl_s <= MAX_TTL_S:
            raise PolicyError(f"{where}.ttl_s must be between 1 and {MAX_TTL_S}, got {self.ttl_s}")
        if not 0 <= self.realert_s <= MAX_REALERT_S:
            raise PolicyError(
                f"{where}.realert_s must be between 0 and {MAX_REALERT_S}, got {self.realert_s}"
            )
        if not 0.0 < self.refresh_after <= 1.0:
            raise PolicyError(f"{where}.refresh_after must be in (0, 1], got {self.refresh_after}")


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One allow- or deny-list entry: an account, org or ASN, why, and until when (event
    time, so a replay decides the same; ``None`` = no expiry)."""

    entity_type: ListedType
    entity_id: str
    reason: str
    expires_ts: float | None = None

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> ListEntry:
        if not isinstance(doc, dict):
            raise PolicyError(f"{where} must be an object")
        _check_keys(doc, cls, where)
        entity_type, entity_id = doc.get("entity_type"), doc.get("entity_id")
        reason, expires = doc.get("reason"), doc.get("expires_ts")
        if entity_type not in LISTED_TYPES:
            raise PolicyError(f"{where}.entity_type must be one of {', '.join(LISTED_TYPES)}")
        if not isinstance(entity_id, str) or not entity_id or len(entity_id) > 128:
            raise PolicyError(f"{where}.entity_id must be a non-empty string (<= 128 chars)")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
            raise PolicyError(
                f"{where}.reason is required (say why, at most {MAX_REASON_CHARS} characters)"
            )
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise PolicyError(f"{where}.expires_ts must be a unix timestamp or null")
        return cls(entity_type, entity_id, reason, None if expires is None else float(expires))

    def active(self, now: float) -> bool:
        return self.expires_ts is None or now < self.expires_ts


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy. ``version`` increases with every accepted change."""

    version: int = 1
    shadow: bool = False
    # An account's own baseline may exonerate it only after this much history.
    warmup_min_events: int = 30
    warmup_min_seconds: int = 6 * 3600
    account: EntityPolicy = field(default_factory=EntityPolicy)
    # Throttling a whole network hits every customer in it: by default networks are alerted
    # on, and their risk flows into their accounts' risk, but they are never throttled.
    asn: EntityPolicy = field(default_factory=lambda: EntityPolicy(throttle=1.0, block=1.0))
    # Campaigns are alerted on as a whole; their members are throttled one account at a time
    # (the gateway enforces per account) through the campaign risk they inherit.
    campaign: EntityPolicy = field(default_factory=EntityPolicy)
    # The evidence bar a group of linked accounts must pass to become (part of) a campaign:
    # this many linked accounts, of which these shares are young and harvest-like; and
    # campaign risk reaches the throttle range only with this many independent linking
    # signals (template, payment, client fingerprint, signup wave). Youth is no gate by
    # default (bought and aged accounts are what a determined operator uses): it is one
    # factor of campaign risk.
    campaign_min_accounts: int = 8
    campaign_min_young_share: float = 0.0
    campaign_min_harvest_share: float = 0.5
    campaign_min_signals: int = 2
    # Allow-listed entities are never alerted on or acted against; deny-listed accounts are
    # blocked on their next request.
    allow: tuple[ListEntry, ...] = ()
    deny: tuple[ListEntry, ...] = ()

    def for_entity(self, entity_type: EntityType) -> EntityPolicy:
        policy: EntityPolicy = getattr(self, entity_type)
        return policy

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["allow"], doc["deny"] = [asdict(e) for e in self.allow], [asdict(e) for e in self.deny]
        return doc

    def listed(
        self,
        which: ListName,
        now: float,
        account: str,
        org: str | None = None,
        asn: int | None = None,
    ) -> ListEntry | None:
        """The active ``allow`` or ``deny`` entry matching the account, its org or its ASN."""
        entries: tuple[ListEntry, ...] = getattr(self, which)
        if not entries:
            return None  # the common case, on every request
        wanted = {("account", account), ("org", org), ("asn", None if asn is None else str(asn))}
        for entry in entries:
            if (entry.entity_type, entry.entity_id) in wanted and entry.active(now):
                return entry
        return None

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Policy:
        """Build and validate a policy; unknown keys are errors (typos must not pass)."""
        if not isinstance(doc, dict):
            raise PolicyError("policy must be a JSON object")
        top = {k: v for k, v in doc.items() if k not in ENTITY_TYPES and k not in LISTS}
        _check_keys(top, cls, "policy", exclude=ENTITY_TYPES + LISTS)
        lists: dict[str, tuple[ListEntry, ...]] = {}
        for which in LISTS:
            entries = doc.get(which, [])
            if not isinstance(entries, list):
                raise PolicyError(f"policy.{which} must be a list")
            if len(entries) > MAX_LIST_ENTRIES:
                raise PolicyError(
                    f"policy.{which} has {len(entries):,} entries; at most {MAX_LIST_ENTRIES:,}"
                )
            lists[which] = tuple(
                ListEntry.from_dict(e, f"policy.{which}[{i}]") for i, e in enumerate(entries)
            )
        entities: dict[str, Any] = {}
        for entity_type in ENTITY_TYPES:
            sub = doc.get(entity_type, {})
            if not isinstance(sub, dict):
                raise PolicyError(f"policy.{entity_type} must be an object")
            _check_keys(sub, EntityPolicy, f"policy.{entity_type}")
            entities[entity_type] = EntityPolicy(
                **{k: _typed(EntityPolicy, k, v, entity_type) for k, v in sub.items()}
            )
        values: dict[str, Any] = {k: _typed(cls, k, v, "policy") for k, v in top.items()}
        policy = cls(**values, **entities, allow=lists["allow"], deny=lists["deny"])
        policy.validate()
        return policy

    def validate(self) -> None:
        if self.version < 1:
            raise PolicyError(f"policy.version must be >= 1, got {self.version}")
        if not 0 <= self.warmup_min_events <= MAX_WARMUP_EVENTS:
            raise PolicyError(f"policy.warmup_min_events must be between 0 and {MAX_WARMUP_EVENTS}")
        if not 0 <= self.warmup_min_seconds <= MAX_WARMUP_SECONDS:
            raise PolicyError(
                f"policy.warmup_min_seconds must be between 0 and {MAX_WARMUP_SECONDS}"
            )
        for entity_type in ENTITY_TYPES:
            self.for_entity(entity_type).validate(f"policy.{entity_type}")
        if not 2 <= self.campaign_min_accounts <= MAX_CAMPAIGN_ACCOUNTS:
            raise PolicyError(
                f"policy.campaign_min_accounts must be between 2 and {MAX_CAMPAIGN_ACCOUNTS}"
            )
        if self.campaign_min_signals < 1:
            raise PolicyError("policy.campaign_min_signals must be >= 1")
        for name in ("campaign_min_young_share", "campaign_min_harvest_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise PolicyError(f"policy.{name} must be between 0 and 1")

    def with_changes(self, changes: dict[str, Any]) -> Policy:
        """A new validated policy with dotted-key changes applied and the version bumped."""
        doc = self.to_dict()
        for key, value in changes.items():
            if key == "version":
                raise PolicyError("version is not a setting: every accepted change bumps it")
            parts = key.split(".")
            target = doc
            for part in parts[:-1]:
                if part not in ENTITY_TYPES or not isinstance(target.get(part), dict):
                    raise PolicyError(f"unknown policy key '{key}'")
                target = target[part]
            if parts[-1] not in target or isinstance(target[parts[-1]], dict):
                raise PolicyError(f"unknown policy key '{key}'")
            target[parts[-1]] = value
        doc["version"] = self.version + 1
        return Policy.from_dict(doc)


def _check_keys(doc: dict[str, Any], cls: type, where: str, exclude: tuple[str, ...] = ()) -> None:
    known = {name for name in cls.__dataclass_fields__ if name not in exclude}  # type: ignore[attr-defined]
    unknown = sorted(set(doc) - known)
    if unknown:
        raise PolicyError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _typed(cls: type, name: str, value: Any, where: str) -> Any:
    """Check a value against the field's type (bool, int or float) before it is used."""
    default = getattr(cls(), name)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise PolicyError(f"{where}.{name} must be {type(default).__name__}, got {value!r}")
    return float(value) if isinstance(default, float) else value


DEFAULT_POLICY: Final = Policy()
