"""The tantivy lexical index: FTS5's ranking, every write reflected, stale stamps rebuilt.

Real tantivy indexes beside real SQLite files; the corpus is the demo corpus, split as
ingest splits it (vectors are random: only lexical search is under test here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from service.corpus import demo_documents
from service.settings import PROJECT_ROOT
from service.split import Claim, split_document
from service.store import DocumentRecord, EmbeddingInfo, SearchFilter, SqliteStore
from service.store.text_index import FtsTerms
from tests.conftest import SEEDS

DIM = 8
INFO = EmbeddingInfo(model="test", dimension=DIM)
ANY = SearchFilter()
QUERIES = [
    "Xi visited Moscow in 2022",
    "The central bank raised interest rates",
    "Parliament passed the budget",
    "Officials said the harbour would reopen",
    "climate warming caused floods",
    "election results were announced",
]


def _vectors(n: int) -> np.ndarray:
    v = np.random.default_rng(n).standard_normal((n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _put(store: SqliteStore, doc_id: str, texts: list[str], source: str = "wire") -> None:
    claims = [Claim(seq=i, start=0, end=1, text=t, context=t) for i, t in enumerate(texts)]
    doc = DocumentRecord(
        id=doc_id, title=doc_id, text=" ".join(texts), source=source, content_hash=str(texts)
    )
    store.put_document(doc, claims, _vectors(len(claims)))


def _demo(store: SqliteStore) -> list[str]:
    """Put the demo corpus; its claims' texts."""
    texts = []
    for doc in demo_documents(SEEDS):
        claims = [c.text for c in split_document(doc.text, title=doc.title).claims]
        _put(store, doc.id or doc.title, claims, source=doc.source or "wire")
        texts.extend(claims)
    return texts


def _ids(store: SqliteStore, query: str, k: int = 10) -> set[int]:
    return {i for i, _ in store.search_text(query, k, ANY)}


def _doc_of(store: SqliteStore, claim_id: int) -> str:
    return store.fetch([claim_id])[claim_id][0].document_id


def _stamp(path: Path) -> dict[str, object]:
    stamp = json.loads(path.with_name(path.name + ".tantivy.json").read_text())
    assert isinstance(stamp, dict)
    return stamp


def _consistent(store: SqliteStore) -> None:
    """The index holds every claim of the file and its stamp names the file's version."""
    assert store._lexical._text is not None and store._lexical.writes is not None
    store._lexical.writes.wait()  # the store's own writes reach the index in the background
    claims = store._db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    assert store._lexical._text.num_docs() == claims
    assert _stamp(store.path)["index_version"] == int(store.index_version())


def test_terms_are_fts5s() -> None:
    terms = FtsTerms("porter unicode61")
    assert terms.joined(["Naïve runners were RUNNING, ran; runs_fast"])[0].split() == [
        "naiv",
        "runner",
        "were",
        "run",
        "ran",
        "run",
        "fast",
    ]
    assert terms.phrase("visited") == ("visit",)
    assert terms.counts(["Visits: he visited, she visits.", "none"], [("visit",), ("he",)]) == [
        [3, 1],
        [0, 0],
    ]
    assert terms.counts(["runs fast, fast runs"], [("run", "fast")]) == [[1]]
    terms.close()


def test_tantivy_ranks_as_fts5_does_on_the_demo_corpus(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, INFO, lexical_index="tantivy")
    texts = _demo(store)
    fts5 = SqliteStore(path, INFO, lexical_index="fts5")
    assert fts5._lexical._text is None and store._lexical._text is not None
    for query in QUERIES + texts[::25]:
        got, want = store.search_text(query, 10, ANY), fts5.search_text(query, 10, ANY)
        assert [round(s, 9) for _, s in got] == [round(s, 9) for _, s in want], query
        # equal scores may come in any order; all above the last score are the same claims
        last = want[-1][1] if want else 0.0
        assert {i for i, s in got if s > last + 1e-9} == {i for i, s in want if s > last + 1e-9}
    _consistent(store)
    store.close()
    fts5.close()


def test_writes_replaces_deletes_and_retracts_are_reflected(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", INFO, lexical_index="tantivy")
    _demo(store)
    _put(store, "zebra", ["A zebra crossed the motorway.", "Traffic stopped for an hour."])
    (hit,) = _ids(store, "zebras on the motorway", 1)
    assert _doc_of(store, hit) == "zebra"
    _put(store, "zebra", ["An ostrich crossed the motorway."])  # a new version
    assert not _ids(store, "zebra") and _doc_of(store, min(_ids(store, "ostrich"))) == "zebra"
    store.retract_document("zebra", "wrong animal")
    assert not _ids(store, "ostrich")
    _consistent(store)  # retracted claims stay in the index, as in FTS5
    store.unretract_document("zebra")
    assert len(_ids(store, "ostrich")) == 1
    assert store.delete_document("zebra")
    assert not _ids(store, "ostrich motorway zebra")
    _consistent(store)
    store.close()


def test_a_burst_of_writes_is_searchable_as_soon_as_written(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", INFO, lexical_index="tantivy")
    for n in range(30):  # committed faster than tantivy commits: applied in groups
        _put(store, f"d{n}", [f"Harbour report {n} says pier{n} reopened."])
        assert [_doc_of(store, i) for i in _ids(store, f"pier{n}")] == [f"d{n}"]
    for n in range(30, 60):
        _put(store, f"d{n}", [f"Harbour report {n} says pier{n} reopened."])
    assert len(_ids(store, "harbour", 100)) == 60
    _consistent(store)
    store.close()


def test_reembedding_keeps_the_index_current(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", INFO, lexical_index="tantivy")
    _put(store, "a", ["The harbour reopened on Monday."])
    other = EmbeddingInfo(model="other", dimension=DIM)
    assert store.reembed(other, lambda texts: _vectors(len(texts))) == 1
    _consistent(store)  # the version moved, the claims did not: restamped, not rebuilt
    assert [_doc_of(store, i) for i in _ids(store, "harbour")] == ["a"]
    store.close()


def test_filtered_searches_rank_in_fts5(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", INFO, lexical_index="tantivy")
    _put(store, "a", ["The harbour reopened on Monday."], source="wire")
    _put(store, "b", ["The harbour closed on Friday."], source="blog")
    hits = store.search_text("harbour", 10, SearchFilter(sources=["blog"]))
    assert [_doc_of(store, i) for i, _ in hits] == ["b"]
    assert len(store.search_text("harbour", 10, ANY)) == 2
    store.close()


def test_retracted_claims_crowding_the_candidates_fall_back_to_fts5(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", INFO, lexical_index="tantivy", lexical_candidates=5)
    # 40 short claims rank first (k + 20 candidates are fetched); the two kept ones after
    _put(store, "gone", [f"Harbour {n}." for n in range(40)])
    long = "after the dispute between the port authority and the shipping lines ended"
    _put(store, "kept", [f"The harbour reopened {long}.", f"Harbour fees rose {long}."])
    store.retract_document("gone", "wrong")
    hits = store.search_text("harbour", 5, ANY)
    assert {_doc_of(store, i) for i, _ in hits} == {"kept"} and len(hits) == 2
    store.close()


def test_a_stale_or_missing_stamp_rebuilds_the_index(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, INFO, lexical_index="tantivy")
    _put(store, "a", ["The harbour reopened on Monday."])
    store.close()
    # A crash between the SQLite commit and the tantivy commit leaves the file ahead of the
    # index: a store that never touches the index commits the same way.
    fts5 = SqliteStore(path, INFO, lexical_index="fts5")
    _put(fts5, "b", ["The lighthouse was repainted."])
    assert _stamp(path)["index_version"] != int(fts5.index_version())
    fts5.close()
    store = SqliteStore(path, INFO, lexical_index="tantivy")  # rebuilt at open
    _consistent(store)
    assert [_doc_of(store, i) for i in _ids(store, "lighthouse")] == ["b"]
    store.close()
    path.with_name(path.name + ".tantivy.json").unlink()  # no stamp
    store = SqliteStore(path, INFO, lexical_index="tantivy")
    _consistent(store)
    store.close()
    for part in path.with_name(path.name + ".tantivy").iterdir():  # a torn folder
        part.unlink()
    store = SqliteStore(path, INFO, lexical_index="tantivy")
    _consistent(store)
    assert len(_ids(store, "harbour lighthouse")) == 2
    store.close()


def test_another_instances_writes_are_seen_without_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    reader = SqliteStore(path, INFO, lexical_index="tantivy")
    writer = SqliteStore(path, INFO, lexical_index="tantivy")
    _put(writer, "a", ["The harbour reopened on Monday."])
    assert _ids(writer, "harbour")  # its search waits for its write to reach the index
    meta = path.with_name(path.name + ".tantivy") / "meta.json"
    written = meta.read_text()
    assert [_doc_of(reader, i) for i in _ids(reader, "harbour")] == ["a"]
    assert meta.read_text() == written  # the writer stamped its change: the reader only reloaded
    writer.close()
    reader.close()


def test_another_process_writes_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, INFO, lexical_index="tantivy")
    _put(store, "a", ["The harbour reopened on Monday."])
    script = (
        "import sys; from tests.test_text_index import INFO, _put; "
        "from service.store import SqliteStore; "
        "s = SqliteStore(sys.argv[1], INFO, lexical_index='tantivy'); "
        "_put(s, 'b', ['The harbour master resigned.']); s.close()"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], cwd=PROJECT_ROOT, check=True)
    assert {_doc_of(store, i) for i in _ids(store, "harbour")} == {"a", "b"}
    _consistent(store)
    store.close()


@pytest.mark.parametrize(("size", "expected"), [(20, False), (40, True)])
def test_auto_uses_tantivy_from_the_threshold(tmp_path: Path, size: int, expected: bool) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path, INFO, lexical_index="fts5")
    _put(store, "a", [f"Claim number {n}." for n in range(size)])
    store.close()
    store = SqliteStore(path, INFO, lexical_index="auto", lexical_min_claims=30)
    assert (store._lexical._text is not None) is expected
    assert len(store.search_text("claim", 50, ANY)) == size
    store.close()


def test_an_index_from_another_store_is_not_taken(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    store = SqliteStore(first, INFO, lexical_index="tantivy")
    _put(store, "a", ["The harbour reopened on Monday."])
    store.close()
    store = SqliteStore(second, INFO, lexical_index="tantivy")
    _put(store, "b", ["The lighthouse was repainted."])
    store.close()
    # the same index_version, another store_id: b's index beside a's file is rebuilt
    for name in (".tantivy", ".tantivy.json"):
        target = first.with_name(first.name + name)
        if target.is_dir():
            for part in target.iterdir():
                part.unlink()
            target.rmdir()
        else:
            target.unlink()
        second.with_name(second.name + name).rename(target)
    store = SqliteStore(first, INFO, lexical_index="tantivy")
    assert [_doc_of(store, i) for i in _ids(store, "harbour lighthouse")] == ["a"]
    store.close()
