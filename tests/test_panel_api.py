"""The panel's API: sentence splitting, editors' feedback and its labelled set, CORS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.embed import Embedder
from service.engine import embedding_info
from service.feedback import labelled_set
from service.settings import Settings
from service.store import EmbeddingInfo, FeedbackRecord, SqliteStore, open_store

CMS = "http://cms.test"
DRAFT = (
    "Xi visited Moscow in 2022. Yes.\n\n"
    "Leave a Reply\n"
    "Xi Jinping made a state visit to Moscow in March 2023."
)


def test_split_keeps_every_sentence_of_the_draft_with_offsets(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/split", json={"text": DRAFT})
    assert response.status_code == 200, response.text
    sentences = response.json()["sentences"]
    # Ingest would drop "Yes." (too short) and "Leave a Reply" (boilerplate); a draft keeps them.
    assert [s["text"] for s in sentences] == [
        "Xi visited Moscow in 2022.",
        "Yes.",
        "Leave a Reply",
        "Xi Jinping made a state visit to Moscow in March 2023.",
    ]
    for s in sentences:
        assert DRAFT[s["start"] : s["end"]] == s["text"]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x", "extra": 1}, {"text": 5}])
def test_bad_split_input_is_a_problem(client: TestClient, body: dict[str, Any]) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/split", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def _evidence(client: TestClient, statement: str) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    response = client.post("/v1/check", json={"statement": statement})
    assert response.status_code == 200, response.text
    evidence: list[dict[str, Any]] = response.json()["evidence"]
    assert evidence
    return evidence


@pytest.mark.both_stores
def test_feedback_is_stored_durably_and_becomes_a_labelled_set(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    settings: Settings,
    embedder: Embedder,
) -> None:
    statement = "Xi visited Moscow in 2022."
    with make_client(msgspec.structs.replace(settings, load_demo=True)) as c:
        first, second = _evidence(c, statement)[:2]
        votes = [
            (first, "accept", "desk-1"),
            (first, "reject", "desk-2"),
            (first, "accept", "desk-3"),
            (second, "accept", "desk-1"),
            (second, "reject", "desk-1"),  # desk-1 changed their mind: the latest counts
        ]
        for evidence, judgement, editor in votes:
            response = c.post(
                "/v1/feedback",
                json={
                    "statement": statement,
                    "claim_id": evidence["claim_id"],
                    "judgement": judgement,
                    "stance": evidence["stance"],
                    "editor_id": editor,
                    "comment": f"{editor} says {judgement}",
                },
            )
            assert response.status_code == 201, response.text
            stored = response.json()
            assert stored["document_id"] == evidence["document"]["id"]
            assert stored["evidence_text"] == evidence["text"]
            assert stored["id"] >= 1 and stored["created_at"]
        page = c.get("/v1/feedback", params={"limit": 2, "offset": 1}).json()
        assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
        assert [item["editor_id"] for item in page["items"]] == ["desk-1", "desk-3"]  # newest first

    # The app is shut down: the file alone must hold every judgement.
    store = open_store(settings.store, embedding_info(embedder))
    try:
        pairs = {p.claim_id: p for p in labelled_set(store)}
    finally:
        store.close()
    assert pairs[first["claim_id"]].label == "accept" and pairs[first["claim_id"]].votes == 2
    assert pairs[first["claim_id"]].stance == first["stance"]
    assert pairs[second["claim_id"]].label == "reject" and pairs[second["claim_id"]].votes == 1
    assert pairs[second["claim_id"]].evidence_text == second["text"]
    with make_client() as again:
        assert again.get("/v1/feedback").json()["total"] == 5


def test_feedback_on_an_unknown_claim_is_404(demo_client: TestClient) -> None:  # type: ignore[type-arg]
    response = demo_client.post(
        "/v1/feedback", json={"statement": "Xi", "claim_id": 999_999, "judgement": "accept"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "999999" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"statement": "Xi", "claim_id": 1, "judgement": "maybe"}, "judgement"),
        ({"statement": " ", "claim_id": 1, "judgement": "accept"}, "statement"),
        ({"statement": "Xi", "claim_id": 0, "judgement": "accept"}, "claim_id"),
        (
            {"statement": "Xi", "claim_id": 1, "judgement": "accept", "comment": "x" * 2001},
            "comment",
        ),
    ],
)
def test_bad_feedback_is_a_problem_naming_the_field(
    client: TestClient,  # type: ignore[type-arg]
    body: dict[str, Any],
    field: str,
) -> None:
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert client.get("/v1/feedback").json()["total"] == 0


def _record(claim_id: int, judgement: str, editor: str | None) -> FeedbackRecord:
    return FeedbackRecord(
        statement="Xi visited Moscow in 2022.",
        claim_id=claim_id,
        document_id="seed-000",
        evidence_text=f"claim {claim_id}",
        judgement=judgement,  # type: ignore[arg-type]
        editor_id=editor,
    )


def test_labelled_set_majority_ties_and_anonymous_votes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "f.db", EmbeddingInfo(model="unused", dimension=1))
    for record in [
        _record(1, "accept", "a"),
        _record(1, "reject", "b"),  # tie: left out
        _record(2, "reject", None),
        _record(2, "reject", None),  # anonymous judgements count one each
        _record(2, "accept", "a"),
        _record(3, "reject", "a"),
        _record(3, "accept", "a"),  # the same editor again: only the latest counts
    ]:
        store.add_feedback(record)
    pairs = sorted(labelled_set(store), key=lambda p: p.claim_id)
    store.close()
    assert [(p.claim_id, p.label, p.votes) for p in pairs] == [(2, "reject", 2), (3, "accept", 1)]
    assert msgspec.to_builtins(pairs[0])["evidence_text"] == "claim 2"


def test_cors_allows_the_configured_cms_only(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    with make_client(msgspec.structs.replace(settings, cors_origins=(CMS,))) as c:
        allowed = c.options("/v1/check", headers={"Origin": CMS, **preflight})
        assert allowed.status_code in (200, 204)
        assert allowed.headers["access-control-allow-origin"] == CMS
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = c.options("/v1/check", headers={"Origin": "http://evil.test", **preflight})
        assert other.headers.get("access-control-allow-origin") != "http://evil.test"
        split = c.post("/v1/split", json={"text": "One. Two."}, headers={"Origin": CMS})
        assert split.headers["access-control-allow-origin"] == CMS
        # The same origins, and no other, may frame the panel.
        policy = c.get("/panel/").headers["content-security-policy"]
        assert policy == f"frame-ancestors 'self' {CMS}"


def test_panel_and_embed_script_are_served(client: TestClient) -> None:  # type: ignore[type-arg]
    page = client.get("/panel/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="/panel/panel.js"' in page.text and "<label" in page.text
    for name in ("panel.js", "panel.css", "factcheck-embed.js"):
        response = client.get(f"/panel/{name}")
        assert response.status_code == 200, name
    assert "javascript" in client.get("/panel/factcheck-embed.js").headers["content-type"]
