"""Live control on a running worker and the real broker: policy changes through the HTTP API
change decisions within seconds, shadow mode stops commands, allow-listing releases, a
restarted worker keeps the policy, bad or unauthorised writes change nothing; the running
server answers as docs/openapi.yaml says; the operator page works in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import yaml

from models.policy import DEFAULT_POLICY, Policy
from streams.control.changes import policy_diff
from tests.integration.harness import (
    REPO,
    Names,
    consume_until,
    produce,
    request_message,
    start_worker,
)
from tests.traffic import benign_background, burst

TOKEN = "test-token-0123456789abcdef"
SPEC = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())


class Api:
    def __init__(self, port: str) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN
    ) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, orjson.loads(res.read())
        except urllib.error.HTTPError as err:
            return err.code, orjson.loads(err.read())

    def patch(self, changes: dict[str, Any], reason: str = "test", **kw: Any) -> Any:
        status, doc = self.call("PATCH", "/policy", {"changes": changes, "reason": reason}, **kw)
        assert status == 200, doc
        return doc


class Rig:
    """One worker (restartable with the same names) and helpers around it."""

    def __init__(self, bootstrap: str, work: Path) -> None:
        self.bootstrap, self.work, self.names = bootstrap, work, Names()
        self.start()

    def start(self) -> None:
        self.worker = start_worker(self.bootstrap, self.names, self.work, DG_API_TOKEN=TOKEN)
        self.api = Api(self.worker.env["DG_WEB_PORT"])
        deadline = time.monotonic() + 60
        while self.api.call("GET", "/ready")[0] != 200:
            assert time.monotonic() < deadline, "worker never became ready"
            time.sleep(0.5)

    def send(self, events: list[dict[str, Any]]) -> None:
        produce(self.bootstrap, self.names.topic("requests"), [request_message(e) for e in events])

    def read(self, topic: str, done: Any = None, timeout: float = 5.0) -> list[dict[str, Any]]:
        return consume_until(
            self.bootstrap, self.names.topic(topic), done or (lambda r: False), timeout
        )

    def commands_for(self, account: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        found = self.read("throttle", lambda r: any(c["entity_id"] == account for c in r), timeout)
        return [c for c in found if c["entity_id"] == account]


@pytest.fixture(scope="module")
def rig(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    rig = Rig(kafka_bootstrap, tmp_path_factory.mktemp("control"))
    # Warm the account population with benign traffic first.
    rig.send(benign_background(n_accounts=40, duration_s=3600))
    yield rig
    rig.worker.stop()


@pytest.fixture(autouse=True)
def fresh_policy(rig: Rig) -> None:
    """Every test starts from the default policy, whatever ran before it (one worker is
    shared for speed; its policy is the only state the tests change)."""
    current = Policy.from_dict(rig.api.call("GET", "/policy")[1])
    changes = {key: values["new"] for key, values in policy_diff(current, DEFAULT_POLICY).items()}
    if changes:
        rig.api.patch(changes, "test set-up: back to the default policy")


def test_writes_without_the_token_are_refused(rig: Rig) -> None:
    before = rig.api.call("GET", "/policy")[1]
    for token in (None, "wrong-token-wrong-token", "t\u00f6k\u00e9n-with-non-ascii-latin-1"):
        status, doc = rig.api.call("PATCH", "/policy", {"changes": {"shadow": True},
                                                        "reason": "x"}, token=token)  # fmt: skip
        assert status == 401 and "token" in doc["error"]
    assert rig.api.call("GET", "/policy")[1] == before


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not JSON"),
        ({"changes": {"account.throttel": 0.5}, "reason": "typo"}, "unknown policy key"),
        ({"changes": {"account.throttle": 2}, "reason": "range"}, "between 0 and 1"),
        ({"changes": {"account.alert": 0.9}, "reason": "order"}, "alert <= throttle"),
        ({"changes": {"shadow": True}}, "reason is required"),
        ({"changes": {"account.ttl_s": 2**63 - 1}, "reason": "overflow"}, "ttl_s must be between"),
        ({"changes": {"version": 999}, "reason": "forge"}, "version is not a setting"),
        (
            {
                "changes": {"allow": [{"entity_type": "user", "entity_id": "a", "reason": "x"}]},
                "reason": "bad list",
            },
            "entity_type must be one of",
        ),
    ],
)
def test_bad_changes_get_a_4xx_with_a_reason_and_change_nothing(
    rig: Rig, body: Any, says: str
) -> None:
    before = rig.api.call("GET", "/policy")[1]
    status, doc = rig.api.call("PATCH", "/policy", body)
    assert status == 400 and says in doc["error"], doc
    assert rig.api.call("GET", "/policy")[1] == before


def test_a_body_over_the_limit_gets_413_and_changes_nothing(rig: Rig) -> None:
    before = rig.api.call("GET", "/policy")[1]
    body = b'{"changes": {"shadow": true}, "reason": "' + b"x" * 1_100_000 + b'"}'
    status, doc = rig.api.call("PATCH", "/policy", body)
    assert status == 413 and "body over" in doc["error"], doc
    assert rig.api.call("GET", "/policy")[1] == before


def test_a_threshold_change_changes_decisions_within_seconds(rig: Rig) -> None:
    account = "harvester-threshold"
    rig.api.patch({"account.throttle": 1.0, "account.block": 1.0}, "observe first")
    rig.send(burst(account, start_s=3600, duration_s=1200, per_min=30))
    alerts = rig.read("alerts", lambda r: any(a["entity_id"] == account for a in r), 30)
    assert any(a["entity_id"] == account for a in alerts), "the burst was not even alerted"
    assert rig.commands_for(account, 3) == [], "throttled while throttle=1.0"
    changed = rig.api.patch({"account.throttle": 0.8, "account.block": 0.97}, "enforce")
    started = time.monotonic()
    rig.send(burst(account, start_s=4801, duration_s=300, per_min=30, seed=5))
    commands = rig.commands_for(account, 20)
    assert commands and commands[0]["policy_version"] == changed["version"]
    assert time.monotonic() - started < 20


def test_shadow_mode_alerts_but_sends_no_commands(rig: Rig) -> None:
    account = "harvester-shadow"
    rig.api.patch({"shadow": True}, "count mode")
    rig.send(burst(account, start_s=3600, duration_s=1200, per_min=30, seed=21))
    alerts = rig.read("alerts", lambda r: any(a["entity_id"] == account for a in r), 30)
    mine = [a for a in alerts if a["entity_id"] == account]
    assert mine and all(a["shadow"] for a in mine)
    assert rig.commands_for(account, 3) == []


def test_allow_listing_a_throttled_account_releases_it(rig: Rig) -> None:
    account = "harvester-allowed"
    rig.send(burst(account, start_s=3600, duration_s=1200, per_min=30, seed=31))
    assert rig.commands_for(account, 30), "precondition: the account is throttled"
    entry = {"entity_type": "account", "entity_id": account, "reason": "verified partner"}
    policy = rig.api.patch({"allow": [entry]}, "partner verified by T&S")

    def is_release(c: dict[str, Any]) -> bool:
        return c["entity_id"] == account and c["action"] == "release"

    found = rig.read("throttle", lambda r: any(is_release(c) for c in r), 10)
    released = [c for c in found if is_release(c)]
    assert released and released[0]["policy_version"] == policy["version"]
    assert "verified partner" in released[0]["reason"]
    audit = rig.read("audit", lambda r: any(a["new_version"] == policy["version"] for a in r))
    record = next(a for a in audit if a["new_version"] == policy["version"])
    assert record["reason"] == "partner verified by T&S" and record["actor"] == "api"
    assert record["changes"]["allow"]["new"][0]["entity_id"] == account


def test_a_restarted_worker_keeps_the_policy(rig: Rig) -> None:
    policy = rig.api.patch({"account.limit_rpm": 7}, "tighter throttles")
    rig.worker.stop()
    rig.start()
    assert rig.api.call("GET", "/policy")[1] == policy


def wait_for_alerted_account(rig: Rig, account: str) -> str:
    """An account this worker has alerted on (its recent-alert memory is per process), after
    a burst of ``account``'s own so that the test does not rely on an earlier one."""
    rig.send(burst(account, start_s=3600, duration_s=1200, per_min=30, seed=len(account)))
    deadline = time.monotonic() + 30
    while True:
        alerts = rig.api.call("GET", "/alerts/recent?limit=5&entity_type=account")[1]["alerts"]
        if alerts:
            return str(alerts[0]["entity_id"])
        assert time.monotonic() < deadline, "no account alert within 30 s"
        time.sleep(0.5)


def test_the_running_server_matches_the_openapi_document(rig: Rig) -> None:
    components = {"components": SPEC["components"]}

    def check(path: str, status: int, doc: Any) -> None:
        template = path.split("?")[0]
        if template.startswith("/entities/"):
            template = "/entities/{entity_type}/{entity_id}"
        method = "patch" if template == "/policy" and status != 200 else "get"
        content = SPEC["paths"][template][method]["responses"][str(status)]["content"]
        schema = {**content["application/json"]["schema"], **components}
        jsonschema.validate(doc, schema)

    rig.send(burst("harvester-api", start_s=3600, duration_s=1200, per_min=30, seed=51))
    some = wait_for_alerted_account(rig, "harvester-openapi")
    paths = [
        "/health", "/ready", "/policy", "/entities?type=account&limit=3",
        "/alerts/recent?limit=5&entity_type=account", f"/entities/account/{some}",
        "/entities/account/nobody", "/entities/planet/x", "/alerts/recent?limit=0",
    ]  # fmt: skip
    for path in paths:
        status, doc = rig.api.call("GET", path)
        check(path, status, doc)
    assert rig.api.call("GET", f"/entities/account/{some}")[1]["reasons"]
    status, doc = rig.api.call("PATCH", "/policy", {"changes": {"shadow": 1}, "reason": "x"})
    assert status == 400
    check("/policy", 400, doc)


def test_operator_page_in_headless_chromium(rig: Rig) -> None:
    """Debian's chromium (``make install`` / .ci/run install it); missing it is a failure."""
    from playwright.sync_api import sync_playwright

    assert shutil.which("chromium"), "chromium is not installed (apt-get install chromium)"

    wait_for_alerted_account(rig, "harvester-page")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.goto(rig.api.base + "/")
        page.wait_for_selector("#feed-status:text('(live)')", timeout=15_000)
        # The current policy is shown.
        assert '"version"' in page.inner_text("#policy")
        # The riskiest accounts list, and a drill-down into one shows its reasons.
        page.wait_for_selector("#top-account a.entity", timeout=15_000)
        page.click("#top-account a.entity")
        page.wait_for_selector("#detail-reasons li", timeout=10_000)
        assert "risk" in page.inner_text("#detail-title")
        # A live alert arrives through server-sent events.
        before = page.locator("#alerts tr").count()
        rig.send(burst("harvester-live", start_s=3600, duration_s=1200, per_min=30, seed=41))
        page.wait_for_selector("#alerts tr a[data-id='harvester-live']", timeout=30_000)
        assert page.locator("#alerts tr").count() > before
        # Editing the policy: refused without the token, applied with it.
        page.fill("#change-key", "account.limit_rpm")
        page.fill("#change-value", "9")
        page.fill("#change-reason", "from the operator page")
        page.click("#apply")
        page.wait_for_selector("#policy-status.error", timeout=10_000)
        assert "401" in page.inner_text("#policy-status")
        page.fill("#token", TOKEN)
        page.click("#apply")
        page.wait_for_selector("#policy-status.ok", timeout=10_000)
        assert rig.api.call("GET", "/policy")[1]["account"]["limit_rpm"] == 9
        assert '"limit_rpm": 9' in page.inner_text("#policy")
        browser.close()


def cli(rig: Rig, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {**rig.worker.env, "DG_API_URL": rig.api.base, "DG_API_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )  # fmt: skip


def test_the_cli_changes_the_policy_and_tails_alerts(rig: Rig) -> None:
    wait_for_alerted_account(rig, "harvester-cli")  # an alert for the tail to find
    done = cli(rig, "policy", "set", "account.limit_rpm=8", "--reason", "from the CLI")
    assert done.returncode == 0, done.stderr
    assert rig.api.call("GET", "/policy")[1]["account"]["limit_rpm"] == 8
    done = cli(rig, "policy", "deny", "org", "org_bad", "--reason", "chargebacks")
    assert done.returncode == 0, done.stderr
    assert rig.api.call("GET", "/policy")[1]["deny"][0]["entity_id"] == "org_bad"
    refused = cli(rig, "policy", "set", "account.throttle=7", "--reason", "typo")
    assert refused.returncode == 1 and "between 0 and 1" in refused.stdout
    env = {**rig.worker.env}
    tail = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "alerts", "tail", "--entity-type", "account",
         "--min-score", "0.5", "--from-beginning"],
        env=env, stdout=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert tail.stdout is not None
        line = tail.stdout.readline()  # piped: JSON lines
    finally:
        tail.terminate()
        tail.wait(10)
    alert = orjson.loads(line)
    assert alert["entity_type"] == "account" and alert["score"] >= 0.5
