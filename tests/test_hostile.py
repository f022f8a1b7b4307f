"""Hostile input over HTTP: every malformed body is a clean 4xx, never a 500 or a dead stream.

Real models, the real SQLite store, Litestar's test client (and a live uvicorn for the
stream, where a line nested thousands deep used to end the response mid-way).
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from tests.test_api import ARTICLE

Client = TestClient  # type: ignore[type-arg]
JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
STORM = "A storm damaged cranes in the port of Rotterdam"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def is_problem(response: httpx.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


ROUTES: list[tuple[str, Any]] = [
    ("/v1/check", lambda deep: b'{"statement": "x", "document_ids": ' + deep + b"}"),
    ("/v1/check/batch", lambda deep: b'{"items": [' + deep + b"]}"),
    ("/v1/documents", lambda deep: b'{"text": "A sentence.", "metadata": {"a": ' + deep + b"}}"),
    ("/v1/split", lambda deep: b'{"text": ' + deep + b"}"),
    ("/v1/feedback", lambda deep: b'{"statement": ' + deep + b"}"),
    ("/v1/documents/x/retract", lambda deep: b'{"reason": ' + deep + b"}"),
]


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=[r[0] for r in ROUTES])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400_on_every_route(
    client: Client, path: str, body: Any, depth: int
) -> None:
    response = client.post(path, content=body(nested(depth)), headers=JSON)
    assert is_problem(response, 400), response.text
    assert "nested" in response.json()["detail"]


def test_a_deeply_nested_stream_line_is_an_error_line_and_the_stream_goes_on(
    live_url: str,
) -> None:
    httpx.post(f"{live_url}/v1/documents", json=ARTICLE, timeout=60).raise_for_status()
    deep = b'{"statement": ' + nested(3_000) + b"}"  # about 6 KB
    body = b"\n".join([deep, msgspec.json.encode({"id": "ok", "statement": STORM})]) + b"\n"
    with httpx.Client(timeout=60) as http:
        response = http.post(f"{live_url}/v1/check/stream", content=body, headers=NDJSON)
    lines = [msgspec.json.decode(line) for line in response.content.splitlines()]
    assert len(lines) == 2, response.content[-500:]
    assert lines[0]["error"]["status"] == 400 and "nested" in lines[0]["error"]["detail"]
    assert lines[1]["id"] == "ok" and lines[1]["result"]["statement"] == STORM


def test_invalid_utf8_is_400(client: Client) -> None:
    bad = b'{"statement": "caf\xe9 \xff\xfe"}'
    assert is_problem(client.post("/v1/check", content=bad, headers=JSON), 400)
    doc = b'{"text": "caf\xe9 au lait"}'
    assert is_problem(client.post("/v1/documents", content=doc, headers=JSON), 400)
    stream = client.post("/v1/check/stream", content=bad + b"\n", headers=NDJSON)
    assert stream.status_code == 200
    assert msgspec.json.decode(stream.content.splitlines()[0])["error"]["status"] == 400


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_json_routes_accept_only_json(client: Client, content_type: str | None) -> None:
    """A cross-site form or text/plain POST (no CORS preflight) never reaches a handler."""
    headers = {"content-type": content_type} if content_type else {}
    body = msgspec.json.encode({"id": "csrf", "text": "Planted by a cross-site form."})
    response = client.post("/v1/documents", content=body, headers=headers)
    assert is_problem(response, 415), response.text
    assert client.get("/v1/documents/csrf").status_code == 404
    check = msgspec.json.encode({"statement": STORM})
    assert is_problem(client.post("/v1/check", content=check, headers=headers), 415)
    stream = client.post("/v1/check/stream", content=check, headers=headers)
    assert is_problem(stream, 415)
    empty = client.post("/v1/check/stream", headers=headers)  # no body: nothing to misread
    assert empty.status_code == 200 and empty.content == b""
    ok = client.post("/v1/check", content=check, headers={"content-type": "application/json"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "doc",
    [
        {"id": "wire-17\n", "text": "A sentence."},
        {"text": "A sentence.", "language": "en\n"},
        {"text": "A sentence.", "published_at": "2023-03-17\n"},
        {"text": "A sentence.", "url": "javascript:alert(document.domain)"},
        {"text": "A sentence.", "url": "data:text/html,<script>alert(1)</script>"},
        {"text": "A sentence.", "url": "https://example.org/a\n"},
        {"text": "\u00a0\u3000\u200b\n"},
    ],
)
def test_fields_are_anchored_and_urls_are_web_links(client: Client, doc: dict[str, Any]) -> None:
    response = client.post("/v1/documents", json=doc)
    assert response.status_code == 400, response.text
    assert client.get("/v1/documents", params={"limit": 10}).json()["total"] == 0


def test_http_urls_are_still_accepted(client: Client) -> None:
    doc = {"id": "u", "text": "A sentence here.", "url": "HTTPS://example.org/a?b=c#d"}
    assert client.post("/v1/documents", json=doc).status_code == 201


@pytest.mark.parametrize("blank", ["\u00a0", "\u3000", "\u200b", "\u2028", "\ufeff", " \u00a0\t"])
def test_unicode_white_space_is_a_blank_statement(client: Client, blank: str) -> None:
    assert is_problem(client.post("/v1/check", json={"statement": blank * 3}), 400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/check", {"statement": STORM, "top_k": "5"}),
        ("/v1/check", {"statement": STORM, "top_k": True}),
        ("/v1/feedback", {"statement": STORM, "claim_id": "1", "judgement": "accept"}),
        ("/v1/documents", {"text": "A sentence.", "layout": 1}),
    ],
)
def test_integers_are_strict(client: Client, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    assert is_problem(response, 400), response.text


def test_integral_floats_are_integers_as_in_json_schema(client: Client) -> None:
    assert client.post("/v1/check", json={"statement": STORM, "top_k": 5.0}).status_code == 200


def test_a_strict_batch_item_is_an_item_error(client: Client) -> None:
    response = client.post("/v1/check/batch", json={"items": [{"statement": "x", "top_k": "5"}]})
    assert response.status_code == 200
    assert response.json()["results"][0]["error"]["field"] == "top_k"


@pytest.mark.parametrize("path", ["/panel/%00", "/panel/a%00.js", "/panel/%00/..%2f"])
def test_nul_in_a_panel_path_is_4xx(client: Client, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
