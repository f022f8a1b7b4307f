"""The store protocol itself, on both stores (SQLite file, PostgreSQL), with synthetic vectors.

Vectors here are random unit vectors: these tests are about storage, transactions and
search mechanics, which must agree across stores; the API tests cover real embeddings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from service.errors import ModelMismatchError, NotFoundError
from service.split import Claim
from service.store import EmbeddingInfo, IdempotencyRecord, SearchFilter, Store, open_store
from service.store.base import DocumentRecord, Vectors

pytestmark = pytest.mark.both_stores

DIM = 8
INFO = EmbeddingInfo(model="test/model-a", dimension=DIM)
NO_FILTER = SearchFilter()


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> Vectors:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def document(
    doc_id: str, sentences: list[str], *, source: str = "wire", published: str = "2024-01-01"
) -> tuple[DocumentRecord, list[Claim]]:
    text = " ".join(sentences)
    claims, start = [], 0
    for seq, sentence in enumerate(sentences):
        claims.append(Claim(seq, start, start + len(sentence), sentence, sentence))
        start += len(sentence) + 1
    doc = DocumentRecord(
        id=doc_id,
        title=doc_id,
        text=text,
        source=source,
        published_at=published,
        published_date=dt.date.fromisoformat(published),
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
    return doc, claims


def put(store: Store, doc_id: str, sentences: list[str], vectors: Vectors, **kw: str) -> str:
    doc, claims = document(doc_id, sentences, **kw)
    status, _ = store.put_document(doc, claims, vectors)
    return status


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    opened = open_store(store_location, INFO)
    yield opened
    opened.close()


def test_index_version_bumps_on_every_change_only(store: Store) -> None:
    rng = np.random.default_rng(0)
    seen = [store.index_version()]

    def changed() -> bool:
        seen.append(store.index_version())
        return seen[-1] != seen[-2]

    assert put(store, "a", ["Alpha one.", "Alpha two."], unit(rng, 2)) == "created" and changed()
    assert put(store, "a", ["Alpha one.", "Alpha two."], unit(rng, 2)) == "unchanged"
    assert not changed()
    assert put(store, "a", ["Alpha corrected."], unit(rng, 1)) == "replaced" and changed()
    store.retract_document("a", "wrong")
    assert changed()
    assert store.delete_document("a") and changed()
    assert not store.delete_document("a") and not changed()
    with pytest.raises(NotFoundError):
        store.retract_document("a", "gone")
    assert len(set(seen)) == 5


def test_replace_archives_the_old_version_and_swaps_the_claims(store: Store) -> None:
    rng = np.random.default_rng(1)
    old = unit(rng, 2)
    put(store, "a", ["The port closed.", "Cranes were damaged."], old)
    new = unit(rng, 1)
    put(store, "a", ["The port reopened."], new)

    doc = store.get_document("a")
    assert doc is not None and (doc.status, doc.version, doc.claim_count) == ("corrected", 2, 1)
    [claim] = store.claims_of("a")
    assert claim.text == "The port reopened."
    [version] = store.versions("a")
    assert version.version == 1 and "Cranes were damaged." in version.text
    hits = store.search_vector(old[1], 10, NO_FILTER)
    assert [c.text for c, _, _ in store.fetch([i for i, _ in hits]).values()] == [claim.text]
    assert store.count_claims() == 1
    assert store.delete_document("a") and store.versions("a") == []


def test_retracted_claims_are_never_searched(store: Store) -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 2)
    put(store, "bad", ["Fabricated quote about wheat prices."], vectors[:1], source="tabloid")
    put(store, "good", ["Wheat prices fell by ten percent."], vectors[1:])
    assert store.count_claims() == 2
    doc = store.retract_document("bad", "fabricated")
    assert doc.status == "retracted" and doc.retraction_reason == "fabricated"
    assert store.count_claims() == 1
    good = {c.id for c in store.claims_of("good")}
    for flt in (NO_FILTER, SearchFilter(sources=("tabloid", "wire"))):
        assert {i for i, _ in store.search_vector(vectors[0], 10, flt)} == good
        assert {i for i, _ in store.search_text("wheat prices fabricated", 10, flt)} == good


def test_vector_search_matches_exact_cosine_with_and_without_filters(store: Store) -> None:
    rng = np.random.default_rng(3)
    vectors = unit(rng, 60)
    for n in range(6):  # six documents of ten claims: two sources, six dates
        put(
            store,
            f"d{n}",
            [f"Claim {n}-{i} says something." for i in range(10)],
            vectors[10 * n : 10 * n + 10],
            source="even" if n % 2 == 0 else "odd",
            published=f"2024-0{n + 1}-15",
        )
    ids = np.array([c.id for n in range(6) for c in store.claims_of(f"d{n}")])
    query = unit(rng, 1)[0]
    cosines = vectors @ query

    def exact(rows: np.ndarray, k: int) -> list[int]:
        order = rows[np.argsort(-cosines[rows], kind="stable")][:k]
        return [int(ids[r]) for r in order]

    hits = store.search_vector(query, 5, NO_FILTER)
    assert [i for i, _ in hits] == exact(np.arange(60), 5)
    by_id = dict(zip(ids.tolist(), cosines.tolist(), strict=True))
    assert [s for _, s in hits] == pytest.approx([by_id[i] for i, _ in hits], abs=1e-5)

    filters = {
        SearchFilter(sources=("odd",)): [r for r in range(60) if (r // 10) % 2 == 1],
        SearchFilter(document_ids=("d0", "d5")): [*range(10), *range(50, 60)],
        SearchFilter(published_after=dt.date(2024, 5, 1)): list(range(40, 60)),
        SearchFilter(published_before=dt.date(2024, 1, 31)): list(range(10)),
    }
    for flt, rows in filters.items():
        assert [i for i, _ in store.search_vector(query, 7, flt)] == exact(np.array(rows), 7)
    assert store.search_vector(query, 0, NO_FILTER) == []

    claim_id = int(ids[17])
    claim, doc, vector = store.fetch([claim_id])[claim_id]
    assert (claim.document_id, claim.seq, doc.id, doc.source) == ("d1", 7, "d1", "odd")
    np.testing.assert_allclose(vector, vectors[17], atol=1e-6)


def test_lexical_search_scores_higher_is_better(store: Store) -> None:
    rng = np.random.default_rng(4)
    put(
        store,
        "farm",
        [
            "Kansas farmers reported a record wheat harvest.",
            "Wheat prices fell sharply.",
            "The port of Rotterdam closed after a storm.",
        ],
        unit(rng, 3),
    )
    claims = {c.text: c.id for c in store.claims_of("farm")}
    hits = store.search_text("record wheat harvest in Kansas", 10, NO_FILTER)
    assert hits[0][0] == claims["Kansas farmers reported a record wheat harvest."]
    assert [i for i, _ in hits] == [
        claims["Kansas farmers reported a record wheat harvest."],
        claims["Wheat prices fell sharply."],
    ]
    assert hits[0][1] > hits[1][1] > 0
    assert store.search_text("the of and", 10, NO_FILTER) == []
    assert store.search_text('"quotes" OR (syntax) -minus*', 10, NO_FILTER) == []


def test_list_documents_newest_first_with_total(store: Store) -> None:
    rng = np.random.default_rng(5)
    for n, (source, date) in enumerate(
        [("a", "2023-05-01"), ("b", "2024-05-01"), ("a", "2022-01-01")]
    ):
        put(
            store,
            f"d{n}",
            [f"Sentence number {n} here."],
            unit(rng, 1),
            source=source,
            published=date,
        )
    page, total = store.list_documents(limit=2, offset=0)
    assert total == 3 and [d.id for d in page] == ["d1", "d0"]
    assert page[0].claim_count == 1 and page[0].published_date == dt.date(2024, 5, 1)
    page, total = store.list_documents(limit=10, offset=0, source="a")
    assert total == 2 and [d.id for d in page] == ["d0", "d2"]


def test_model_mismatch_is_refused_until_reembedded(store_location: str) -> None:
    rng = np.random.default_rng(6)
    store = open_store(store_location, INFO)
    put(store, "a", ["One claim here.", "Another claim here."], unit(rng, 2))
    store.close()

    other = EmbeddingInfo(model="test/model-b", dimension=12)
    with pytest.raises(ModelMismatchError, match="model-a"):
        open_store(store_location, other)

    store = open_store(store_location, other, allow_model_change=True)
    before = store.index_version()
    assert store.reembed(other, lambda texts: unit(rng, len(texts), 12), batch_size=1) == 2
    assert store.index_version() != before
    store.close()

    store = open_store(store_location, other)
    try:
        [claim_id, _] = [c.id for c in store.claims_of("a")]
        vector = store.fetch([claim_id])[claim_id][2]
        assert vector.shape == (12,)
        assert store.search_vector(vector, 1, NO_FILTER)[0][0] == claim_id
    finally:
        store.close()
    with pytest.raises(ModelMismatchError):
        open_store(store_location, INFO)


def test_concurrent_writers_through_two_handles_lose_nothing(store_location: str) -> None:
    """Two handles (as two replicas have) write at once: every write counts once."""
    handles = [open_store(store_location, INFO) for _ in range(2)]
    start = int(handles[0].index_version())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(store: Store, name: str) -> None:
        rng = np.random.default_rng(len(name))
        barrier.wait()
        try:
            for n in range(10):
                put(store, f"{name}-{n}", [f"Claim {name} {n} here."], unit(rng, 1))
            put(store, "shared", [f"Shared version by {name}."], unit(rng, 1))
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(h, name))
        for h, name in zip(handles, ["x", "y"], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert int(handles[1].index_version()) == start + 22
        assert handles[0].count_claims() == 21
        shared = handles[1].get_document("shared")
        assert shared is not None and shared.version == 2
        assert len(handles[0].versions("shared")) == 1
    finally:
        for h in handles:
            h.close()


def claim(token: str, request_hash: str = "h1", key: str = "k1") -> IdempotencyRecord:
    return IdempotencyRecord(scope="tenant", key=key, request_hash=request_hash, token=token)


DAY = 86_400.0


def test_idempotency_key_claims_finish_release_and_takeover(store: Store) -> None:
    first = store.claim_idempotency_key(claim("a"), DAY, DAY)
    assert first == claim("a")  # new: the caller owns it
    assert store.claim_idempotency_key(claim("b"), DAY, DAY) == first  # held: the holder's
    assert store.claim_idempotency_key(claim("b", "h2"), DAY, DAY).request_hash == "h1"
    other_scope = IdempotencyRecord(scope="other", key="k1", request_hash="h2", token="c")
    assert store.claim_idempotency_key(other_scope, DAY, DAY) == other_scope

    store.release_idempotency_key(claim("b"))  # not b's claim: nothing happens
    store.release_idempotency_key(first)
    assert store.claim_idempotency_key(claim("b"), DAY, DAY).token == "b"

    assert store.claim_idempotency_key(claim("c"), DAY, 0.0).token == "c"  # past its lease
    store.finish_idempotency_key(claim("b"), 201, b"stale owner")  # taken over: ignored
    store.finish_idempotency_key(claim("c"), 201, b'{"documents": []}')
    done = store.claim_idempotency_key(claim("d"), DAY, 0.0)  # finished: never taken over
    assert (done.token, done.status, done.body) == ("c", 201, b'{"documents": []}')
    store.release_idempotency_key(claim("c"))  # finished: a release keeps the response
    assert store.claim_idempotency_key(claim("d"), DAY, DAY).status == 201


def test_idempotency_keys_expire_lazily(store: Store) -> None:
    store.claim_idempotency_key(claim("a", key="old"), DAY, DAY)
    store.finish_idempotency_key(claim("a", key="old"), 201, b"{}")
    # A TTL of zero: every stored key has expired, so this claim deletes them first.
    assert store.claim_idempotency_key(claim("b", "h2", key="old"), 0.0, DAY).token == "b"


def test_concurrent_claims_of_one_key_have_one_winner(store_location: str) -> None:
    """Ten callers through two handles (two replicas) claim one key at once: one owns it."""
    handles = [open_store(store_location, INFO) for _ in range(2)]
    barrier = threading.Barrier(10)
    found: list[IdempotencyRecord] = []

    def take(n: int) -> None:
        barrier.wait()
        found.append(handles[n % 2].claim_idempotency_key(claim(f"t{n}"), DAY, DAY))

    threads = [threading.Thread(target=take, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(found) == 10 and len({r.token for r in found}) == 1
    finally:
        for h in handles:
            h.close()
