"""An entity's current risk, features and reasons, read from this worker's tables.

Accounts and ASNs are read from the table partitions this worker holds (the answer for an
entity held by another worker is "not here": ask that worker, or run one worker); campaigns
live on the registry's worker.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from models import asn as asn_model
from models.account import AccountState, features
from models.campaigns import assess_campaign
from models.decide import ACTIONS, SEVERITIES, DecisionState
from models.policy import ENTITY_TYPES
from models.risk import Assessment
from models.scoring import assess_account, assess_asn
from streams.accounts.agents import AccountAgent
from streams.asn.agents import AsnAgent
from streams.campaigns.agents import CampaignAgents
from streams.campaigns.evidence import CampaignView
from streams.control.policy import PolicyHolder
from streams.topics import partition_of


class EntityDescriber:
    """Reads entities from the tables and models of one app."""

    def __init__(
        self,
        accounts: AccountAgent,
        asns: AsnAgent,
        campaigns: CampaignAgents,
        campaign_view: CampaignView,
        policy: PolicyHolder,
        partitions: int,
    ) -> None:
        self._accounts = accounts
        self._asns = asns
        self._campaigns = campaigns
        self._campaign_view = campaign_view
        self._policy = policy
        self._partitions = partitions

    def describe(self, entity_type: str, entity_id: str) -> dict[str, Any] | None:
        """The entity as the detectors see it now, or None when this worker does not hold it."""
        if entity_type == "account":
            return self._account(entity_id)
        if entity_type == "asn":
            return self._asn(entity_id) if entity_id.isdigit() else None
        if entity_type == "campaign":
            return self._campaign(entity_id)
        raise ValueError(f"entity type must be one of {', '.join(ENTITY_TYPES)}")

    def _doc(
        self,
        entity_type: str,
        entity_id: str,
        assessment: Assessment,
        decision: DecisionState,
        last_ts: float,
        feats: dict[str, Any],
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "risk": round(assessment.score, 4),
            "reasons": [r.to_wire() for r in assessment.reasons],
            "features": feats,
            "action": ACTIONS[decision.active_action(last_ts)],
            "action_until": decision.action_until or None,
            "last_alert_severity": SEVERITIES[int(decision.alert_severity)],
            "last_event_ts": last_ts,
            "policy_version": self._policy.current.version,
            **extra,
        }

    def _account(self, account_id: str) -> dict[str, Any] | None:
        raw = self._accounts.table.get(account_id)
        if raw is None:
            return None
        state = AccountState.decode(raw)
        policy = self._policy.current
        feat = features(
            state,
            warmup_min_events=policy.warmup_min_events,
            warmup_min_seconds=policy.warmup_min_seconds,
        )
        model = self._accounts.population.for_partition(partition_of(account_id, self._partitions))
        campaign = self._campaign_view.get(account_id)
        assessment = assess_account(feat, model, None, campaign)
        return self._doc(
            "account",
            account_id,
            assessment,
            state.decision,
            state.last_ts,
            asdict(feat),
            campaign=campaign.campaign_id if campaign else None,
        )

    def _asn(self, asn: str) -> dict[str, Any] | None:
        raw = self._asns.table.get(asn)
        if raw is None:
            return None
        state = asn_model.AsnState.decode(raw)
        feat = asn_model.features(state)
        model = self._asns.population.for_partition(partition_of(asn, self._partitions))
        return self._doc(
            "asn", asn, assess_asn(feat, model), state.decision, state.last_ts, asdict(feat)
        )

    def _campaign(self, campaign_id: str) -> dict[str, Any] | None:
        state = self._campaigns.registry.load(campaign_id)
        if state is None:
            return None
        assessment = assess_campaign(state, self._policy.current)
        feats = {
            "members": state.members,
            "young": state.young,
            "harvest_like": state.harvest_like,
            "output_tokens_per_day": round(state.output_per_day, 1),
            "signup_wave": state.wave,
            "link_keys_by_kind": state.kinds,
            "signals": state.signals(),
            "first_ts": state.first_ts,
        }
        return self._doc(
            "campaign",
            campaign_id,
            assessment,
            state.decision,
            state.last_ts,
            feats,
            members_sample=state.sample,
        )
