"""One request through the account detector: the same code in the worker and in backtests.

The Faust agent only does I/O around this (state from the table, decisions to topics), so
an offline replay of a JSONL file makes exactly the decisions the worker would.
"""

from __future__ import annotations

from typing import Final

from models import asn as asn_model
from models.account import AccountState, features, learn_baseline, update, volume_vector
from models.age import is_young
from models.decide import Decision, decide
from models.detectors import PopulationTail
from models.harvest import state_is_harvest_like
from models.policy import Policy
from models.request import Request
from models.risk import Assessment, Reason
from models.scoring import CampaignEvidence, NetworkEvidence, assess_account, assess_asn
from models.units import MINUTE

# An account contributes one sample to its population model per this much event time, so
# the population is "accounts over time", not "requests" (heavy users do not dominate it).
LEARN_EVERY_S: Final = MINUTE


def new_account_population() -> PopulationTail:
    """The account population model of one partition. Its edge of normal is the p95, not the
    p99: per partition the population is a few hundred to a few thousand accounts, whose p99
    is set by the handful of heaviest customers themselves (docs/detection.md, Risk)."""
    return PopulationTail(
        q_high=0.95,
        q_mid=0.5,
        min_samples=200,
        # Elicitation prompts are rare in ordinary traffic: p95 is near 0, so a dozen a day
        # from a curious user is not extreme; fifty a day starts to be.
        min_edge={"elicitation_requests_per_day": 50.0},
    )


def new_asn_population() -> PopulationTail:
    """The network population model of one partition. Counts of accounts per network are
    small integers: p99 counts as at least 4x the median, so two new accounts where one is
    usual is not an anomaly."""
    return PopulationTail(q_high=0.99, q_mid=0.5, min_samples=50, min_ratio=4.0)


NO_RISK: Final = Assessment(0.0, ())
# Below this network risk, an account with ordinary volume is not scored at all (the common
# case, kept cheap: the full feature set is computed only for unusual accounts).
NETWORK_RISK_FLOOR: Final = 0.05

# A network contributes one sample to the network population per this much event time.
ASN_LEARN_EVERY_S: Final = 5 * MINUTE


def process_request(
    state: AccountState,
    req: Request,
    population: PopulationTail,
    policy: Policy,
    network: NetworkEvidence | None = None,
    campaign: CampaignEvidence | None = None,
) -> Decision:
    """Fold ``req`` into ``state``, score it, decide; learn only from unsuspected accounts.
    The volume vector is computed once: it decides whether to score at all, then feeds the
    features, the assessment and the population model."""
    update(state, req)
    vector = volume_vector(state)
    assessment = NO_RISK
    unusual = any(v > 0 for v in population.excess(vector).values())
    inherits = campaign is not None or (network is not None and network.risk >= NETWORK_RISK_FLOOR)
    harvest_like = state_is_harvest_like(state)
    # Young and asking for reasoning: scored even at ordinary volume (early evidence).
    early = harvest_like and is_young(state.created_ts, state.last_ts)
    if unusual or inherits or early:
        feat = features(
            state,
            warmup_min_events=policy.warmup_min_events,
            warmup_min_seconds=policy.warmup_min_seconds,
            vector=vector,
        )
        assessment = assess_account(feat, population, network, campaign, vector=vector)
    now = state.last_ts
    if policy.listed("allow", now, req.account_id, req.org_id, req.asn) is not None:
        assessment = NO_RISK  # trusted by an operator: never alerted on or acted against
    elif (denied := policy.listed("deny", now, req.account_id, req.org_id, req.asn)) is not None:
        why = f"deny-listed {denied.entity_type} {denied.entity_id}: {denied.reason}"
        assessment = Assessment(1.0, (Reason("deny_list", 1.0, None, why),))
    decision = decide(
        state.decision,
        assessment,
        policy,
        entity_type="account",
        entity_id=req.account_id,
        # Decide at the account's latest event time: a late event must not start a TTL in
        # the past or move the last alert back.
        event_ts=state.last_ts,
        event_id=req.event_id,
    )
    if not state.decision.suspected(state.last_ts, policy.account.realert_s):
        learn_baseline(state)
        # An account asking for reasoning does not teach the population what normal volume
        # is: harvesters not yet caught would lift the edge they are judged by (dev seed 7 /
        # family: the p95 of output tokens/day reached 1.3M). Their volume evidence is
        # weighted by their profile instead.
        if not harvest_like and state.last_ts - state.last_learn_ts >= LEARN_EVERY_S:
            population.learn_one(vector)
            state.last_learn_ts = state.last_ts
    return decision


def process_asn_activity(
    state: asn_model.AsnState,
    asn: int,
    activities: list[asn_model.AsnActivity],
    population: PopulationTail,
    policy: Policy,
) -> tuple[Assessment, Decision]:
    """Fold one batch of a network's activity into its state, score it, decide."""
    for activity in activities:
        asn_model.update(state, activity)
    feat = asn_model.features(state)
    assessment = assess_asn(feat, population)
    if policy.listed("allow", state.last_ts, "", asn=asn) is not None:
        assessment = NO_RISK
    last = max(activities, key=lambda a: a.last_ts)
    decision = decide(
        state.decision,
        assessment,
        policy,
        entity_type="asn",
        entity_id=str(asn),
        event_ts=state.last_ts,
        event_id=f"asn:{asn}:{last.account_id}:{last.last_ts!r}",
        accounts=tuple(asn_model.involved_accounts(state)),
    )
    suspected = state.decision.suspected(state.last_ts, policy.asn.realert_s)
    if not suspected and state.last_ts - state.last_learn_ts >= ASN_LEARN_EVERY_S:
        population.learn_one(feat.population_vector())
        state.last_learn_ts = state.last_ts
    return assessment, decision
