"""Annotations made at ingest, stored with each claim (both stores) and read by a check.

Real spaCy, a real SQLite file and a real PostgreSQL server; the end-to-end cases go
through the app served by uvicorn over HTTP with the real models.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from concurrent.futures import CancelledError
from pathlib import Path

import httpx
import numpy as np
import pytest

from service.ingest import reannotate
from service.judge.annotate import ANNOTATION_VERSION, annotate, annotate_many, decode, encode
from service.settings import Settings
from service.store import EmbeddingInfo, open_store

from .test_store import document, unit

INFO = EmbeddingInfo(model="test/model-a", dimension=8)
SENTENCES = [
    "Mayor Ana Ruiz proposed the plan on Monday.",
    "Flu hospitalisations rose 38% last week, health officials said.",
]


@pytest.mark.both_stores
def test_claims_keep_their_annotation_and_reindex_rebuilds_the_missing(
    store_location: str,
) -> None:
    store = open_store(store_location, INFO)
    try:
        rng = np.random.default_rng(0)
        doc, claims = document("annotated", SENTENCES, published="2024-03-05")
        made = [annotate(c.text, doc.published_date) for c in claims]
        store.put_document(doc, claims, unit(rng, 2), [encode(a) for a in made], ANNOTATION_VERSION)
        bare, bare_claims = document("bare", ["Kiptum won the marathon on Sunday."])
        store.put_document(bare, bare_claims, unit(rng, 1))  # as stored before annotations

        fetched = store.fetch([c.id for c in store.claims_of("annotated")])
        stored = sorted(fetched.values(), key=lambda row: row[0].seq)
        assert [decode(c.annotation or b"") for c, _, _ in stored] == made
        # times were resolved against the document's date (Tuesday 5 March) at ingest
        assert made[1].times[0].interval.start == dt.date(2024, 2, 26)  # "last week"

        stale = store.stale_annotations(ANNOTATION_VERSION, 10)
        assert [(c.text, c.published_date) for c in stale] == [
            ("Kiptum won the marathon on Sunday.", dt.date(2024, 1, 1))
        ]
        version = store.index_version()
        assert reannotate(store) == 1
        assert store.stale_annotations(ANNOTATION_VERSION, 10) == []
        assert store.index_version() == version  # search is unaffected
        (claim, _, _) = store.fetch([stale[0].id])[stale[0].id]
        found = decode(claim.annotation or b"")
        assert found is not None and [e.text for e in found.entities] == ["Kiptum"]
    finally:
        store.close()


def test_a_sqlite_file_from_before_annotations_is_upgraded(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    store = open_store(path, INFO)
    doc, claims = document("old", SENTENCES)
    store.put_document(doc, claims, unit(np.random.default_rng(1), 2))
    store.close()
    with sqlite3.connect(path) as db:  # the schema before this change
        db.execute("ALTER TABLE claims DROP COLUMN annotation_version")
        db.execute("ALTER TABLE claims DROP COLUMN annotation")
    store = open_store(path, INFO)
    try:
        assert len(store.stale_annotations(ANNOTATION_VERSION, 10)) == 2
        assert reannotate(store) == 2
    finally:
        store.close()


# --- end to end over HTTP ------------------------------------------------------------------

WIRE = [
    {
        "id": "city-plan",
        "title": "Council debates transit plan",
        "published_at": "2024-03-05",
        "text": "Mayor Ana Ruiz proposed the transit plan on Monday, saying it would cut "
        "commuting times.\n\nThe city council approved a $4.2 billion budget on Tuesday.",
    },
    {
        "id": "flu-week",
        "title": "Flu season",
        "published_at": "2024-02-12",
        "text": "Flu hospitalisations rose 38% last week, health officials said.",
    },
]


def test_wire_stories_are_annotated_at_ingest_and_refute_false_statements(
    settings: Settings, live_url: str
) -> None:
    with httpx.Client(base_url=live_url, timeout=120) as http:
        assert http.post("/v1/documents", json=WIRE).status_code == 201
        with sqlite3.connect(settings.store) as db:
            versions = {r[0] for r in db.execute("SELECT annotation_version FROM claims")}
        assert versions == {ANNOTATION_VERSION}

        def check(statement: str) -> dict[str, object]:
            response = http.post("/v1/check", json={"statement": statement, "top_k": 3})
            assert response.status_code == 200, response.text
            body: dict[str, object] = response.json()
            return body

        flu = check("Flu hospitalisations fell 38 percent")
        assert flu["verdict"] == "refuted", flu["reasons"]
        marks = [e["mismatch"] for e in flu["evidence"] if e["mismatch"]]  # type: ignore[attr-defined]
        assert marks[0]["kind"] == "polarity" and marks[0]["passage_span"] == "rose"

        for statement, kind in [
            ("Mayor Tom Becker proposed the transit plan", "entity"),
            ("The city council approved a $5 billion budget", "number"),
        ]:
            result = check(statement)
            assert result["verdict"] != "supported", result
            assert kind in {
                e["mismatch"]["kind"]  # type: ignore[index]
                for e in result["evidence"]  # type: ignore[attr-defined]
                if e["mismatch"]
            }
        budget = check("The city council approved a 4.2 billion dollar budget")
        assert all(e["mismatch"] is None for e in budget["evidence"])  # type: ignore[attr-defined]


def test_an_annotation_whose_work_ended_stops_at_its_next_batch() -> None:
    texts = [(f"The port of Rotterdam closed {i} cranes on Monday.", None) for i in range(40)]
    assert len(annotate_many(texts, threading.Event())) == 40
    stop = threading.Event()
    stop.set()  # a cancelled ingest sets it
    with pytest.raises(CancelledError):
        annotate_many(texts, stop)
