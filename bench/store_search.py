"""Vector search at scale on both stores: latency and recall@10, HNSW vs exact.

    PYTHONPATH=. .venv/bin/python bench/store_search.py --sizes 100000 1000000

Claims are synthetic, built from real embeddings: every sentence of the demo corpus and
of the climate-fever eval files (claims and evidence, ~4k sentences) is embedded with the
service's embedding model; each synthetic claim is ``normalise(w·a + (1−w)·b + σ·g)``
for two random real sentences ``a``, ``b``, ``w ~ U(0, 1)`` and Gaussian noise ``g``
(σ = 0.02 per dimension, a noise norm of ≈0.4 against a signal norm of ≈1). Queries are
drawn the same way and are not in the store. Ground truth is exact top-10 by numpy.

Each store is bulk-loaded with its own schema (rows straight into its tables, as an
import job would), then searched through the store's ``search_vector``:

* ``sqlite exact``: the SQLite store's in-process matrix (it has no ANN index).
* ``postgres hnsw``: the PostgreSQL store's unfiltered path (HNSW, m=16,
  ef_construction=64, ef_search = max(100, 2k)).
* ``postgres exact``: the PostgreSQL store's filtered path (an exact scan), with a filter
  that admits every claim.

PostgreSQL runs on pgserver (16 + pgvector 0.6) in a temporary folder, or on ``--url``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from service.corpus import demo_documents
from service.embed import Embedder, offline_mode
from service.engine import embedding_info
from service.settings import DEFAULT_EMBEDDING_MODEL, PROJECT_ROOT
from service.split import split_document
from service.store import EmbeddingInfo, SearchFilter, Store
from service.store.postgres import PostgresStore, create_vector_index
from service.store.sqlite import SqliteStore

DATA = PROJECT_ROOT.parent / "shared" / "data"
CLAIMS_PER_DOC = 1000
NOISE = 0.02
K = 10
EVERYTHING = SearchFilter(published_after=dt.date(1900, 1, 1))  # forces the exact path
NO_FILTER = SearchFilter()


def real_sentences() -> list[str]:
    texts = [c.text for d in demo_documents(DATA / "seeds") for c in split_document(d.text).claims]
    for path in sorted((DATA / "eval").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            texts.append(row["claim"])
            texts.extend(e["evidence"] for e in row["evidences"])
    return list(dict.fromkeys(texts))


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        a, b = base[rng.integers(len(base), size=m)], base[rng.integers(len(base), size=m)]
        w = rng.random((m, 1), dtype=np.float32)
        x = w * a + (1 - w) * b + NOISE * rng.standard_normal(a.shape, dtype=np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top(matrix: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """Row numbers of the exact top-k of each query (ids are row + 1 in both stores)."""
    truth = []
    for q in queries:
        scores = matrix @ q
        top = np.argpartition(-scores, K)[:K]
        truth.append({int(i) + 1 for i in top})
    return truth


def doc_rows(n: int) -> Iterator[tuple[str, ...]]:
    for d in range(0, n, CLAIMS_PER_DOC):
        yield (f"bench-{d // CLAIMS_PER_DOC}", "2024-01-01")


def load_sqlite(path: Path, info: EmbeddingInfo, texts: list[str], matrix: np.ndarray) -> None:
    SqliteStore(path, info).close()  # schema and model record
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO documents VALUES (?, ?, '', NULL, 'bench', ?, ?, 'en', '{}', ?, "
            "'active', 1, '', '', NULL)",
            ((i, i, day, day, i) for i, day in doc_rows(len(matrix))),
        )
        db.executemany(
            'INSERT INTO claims (id, document_id, seq, text, start, "end", context, embedding) '
            "VALUES (?, ?, ?, ?, 0, 1, '', ?)",
            (
                (n + 1, f"bench-{n // CLAIMS_PER_DOC}", n, texts[n % len(texts)], v.tobytes())
                for n, v in enumerate(matrix)
            ),
        )
        db.execute("INSERT OR REPLACE INTO meta VALUES ('index_version', '1')")
    db.close()


def load_postgres(url: str, info: EmbeddingInfo, texts: list[str], matrix: np.ndarray) -> float:
    """Bulk-load with the HNSW index dropped, then build it; returns the build seconds."""
    PostgresStore(url, info).close()  # migrations, model record, typed column
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP INDEX claims_embedding_hnsw")
        with conn.cursor().copy(
            "COPY documents (id, title, text, source, published_at, published_date, language, "
            "metadata, content_hash, status, version, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i, day in doc_rows(len(matrix)):
                copy.write_row((i, i, "", "bench", day, day, "en", "{}", i, "active", 1, "", ""))
        with conn.cursor().copy(
            'COPY claims (id, document_id, seq, text, start, "end", context, embedding) '
            "FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "text", "int4", "text", "int4", "int4", "text", "vector"])
            for n, v in enumerate(matrix):
                doc = f"bench-{n // CLAIMS_PER_DOC}"
                copy.write_row((n + 1, doc, n, texts[n % len(texts)], 0, 1, "", v))
        conn.execute("UPDATE store_state SET index_version = 1")
        conn.execute("SET maintenance_work_mem = '4GB'")  # the graph fits: no spill to disk
        t0 = time.perf_counter()
        create_vector_index(conn)
        build = time.perf_counter() - t0
        conn.execute("VACUUM ANALYZE claims")
    return build


def search_top(store: Store, flt: SearchFilter, query: np.ndarray) -> list[tuple[int, float]]:
    return store.search_vector(query, K, flt)


def measure(
    search: Callable[[np.ndarray], list[tuple[int, float]]],
    queries: np.ndarray,
    truth: list[set[int]],
) -> tuple[float, float, float]:
    """Median and p95 latency (ms) and mean recall@10."""
    search(queries[0])  # warm caches and the connection
    times, recalls = [], []
    for q, want in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        hits = search(q)
        times.append((time.perf_counter() - t0) * 1000)
        recalls.append(len({i for i, _ in hits} & want) / K)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return statistics.median(times), p95, statistics.fmean(recalls)


@contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="bench-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--exact-queries", type=int, default=30, help="for postgres exact")
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--url", help="a PostgreSQL server URL (default: a temporary pgserver)")
    args = parser.parse_args()

    offline_mode(True)
    embedder = Embedder(DEFAULT_EMBEDDING_MODEL)
    info = embedding_info(embedder)
    texts = real_sentences()
    base = embedder.encode(texts).astype(np.float32)
    print(f"{len(texts)} real sentences embedded with {info.model} ({info.dimension} dims)")
    rng = np.random.default_rng(0)
    queries = synthetic(base, args.queries, rng)

    rows: list[tuple[str, ...]] = []
    with postgres_url(args.url) as server, tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            matrix = synthetic(base, size, rng)
            truth = exact_top(matrix, queries)
            for kind in args.stores:
                t0 = time.perf_counter()
                store: Store
                built = ""
                if kind == "sqlite":
                    path = Path(tmp) / f"bench-{size}.db"
                    load_sqlite(path, info, texts, matrix)
                    loaded = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    store = SqliteStore(path, info)
                    built = f"open {time.perf_counter() - t1:.0f} s"
                    modes = [("exact", NO_FILTER, args.queries)]  # always exact
                else:
                    url = fresh_database(server, f"bench_{size}")
                    build = load_postgres(url, info, texts, matrix)
                    loaded = time.perf_counter() - t0 - build
                    built = f"hnsw {build:.0f} s"
                    store = PostgresStore(url, info)
                    modes = [
                        ("hnsw", NO_FILTER, args.queries),
                        ("exact", EVERYTHING, args.exact_queries),
                    ]
                for mode, flt, count in modes:
                    n = min(count, len(queries))
                    median, p95, recall = measure(
                        partial(search_top, store, flt), queries[:n], truth[:n]
                    )
                    rows.append(
                        (
                            f"{size:,}",
                            kind,
                            mode,
                            f"{loaded:.0f} s",
                            built,
                            str(n),
                            f"{median:.1f}",
                            f"{p95:.1f}",
                            f"{recall:.3f}",
                        )
                    )
                    print(" | ".join(rows[-1]), flush=True)
                store.close()
                if kind == "sqlite":
                    path.unlink()
                    for suffix in ("-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            del matrix
    header = (
        "claims",
        "store",
        "search",
        "load",
        "index build / open",
        "queries",
        "p50 ms",
        "p95 ms",
        "recall@10",
    )
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
