"""The HTTP API over Litestar's test client, with the real models, on both stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

pytestmark = pytest.mark.both_stores

ARTICLE = {
    "id": "port-1",
    "title": "Storm closes Rotterdam port",
    "source": "harbour-news",
    "published_at": "2024-02-06",
    "url": "https://example.org/port",
    "text": (
        "Storm closes Rotterdam port\n\n"
        "The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.\n"
        "Officials said repairs would take at least a week.\n\n"
        "Leave a Reply\nGreat article!\n"
    ),
}
OTHER = {
    "id": "wheat-1",
    "title": "Wheat harvest",
    "source": "farm-daily",
    "published_at": "2023-08-01",
    "text": (
        "Farmers in Kansas reported a record wheat harvest this summer. Prices fell by ten percent."
    ),
}


def check(client: TestClient, statement: str, **extra: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    response = client.post("/v1/check", json={"statement": statement, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_ingest_get_list(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/documents", json=ARTICLE)
    assert response.status_code == 201, response.text
    result = response.json()["documents"][0]
    assert result == {**result, "id": "port-1", "status": "created", "version": 1, "claims": 3}
    assert any(d["reason"] == "end of article marker" for d in result["dropped"])

    doc = client.get("/v1/documents/port-1").json()
    assert doc["source"] == "harbour-news" and doc["status"] == "active"
    for claim in doc["claims"]:  # offsets: the slice of the original text is the claim
        assert ARTICLE["text"][claim["start"] : claim["end"]] == claim["text"]

    client.post("/v1/documents", json=[OTHER])
    page = client.get("/v1/documents", params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["id"] == "port-1"  # newest publication first


def test_id_derived_from_content_and_resend_is_unchanged(client: TestClient) -> None:  # type: ignore[type-arg]
    doc = {k: v for k, v in OTHER.items() if k != "id"}
    first = client.post("/v1/documents", json=doc).json()
    again = client.post("/v1/documents", json=doc).json()
    assert first["documents"][0]["id"].startswith("doc-")
    assert again["documents"][0] == {**first["documents"][0], "status": "unchanged", "dropped": []}
    assert again["index_version"] == first["index_version"]


def test_replace_is_atomic_and_keeps_the_old_version(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=ARTICLE)
    before = check(client, "Rotterdam port closed after storm damaged cranes")
    corrected = {
        **ARTICLE,
        "text": "The port of Rotterdam reopened on Wednesday after a brief closure.",
    }
    result = client.post("/v1/documents", json=corrected).json()
    assert result["documents"][0]["status"] == "replaced"
    assert result["index_version"] != before["index_version"]
    doc = client.get("/v1/documents/port-1").json()
    assert doc["status"] == "corrected" and doc["version"] == 2
    assert [c["text"] for c in doc["claims"]] == [corrected["text"]]
    versions = client.get("/v1/documents/port-1/versions").json()
    assert [v["version"] for v in versions] == [1] and "two cranes" in versions[0]["text"]
    after = check(client, "Rotterdam port closed after storm damaged cranes")
    assert all("cranes" not in e["text"] for e in after["evidence"])


def test_delete_never_comes_back(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    assert any(
        e["document"]["id"] == "port-1" for e in check(client, "Rotterdam port storm")["evidence"]
    )
    assert client.delete("/v1/documents/port-1").status_code == 204
    assert client.get("/v1/documents/port-1").status_code == 404
    assert client.delete("/v1/documents/port-1").status_code == 404
    evidence = check(client, "Rotterdam port storm cranes", top_k=50)["evidence"]
    assert evidence and all(e["document"]["id"] != "port-1" for e in evidence)


def test_retracted_documents_are_kept_but_never_evidence(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    response = client.post("/v1/documents/port-1/retract", json={"reason": "fabricated quotes"})
    assert response.status_code == 200 and response.json()["status"] == "retracted"
    assert client.get("/v1/documents/port-1").json()["retraction_reason"] == "fabricated quotes"
    evidence = check(client, "Rotterdam port storm cranes", top_k=50)["evidence"]
    assert all(e["document"]["id"] != "port-1" for e in evidence)


def test_retraction_is_reversible_and_never_undone_by_a_resend(client: TestClient) -> None:  # type: ignore[type-arg]
    def cited() -> bool:
        evidence = check(client, "Rotterdam port storm cranes", top_k=50)["evidence"]
        return any(e["document"]["id"] == "port-1" for e in evidence)

    client.post("/v1/documents", json=[ARTICLE, OTHER])
    client.post("/v1/documents/port-1/retract", json={"reason": "fabricated quotes"})
    # The same content again: not "unchanged", and still retracted.
    again = client.post("/v1/documents", json=ARTICLE).json()["documents"][0]
    assert (again["status"], again["retracted"]) == ("retracted", True)
    # New content: a new version, still retracted with its reason.
    corrected = {**ARTICLE, "text": ARTICLE["text"].replace("two cranes", "three cranes")}
    replaced = client.post("/v1/documents", json=corrected).json()["documents"][0]
    assert (replaced["status"], replaced["retracted"], replaced["version"]) == ("replaced", True, 2)
    doc = client.get("/v1/documents/port-1").json()
    assert (doc["status"], doc["retraction_reason"]) == ("retracted", "fabricated quotes")
    assert not cited()

    response = client.post("/v1/documents/port-1/unretract")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["retraction_reason"], body["version"]) == ("corrected", None, 2)
    assert cited()
    # Unretracting again changes nothing; an unknown id is a 404.
    assert client.post("/v1/documents/port-1/unretract").json()["status"] == "corrected"
    assert client.post("/v1/documents/nope/unretract").status_code == 404
    first = client.post("/v1/documents/wheat-1/retract", json={}).json()
    assert first["status"] == "retracted"
    assert client.post("/v1/documents/wheat-1/unretract").json()["status"] == "active"
    assert client.post("/v1/documents", json=OTHER).json()["documents"][0]["status"] == "unchanged"


ODD_IDS = ["news/2024/05/budget-vote", "budget vote 2024", "Ünïcode/日本語 ?#%&+", "a/b/versions"]


@pytest.mark.parametrize("doc_id", ODD_IDS)
def test_ids_with_slashes_spaces_and_any_script(client: TestClient, doc_id: str) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/documents", json={**ARTICLE, "id": doc_id})
    assert response.status_code == 201, response.text
    assert response.json()["documents"][0]["id"] == doc_id
    path = f"/v1/documents/{quote(doc_id, safe='')}"
    assert "/" not in path.removeprefix("/v1/documents/")  # one segment, %2F inside
    doc = client.get(path).json()
    assert doc["id"] == doc_id and doc["claims"]
    client.post("/v1/documents", json={**ARTICLE, "id": doc_id, "text": OTHER["text"]})
    assert [v["version"] for v in client.get(f"{path}/versions").json()] == [1]
    assert client.post(f"{path}/retract", json={}).json()["status"] == "retracted"
    assert client.post(f"{path}/unretract").json()["status"] == "corrected"
    evidence = check(client, "record wheat harvest in Kansas")["evidence"]
    assert evidence[0]["document"]["id"] == doc_id
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert doc_id in client.get(path).json()["detail"]
    # The same id unencoded is another path: its slashes are path separators.
    if "/" in doc_id:
        assert client.get(f"/v1/documents/{doc_id}").status_code in (404, 405)


PAGE = """<!doctype html><html lang="en"><head>
<title>Storm closes Rotterdam port | Harbour News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-02-06T08:00:00Z">
<link rel="canonical" href="https://example.org/port"></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/login">Log in</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept all cookies</div>
<article><h1>Storm closes Rotterdam port</h1><p class="byline">By Jane Doe</p>
<p>The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.
Officials said repairs would take at least a week.</p>
<p>Shipping companies diverted vessels to Antwerp and Hamburg while engineers inspected
the quays, the port authority said in a statement.</p></article>
<aside><h3>Related stories</h3><ul><li><a href="/a">Wheat harvest hits record</a></li></ul>
</aside><footer>© 2024 Harbour News. All rights reserved.</footer></body></html>"""


def test_html_documents_are_extracted_with_their_metadata(client: TestClient) -> None:  # type: ignore[type-arg]
    sent = {"id": "page-1", "format": "html", "text": PAGE, "source": "harbour-news"}
    result = client.post("/v1/documents", json=sent)
    assert result.status_code == 201, result.text
    doc = client.get("/v1/documents/page-1").json()
    assert (doc["title"], doc["published_at"], doc["url"]) == (
        "Storm closes Rotterdam port",
        "2024-02-06",
        "https://example.org/port",
    )
    assert doc["metadata"] == {"author": "Jane Doe"} and doc["source"] == "harbour-news"
    for furniture in ("<", "cookies", "Log in", "By Jane Doe", "Related stories", "©"):
        assert furniture not in doc["text"]
    texts = [c["text"] for c in doc["claims"]]
    assert any("two cranes" in t for t in texts) and any("Antwerp" in t for t in texts)
    for claim in doc["claims"]:  # offsets point into the stored, extracted text
        assert doc["text"][claim["start"] : claim["end"]] == claim["text"]
    again = client.post("/v1/documents", json=sent).json()["documents"][0]
    assert again["status"] == "unchanged"  # the same page again changes nothing
    # The request's own fields win over the page's.
    client.post("/v1/documents", json={**sent, "id": "page-2", "title": "Port shut"})
    assert client.get("/v1/documents/page-2").json()["title"] == "Port shut"
    evidence = check(client, "A storm damaged cranes in Rotterdam")["evidence"]
    assert evidence[0]["document"]["id"] in {"page-1", "page-2"}


def test_html_without_an_article_is_a_document_without_claims(client: TestClient) -> None:  # type: ignore[type-arg]
    page = {"id": "empty", "format": "html", "text": "<html><head><title>Hi</title></head></html>"}
    response = client.post("/v1/documents", json=[page, OTHER])
    assert response.status_code == 201, response.text
    result = response.json()["documents"][0]
    assert (result["status"], result["claims"]) == ("created", 0)
    assert [d["reason"] for d in result["dropped"]] == ["no article text in the HTML"]
    assert client.get("/v1/documents/empty").json()["text"] == ""


def test_languages_are_detected_stored_and_reported(client: TestClient) -> None:  # type: ignore[type-arg]
    german = {
        "id": "de-1",
        "title": "Sturm schließt Rotterdamer Hafen",
        "text": "Der Hafen von Rotterdam wurde am Dienstag geschlossen, nachdem ein Sturm "
        "zwei Kräne beschädigt hatte. Die Reparaturen dauern mindestens eine Woche.",
    }
    client.post("/v1/documents", json=[ARTICLE, german, {**OTHER, "language": "en"}])
    assert client.get("/v1/documents/de-1").json()["language"] == "de"
    assert client.get("/v1/documents/port-1").json()["language"] == "en"
    body = check(client, "Der Hafen von Rotterdam wurde geschlossen", top_k=5)
    assert body["language"] == "de"
    languages = {e["document"]["id"]: e["document"]["language"] for e in body["evidence"]}
    assert languages["de-1"] == "de" and languages["port-1"] == "en"
    assert check(client, "Putin met Xi")["language"] == "en"  # short English stays English


def test_filters(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    statement = "Rotterdam port closed and wheat harvest record"
    by_source = check(client, statement, sources=["farm-daily"], top_k=10)["evidence"]
    assert by_source and {e["document"]["source"] for e in by_source} == {"farm-daily"}
    by_id = check(client, statement, document_ids=["port-1"], top_k=10)["evidence"]
    assert by_id and {e["document"]["id"] for e in by_id} == {"port-1"}
    after = check(client, statement, published_after="2024-01-01", top_k=10)["evidence"]
    assert after and {e["document"]["id"] for e in after} == {"port-1"}
    before = check(client, statement, published_before="2023-12-31T23:00:00Z", top_k=10)["evidence"]
    assert before and {e["document"]["id"] for e in before} == {"wheat-1"}


def test_check_response_shape(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    body = check(client, "A storm damaged cranes in the port of Rotterdam", top_k=2)
    assert body["verdict"] in {"supported", "refuted", "conflicting", "not_enough_info"}
    assert 0.0 <= body["confidence"] <= 1.0
    assert len(body["evidence"]) == 2
    top = body["evidence"][0]
    assert "cranes" in top["text"] and top["document"]["url"] == "https://example.org/port"
    assert top["similarity"] > 0.5
    probs = top["probabilities"]
    assert probs["supports"] + probs["neutral"] + probs["contradicts"] == pytest.approx(1, abs=1e-3)
    assert top["stance"] == max(probs, key=probs.get)
    # Off-topic passages count for nothing in the verdict, so the model never judges them.
    evidence = check(client, "A storm damaged cranes in the port of Rotterdam", top_k=10)[
        "evidence"
    ]
    off_topic = [e for e in evidence if e["similarity"] < 0.30]
    assert off_topic and len(off_topic) < len(evidence)
    for e in evidence:
        assert (e["probabilities"] is None) == (e in off_topic)
    assert {e["stance"] for e in off_topic} == {"neutral"}
    assert body["models"] == {  # names, never the server's paths
        "embedding": "sentence-transformers/all-MiniLM-L6-v2",
        "stance": "factcheck-nli-minilm-l6-v2",
    }
    assert body["language"] == "en"
    assert set(body["timings"]) == {"embed_ms", "retrieve_ms", "judge_ms", "total_ms", "batch_size"}


def test_evidence_lists_the_statements_details_it_does_not_state(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=[ARTICLE])
    port = "The port of Rotterdam was closed on Tuesday after a storm damaged two cranes."

    def passage(statement: str) -> dict[str, Any]:
        evidence = check(client, statement, top_k=3)["evidence"]
        return next(e for e in evidence if e["text"] == port)

    # "on Tuesday" of a story published on 6 February 2024 is 6 February
    assert passage("A storm shut the port of Rotterdam on February 6, 2024.")["missing"] == []
    assert passage("A storm shut the port of Antwerp on February 6, 2024.")["missing"] == [
        {"kind": "name", "text": "Antwerp"}
    ]
    assert passage("A storm damaged five cranes in the port of Rotterdam.")["missing"] == [
        {"kind": "number", "text": "five cranes"}
    ]


def test_data_survives_a_new_app_instance(make_client: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    with make_client() as first:
        first.post("/v1/documents", json=ARTICLE)
        version = check(first, "Rotterdam port storm")["index_version"]
    with make_client() as second:
        body = check(second, "Rotterdam port storm")
        assert body["index_version"] == version
        assert body["evidence"][0]["document"]["id"] == "port-1"


def test_openapi_and_health(client: TestClient) -> None:  # type: ignore[type-arg]
    schema = client.get("/schema/openapi.json").json()
    assert "/v1/check" in schema["paths"] and "/v1/documents" in schema["paths"]
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json()["status"] == "ready"


BAD_CHECKS = [
    ({"statement": ""}, "statement"),
    ({"statement": "   "}, "statement"),
    ({"statement": "x" * 100_000}, "statement"),
    ({"statement": "ok", "top_k": 0}, "top_k"),
    ({"statement": "ok", "top_k": 10_000}, "top_k"),
    ({"statement": "ok", "top_k": "five"}, "top_k"),
    ({"statement": 42}, "statement"),
    ({"statement": "ok", "colour": "red"}, "colour"),
    ({"statement": "ok", "published_after": "2023-02-30"}, "published_after"),
    ({"statement": "ok", "as_of": "yesterday"}, "as_of"),
    ({}, "statement"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CHECKS)
def test_bad_check_input_is_a_problem_naming_the_field(
    client: TestClient,
    body: dict[str, Any],
    field: str,  # type: ignore[type-arg]
) -> None:
    response = client.post("/v1/check", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"statement": "unterminated', None),
        (b"[1, 2, 3]", None),
        (b'{"text": "x", "published_at": "not a date"}', "published_at"),
        (b'{"text": ""}', "text"),
        (b'{"text": "A sentence here.", "id": "bad\\u0007id"}', "id"),
        (b'{"text": "A sentence here.", "id": "line\\nbreak"}', "id"),
        (b'{"text": "A sentence here.", "id": "   "}', "id"),
        (b'{"text": "A sentence here.", "id": "' + b"x" * 513 + b'"}', "id"),
        (b'{"text": "A sentence here.", "extra": 1}', "extra"),
    ],
)
def test_bad_documents_are_problems(client: TestClient, raw: bytes, field: str | None) -> None:  # type: ignore[type-arg]
    url = "/v1/check" if b"statement" in raw else "/v1/documents"
    response = client.post(url, content=raw, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in response.json()["detail"]


def test_bad_input_never_loses_accepted_data(client: TestClient) -> None:  # type: ignore[type-arg]
    client.post("/v1/documents", json=ARTICLE)
    bad = client.post("/v1/documents", json=[OTHER, {"text": "x", "published_at": "soon"}])
    assert bad.status_code == 400
    assert client.get("/v1/documents/port-1").status_code == 200
    assert client.get("/v1/documents/wheat-1").status_code == 404  # the batch is rejected whole


def test_oversized_body_is_413(make_client: Callable[..., TestClient], settings: Any) -> None:  # type: ignore[type-arg]
    import msgspec

    small = msgspec.structs.replace(settings, max_body_bytes=10_000)
    with make_client(small) as c:
        response = c.post("/v1/documents", json={"text": "word " * 5_000})
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_document_is_404_problem(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/v1/documents/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "nope" in response.json()["detail"]


def test_two_instances_share_one_store(make_client: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    """Two replicas on one store: what one writes, the other serves; a delete is never stale."""
    with make_client() as first, make_client() as second:
        assert first.post("/v1/documents", json=[ARTICLE, OTHER]).status_code == 201
        body = check(second, "Rotterdam port closed after a storm", top_k=5)
        assert body["evidence"][0]["document"]["id"] == "port-1"
        assert body["index_version"] == first.get("/health/ready").json()["index_version"]
        assert second.get("/v1/documents/port-1").json()["claims"]

        assert first.delete("/v1/documents/port-1").status_code == 204
        evidence = check(second, "Rotterdam port storm cranes", top_k=50)["evidence"]
        assert evidence and all(e["document"]["id"] != "port-1" for e in evidence)
        assert second.get("/v1/documents/port-1").status_code == 404

        assert second.post("/v1/documents/wheat-1/retract", json={"reason": "x"}).status_code == 200
        assert check(first, "record wheat harvest in Kansas", top_k=50)["evidence"] == []
