"""Settings: one declaration per variable, validated, documented in the README, secrets hidden."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from streams.settings import (
    DEFAULT_BOOTSTRAP,
    KafkaSettings,
    Secret,
    Settings,
    SettingsError,
    declarations,
    load_settings,
)

README = Path(__file__).resolve().parents[2] / "README.md"
SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_USERNAME": "u",
    "KAFKA_SASL_PASSWORD": "hunter2",
}
TOKEN = "t0ken-0123456789abcdef"


def test_settings_defaults_and_overrides() -> None:
    s = load_settings(
        {"KAFKA_BOOTSTRAP_SERVERS": "h:1", "DG_PARTITIONS": "3", "DG_TOPIC_ALERTS": "x"}
    )
    assert (s.kafka.bootstrap_servers, s.partitions, s.topics.alerts, s.topics.requests) == (
        "h:1",
        3,
        "x",
        "llm.requests",
    )
    assert s.kafka.confluent_config() == {
        "bootstrap.servers": "h:1",
        "security.protocol": "PLAINTEXT",
    }


def test_an_empty_environment_gives_the_declared_defaults() -> None:
    # The bootstrap default may come from a running local broker's file: pin it.
    assert load_settings({"KAFKA_BOOTSTRAP_SERVERS": DEFAULT_BOOTSTRAP}) == Settings()
    assert Settings().kafka.bootstrap_servers == DEFAULT_BOOTSTRAP
    blank = {d.spec.env: "  " for d in declarations() if d.spec.env != "KAFKA_BOOTSTRAP_SERVERS"}
    assert load_settings({**blank, "KAFKA_BOOTSTRAP_SERVERS": DEFAULT_BOOTSTRAP}) == Settings()


def test_every_type_is_parsed() -> None:
    s = load_settings(
        {
            "DG_PARTITIONS": "4",
            "DG_BATCH_WITHIN_S": "0.05",
            "DG_DATA_DIR": "/var/lib/dg",
            "DG_STORE": "RocksDB://",
            "DG_LOG_FORMAT": "JSON",
            "DG_LOG_LEVEL": "debug",
            "DG_API_TOKEN": f" {TOKEN} ",
            "KAFKA_SECURITY_PROTOCOL": "sasl_plaintext",
            "KAFKA_SASL_MECHANISM": "scram-sha-512",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": " pass word ",
        }
    )
    assert (s.partitions, s.batch_within_s, s.data_dir) == (4, 0.05, Path("/var/lib/dg"))
    # Closed choices are their canonical plain strings.
    assert s.store == "rocksdb://" and type(s.store) is str
    assert (s.log_format, s.log_level) == ("json", "DEBUG")
    assert s.kafka.security_protocol.startswith("SASL")
    assert s.kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert isinstance(s.api_token, Secret) and s.api_token.reveal() == TOKEN
    # Passwords are taken as given (spaces included); other values are stripped.
    assert s.kafka.sasl_password is not None and s.kafka.sasl_password.reveal() == " pass word "


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DG_PARTITIONS": "many"}, "DG_PARTITIONS must be a int, got 'many'"),
        ({"DG_PARTITIONS": "0"}, "DG_PARTITIONS must be >= 1, got 0"),
        ({"DG_REPLICATION": "0"}, "DG_REPLICATION must be >= 1, got 0"),
        ({"DG_WEB_PORT": "-1"}, "DG_WEB_PORT must be >= 0, got -1"),
        ({"DG_WEB_PORT": "70000"}, "DG_WEB_PORT must be <= 65535, got 70000"),
        ({"DG_BATCH_MAX": "0"}, "DG_BATCH_MAX must be >= 1"),
        ({"DG_BATCH_WITHIN_S": "0"}, "DG_BATCH_WITHIN_S must be >= 0.001, got 0.0"),
        ({"DG_BATCH_WITHIN_S": "soon"}, "DG_BATCH_WITHIN_S must be a float"),
        ({"DG_BATCH_WITHIN_S": "nan"}, "DG_BATCH_WITHIN_S must be a finite number"),
        ({"DG_COMMIT_INTERVAL_S": "inf"}, "DG_COMMIT_INTERVAL_S must be a finite number"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL must be one of"),
        ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM must be one of PLAIN, "),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"},
            "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT needs KAFKA_SASL_USERNAME and",
        ),
        ({"DG_STORE": "redis://"}, "DG_STORE must be one of memory://, rocksdb://, got 'redis://'"),
        ({"DG_LOG_FORMAT": "xml"}, "DG_LOG_FORMAT must be one of json, console"),
        ({"DG_LOG_LEVEL": "TRACE"}, "DG_LOG_LEVEL must be one of DEBUG, INFO"),
        ({"DG_API_TOKEN": "short"}, "DG_API_TOKEN must be at least 16 characters"),
        ({"DG_API_URL": "localhost:6066"}, "DG_API_URL='localhost:6066' is not an http"),
        ({"KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "KAFKA_SSL_CAFILE"),
        ({"KAFKA_SSL_KEYFILE": "/nonexistent/k"}, "KAFKA_SSL_KEYFILE='/nonexistent/k' is not a"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(words)):
        load_settings(env)


def test_short_token_message_does_not_show_the_token() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"DG_API_TOKEN": "hunter2hunter"})
    assert "hunter2" not in str(err.value)


def test_ssl_files_that_exist_are_passed_on(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not really a certificate")
    s = load_settings({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(ca)})
    assert s.kafka.confluent_config()["ssl.ca.location"] == str(ca)


def test_settings_built_in_code_obey_the_same_rules() -> None:
    with pytest.raises(SettingsError, match="DG_PARTITIONS must be >= 1, got 0"):
        Settings(partitions=0)
    with pytest.raises(SettingsError, match="DG_STORE must be one of"):
        Settings(store="redis://")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="needs KAFKA_SASL_USERNAME"):
        KafkaSettings(security_protocol="SASL_SSL")
    with pytest.raises(SettingsError, match="DG_WEB_PORT"):
        dataclasses.replace(Settings(), web_port=65536)


def test_internal_topics_follow_the_app_id() -> None:
    s = load_settings({"DG_APP_ID": "dg-x"})
    assert (s.asn_activity_topic, s.asn_risk_topic, s.links_topic) == (
        "dg-x-asn-activity",
        "dg-x-asn-risk",
        "dg-x-links",
    )
    assert (s.campaign_reports_topic, s.campaigns_topic) == (
        "dg-x-campaign-reports",
        "dg-x-campaigns",
    )


def test_load_settings_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_PARTITIONS", "5")
    assert load_settings().partitions == 5


def test_importing_the_module_reads_no_environment() -> None:
    code = (
        "import streams.settings as s\n"
        "try:\n"
        "    s.load_settings()\n"
        "except s.SettingsError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "DG_PARTITIONS": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "DG_PARTITIONS must be >= 1, got 0"


def test_declarations_are_complete_and_unique() -> None:
    names = [d.spec.env for d in declarations()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"(DG|KAFKA)_[A-Z0-9_]+", name) for name in names)
    assert all(d.spec.help.strip() and "\n" not in d.spec.help for d in declarations())
    secret = {d.spec.env for d in declarations() if d.spec.secret}
    assert secret == {"KAFKA_SASL_PASSWORD", "DG_API_TOKEN"}


def _readme_configuration_rows() -> dict[str, tuple[str, str]]:
    """Variable -> (meaning, default) cells of the README's configuration table."""
    text = README.read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or set(cells[0]) <= {"-", " "}:
            continue
        for name in re.findall(r"`((?:DG|KAFKA)_[A-Z0-9_]+)`", cells[0]):
            assert name not in rows, f"{name} appears twice in the README table"
            rows[name] = (cells[1], cells[2])
    return rows


def test_readme_configuration_table_matches_the_declarations() -> None:
    rows = _readme_configuration_rows()
    declared = {d.spec.env for d in declarations()}
    assert sorted(declared - rows.keys()) == [], "declared but missing from README"
    assert sorted(rows.keys() - declared) == [], "in the README table but not declared"
    for d in declarations():
        meaning, default = rows[d.spec.env]
        if d.default is not None:
            shown = f"{d.default:g}" if isinstance(d.default, float) else str(d.default)
            assert f"`{shown}`" in default, f"{d.spec.env}: README default cell lacks `{shown}`"
        for choice in d.choices:
            assert f"`{choice}`" in meaning, f"{d.spec.env}: README does not list `{choice}`"


def test_secrets_never_show() -> None:
    s = load_settings({**SASL, "DG_API_TOKEN": TOKEN})
    for text in (repr(s), str(s), s.describe(), repr(s.kafka), f"{s}", f"{s.kafka!s}"):
        assert "hunter2" not in text and TOKEN not in text
    assert "hunter2" not in f"{s.kafka.sasl_password}"
    assert "hunter2" not in str(s.kafka.sasl_password)
    assert repr(Secret("hunter2")) == "Secret('***')"
    # ...and still reach the clients that need them.
    assert s.kafka.confluent_config()["sasl.password"] == "hunter2"
    assert s.kafka.aiokafka_config()["sasl_plain_password"] == "hunter2"
    assert s.api_token is not None and s.api_token.reveal() == TOKEN


def test_describe_lists_every_variable_with_secrets_redacted() -> None:
    s = load_settings({**SASL, "DG_API_TOKEN": TOKEN, "DG_PARTITIONS": "3"})
    lines = s.describe().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [d.spec.env for d in declarations()]
    by_name = {line.split("=", 1)[0]: line for line in lines}
    assert by_name["KAFKA_SASL_PASSWORD"].startswith("KAFKA_SASL_PASSWORD=*** ")
    assert by_name["DG_API_TOKEN"].startswith("DG_API_TOKEN=*** ")
    assert by_name["DG_PARTITIONS"].startswith("DG_PARTITIONS=3 ")
    assert "# partitions of the input topic" in by_name["DG_PARTITIONS"]
    assert Settings().describe().count("(unset)") >= 2  # no password, no token
