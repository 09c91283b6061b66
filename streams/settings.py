"""Environment -> typed, validated settings (Kafka security included; secrets stay secret).

One place reads the environment, so the worker, the CLI tools and the tests agree on topic
names and connection details. Each setting is declared once, by ``setting()``: variable, type
(``Literal`` for closed choices), default, bounds, secrecy, description. ``load_settings`` walks
the declarations; the dataclasses validate on construction, so settings built in code obey the
same rules, and every message names the variable (``DG_PARTITIONS must be >= 1, got 0``).
A unit test keeps the README's configuration table in step; ``describe()`` hides secrets.
"""

from __future__ import annotations

import math
import os
import ssl
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from streams.failpoints import parse_failpoint

DEFAULT_BOOTSTRAP: Final = "127.0.0.1:19092"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
StoreUrl = Literal["memory://", "rocksdb://"]
LogFormat = Literal["json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_SPEC: Final = "distillguard.setting"
T = TypeVar("T")


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
class Spec:
    """How one setting is read and checked: the declaration behind a field."""

    env: str
    help: str
    secret: bool = False
    low: float | None = None
    high: float | None = None
    min_length: int | None = None
    # A problem phrase for a bad value ("is not a readable file"), or None when it is fine.
    check: Callable[[Any], str | None] | None = None
    # Consulted when the variable is unset, before the declared default (load_settings only).
    fallback: Callable[[], str | None] | None = None
    # Strip surrounding whitespace (not for passwords); a blank value is always unset.
    strip: bool = True


def setting(env: str, default: T, help: str, **rules: Any) -> T:
    """A dataclass field read from ``env``; ``rules`` are the other ``Spec`` fields. Secret
    fields are left out of the repr."""
    spec = Spec(env, help, **rules)
    made: T = field(default=default, repr=not spec.secret, metadata={_SPEC: spec})
    return made


def _readable_file(value: Any) -> str | None:
    return None if Path(value).is_file() else "is not a readable file"


def _http_url(value: Any) -> str | None:
    return None if str(value).startswith(("http://", "https://")) else "is not an http(s) URL"


def _local_bootstrap() -> str | None:
    """The address deploy/kafka/kafka.sh wrote when it started the local broker."""
    path = Path(__file__).resolve().parent.parent / ".local" / "kafka" / "bootstrap"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class Declared:
    """One setting as the loader, the validation and the documentation see it."""

    name: str  # the field
    spec: Spec
    kind: Any  # int, float, str, Path, Secret, or a Literal[...] type
    choices: tuple[str, ...]  # a Literal's values, else ()
    default: Any


_DECLARED: dict[type, tuple[Declared, ...]] = {}


def _declared(cls: type) -> tuple[Declared, ...]:
    """The settings fields of a settings dataclass (nested dataclass fields excluded)."""
    if cls not in _DECLARED:
        hints = get_type_hints(cls)
        found = []
        for f in (f for f in fields(cls) if _SPEC in f.metadata):
            kind = hints[f.name]
            if get_origin(kind) in (Union, types.UnionType):  # X | None
                kind = next(arg for arg in get_args(kind) if arg is not type(None))
            choices = get_args(kind) if get_origin(kind) is Literal else ()
            found.append(Declared(f.name, f.metadata[_SPEC], kind, choices, f.default))
        _DECLARED[cls] = tuple(found)
    return _DECLARED[cls]


def _nested(cls: type) -> list[tuple[str, type]]:
    """The fields of a settings dataclass that are settings dataclasses themselves."""
    hints = get_type_hints(cls)
    return [(f.name, hints[f.name]) for f in fields(cls) if is_dataclass(hints[f.name])]


def _validate(obj: Any) -> None:
    """Bounds, choices, lengths and checks of every declared field (run on construction)."""
    for d in _declared(type(obj)):
        value, spec = getattr(obj, d.name), d.spec
        if value is None:
            continue
        if d.choices and value not in d.choices:
            raise SettingsError(f"{spec.env} must be one of {', '.join(d.choices)}, got {value!r}")
        if d.kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingsError(f"{spec.env} must be a finite number, got {value}")
            if spec.low is not None and value < spec.low:
                raise SettingsError(f"{spec.env} must be >= {spec.low:g}, got {value}")
            if spec.high is not None and value > spec.high:
                raise SettingsError(f"{spec.env} must be <= {spec.high:g}, got {value}")
        if spec.min_length is not None and len(value) < spec.min_length:
            raise SettingsError(f"{spec.env} must be at least {spec.min_length} characters")
        if spec.check is not None and (problem := spec.check(value)) is not None:
            shown = "***" if spec.secret else repr(str(value))
            raise SettingsError(f"{spec.env}={shown} {problem}")


def _parse(d: Declared, raw: str) -> Any:
    """One variable's text -> the field's type (validation happens on construction)."""
    if d.choices:  # case-insensitive; an unknown value is reported by _validate
        return next((c for c in d.choices if c.lower() == raw.lower()), raw)
    if d.kind in (int, float):
        try:
            return d.kind(raw)
        except ValueError:
            raise SettingsError(f"{d.spec.env} must be a {d.kind.__name__}, got {raw!r}") from None
    if d.kind in (str, Path, Secret):
        return d.kind(raw)
    raise TypeError(f"{d.spec.env}: no parser for {d.kind!r}")  # a declaration mistake


def _from_env(cls: type[T], env: Mapping[str, str]) -> T:
    values: dict[str, Any] = {name: _from_env(kind, env) for name, kind in _nested(cls)}
    for d in _declared(cls):
        raw = env.get(d.spec.env, "")
        if not raw.strip():  # empty or blank: unset
            raw = (d.spec.fallback() or "") if d.spec.fallback is not None else ""
        if raw.strip():
            values[d.name] = _parse(d, raw.strip() if d.spec.strip else raw)
    return cls(**values)


def _walk(obj: Any) -> Iterator[tuple[Declared, Any]]:
    """Every declared setting under ``obj`` with its value, nested settings first."""
    for name, _ in _nested(type(obj)):
        yield from _walk(getattr(obj, name))
    for d in _declared(type(obj)):
        yield d, getattr(obj, d.name)


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: str = setting(
        "KAFKA_BOOTSTRAP_SERVERS",
        DEFAULT_BOOTSTRAP,
        "Kafka bootstrap servers (host:port,...); when set, nothing starts a local broker",
        fallback=_local_bootstrap,
    )
    security_protocol: SecurityProtocol = setting(
        "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "how clients talk to the brokers"
    )
    sasl_mechanism: SaslMechanism = setting("KAFKA_SASL_MECHANISM", "PLAIN", "SASL mechanism")
    sasl_username: str | None = setting("KAFKA_SASL_USERNAME", None, "SASL user name")
    sasl_password: Secret | None = setting(
        "KAFKA_SASL_PASSWORD",
        None,
        "SASL password (never logged or printed)",
        secret=True,
        strip=False,
    )
    ssl_cafile: str | None = setting(
        "KAFKA_SSL_CAFILE", None, "CA bundle to trust (default: system CAs)", check=_readable_file
    )
    ssl_certfile: str | None = setting(
        "KAFKA_SSL_CERTFILE", None, "client certificate (mutual TLS)", check=_readable_file
    )
    ssl_keyfile: str | None = setting(
        "KAFKA_SSL_KEYFILE", None, "client certificate's key (mutual TLS)", check=_readable_file
    )

    def __post_init__(self) -> None:
        _validate(self)
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise SettingsError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME "
                "and KAFKA_SASL_PASSWORD"
            )

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
        if (context := self._ssl_context()) is not None:
            conf["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            conf["sasl_mechanism"] = self.sasl_mechanism
            conf["sasl_plain_username"] = self.sasl_username
            conf["sasl_plain_password"] = (
                self.sasl_password.reveal() if self.sasl_password else None
            )
        return conf

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.security_protocol.endswith("SSL"):
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def faust_broker_url(self) -> str:
        return ";".join(f"kafka://{host}" for host in self.bootstrap_servers.split(","))

    def faust_credentials(self) -> Any:
        """Faust credentials object, or None for PLAINTEXT."""
        import faust

        context = self._ssl_context()
        if self.security_protocol.startswith("SASL"):
            password = self.sasl_password.reveal() if self.sasl_password else ""
            extra = {} if self.sasl_mechanism == "PLAIN" else {"mechanism": self.sasl_mechanism}
            return faust.SASLCredentials(
                username=self.sasl_username, password=password, ssl_context=context, **extra
            )
        if context is not None:
            return faust.SSLCredentials(context)
        return None


@dataclass(frozen=True, slots=True)
class Topics:
    requests: str = setting("DG_TOPIC_REQUESTS", "llm.requests", "input topic (request.v1)")
    alerts: str = setting("DG_TOPIC_ALERTS", "distillguard.alerts", "alerts (alert.v1)")
    throttle: str = setting("DG_TOPIC_THROTTLE", "distillguard.throttle", "commands (throttle.v1)")
    deadletter: str = setting("DG_TOPIC_DEADLETTER", "distillguard.deadletter", "dead letters")
    control: str = setting("DG_TOPIC_CONTROL", "distillguard.control", "live policy (control.v1)")
    audit: str = setting("DG_TOPIC_AUDIT", "distillguard.audit", "policy changes (audit.v1)")

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True, slots=True)
class Settings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: Topics = field(default_factory=Topics)
    app_id: str = setting(
        "DG_APP_ID", "distillguard", "Faust app id: consumer group and prefix of internal topics"
    )
    partitions: int = setting(
        "DG_PARTITIONS", 8, "partitions of the input topic and every table", low=1
    )
    replication: int = setting("DG_REPLICATION", 1, "replication factor of created topics", low=1)
    standby_replicas: int = setting(
        "DG_STANDBY_REPLICAS",
        1,  # a single worker places none: Faust caps replicas at the other workers' count
        "standby copies of each table partition kept warm on other workers",
        low=0,
        high=3,
    )
    store: StoreUrl = setting("DG_STORE", "memory://", "table store (rocksdb:// in production)")
    data_dir: Path = setting("DG_DATA_DIR", Path(".local/worker"), "worker data folder (RocksDB)")
    web_host: str = setting("DG_WEB_HOST", "127.0.0.1", "HTTP API and operator page bind host")
    web_port: int = setting(
        "DG_WEB_PORT", 6066, "HTTP API and operator page bind port", low=0, high=65535
    )
    batch_max: int = setting("DG_BATCH_MAX", 500, "events per processing batch", low=1)
    batch_within_s: float = setting(
        "DG_BATCH_WITHIN_S", 0.2, "longest wait to fill a batch (seconds)", low=0.001
    )
    commit_interval_s: float = setting(
        "DG_COMMIT_INTERVAL_S", 2.8, "offset commit interval (seconds)", low=0.1
    )
    log_format: LogFormat | None = setting(
        "DG_LOG_FORMAT", None, "log format (unset: console in a terminal, else json)"
    )
    log_level: LogLevel = setting("DG_LOG_LEVEL", "INFO", "log level")
    api_token: Secret | None = setting(
        "DG_API_TOKEN", None, "bearer token for policy writes", secret=True, min_length=16
    )
    api_url: str = setting(
        "DG_API_URL", "http://127.0.0.1:6066", "the worker the CLI talks to", check=_http_url
    )
    failpoint: str | None = setting(
        "DG_FAILPOINT", None, "fault tests only: crash at point:n", check=parse_failpoint
    )

    def __post_init__(self) -> None:
        _validate(self)

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
        """Internal: link records re-keyed by link key (one message per key per batch)."""
        return f"{self.app_id}-links"

    @property
    def campaign_reports_topic(self) -> str:
        """Internal: hot link groups' reports to the campaign registry (one key)."""
        return f"{self.app_id}-campaign-reports"

    @property
    def campaigns_topic(self) -> str:
        """Internal, compacted: campaign risks and memberships, read by every worker."""
        return f"{self.app_id}-campaigns"

    def describe(self) -> str:
        """One line per variable, ``NAME=value  # description``; secrets show as ``***``."""
        shown = {
            d: "(unset)" if v is None else "***" if d.spec.secret else v for d, v in _walk(self)
        }
        width = max(len(d.spec.env) + len(str(v)) + 1 for d, v in shown.items())
        return "\n".join(
            f"{f'{d.spec.env}={v}':<{width}}  # {d.spec.help}" for d, v in shown.items()
        )


def declarations() -> list[Declared]:
    """Every environment variable ``load_settings`` reads, in declaration order."""
    return [d for d, _ in _walk(Settings())]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raises ``SettingsError`` naming the bad variable."""
    return _from_env(Settings, os.environ if env is None else env)
