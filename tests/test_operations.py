"""Production behaviour over Litestar's test client: keys, limits, CORS, health, metrics, ids."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.auth import parse_keys, parse_rate
from service.engine import Engine
from service.settings import Settings
from service.telemetry import JsonFormatter
from tests.conftest import wait_ready

READER, WRITER = "r-secret-123", "w-secret-456"
KEYS = f"cms:reader:{READER}, ingest:writer:sha256={hashlib.sha256(WRITER.encode()).hexdigest()}"
DOC = {"id": "d-1", "title": "Port", "text": "The port of Rotterdam closed on Tuesday."}
CMS = "https://cms.example.org"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def configured(
    make_client: Callable[..., TestClient], settings: Settings
) -> Callable[..., TestClient]:  # type: ignore[type-arg]
    """A ready client of an app built with the given settings overrides."""
    clients: list[TestClient] = []  # type: ignore[type-arg]

    def make(**overrides: Any) -> TestClient:  # type: ignore[type-arg]
        client = make_client(msgspec.structs.replace(settings, **overrides)).__enter__()
        clients.append(client)
        wait_ready(client)
        return client

    yield make  # type: ignore[misc]
    for client in clients:
        client.__exit__(None, None, None)


def is_problem(response: Any, status: int) -> bool:
    return bool(
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


# -- API keys -----------------------------------------------------------------------------


def test_without_keys_everything_is_open(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.post("/v1/documents", json=DOC).status_code == 201
    assert client.get("/v1/documents").status_code == 200
    assert client.delete("/v1/documents/d-1").status_code == 204


def test_keys_guard_everything_but_health_and_schema(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(api_keys=KEYS)
    for public in ("/health/live", "/health/ready", "/schema/openapi.json", "/schema/swagger"):
        assert client.get(public).status_code == 200, public
    for method, path in [
        ("GET", "/v1/documents"),
        ("GET", "/v1/documents/d-1"),
        ("POST", "/v1/check"),
        ("POST", "/v1/documents"),
        ("DELETE", "/v1/documents/d-1"),
        ("GET", "/metrics"),
    ]:
        for headers in ({}, bearer("wrong"), {"X-API-Key": "wrong"}, {"Authorization": READER}):
            response = client.request(method, path, headers=headers, json={})
            assert is_problem(response, 401), (method, path, headers, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
    schema = client.get("/schema/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"BearerAuth", "ApiKeyHeader"}


def test_reader_keys_read_and_writer_keys_write(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(api_keys=KEYS)
    reader, writer = bearer(READER), {"X-API-Key": WRITER}
    assert is_problem(client.post("/v1/documents", json=DOC, headers=reader), 403)
    assert client.post("/v1/documents", json=DOC, headers=writer).status_code == 201
    assert client.get("/v1/documents/d-1", headers=reader).status_code == 200
    assert client.get("/v1/documents/d-1", headers={"X-API-Key": READER}).status_code == 200
    check = client.post("/v1/check", json={"statement": "Rotterdam port closed"}, headers=reader)
    assert check.status_code == 200
    assert client.get("/metrics", headers=reader).status_code == 200
    claim_id = check.json()["evidence"][0]["claim_id"]
    judgement = {"statement": "Rotterdam port closed", "claim_id": claim_id, "judgement": "accept"}
    assert client.post("/v1/feedback", json=judgement, headers=reader).status_code == 201
    retract = client.post("/v1/documents/d-1/retract", json={}, headers=reader)
    assert is_problem(retract, 403)
    assert is_problem(client.delete("/v1/documents/d-1", headers=reader), 403)
    assert client.get("/v1/documents/d-1", headers=reader).status_code == 200  # still there
    assert client.delete("/v1/documents/d-1", headers=writer).status_code == 204


@pytest.mark.parametrize(
    "bad",
    ["nameonly", "a:admin:secret", "a:reader:", "a:reader:sha256=abc", "a:reader:x,a:writer:y"],
)
def test_bad_key_configuration_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_keys(bad)


@pytest.mark.parametrize(
    ("bad", "entry", "shown"),
    [
        ("desk:writer:fine, TOPSECRET-1", "entry 2", "one field, not shown"),
        ("TOPSECRET-1:admin:x", "entry 1", "***:***:***"),
        ("cms:reader:", "entry 1", "'cms':reader:***"),
        ("TOPSECRET-1:TOPSECRET-2", "entry 1", "***:***"),
    ],
)
def test_a_malformed_key_is_named_by_entry_and_never_echoed(
    bad: str, entry: str, shown: str
) -> None:
    with pytest.raises(ValueError) as error:
        parse_keys(bad, source="FACTCHECK_API_KEYS")
    message = str(error.value)
    assert message.startswith(f"FACTCHECK_API_KEYS: API key {entry} ") and shown in message
    assert "TOPSECRET" not in message and "fine" not in message


def test_key_file_and_comments(tmp_path: Any, configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    path = tmp_path / "keys"
    path.write_text(f"# newsroom keys\ncms:reader:{READER}  # the CMS plugin\n\n")
    client = configured(api_keys_file=str(path))
    assert client.get("/v1/documents", headers=bearer(READER)).status_code == 200
    assert client.get("/v1/documents").status_code == 401


# -- limits -------------------------------------------------------------------------------


def test_rate_limit_per_key_is_429_with_retry_after(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(api_keys=KEYS, rate_limit="3/minute")
    for _ in range(3):
        assert client.get("/v1/documents", headers=bearer(READER)).status_code == 200
    limited = client.get("/v1/documents", headers=bearer(READER))
    assert is_problem(limited, 429)
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert client.get("/v1/documents", headers=bearer(WRITER)).status_code == 200  # its own budget
    assert client.get("/health/ready").status_code == 200  # probes are never limited


def test_rate_limit_without_keys_counts_per_client(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(rate_limit="2/minute")
    assert [client.get("/v1/documents").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("bad", ["10", "0/minute", "ten/second", "5/fortnight"])
def test_bad_rate_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_statement_top_k_and_batch_limits_are_422(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(max_statement_chars=20, max_top_k=3, max_documents_per_request=2)
    long = client.post("/v1/check", json={"statement": "x " * 20})
    assert is_problem(long, 422) and long.json()["field"] == "statement"
    deep = client.post("/v1/check", json={"statement": "ok", "top_k": 4})
    assert is_problem(deep, 422) and deep.json()["field"] == "top_k"
    docs = [{**DOC, "id": f"d-{i}"} for i in range(3)]
    assert is_problem(client.post("/v1/documents", json=docs), 422)
    assert client.post("/v1/documents", json=docs[:2]).status_code == 201
    empty = client.post("/v1/documents", json=[])  # nothing to do: acknowledged, no change
    assert empty.status_code == 201 and empty.json()["documents"] == []


def test_body_size_limit_is_413_before_parsing(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(max_body_bytes=1_000)
    body = b'{"statement": "' + b"x" * 2_000 + b'"}'
    response = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    assert is_problem(response, 413)


# -- CORS ---------------------------------------------------------------------------------


def test_cors_preflight_and_exposed_headers(configured: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = configured(api_keys=KEYS, cors_origins=(CMS,))
    preflight = client.options(
        "/v1/check",
        headers={
            "Origin": CMS,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
        },
    )
    assert preflight.status_code == 204, preflight.text  # no key needed for a preflight
    assert preflight.headers["access-control-allow-origin"] == CMS
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-request-id"} <= set(allowed.split(", "))
    assert "POST" in preflight.headers["access-control-allow-methods"]

    actual = client.get("/v1/documents", headers={"Origin": CMS, **bearer(READER)})
    assert actual.headers["access-control-allow-origin"] == CMS
    assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()

    other = client.options(
        "/v1/check",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


# -- readiness ----------------------------------------------------------------------------


@pytest.fixture
def gated_factory(
    engine_factory: Callable[[Settings], Engine],
) -> Iterator[tuple[threading.Event, Callable[[Settings], Engine]]]:
    gate = threading.Event()

    def factory(settings: Settings) -> Engine:
        assert gate.wait(30), "the test never opened the gate"
        return engine_factory(settings)

    yield gate, factory
    gate.set()


def test_ready_only_after_models_load(
    settings: Settings, gated_factory: tuple[threading.Event, Callable[[Settings], Engine]]
) -> None:
    from service.app import create_app

    gate, factory = gated_factory
    slow_start = msgspec.structs.replace(settings, request_timeout_s=2.0)
    app = create_app(slow_start, engine_factory=factory)
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").json() == {"status": "starting"}
        assert client.get("/health/ready").status_code == 503
        waiting = client.post("/v1/check", json={"statement": "Rotterdam port"})
        assert is_problem(waiting, 503) and int(waiting.headers["retry-after"]) > 0
        gate.set()
        wait_ready(client)
        assert client.get("/health/ready").json()["status"] == "ready"
        assert client.post("/v1/check", json={"statement": "Rotterdam port"}).status_code == 200
        # the models' objects are out of the cyclic collector's walk while the app serves
        assert gc.get_freeze_count() > 100_000
    assert gc.get_freeze_count() == 0


def test_failed_start_fails_liveness(settings: Settings) -> None:
    from service.app import create_app

    def broken(_: Settings) -> Engine:
        raise OSError("no such model")

    with TestClient(create_app(settings, engine_factory=broken)) as client:
        deadline = time.monotonic() + 10
        while client.get("/health/live").status_code != 503 and time.monotonic() < deadline:
            time.sleep(0.02)
        live = client.get("/health/live").json()
        assert live["status"] == "failed" and "no such model" in live["detail"]
        assert client.get("/health/ready").status_code == 503
        assert is_problem(client.get("/v1/documents"), 503)


# -- metrics ------------------------------------------------------------------------------


def scrape(
    client: TestClient, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[type-arg]
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_after_traffic(client: TestClient) -> None:  # type: ignore[type-arg]
    before = scrape(client)
    check_ok = (
        "factcheck_requests_total",
        (("method", "POST"), ("route", "/v1/check"), ("status", "200")),
    )
    client.post("/v1/documents", json=[DOC, {**DOC, "id": "d-2"}])
    for _ in range(3):
        assert client.post("/v1/check", json={"statement": "Rotterdam port"}).status_code == 200
    client.get("/v1/documents/nope")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert after[check_ok] - before.get(check_ok, 0) == 3
    assert (
        delta(
            "factcheck_requests_total", method="GET", route="/v1/documents/{doc_id}", status="404"
        )
        == 1
    )
    assert (
        delta(
            "factcheck_request_duration_seconds_count",
            method="POST",
            route="/v1/check",
            status="200",
        )
        == 3
    )
    assert delta("factcheck_model_inference_seconds_count", model="embedding") >= 4  # ingest + 3
    assert delta("factcheck_model_inference_seconds_count", model="stance") == 3
    assert delta("factcheck_model_batch_size_sum", model="embedding") == 2 + 3  # claims + queries
    assert after[("factcheck_corpus_documents", ())] == 2
    assert after[("factcheck_corpus_claims", ())] == 2
    assert after[("factcheck_queue_depth", ())] == 0
    assert ("factcheck_requests_in_flight", ()) in after


# -- request ids and logs -----------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("factcheck")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_request_id_round_trip_and_in_every_log_line(
    configured: Callable[..., TestClient],
    json_log: io.StringIO,  # type: ignore[type-arg]
) -> None:
    client = configured(api_keys=KEYS)
    response = client.post(
        "/v1/documents", json=DOC, headers={"X-Request-ID": "cms-42", "X-API-Key": WRITER}
    )
    assert response.status_code == 201 and response.headers["x-request-id"] == "cms-42"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "cms-42"]
    assert {line["logger"] for line in mine} == {"factcheck.api", "factcheck.access"}
    access = next(line for line in mine if line["logger"] == "factcheck.access")
    assert (
        access["status"] == 201
        and access["api_key"] == "ingest"
        and access["route"] == "/v1/documents"
    )

    generated = client.get("/v1/documents").headers["x-request-id"]  # a 401, generated id
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert client.get("/nowhere").headers["x-request-id"]  # unrouted 404s get one too
    unsafe = client.get("/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
