"""The HTTP API fuzzed from its own OpenAPI document (schemathesis against one running worker
on the real broker): every operation but the endless SSE stream answers without a 5xx and as
docs/openapi.yaml says; policy writes without the token change nothing, writes with it leave
a valid policy; bodies over the limit, however sent, get 413 and change nothing; 500
concurrent reads are all answered; afterwards the worker is alive, with no traceback logged.
It also guards two races it found in the control path: a worker never shows an older policy
after accepting a change, and concurrent changes against one version have one winner.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jsonschema
import orjson
import pytest
import schemathesis
import yaml
from prometheus_client.parser import text_string_to_metric_families
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from models.policy import Policy
from streams.api.views import MAX_BODY_BYTES
from tests.integration.harness import REPO, Names, WorkerProcess, start_worker

TOKEN = "fuzz-token-0123456789abcdef"
SPEC_PATH = REPO / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
POLICY_SCHEMA = {**SPEC["components"]["schemas"]["Policy"], "components": SPEC["components"]}
# Fuzzing-phase cases per operation (positive and negative), on top of schemathesis's
# deterministic coverage cases; a fixed seed and derandomized Hypothesis: CI sends the same.
MAX_EXAMPLES = 30
SEED = 20_260_612
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
CONCURRENT = 500


@dataclass
class Fuzzed:
    """The worker under fuzz, and its policy as first read (bytes: the exact document)."""

    worker: WorkerProcess
    base: str
    policy: bytes = b""
    latest: Any = None  # the policy the last accepted change made (parsed)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path, data=body, method=method)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def write(self, body: bytes | Iterable[bytes], headers: dict[str, str]) -> tuple[int, Any]:
        """PATCH /policy with the token."""
        headers = {"Authorization": f"Bearer {TOKEN}", **headers}
        status, raw = self.call("PATCH", "/policy", body, headers)
        return status, orjson.loads(raw)

    def settled(self, expected: Any, timeout: float = 10.0) -> Any:
        """GET /policy once it is ``expected``, or the last answer after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            status, raw = self.call("GET", "/policy")
            assert status == 200, raw
            doc = orjson.loads(raw)
            if doc == expected or time.monotonic() > deadline:
                return doc
            time.sleep(0.05)


@pytest.fixture(scope="module")
def fuzzed(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    work = tmp_path_factory.mktemp("fuzz")
    worker = start_worker(kafka_bootstrap, Names(), work, DG_API_TOKEN=TOKEN)
    fuzzed = Fuzzed(worker, f"http://127.0.0.1:{worker.env['DG_WEB_PORT']}")
    deadline = time.monotonic() + 60
    while fuzzed.call("GET", "/ready")[0] != 200:
        assert time.monotonic() < deadline, "worker never became ready"
        time.sleep(0.5)
    status, fuzzed.policy = fuzzed.call("GET", "/policy")
    assert status == 200
    fuzzed.latest = orjson.loads(fuzzed.policy)
    yield fuzzed
    worker.stop()


# The SSE stream never ends (the operator-page test in test_control.py reads it). The base
# URL is the worker's, given per call: it has a free port, known only once it runs.
schema = schemathesis.openapi.from_path(
    SPEC_PATH,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "request-timeout": 10,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
        }
    ),
).exclude(path="/alerts/stream")


@schema.exclude(method="PATCH").parametrize()
def test_every_read_answers_as_documented(case: Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(base_url=fuzzed.base, checks=CHECKS)


@schema.include(method="PATCH").parametrize()
def test_writes_without_the_token_change_nothing(case: Case, fuzzed: Fuzzed) -> None:
    assert case.headers.get("Authorization") != f"Bearer {TOKEN}"
    response = case.call_and_validate(base_url=fuzzed.base, checks=CHECKS)
    # The coverage phase also tries other methods on /policy.
    assert response.status_code == (401 if case.method == "PATCH" else 405), response.text
    assert fuzzed.call("GET", "/policy") == (200, fuzzed.policy), "changed without the token"


@schema.include(method="PATCH").parametrize()
def test_writes_with_the_token_leave_a_valid_policy(case: Case, fuzzed: Fuzzed) -> None:
    """Positive cases are mostly valid changes (docs/openapi.yaml types every key), so the
    worker applies and publishes many; a refused one changes nothing."""
    token = {"Authorization": f"Bearer {TOKEN}"}
    response = case.call_and_validate(base_url=fuzzed.base, headers=token, checks=CHECKS)
    if response.status_code == 200:
        fuzzed.latest = response.json()
    doc = fuzzed.settled(fuzzed.latest)
    assert doc == fuzzed.latest, f"after a {response.status_code}"
    jsonschema.validate(doc, POLICY_SCHEMA)
    assert Policy.from_dict(doc).to_dict() == doc
    assert fuzzed.worker.alive()


def test_metrics_is_the_prometheus_text_format(fuzzed: Fuzzed) -> None:
    """Was a 500: aiohttp refuses prometheus-client's content type (it has a charset) as a
    ``content_type`` argument."""
    req = urllib.request.Request(fuzzed.base + "/metrics")
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 200
        assert res.headers["Content-Type"].startswith("text/plain; version=")
        text = res.read().decode()
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    policy = orjson.loads(fuzzed.call("GET", "/policy")[1])
    assert samples["distillguard_policy_version"] == policy["version"]
    assert "distillguard_events_processed_total" in samples


def chunked(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    """An iterable body: urllib sends it chunked, without a Content-Length."""
    return (body[i : i + size] for i in range(0, len(body), size))


@pytest.mark.parametrize("how", ["chunked", "gzip bomb"])
def test_a_body_over_the_limit_however_sent_gets_413(fuzzed: Fuzzed, how: str) -> None:
    """test_control.py sends one with a Content-Length; the limit holds without one (aiohttp
    counts as it reads) and on the decoded body (20 MB that is 20 kB on the wire)."""
    over = b'{"changes": {"shadow": true}, "reason": "' + b"x" * MAX_BODY_BYTES + b'"}'
    before = fuzzed.call("GET", "/policy")
    if how == "chunked":
        status, doc = fuzzed.write(chunked(over), {})
    else:
        status, doc = fuzzed.write(gzip.compress(over * 20), {"Content-Encoding": "gzip"})
    assert status == 413 and "body over" in doc["error"], (how, doc)
    assert fuzzed.call("GET", "/policy") == before


def test_a_body_that_does_not_decode_gets_400_not_500(fuzzed: Fuzzed) -> None:
    """Was a 500 and two tracebacks in the log: aiohttp raises reading a body whose
    Content-Encoding is wrong, and again draining it after the answer."""
    before = fuzzed.call("GET", "/policy")
    for encoding in ("gzip", "deflate"):
        body = b'{"changes": {"shadow": true}, "reason": "not compressed"}'
        status, doc = fuzzed.write(body, {"Content-Encoding": encoding})
        assert status == 400 and f"Content-Encoding: {encoding}" in doc["error"], doc
    assert fuzzed.call("GET", "/policy") == before


def test_concurrent_reads_are_all_answered(fuzzed: Fuzzed) -> None:
    paths = ["/stats", "/entities?type=account"] * (CONCURRENT // 2)

    def allowed(path: str) -> set[int]:
        documented = SPEC["paths"][path.split("?")[0]]["get"]["responses"]
        return {200} | ({429, 503} & {int(code) for code in documented})

    async def burst() -> list[tuple[str, int]]:
        # limit=0: one connection per request, all at once.
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def one(path: str) -> tuple[str, int]:
                async with session.get(fuzzed.base + path) as res:
                    await res.read()
                    return path, res.status

            return await asyncio.gather(*(one(path) for path in paths))

    started = time.monotonic()
    answers = asyncio.run(burst())
    elapsed = time.monotonic() - started
    assert len(answers) == CONCURRENT
    wrong = [(path, status) for path, status in answers if status not in allowed(path)]
    assert not wrong, wrong[:10]
    assert elapsed < 30, f"{CONCURRENT} concurrent reads took {elapsed:.1f} s"
    assert fuzzed.call("GET", "/health")[0] == 200


def test_an_accepted_change_is_never_followed_by_an_older_policy(fuzzed: Fuzzed) -> None:
    older = []
    for limit in range(20, 40):
        body = orjson.dumps({"changes": {"account.limit_rpm": limit}, "reason": "in a row"})
        status, doc = fuzzed.write(body, {})
        assert status == 200, doc
        for _ in range(5):
            seen = orjson.loads(fuzzed.call("GET", "/policy")[1])["version"]
            if seen < doc["version"]:
                older.append((doc["version"], seen))
    fuzzed.latest = fuzzed.settled(doc)  # for the test below
    assert not older, f"(accepted, then read) versions: {older}"


def test_concurrent_changes_against_one_version_have_one_winner(fuzzed: Fuzzed) -> None:
    version = fuzzed.settled(fuzzed.latest)["version"]
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def change(session: aiohttp.ClientSession, limit: int) -> int:
        body = {"changes": {"account.limit_rpm": limit}, "reason": "race"}
        body["expected_version"] = version
        async with session.patch(f"{fuzzed.base}/policy", json=body, headers=headers) as res:
            return res.status

    async def race() -> list[int]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            return await asyncio.gather(*(change(session, limit) for limit in range(100, 110)))

    assert sorted(asyncio.run(race())) == [200] + [409] * 9


def test_afterwards_the_worker_is_alive_without_a_traceback(fuzzed: Fuzzed) -> None:
    """Last in this file: after everything above."""
    assert fuzzed.worker.alive()
    assert fuzzed.call("GET", "/health")[0] == 200
    assert fuzzed.call("GET", "/ready")[0] == 200
    log = fuzzed.worker.log_path.read_text(errors="replace")
    for sign in ("Traceback", "Unhandled exception", "Error handling request"):
        assert sign not in log, f"{sign!r} in {fuzzed.worker.log_path}"
