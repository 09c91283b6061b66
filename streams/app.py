"""The application factory: ``create_app(settings)`` builds one worker's Faust app, its
topics, tables, agents, broadcast followers and HTTP API, with every collaborator passed in.

Nothing here runs at import time: a REPL, a test or two apps in one process each call the
factory with their own settings.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import faust

from streams.accounts.agents import AccountAgent
from streams.api.entities import EntityDescriber
from streams.api.recent import RecentAlerts
from streams.api.views import MAX_BODY_BYTES, Api, api_blueprint
from streams.asn.agents import AsnAgent
from streams.asn.evidence import NetworkRiskView
from streams.broadcast import follow_compacted
from streams.broker_health import BrokerProbe
from streams.campaigns.agents import CampaignAgents
from streams.campaigns.evidence import CampaignView
from streams.chunks import chunked_transport
from streams.control.changes import PolicyChanges
from streams.control.policy import PolicyHolder
from streams.emit import DecisionSender
from streams.failpoints import Failpoints
from streams.settings import Settings
from streams.stall_guard import guard_app
from streams.topics import WorkerTopics, declare_topics
from streams.wiring import Wiring

SESSION_TIMEOUT_S: Final = 10.0
BATCHES_IN_PRODUCER_BUFFER: Final = 4


def faust_app(settings: Settings) -> faust.App:
    """A bare Faust app wired to ``settings`` (aiokafka transport: the confluent driver drops
    headers and timestamps and partitions with Python's ``hash()``)."""
    return faust.App(
        settings.app_id,
        broker=settings.kafka.faust_broker_url(),
        broker_credentials=settings.kafka.faust_credentials(),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        key_serializer="raw",
        value_serializer="raw",
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        web_application_options={"client_max_size": MAX_BODY_BYTES},
        # Faust's default is 1; a single worker has nowhere to place one.
        table_standby_replicas=settings.standby_replicas,
        # A member that died without leaving (kill -9, a lost node) holds its partitions until
        # the group drops it: Faust's default 60 s is the restart's wait. Heartbeats come from
        # aiokafka's own task every 3 s, and no batch blocks the loop for seconds.
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=3.0,
        # ~500 records a poll avoids consumer stalls on busy partitions.
        broker_max_poll_records=500,
        # At-least-once: a crash replays at most one interval (ids make replays idempotent).
        broker_commit_interval=settings.commit_interval_s,
        producer_linger_ms=5,
        consumer_auto_offset_reset="earliest",
        loghandlers=[],
    )


@dataclass(frozen=True, slots=True)
class Distillguard:
    """One worker: the Faust app and the collaborators it was built from."""

    settings: Settings
    app: faust.App
    topics: WorkerTopics
    policy: PolicyHolder
    counters: Counter[str]
    sender: DecisionSender
    recent: RecentAlerts
    network_risk: NetworkRiskView
    campaign_view: CampaignView
    accounts: AccountAgent
    asn: AsnAgent
    campaigns: CampaignAgents
    changes: PolicyChanges


def create_app(
    settings: Settings,
    topics_of: Callable[[faust.App, Settings], WorkerTopics] = declare_topics,
) -> Distillguard:
    """Build the worker for ``settings``; run it with ``faust.Worker(result.app)``.
    ``topics_of`` declares the topics (tests swap output topics for in-memory channels)."""
    app = faust_app(settings)
    app.transport = chunked_transport(app, frozenset({settings.topics.requests}))
    topics = topics_of(app, settings)
    policy = PolicyHolder()
    counters: Counter[str] = Counter()
    failpoints = Failpoints(settings.failpoint)
    sender = DecisionSender(topics.alerts, topics.throttle, counters, failpoints)
    recent = RecentAlerts()
    sender.on_alert(recent.add)
    network_risk, campaign_view = NetworkRiskView(), CampaignView()
    wiring = Wiring(app, settings, topics, policy, sender, failpoints)
    asn = AsnAgent(wiring, counters)
    campaigns = CampaignAgents(wiring, counters)
    accounts = AccountAgent(wiring, counters, network_risk, campaign_view, asn, campaigns)
    changes = PolicyChanges(policy, topics.control, topics.audit, sender)
    _follow(app, settings, settings.asn_risk_topic, network_risk.apply)
    _follow(app, settings, settings.campaigns_topic, campaign_view.apply_record)
    _follow(app, settings, settings.topics.control, policy.apply_record, policy.loaded)
    broker = BrokerProbe(settings.kafka.aiokafka_config)
    app.task(broker.run)
    consumed = (
        settings.topics.requests,
        settings.asn_activity_topic,
        settings.links_topic,
        settings.campaign_reports_topic,
    )
    # Replay-safe, as the guard needs: their agents skip what their states hold
    # (models.replay), and the campaign registry folds a report it has seen without change.
    guard_app(app, frozenset(consumed), counters, broker.reachable, time.monotonic)

    async def size_producer_buffer() -> None:
        # A batch writes one table record per account it touched (up to batch_max) plus its
        # network, link and decision messages at once, by design; Faust's buffer of 100
        # logged "producer buffer full" on nearly every batch and flushed in the middle.
        app.producer.buffer.max_messages = BATCHES_IN_PRODUCER_BUFFER * settings.batch_max

    app.task(size_producer_buffer)

    def ready_checks() -> dict[str, bool]:
        return {
            "policy_loaded": policy.loaded.is_set(),
            "tables_recovered": app.tables.recovery.completed.is_set(),  # type: ignore[attr-defined]
            "not_rebalancing": not app.rebalancing,
            "broker_reachable": broker.reachable(),
        }

    def view_sizes() -> dict[str, int]:
        return {
            "networks_with_risk": len(network_risk),
            "accounts_in_campaigns": len(campaign_view),
        }

    entities = EntityDescriber(accounts, asn, campaigns, campaign_view, policy, settings.partitions)
    api = Api(
        policy, changes, entities, recent, counters, view_sizes, ready_checks, settings.api_token
    )
    api_blueprint(api).register(app, url_prefix="")
    return Distillguard(
        settings,
        app,
        topics,
        policy,
        counters,
        sender,
        recent,
        network_risk,
        campaign_view,
        accounts,
        asn,
        campaigns,
        changes,
    )


def _follow(
    app: faust.App, settings: Settings, topic: str, apply: Any, caught_up: Any = None
) -> None:
    """A task on ``app`` that reads the compacted ``topic`` from the beginning, forever."""

    async def follow() -> None:
        await follow_compacted(topic, settings.kafka.aiokafka_config(), apply, caught_up)

    app.task(follow)
