"""``Idempotency-Key`` on ``POST /v1/documents``: real HTTP and the test client, both stores."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from service.settings import Settings
from tests.test_api import ARTICLE, OTHER

pytestmark = pytest.mark.both_stores

HEADER = "Idempotency-Key"


def post(client: TestClient, body: Any, key: str) -> httpx.Response:  # type: ignore[type-arg]
    return client.post("/v1/documents", json=body, headers={HEADER: key})


def assert_problem_naming_the_header(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == HEADER and HEADER in problem["detail"]


def test_ten_concurrent_requests_with_one_key_ingest_once(live_url: str) -> None:
    async def send_ten() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=120) as http:
            return await asyncio.gather(
                *(
                    http.post("/v1/documents", json=[ARTICLE, OTHER], headers={HEADER: "batch-7"})
                    for _ in range(10)
                )
            )

    responses = asyncio.run(send_ten())
    assert [r.status_code for r in responses] == [201] * 10
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    # A second ingest of the same documents would have answered "unchanged": every answer
    # is the one ingest's, replayed.
    assert [d["status"] for d in bodies[0]["documents"]] == ["created", "created"]
    with httpx.Client(base_url=live_url) as http:
        assert http.get("/v1/documents").json()["total"] == 2
        assert http.get("/v1/documents/port-1").json()["version"] == 1
        assert http.get("/v1/documents/port-1/versions").json() == []


def test_a_retry_replays_the_first_response(client: TestClient) -> None:  # type: ignore[type-arg]
    first = post(client, ARTICLE, "retry-1")
    # The same document, written another way (key order, a default spelled out): same body.
    again = post(client, {"layout": "article", **dict(reversed(ARTICLE.items()))}, "retry-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert first.status_code == 201 and first.json()["documents"][0]["status"] == "created"


def test_same_key_with_another_body_is_422(client: TestClient) -> None:  # type: ignore[type-arg]
    assert post(client, ARTICLE, "reused").status_code == 201
    assert_problem_naming_the_header(post(client, OTHER, "reused"))
    assert_problem_naming_the_header(post(client, [ARTICLE], "reused"))  # a list is another body
    assert client.get("/v1/documents/wheat-1").status_code == 404


def test_different_keys_with_one_body_are_each_served(client: TestClient) -> None:  # type: ignore[type-arg]
    first = post(client, ARTICLE, "key-a").json()
    second = post(client, ARTICLE, "key-b").json()
    assert first["documents"][0]["status"] == "created"
    assert second["documents"][0]["status"] == "unchanged"  # the content-derived no-op
    assert client.get("/v1/documents").json()["total"] == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "two words", "naïve"])
def test_bad_keys_are_422_naming_the_header(client: TestClient, key: str) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/documents", json=ARTICLE, headers=[(HEADER.encode(), key.encode())])
    assert_problem_naming_the_header(response)
    assert client.get("/v1/documents").json()["total"] == 0


def test_keys_belong_to_their_api_key(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    keyed = msgspec.structs.replace(settings, api_keys="desk:writer:s1,wire:writer:s2")
    with make_client(keyed) as client:
        desk, wire = ({"Authorization": f"Bearer {s}", HEADER: "shared"} for s in ("s1", "s2"))
        assert client.post("/v1/documents", json=ARTICLE, headers=desk).status_code == 201
        response = client.post("/v1/documents", json=OTHER, headers=wire)
        assert response.status_code == 201, response.text
        assert response.json()["documents"][0]["id"] == "wheat-1"


def test_keys_expire(make_client: Callable[..., TestClient], settings: Settings) -> None:  # type: ignore[type-arg]
    short = msgspec.structs.replace(settings, idempotency_ttl_s=0.01)
    with make_client(short) as client:
        assert post(client, ARTICLE, "daily").status_code == 201
        time.sleep(0.05)  # past the TTL: the key is free again
        response = post(client, OTHER, "daily")
        assert response.status_code == 201, response.text
