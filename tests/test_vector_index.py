"""Vector indexes: exact and HNSW agree, filtered search, the saved HNSW file and its staleness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.settings import Settings
from service.split import Claim
from service.store import DocumentRecord, EmbeddingInfo, SearchFilter, SqliteStore
from service.store.ann import EXACT_FILTER_LIMIT, HnswIndex, HnswParams
from service.store.vectors import ExactIndex

DIM = 32


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors around 40 topics, so that neighbours are near-ties as in real corpora."""
    topics = np.random.default_rng(0).standard_normal((40, DIM))
    v = topics[rng.integers(0, 40, n)] + 0.8 * rng.standard_normal((n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _brute(ids: np.ndarray, vectors: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    return [int(ids[i]) for i in np.argsort(-(vectors @ q), kind="stable")[:k]]


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    ids = rng.permutation(np.arange(10, 5010, dtype=np.int64))
    return ids, _unit(rng, len(ids)), _unit(rng, 50)


def test_exact_index_grows_replaces_and_removes(data: tuple[np.ndarray, ...]) -> None:
    ids, vectors, queries = data
    index = ExactIndex(DIM)
    for start in range(0, len(ids), 700):  # many small adds, as documents arrive
        index.add(ids[start : start + 700], vectors[start : start + 700])
    index.add(ids[:5], -vectors[:5])  # replace five vectors
    index.remove([int(i) for i in ids[5:10]] + [999_999])
    keep = np.r_[0:5, 10 : len(ids)]
    expected_vectors = vectors[keep].copy()
    expected_vectors[:5] *= -1
    assert len(index) == len(ids) - 5
    for q in queries[:10]:
        assert [i for i, _ in index.search(q, 10)] == _brute(ids[keep], expected_vectors, q, 10)
    assert np.allclose(index.vectors([int(ids[0])])[int(ids[0])], -vectors[0])


def test_hnsw_candidates_hold_the_exact_top_10(data: tuple[np.ndarray, ...]) -> None:
    ids, vectors, queries = data
    hnsw = HnswIndex(DIM)
    hnsw.add(ids, vectors)
    hits = 0
    for q in queries:
        found = hnsw.search(q, 40)  # the store re-scores more candidates than k
        hits += len({i for i, _ in found} & set(_brute(ids, vectors, q, 10)))
        # int8 cosines are close to the float ones
        exact = {int(i): float(v @ q) for i, v in zip(ids, vectors, strict=True)}
        assert all(abs(score - exact[i]) < 0.03 for i, score in found)
    assert hits / (10 * len(queries)) >= 0.99


def test_hnsw_replace_remove_and_vectors(data: tuple[np.ndarray, ...]) -> None:
    ids, vectors, queries = data
    hnsw = HnswIndex(DIM)
    hnsw.add(ids, vectors)
    hnsw.add(ids[:1], queries[:1])  # the first id now sits exactly on the first query
    assert len(hnsw) == len(ids)
    assert hnsw.search(queries[0], 1)[0][0] == int(ids[0])
    hnsw.remove([int(ids[0]), 123_456_789])
    assert len(hnsw) == len(ids) - 1
    assert int(ids[0]) not in {i for i, _ in hnsw.search(queries[0], 20)}
    stored = hnsw.vectors([int(ids[1]), int(ids[0])])
    assert list(stored) == [int(ids[1])]
    assert float(stored[int(ids[1])] @ vectors[1]) > 0.99


def test_small_hnsw_finds_every_vector_it_holds() -> None:
    # Parallel inserts left ~1 in 300 vectors of a small graph unreachable (a CI failure).
    for seed in range(20):
        rng = np.random.default_rng(seed)
        vectors = _unit(rng, 191)
        hnsw = HnswIndex(DIM)
        hnsw.add(np.arange(10, 201), vectors)
        missed = [
            i
            for i, v in zip(range(10, 201), vectors, strict=True)
            if i not in {hit for hit, _ in hnsw.search(v, 100)}
        ]
        assert missed == [], f"seed {seed}"


@pytest.mark.parametrize("fraction", [0.05, 0.9])
def test_hnsw_filtered_search_returns_allowed_ids_only(
    data: tuple[np.ndarray, ...], fraction: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, vectors, queries = data
    if fraction > 0.5:  # make the large filter take the graph path, not the exact one
        monkeypatch.setattr("service.store.ann.EXACT_FILTER_LIMIT", 100)
    assert EXACT_FILTER_LIMIT > 100
    hnsw = HnswIndex(DIM)
    hnsw.add(ids, vectors)
    rng = np.random.default_rng(1)
    mask = rng.random(len(ids)) < fraction
    allowed = ids[mask]
    hits = 0
    for q in queries[:20]:
        found = [i for i, _ in hnsw.search(q, 40, allowed)]
        assert len(found) == 40 and set(found) <= set(allowed.tolist())
        hits += len(set(found) & set(_brute(ids[mask], vectors[mask], q, 10)))
    assert hits / 200 >= 0.99


def _put(store: SqliteStore, doc_id: str, vectors: np.ndarray, source: str = "wire") -> None:
    claims = [
        Claim(seq=i, start=0, end=1, text=f"{doc_id} claim {i}", context="")
        for i in range(len(vectors))
    ]
    doc = DocumentRecord(id=doc_id, title=doc_id, text=doc_id, source=source, content_hash=doc_id)
    store.put_document(doc, claims, vectors)


def test_store_saves_hnsw_and_rebuilds_it_when_stale(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    info = EmbeddingInfo(model="test", dimension=DIM)
    path = tmp_path / "s.db"
    store = SqliteStore(path, info, vector_index="hnsw")
    for n in range(20):
        _put(store, f"d{n}", _unit(rng, 10), source="a" if n % 2 else "b")
    query = _unit(rng, 1)[0]
    before = store.search_vector(query, 5, SearchFilter())
    only_a = store.search_vector(query, 5, SearchFilter(sources=("a",)))
    exact = SqliteStore(tmp_path / "s.db", info, vector_index="exact")
    reference = exact.search_vector(query, 5, SearchFilter())  # re-scored: exact cosines
    assert [i for i, _ in before] == [i for i, _ in reference]
    assert np.allclose([c for _, c in before], [c for _, c in reference], atol=1e-6)
    exact.close()
    store.close()
    saved = path.with_name("s.db.hnsw")
    assert saved.exists() and path.with_name("s.db.hnsw.json").exists()

    reopened = SqliteStore(path, info, vector_index="hnsw")
    assert reopened.count_claims() == 200
    assert [i for i, _ in reopened.search_vector(query, 5, SearchFilter())] == [
        i for i, _ in before
    ]
    filtered = reopened.search_vector(query, 5, SearchFilter(sources=("a",)))
    assert [i for i, _ in filtered] == [i for i, _ in only_a]
    reopened.close()

    # Another process changes the file without the index (the exact kind never saves it):
    # the saved graph is stale, and the next open rebuilds it with the new claims.
    writer = SqliteStore(path, info, vector_index="exact")
    _put(writer, "new", query.reshape(1, -1))
    writer.delete_document("d0")
    writer.close()
    fresh = SqliteStore(path, info, vector_index="hnsw")
    top = fresh.search_vector(query, 1, SearchFilter())
    assert fresh.count_claims() == 191
    assert fresh.fetch([top[0][0]])[top[0][0]][0].document_id == "new"
    fresh.close()


def test_saved_graph_is_rebuilt_when_its_shape_changes_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    info = EmbeddingInfo(model="test", dimension=DIM)
    path = tmp_path / "g.db"
    saved = path.with_name("g.db.hnsw")
    store = SqliteStore(path, info, vector_index="hnsw", hnsw=HnswParams(connectivity=8))
    _put(store, "d", _unit(rng, 50))
    store.close()
    built = saved.stat().st_mtime_ns

    # Search-time settings apply to the saved graph as it is.
    wider = HnswParams(connectivity=8, expansion_search=40, rescore=25)
    store = SqliteStore(path, info, vector_index="hnsw", hnsw=wider)
    graph = store._index
    assert isinstance(graph, HnswIndex) and graph._index.expansion_search == 40
    assert len(store.search_vector(_unit(rng, 1)[0], 5, SearchFilter())) == 5
    store.close()
    assert saved.stat().st_mtime_ns == built

    # A graph built with other links or precision is not reused.
    store = SqliteStore(path, info, vector_index="hnsw", hnsw=HnswParams(connectivity=12))
    graph = store._index
    assert isinstance(graph, HnswIndex) and graph._index.connectivity == 12
    assert len(graph) == 50
    store.close()
    assert saved.stat().st_mtime_ns != built


def test_settings_name_the_graph() -> None:
    settings = Settings.from_env({"FACTCHECK_ANN_CONNECTIVITY": "16", "FACTCHECK_ANN_DTYPE": "f16"})
    assert settings.hnsw() == HnswParams(dtype="f16", connectivity=16)
    assert Settings().hnsw() == HnswParams()


def test_auto_picks_hnsw_for_large_stores_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    info = EmbeddingInfo(model="test", dimension=DIM)
    store = SqliteStore(tmp_path / "a.db", info, vector_index="auto", ann_min_claims=30)
    _put(store, "small", _unit(rng, 20))
    assert isinstance(store._index, ExactIndex)
    store.close()
    store = SqliteStore(tmp_path / "a.db", info, vector_index="auto", ann_min_claims=30)
    _put(store, "more", _unit(rng, 20))  # opened small: stays exact until reopened
    store.close()
    store = SqliteStore(tmp_path / "a.db", info, vector_index="auto", ann_min_claims=30)
    assert isinstance(store._index, HnswIndex) and store.count_claims() == 40
    store.close()


def test_text_search_never_returns_retracted_claims(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    store = SqliteStore(tmp_path / "t.db", EmbeddingInfo(model="test", dimension=DIM))
    for n in range(8):  # 80 claims that all match: more than the unfiltered path's slack
        _put(store, f"gone{n}", _unit(rng, 10))
    _put(store, "kept", _unit(rng, 3))
    assert len(store.search_text("claim", 5, SearchFilter())) == 5
    for n in range(7):
        store.retract_document(f"gone{n}", "wrong")
    hits = store.search_text("claim", 50, SearchFilter())
    docs = {store.fetch([i])[i][0].document_id for i, _ in hits}
    assert docs == {"gone7", "kept"} and len(hits) == 13
    few = store.search_text("claim", 5, SearchFilter())
    assert len(few) == 5 and all(store.fetch([i])[i][0].document_id != "gone0" for i, _ in few)
    store.close()


def test_lexical_search_leaves_out_common_words_in_large_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.store.sqlite_text._PRUNE_MIN_CLAIMS", 10)  # "large": 10 claims
    rng = np.random.default_rng(6)
    store = SqliteStore(
        tmp_path / "l.db", EmbeddingInfo(model="test", dimension=DIM), lexical_max_df=0.5
    )
    texts = [f"common frequent filler {i}" for i in range(25)] + [
        f"rare unique word {i}" for i in range(5)
    ]
    claims = [Claim(seq=i, start=0, end=1, text=t, context=t) for i, t in enumerate(texts)]
    doc = DocumentRecord(id="d", title="d", text="d", content_hash="d")
    store.put_document(doc, claims, _unit(rng, len(claims)))
    query = "common frequent rare unique absent"
    assert store._lexical._lexical_words(query, 30) == ["rare", "unique", "absent"]
    hits = store.search_text(query, 10, SearchFilter())
    assert {store.fetch([i])[i][0].text.split()[0] for i, _ in hits} == {"rare"}
    assert store._lexical._lexical_words("common frequent rare", 30) == [
        "common",
        "frequent",
        "rare",
    ]
    store.close()


def test_onnxruntime_loads_after_the_hnsw_index() -> None:
    # onnxruntime segfaulted on import once usearch was loaded: a store opened before the
    # models (the CLI's reindex, a test order) must not crash the process.
    import subprocess
    import sys

    code = (
        "from service.store.ann import HnswIndex; HnswIndex(8); "
        "import onnxruntime; print(onnxruntime.get_device())"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "CPU", done.stderr[-500:]
