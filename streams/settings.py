"""Environment -> typed, validated settings (Kafka security included; secrets stay secret).

One place reads the environment, so the worker, the CLI tools and the tests agree on topic
names and connection details. Every variable is documented in the README's configuration
table and validated at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

DEFAULT_BOOTSTRAP: Final = "127.0.0.1:19092"
SECURITY_PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS: Final = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Secret(str):
    """A string that never shows its value in repr/str formatting of settings or logs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: Secret | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def confluent_config(self) -> dict[str, Any]:
        """librdkafka properties for confluent-kafka clients (admin, tools)."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL"):
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_username
            conf["sasl.password"] = self.sasl_password.reveal() if self.sasl_password else None
        if self.security_protocol.endswith("SSL"):
            for key, value in (
                ("ssl.ca.location", self.ssl_cafile),
                ("ssl.certificate.location", self.ssl_certfile),
                ("ssl.key.location", self.ssl_keyfile),
            ):
                if value:
                    conf[key] = value
        return conf

    def aiokafka_config(self) -> dict[str, Any]:
        """Connection keyword arguments for a plain aiokafka client (broadcast readers)."""
        conf: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.endswith("SSL"):
            context = ssl.create_default_context(cafile=self.ssl_cafile)
            if self.ssl_certfile:
                context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
            conf["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            conf["sasl_mechanism"] = self.sasl_mechanism
            conf["sasl_plain_username"] = self.sasl_username
            conf["sasl_plain_password"] = (
                self.sasl_password.reveal() if self.sasl_password else None
            )
        return conf

    def faust_broker_url(self) -> str:
        return ";".join(f"kafka://{host}" for host in self.bootstrap_servers.split(","))

    def faust_credentials(self) -> Any:
        """Faust credentials object, or None for PLAINTEXT."""
        import faust

        context = None
        if self.security_protocol.endswith("SSL"):
            context = ssl.create_default_context(cafile=self.ssl_cafile)
            if self.ssl_certfile:
                context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        if self.security_protocol.startswith("SASL"):
            password = self.sasl_password.reveal() if self.sasl_password else ""
            if self.sasl_mechanism == "PLAIN":
                return faust.SASLCredentials(
                    username=self.sasl_username, password=password, ssl_context=context
                )
            return faust.SASLCredentials(
                username=self.sasl_username,
                password=password,
                mechanism=self.sasl_mechanism,
                ssl_context=context,
            )
        if context is not None:
            return faust.SSLCredentials(context)
        return None


@dataclass(frozen=True, slots=True)
class Topics:
    requests: str = "llm.requests"
    alerts: str = "distillguard.alerts"
    throttle: str = "distillguard.throttle"
    deadletter: str = "distillguard.deadletter"
    control: str = "distillguard.control"
    audit: str = "distillguard.audit"


@dataclass(frozen=True, slots=True)
class Settings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: Topics = field(default_factory=Topics)
    app_id: str = "distillguard"
    partitions: int = 8
    replication: int = 1
    store: str = "memory://"
    data_dir: Path = Path(".local/worker")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    batch_max: int = 500
    batch_within_s: float = 0.2
    snapshot_every_s: float = 30.0
    commit_interval_s: float = 2.8
    log_format: str | None = None
    log_level: str = "INFO"
    # Bearer token for policy writes through the HTTP API; unset = writes refused.
    api_token: Secret | None = field(default=None, repr=False)

    @property
    def asn_activity_topic(self) -> str:
        """Internal: requests re-keyed by ASN (pre-aggregated per batch)."""
        return f"{self.app_id}-asn-activity"

    @property
    def asn_risk_topic(self) -> str:
        """Internal, compacted: each network's current risk, read by every worker."""
        return f"{self.app_id}-asn-risk"

    @property
    def links_topic(self) -> str:
        """Internal: accounts' link records re-keyed by link key (one message per key per
        batch)."""
        return f"{self.app_id}-links"

    @property
    def campaign_reports_topic(self) -> str:
        """Internal: hot link groups' reports to the campaign registry (one key)."""
        return f"{self.app_id}-campaign-reports"

    @property
    def campaigns_topic(self) -> str:
        """Internal, compacted: campaign risks and memberships, read by every worker."""
        return f"{self.app_id}-campaigns"


def _local_bootstrap() -> str | None:
    """The address deploy/kafka/kafka.sh wrote when it started the local broker."""
    path = Path(__file__).resolve().parent.parent / ".local" / "kafka" / "bootstrap"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raises ``SettingsError`` naming the bad variable."""
    env = os.environ if env is None else env

    def get(name: str, default: str) -> str:
        value = env.get(name, "").strip()
        return value or default

    def number(name: str, default: str, cast: type, low: float) -> Any:
        raw = get(name, default)
        try:
            value = cast(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a {cast.__name__}, got {raw!r}") from None
        if value < low:
            raise SettingsError(f"{name} must be >= {low}, got {value}")
        return value

    def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = get(name, default).upper()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    protocol = choice("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", SECURITY_PROTOCOLS)
    username = env.get("KAFKA_SASL_USERNAME") or None
    password = env.get("KAFKA_SASL_PASSWORD")
    if protocol.startswith("SASL") and not (username and password):
        raise SettingsError(
            f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        )
    for name in ("KAFKA_SSL_CAFILE", "KAFKA_SSL_CERTFILE", "KAFKA_SSL_KEYFILE"):
        if env.get(name) and not Path(env[name]).is_file():
            raise SettingsError(f"{name}={env[name]!r} is not a readable file")
    kafka = KafkaSettings(
        bootstrap_servers=get("KAFKA_BOOTSTRAP_SERVERS", _local_bootstrap() or DEFAULT_BOOTSTRAP),
        security_protocol=protocol,
        sasl_mechanism=choice("KAFKA_SASL_MECHANISM", "PLAIN", SASL_MECHANISMS),
        sasl_username=username,
        sasl_password=Secret(password) if password else None,
        ssl_cafile=env.get("KAFKA_SSL_CAFILE") or None,
        ssl_certfile=env.get("KAFKA_SSL_CERTFILE") or None,
        ssl_keyfile=env.get("KAFKA_SSL_KEYFILE") or None,
    )
    default_topics = Topics()
    topics = Topics(
        requests=get("DG_TOPIC_REQUESTS", default_topics.requests),
        alerts=get("DG_TOPIC_ALERTS", default_topics.alerts),
        throttle=get("DG_TOPIC_THROTTLE", default_topics.throttle),
        deadletter=get("DG_TOPIC_DEADLETTER", default_topics.deadletter),
        control=get("DG_TOPIC_CONTROL", default_topics.control),
        audit=get("DG_TOPIC_AUDIT", default_topics.audit),
    )
    token = env.get("DG_API_TOKEN", "").strip()
    if token and len(token) < 16:
        raise SettingsError("DG_API_TOKEN must be at least 16 characters")
    store = get("DG_STORE", "memory://")
    if store not in ("memory://", "rocksdb://"):
        raise SettingsError(f"DG_STORE must be memory:// or rocksdb://, got {store!r}")
    log_format = env.get("DG_LOG_FORMAT") or None
    if log_format not in (None, "json", "console"):
        raise SettingsError(f"DG_LOG_FORMAT must be json or console, got {log_format!r}")
    return Settings(
        kafka=kafka,
        topics=topics,
        app_id=get("DG_APP_ID", "distillguard"),
        partitions=number("DG_PARTITIONS", "8", int, 1),
        replication=number("DG_REPLICATION", "1", int, 1),
        store=store,
        data_dir=Path(get("DG_DATA_DIR", ".local/worker")),
        web_host=get("DG_WEB_HOST", "127.0.0.1"),
        web_port=number("DG_WEB_PORT", "6066", int, 0),
        batch_max=number("DG_BATCH_MAX", "500", int, 1),
        batch_within_s=number("DG_BATCH_WITHIN_S", "0.2", float, 0.001),
        snapshot_every_s=number("DG_SNAPSHOT_EVERY_S", "30", float, 0.1),
        commit_interval_s=number("DG_COMMIT_INTERVAL_S", "2.8", float, 0.1),
        log_format=log_format,
        log_level=choice("DG_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        api_token=Secret(token) if token else None,
    )
