"""Lexical search at 100k and 1M claims: FTS5's BM25 against the tantivy index, in one process.

    python bench/lexical.py [--sizes 100000,1000000] [--queries 300] [--candidates 50,100,200]

Stores: bench/check.py's cached stores (``store-N.db`` in ``$FACTCHECK_BENCH_CACHE``; run
bench/check.py first to build them). Each is opened through a link in
``<cache>/lexical/N/``, so that its tantivy index is built and saved beside the link and
the cached store is only read; the link is opened under another model name with
``allow_model_change``, so no vector index is loaded (only lexical search runs here).
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
    with FTS5's exact formula over FTS5's terms counts and document sizes).
Recall@50 against FTS5's top 50, counting ties fairly: a returned claim counts when it
is in FTS5's top 50 or its FTS5 score equals FTS5's 50th score (which of several claims
tied at the cut FTS5 returns is arbitrary). The store's path returns FTS5 scores; the raw
rows' hits are scored with the same formula (``fts5_bm25``) to be judged. The raw rows'
times include that scoring (it is what the store's path does too). Statements FTS5
finds nothing for are left out.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from common import CACHE, machine, percentile, statements, table

from service.store import EmbeddingInfo, LexicalIndexKind, SearchFilter, SqliteStore
from service.store.text_index import fts5_bm25, fts5_stats, varints

K = 50
WARM_UP = 5
# Any name but the store's: with allow_model_change the file is opened without its vectors.
INFO = EmbeddingInfo(model="bench-lexical", dimension=384)


def linked(size: int) -> Path:
    folder = CACHE / "lexical" / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / f"store-{size}.db"
    if not link.exists():
        target = CACHE / f"store-{size}.db"
        if not target.exists():
            raise SystemExit(f"{target} is missing: build it with bench/check.py first")
        link.symlink_to(target)
    return link


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
    assert store._text is not None
    phrases = [p for p in map(store._terms.phrase, store._lexical_words(query)) if p]
    count, avgdl = fts5_stats(store._db, "claims_fts")
    ids = store._text.candidates(phrases, K, count if fts5_idf else None)
    if not ids:
        return []
    rows = store._db.execute(
        "SELECT c.id, c.text, s.sz FROM claims c JOIN claims_fts_docsize s ON s.id = c.id "
        f"WHERE c.id IN ({', '.join('?' * len(ids))})",
        ids,
    ).fetchall()
    freqs = store._terms.counts([r[1] for r in rows], phrases)
    docs = zip((r[0] for r in rows), (varints(r[2])[0] for r in rows), freqs, strict=True)
    return fts5_bm25(docs, store._text.doc_freqs(phrases), count, avgdl)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--candidates", default="50,100,200")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    texts = statements(args.queries)
    candidates = [int(n) for n in args.candidates.split(",")]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += run(size, texts, candidates)
        print(f"  {size:,} done", flush=True)
    print(f"\nmachine after: {machine()}\n")
    headers = ["claims", "search", "p50 ms", "p99 ms", "recall@50", "build s", "index MiB"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
