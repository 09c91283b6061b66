"""Risk + policy + what was already said -> at most one alert and one command.

Pure and deterministic: ids are hashes of the decision (entity, severity or action, event
time; a command's also of its trigger), so a replay or a retried batch produces the same ids
and downstream consumers can drop duplicates. The per-entity ``DecisionState`` is what
prevents a command per event: a command goes out only when the action escalates or its TTL
is about to lapse (both in event time).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from models.policy import EntityPolicy, EntityType, ListedType, Policy
from models.risk import Assessment

# Wire values, in escalation order (the index is what DecisionState stores).
Severity = Literal["none", "low", "high", "critical"]
Action = Literal["none", "throttle", "block"]
Release = Literal["release"]
# A command names a decided entity, or (a release) an allow-listed one, which may be an org.
CommandTarget = EntityType | ListedType

SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
RELEASE: Final[Release] = "release"
MODEL_VERSION: Final = "dg-1"


@dataclass(slots=True)
class DecisionState:
    """What distillguard last said about an entity (five floats, stored with the entity).

    An *alert episode* lasts while the entity keeps scoring at or above the alert threshold
    and ends after ``realert_s`` of event time below it: within one episode an entity is
    alerted once per escalation (low -> high -> critical), not once per ``realert_s``."""

    action: float = 0.0  # index into ACTIONS
    action_until: float = 0.0  # event time the action's TTL ends
    alert_severity: float = 0.0  # index into SEVERITIES: the episode's highest so far
    alert_ts: float = 0.0  # event time of the episode's last alert
    alert_seen_ts: float = 0.0  # event time the entity last scored at or above alert

    def encode(self) -> list[float]:
        return [self.action, self.action_until, self.alert_severity, self.alert_ts,
                self.alert_seen_ts]  # fmt: skip

    @classmethod
    def decode(cls, raw: list[float]) -> DecisionState:
        """A state of four numbers (before episodes) decodes with its alert as last seen."""
        state = cls(*raw)
        if len(raw) == 4:
            state.alert_seen_ts = state.alert_ts
        return state

    def active_action(self, now: float) -> int:
        return int(self.action) if now < self.action_until else 0

    def in_episode(self, now: float, memory_s: float) -> bool:
        """Whether an alert episode is open: alerted, and at or above alert within
        ``memory_s`` of ``now``."""
        return self.alert_severity > 0 and now - max(self.alert_ts, self.alert_seen_ts) < memory_s

    def suspected(self, now: float, memory_s: float) -> bool:
        """Acted on, or in an alert episode: such entities must not teach the models what
        normal looks like (River's ``protect_anomaly_detector`` idea)."""
        return self.in_episode(now, memory_s) or self.active_action(now) > 0


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: str
    event_ts: float
    trigger_event_id: str
    entity_type: EntityType
    entity_id: str
    score: float
    threshold: float
    severity: Severity
    reasons: tuple[dict[str, Any], ...]
    accounts: tuple[str, ...]
    model_version: str
    policy_version: int
    shadow: bool

    @property
    def key(self) -> str:
        return f"{self.entity_type}:{self.entity_id}"

    def to_wire(self, emitted_at: float) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "emitted_at": emitted_at,
            "event_ts": self.event_ts,
            "trigger_event_id": self.trigger_event_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "score": round(self.score, 4),
            "threshold": self.threshold,
            "severity": self.severity,
            "reasons": list(self.reasons),
            "accounts": list(self.accounts),
            "model_version": self.model_version,
            "policy_version": self.policy_version,
            "shadow": self.shadow,
        }


@dataclass(frozen=True, slots=True)
class Command:
    command_id: str
    event_ts: float
    trigger_event_id: str
    entity_type: CommandTarget
    entity_id: str
    action: Action | Release
    limit_rpm: int | None
    ttl_s: int
    reason: str
    alert_id: str
    policy_version: int

    @property
    def key(self) -> str:
        return f"{self.entity_type}:{self.entity_id}"

    def to_wire(self, emitted_at: float) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "emitted_at": emitted_at,
            "event_ts": self.event_ts,
            "trigger_event_id": self.trigger_event_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "action": self.action,
            "limit_rpm": self.limit_rpm,
            "ttl_s": self.ttl_s,
            "reason": self.reason,
            "alert_id": self.alert_id,
            "policy_version": self.policy_version,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    alert: Alert | None = None
    command: Command | None = None


NOTHING: Final = Decision()


def stable_id(*parts: object) -> str:
    """A 32-hex-char id that is the same for the same parts in every process and replay."""
    text = "|".join(repr(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def severity_of(score: float, policy: EntityPolicy) -> int:
    if score >= policy.block:
        return 3
    if score >= policy.throttle:
        return 2
    if score >= policy.alert:
        return 1
    return 0


def _threshold_of(severity: int, policy: EntityPolicy) -> float:
    return (policy.alert, policy.throttle, policy.block)[severity - 1]


def alert_id_for(entity_type: EntityType, entity_id: str, severity: int, event_ts: float) -> str:
    return stable_id("alert", entity_type, entity_id, SEVERITIES[severity], event_ts)


def decide(
    state: DecisionState,
    assessment: Assessment,
    policy: Policy,
    *,
    entity_type: EntityType,
    entity_id: str,
    event_ts: float,
    event_id: str,
    accounts: tuple[str, ...] = (),
) -> Decision:
    """Decide what to emit for this event and update ``state`` to match (in place)."""
    rules = policy.for_entity(entity_type)
    severity = severity_of(assessment.score, rules)
    if severity == 0:
        return NOTHING

    alert = None
    previous = int(state.alert_severity) if state.in_episode(event_ts, rules.realert_s) else 0
    state.alert_seen_ts = max(state.alert_seen_ts, event_ts)
    if severity > previous:
        alert = Alert(
            alert_id=alert_id_for(entity_type, entity_id, severity, event_ts),
            event_ts=event_ts,
            trigger_event_id=event_id,
            entity_type=entity_type,
            entity_id=entity_id,
            score=assessment.score,
            threshold=_threshold_of(severity, rules),
            severity=SEVERITIES[severity],
            reasons=tuple(r.to_wire() for r in assessment.reasons),
            accounts=accounts,
            model_version=MODEL_VERSION,
            policy_version=policy.version,
            shadow=policy.shadow,
        )
        state.alert_severity, state.alert_ts = severity, event_ts

    wanted = max(severity - 1, 0)  # high -> throttle, critical -> block
    current = state.active_action(event_ts)
    refresh_at = state.action_until - rules.ttl_s * (1.0 - rules.refresh_after)
    if wanted == 0 or wanted < current or (wanted == current and event_ts < refresh_at):
        return Decision(alert=alert)
    if policy.shadow:
        return Decision(alert=alert)  # shadow mode: alerts flow, enforcement does not

    action = ACTIONS[wanted]
    top = assessment.reasons[0].detail if assessment.reasons else "risk above threshold"
    command = Command(
        # The trigger is part of the id: an account's own decision and a campaign's command
        # for the same account at the same event time are two records, not one.
        command_id=stable_id("command", entity_type, entity_id, action, event_ts, event_id),
        event_ts=event_ts,
        trigger_event_id=event_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        limit_rpm=rules.limit_rpm if action == "throttle" else None,
        ttl_s=rules.ttl_s,
        reason=f"{entity_type} risk {assessment.score:.2f} >= {action} threshold "
        f"{_threshold_of(severity, rules):.2f}: {top}",
        alert_id=alert.alert_id
        if alert
        else alert_id_for(entity_type, entity_id, int(state.alert_severity), state.alert_ts),
        policy_version=policy.version,
    )
    state.action, state.action_until = wanted, event_ts + rules.ttl_s
    return Decision(alert=alert, command=command)


def release_command(
    entity_type: ListedType, entity_id: str, reason: str, policy_version: int, at: float
) -> Command:
    """Lift whatever distillguard enforces on an entity (an operator allow-listed it).
    ``at`` is the wall-clock time of the operator's change: there is no triggering event."""
    return Command(
        command_id=stable_id("command", entity_type, entity_id, RELEASE, policy_version),
        event_ts=at,
        trigger_event_id=f"policy:{policy_version}",
        entity_type=entity_type,
        entity_id=entity_id,
        action=RELEASE,
        limit_rpm=None,
        ttl_s=0,
        reason=reason,
        alert_id="",
        policy_version=policy_version,
    )
