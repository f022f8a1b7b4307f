"""Lexical search at 100k and 1M claims: FTS5's BM25 against the tantivy index, in one process.

    python bench/lexical.py [--sizes 100000,1000000] [--queries 300] [--candidates 70,100,200]

Stores: bench/check.py's cached stores (``store-N.db`` in ``$FACTCHECK_BENCH_CACHE``),
each opened through a link in ``<cache>/lexical/N/``, so that its tantivy index is built
and saved beside the link and the cached store is only read. Where a cached store is not
built yet (the 1M one takes over an hour: embeddings, annotations, HNSW graph), a text
replica is built instead, in minutes: ``<cache>/lexical/N/texts-N.db``, the same claims
(ids, texts, documents, sources: bench/check.py's construction, checked against
``check.synthetic``) with empty vectors and no annotations, which lexical search never
reads. Either is opened under another model name with ``allow_model_change``, so no
vector index is loaded (only lexical search runs here).
Statements: the first ``--queries`` Climate-FEVER dev claims.

Build: the tantivy index is rebuilt once per run (timed: reading the claims, FTS5's terms
for each, indexing) and its folder's size on disk reported.

Search, statement by statement, back to back (so that the ratios survive the shared
machine's load; a few statements first as warm-up):
  * FTS5: ``search_text(q, 50)`` on a store opened with ``lexical_index="fts5"``;
  * tantivy, its idf: the index's own BM25 top 50 (Lucene's idf), as tantivy alone
    would rank;
  * tantivy, FTS5 idf: its top 50 with each term boosted by FTS5's idf over tantivy's
    (``TantivyIndex.candidates``), without the store's re-ranking;
  * the store's path: ``search_text(q, 50)`` on a store opened with
    ``lexical_index="tantivy"``, for each ``--candidates`` n (the FTS5-idf top n, ranked
    with FTS5's exact formula over FTS5's term counts and document sizes; the store asks
    for k + 20 = 70 at least, room for retracted claims).
Recall@50 against FTS5's top 50, counting ties fairly: a returned claim counts when it
is in FTS5's top 50 or its FTS5 score equals FTS5's 50th score (which of several claims
tied at the cut FTS5 returns is arbitrary). The store's path returns FTS5 scores; the raw
rows' hits are scored with the same formula (``fts5_bm25``) to be judged. The raw rows'
times include that scoring (it is what the store's path does too).

``--ingest N``: the write side, on a copy of the smallest store: ``put_document`` of N
documents of 10 claims each (a claim: a sentence of 12 words drawn from the real claims),
one after another, on the copy opened with ``lexical_index="fts5"`` and then
``"tantivy"`` (ms per document, and for tantivy the wait until the last one is in the
index); and one tantivy commit of one document (``TantivyIndex.apply`` on a scratch
index), the cost each write would pay if it were applied inline. Statements FTS5
finds nothing for are left out.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import time
from pathlib import Path

import check
import numpy as np
from common import CACHE, machine, percentile, statements, table

from service.split import Claim
from service.store import (
    DocumentRecord,
    EmbeddingInfo,
    LexicalIndexKind,
    SearchFilter,
    SqliteStore,
)
from service.store.text_index import TantivyIndex, fts5_bm25, fts5_stats, varints

K = 50
WARM_UP = 5
# Any name but the store's: with allow_model_change the file is opened without its vectors.
INFO = EmbeddingInfo(model="bench-lexical", dimension=384)


def linked(size: int) -> Path:
    """A link to the cached store, or the text replica where the store is not built yet."""
    folder = CACHE / "lexical" / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    link, target = folder / f"store-{size}.db", CACHE / f"store-{size}.db"
    if not link.exists() and target.exists():
        link.symlink_to(target)
    return link if link.exists() else text_replica(folder, size)


def synthetic_texts(texts: list[str], start: int, count: int) -> list[str]:
    """``check.synthetic``'s texts without its vectors (the same draws, in the same order)."""
    rng = np.random.default_rng(start)
    a, b = rng.integers(0, len(texts), count), rng.integers(0, len(texts), count)
    words = [t.split() for t in texts]
    return [
        " ".join(words[i][: max(1, len(words[i]) // 2)] + words[j][len(words[j]) // 2 :])
        for i, j in zip(a.tolist(), b.tolist(), strict=True)
    ]


def text_replica(folder: Path, size: int) -> Path:
    """bench/check.py's store of ``size`` claims without vectors or annotations (cached)."""
    path = folder / f"texts-{size}.db"
    if path.exists():
        return path
    texts, vectors = check.real_claims(None)  # the cached real claims
    assert synthetic_texts(texts, 7, 50) == check.synthetic(texts, vectors, 7, 50)[0]
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    SqliteStore(tmp, check.INFO, vector_index="exact", lexical_index="fts5").close()
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    now = "2026-01-01T00:00:00+00:00"
    for start in range(0, size, 100_000):
        n = min(100_000, size - start)
        batch = texts[start : start + n]
        batch += synthetic_texts(texts, start, n - len(batch)) if n > len(batch) else []
        db.executemany(
            "INSERT INTO documents VALUES "
            "(?, ?, '', NULL, ?, ?, ?, 'en', '{}', ?, 'active', 1, ?, ?, NULL)",
            [
                (
                    f"doc-{d}",
                    f"document {d}",
                    check.SOURCES[d % 20],
                    *[f"{2015 + d % 10}-{1 + d % 12:02d}-01"] * 2,
                    f"h{d}",
                    now,
                    now,
                )
                for d in range(start // 10, (start + n - 1) // 10 + 1)
            ],
        )
        db.executemany(
            'INSERT INTO claims (id, document_id, seq, text, start, "end", context, embedding) '
            "VALUES (?, ?, ?, ?, 0, ?, ?, x'')",
            [
                (start + i + 1, f"doc-{(start + i) // 10}", (start + i) % 10, t, len(t), t)
                for i, t in enumerate(batch)
            ],
        )
    db.execute("INSERT OR REPLACE INTO meta VALUES ('index_version', '1')")
    db.execute("COMMIT")
    db.close()
    tmp.rename(path)
    return path


def open_store(link: Path, kind: LexicalIndexKind) -> SqliteStore:
    return SqliteStore(link, INFO, lexical_index=kind, allow_model_change=True)


def build(link: Path) -> tuple[float, float]:
    """Seconds to build the tantivy index from the file, and its size on disk (MiB)."""
    for name in (".tantivy", ".tantivy.json"):
        target = link.with_name(link.name + name)
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
    t0 = time.perf_counter()
    open_store(link, "tantivy").close()
    seconds = time.perf_counter() - t0
    folder = link.with_name(link.name + ".tantivy")
    return seconds, sum(p.stat().st_size for p in folder.iterdir()) / 2**20


def raw_top(store: SqliteStore, query: str, fts5_idf: bool) -> list[tuple[int, float]]:
    """tantivy's top 50 (its BM25, or with FTS5's idf), each with FTS5's bm25() score."""
    lexical = store._lexical
    assert lexical._text is not None
    words = lexical._lexical_words(query, store.count_claims())
    phrases = [p for p in map(lexical._terms.phrase, words) if p]
    count, avgdl = fts5_stats(store._db, "claims_fts")
    ids = lexical._text.candidates(phrases, K, count if fts5_idf else None)
    if not ids:
        return []
    rows = store._db.execute(
        "SELECT c.id, c.text, s.sz FROM claims c JOIN claims_fts_docsize s ON s.id = c.id "
        f"WHERE c.id IN ({', '.join('?' * len(ids))})",
        ids,
    ).fetchall()
    freqs = lexical._terms.counts([r[1] for r in rows], phrases)
    docs = zip((r[0] for r in rows), (varints(r[2])[0] for r in rows), freqs, strict=True)
    return fts5_bm25(docs, lexical._text.doc_freqs(phrases), count, avgdl)


def hits(found: list[tuple[int, float]], truth: list[tuple[int, float]]) -> int:
    best, last = {i for i, _ in truth}, truth[-1][1]
    return sum(1 for i, s in found if i in best or abs(s - last) <= 1e-9 * max(1.0, last))


def run(size: int, texts: list[str], candidates: list[int]) -> list[list[object]]:
    link = linked(size)
    build_s, mib = build(link)
    fts5, tv = open_store(link, "fts5"), open_store(link, "tantivy")
    flt = SearchFilter()
    raws = {"tantivy, its idf": False, "tantivy, FTS5 idf": True}
    names = ["FTS5", *raws] + [f"store: {n} candidates" for n in candidates]
    times: dict[str, list[float]] = {n: [] for n in names}
    found: dict[str, int] = dict.fromkeys(names, 0)
    total = 0
    for q in texts[-WARM_UP:]:
        fts5.search_text(q, K, flt)
        tv.search_text(q, K, flt)
    for q in texts:
        t0 = time.perf_counter()
        truth = fts5.search_text(q, K, flt)
        times["FTS5"].append((time.perf_counter() - t0) * 1000)
        results = {"FTS5": truth}
        for name, fts5_idf in raws.items():
            t0 = time.perf_counter()
            results[name] = raw_top(tv, q, fts5_idf)
            times[name].append((time.perf_counter() - t0) * 1000)
        for n, name in zip(candidates, names[3:], strict=True):
            tv._candidates = n
            t0 = time.perf_counter()
            results[name] = tv.search_text(q, K, flt)
            times[name].append((time.perf_counter() - t0) * 1000)
        if not truth:
            continue
        total += len(truth)
        for name, got in results.items():
            found[name] += hits(got, truth)
    fts5.close()
    tv.close()
    return [
        [
            f"{size:,}",
            name,
            percentile(times[name], 50),
            percentile(times[name], 99),
            found[name] / total,
            build_s if name != "FTS5" else "",
            mib if name != "FTS5" else "",
        ]
        for name in names
    ]


def ingest(size: int, count: int) -> list[list[object]]:
    """Milliseconds per document put, FTS5 only vs with the tantivy index; one tantivy commit."""
    source = linked(size).resolve()
    copy = CACHE / "lexical" / "ingest" / "store.db"
    if copy.parent.exists():
        shutil.rmtree(copy.parent)
    copy.parent.mkdir(parents=True)
    shutil.copy(source, copy)
    words = " ".join(check.real_claims(None)[0]).split()
    rng = np.random.default_rng(0)
    rows: list[list[object]] = []
    for kind in ("fts5", "tantivy"):
        store = open_store(copy, kind)
        times = []
        for d in range(count):
            claims = [
                Claim(seq=i, start=0, end=1, text=t, context=t)
                for i, t in enumerate(" ".join(rng.choice(words, 12)) + "." for _ in range(10))
            ]
            doc = DocumentRecord(id=f"{kind}-{d}", title="t", text="t", content_hash=f"{kind}{d}")
            t0 = time.perf_counter()
            store.put_document(doc, claims, np.zeros((10, INFO.dimension), np.float32))
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        store.search_text("harbour", 1, SearchFilter())  # waits for the pending writes
        rows.append(
            [
                kind,
                percentile(times, 50),
                percentile(times, 99),
                sum(times) / count,
                (time.perf_counter() - t0) * 1000 if kind == "tantivy" else "",
            ]
        )
        store.close()
    scratch = TantivyIndex(copy.parent / "scratch.db")
    scratch.rebuild([], {"n": -1})
    commits = []
    for d in range(20):
        t0 = time.perf_counter()
        assert scratch.apply([([], [(d, "one claim term")])], {"n": d - 1}, {"n": d})
        commits.append((time.perf_counter() - t0) * 1000)
    scratch.close()
    shutil.rmtree(copy.parent)  # a copy of the store: hundreds of MiB
    rows.append(
        [
            "one tantivy commit (1 document)",
            percentile(commits, 50),
            percentile(commits, 99),
            sum(commits) / len(commits),
            "",
        ]
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--candidates", default="70,100,200")
    ap.add_argument("--ingest", type=int, default=0, help="documents put in the write test")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.ingest:
        size = min(int(s) for s in args.sizes.split(","))
        headers = ["write", "p50 ms", "p99 ms", "mean ms", "wait for the index ms"]
        print(table(headers, ingest(size, args.ingest)))
    texts = statements(args.queries)
    candidates = [int(n) for n in args.candidates.split(",")]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += run(size, texts, candidates)
        print(f"  {size:,} done ({linked(size).name})", flush=True)
    print(f"\nmachine after: {machine()}\n")
    headers = ["claims", "search", "p50 ms", "p99 ms", "recall@50", "build s", "index MiB"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
