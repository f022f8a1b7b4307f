"""Check latency and throughput at 10k, 100k and 1M claims, against the floor, in one run.

    python bench/check.py [--sizes 10000,100000,1000000] [--queries 60] [--clients 4]
                          [--top-k 5] [--profile SIZE]

Stores (built once into the bench cache, ../bench-cache/store-N.db beside the checkout or
$FACTCHECK_BENCH_CACHE, reused while they exist):
  * real claims: every claim of the demo corpus and every Climate-FEVER (dev + train)
    evidence sentence, embedded with the service's model (~3,800 claims);
  * synthetic claims fill the rest: claim i mixes two random real claims a and b,
    vector = normalise(v_a + 0.5 v_b + 0.35 g) with g Gaussian of unit expected norm,
    text = the first half of a's words + the second half of b's. Embedding a million
    sentences on 2 cores would take hours, so these rows are inserted into the SQLite
    file directly (same schema; the FTS5 triggers index their text), 10 claims per
    document, 20 sources, dates over 2015-2024. Claims are then annotated with the
    service's spaCy pipeline, as ingest does: every claim up to 100k claims; at 1M the
    ones a bench statement can read (``reachable``), since a check reads only those.
    Stores of 100k claims and more get their HNSW graph built once and saved beside the
    file (``<store>.hnsw``).
Statements: Climate-FEVER dev claims (their evidence is in every store); each is sent
once per measurement, so the query-embedding cache never hits.

Service: a live uvicorn on 127.0.0.1 (child process, default settings; the ``auto``
vector index is exact below 50k claims, HNSW above), httpx, ``POST /v1/check`` with
``top_k``: single client p50/p99, then ``--clients`` concurrent clients (checks/s).
Floor, in this process, for the same statements, with the service's model runtimes and
intra-op threads: the statement's embedding (``SentenceTransformer.encode``, or a bare
ONNX Runtime session on the same weights when the service runs ONNX) + the raw vector
search call (numpy matrix-vector product for exact stores, ``usearch`` ``Index.search``
on the saved graph for HNSW ones) + the stance model on the ``top_k`` (passage,
statement) pairs the service judged (``CrossEncoder.predict`` in the service's dtype, or
a bare session).
Recall@10: the store's HNSW search (int8 graph, candidates re-scored in float32) and
the bare graph, against exact search over every float32 vector, for the same statements.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
from common import (
    CACHE,
    eval_records,
    live_server,
    machine,
    percentile,
    rss_mb,
    statements,
    table,
)

from service.corpus import demo_documents
from service.embed import resolve_model
from service.onnx_backend import onnx_session
from service.onnx_backend import run as onnx_run
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings
from service.split import split_document
from service.store import EmbeddingInfo, SearchFilter, SqliteStore
from service.store.ann import HnswIndex

# Stores up to this size are annotated whole; above it, only the claims a bench statement
# can read (spaCy makes ~400 annotations/s on a quiet core: 1M would take 45 min or more,
# and the annotations nothing reads change no figure).
ANNOTATE_ALL = 100_000
INFO = EmbeddingInfo(model=DEFAULT_EMBEDDING_MODEL, dimension=384)
SOURCES = [f"source-{i:02d}" for i in range(20)]


def encoder() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(DEFAULT_EMBEDDING_MODEL), device="cpu")


def real_claims(model: Any) -> tuple[list[str], np.ndarray]:
    """Real claim texts and their embeddings (cached)."""
    path = CACHE / "real-claims.npz"
    if path.exists():
        data = np.load(path)
        return [str(t) for t in data["texts"]], data["vectors"]
    texts: list[str] = []
    for doc in demo_documents(Settings().demo_path):
        texts += [c.text for c in split_document(doc.text, title=doc.title).claims]
    for record in eval_records():
        texts += [ev["evidence"] for ev in record["evidences"]]  # type: ignore[attr-defined]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, texts=np.array(texts), vectors=vectors)
    return texts, vectors


def synthetic(
    texts: list[str], vectors: np.ndarray, start: int, count: int
) -> tuple[list[str], np.ndarray]:
    """``count`` synthetic claims derived from the real ones (deterministic per ``start``)."""
    rng = np.random.default_rng(start)
    a = rng.integers(0, len(texts), count)
    b = rng.integers(0, len(texts), count)
    dim = vectors.shape[1]
    mixed = vectors[a] + 0.5 * vectors[b] + 0.35 * rng.standard_normal((count, dim)) / np.sqrt(dim)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    words = [t.split() for t in texts]
    out = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        left, right = words[i], words[j]
        out.append(" ".join(left[: max(1, len(left) // 2)] + right[len(right) // 2 :]))
    return out, mixed.astype(np.float32)


def build_store(size: int, texts: list[str], vectors: np.ndarray) -> Path:
    """A store of ``size`` claims (cached); HNSW graph saved beside it from 100k claims."""
    path = CACHE / f"store-{size}.db"
    if path.exists():
        return path
    t0 = time.perf_counter()
    tmp = path.with_suffix(".building")
    for old in CACHE.glob(f"{tmp.name}*"):
        old.unlink()
    SqliteStore(tmp, INFO, vector_index="exact").close()  # schema and meta
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    now = "2026-01-01T00:00:00+00:00"
    chunk = 100_000
    for start in range(0, size, chunk):
        n = min(chunk, size - start)
        real = max(0, min(n, len(texts) - start))
        batch_texts, batch_vectors = texts[start : start + real], vectors[start : start + real]
        if n > real:
            more_texts, more_vectors = synthetic(texts, vectors, start, n - real)
            batch_texts = batch_texts + more_texts
            batch_vectors = np.concatenate([batch_vectors, more_vectors])
        first_doc, last_doc = start // 10, (start + n - 1) // 10
        db.executemany(
            "INSERT INTO documents VALUES "
            "(?, ?, ?, NULL, ?, ?, ?, 'en', '{}', ?, 'active', 1, ?, ?, NULL)",
            [
                (
                    f"doc-{d}",
                    f"document {d}",
                    "",
                    SOURCES[d % 20],
                    f"{2015 + d % 10}-{1 + d % 12:02d}-01",
                    f"{2015 + d % 10}-{1 + d % 12:02d}-01",
                    f"h{d}",
                    now,
                    now,
                )
                for d in range(first_doc, last_doc + 1)
            ],
        )
        db.executemany(
            'INSERT INTO claims (id, document_id, seq, text, start, "end", context, embedding) '
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
            [
                (
                    start + i + 1,
                    f"doc-{(start + i) // 10}",
                    (start + i) % 10,
                    t,
                    len(t),
                    t,
                    v.tobytes(),
                )
                for i, (t, v) in enumerate(zip(batch_texts, batch_vectors, strict=True))
            ],
        )
        print(
            f"  built {start + n:,}/{size:,} claims ({time.perf_counter() - t0:.0f} s)", flush=True
        )
    db.execute("INSERT OR REPLACE INTO meta VALUES ('index_version', '1')")
    db.execute("COMMIT")
    db.close()
    annotate_claims(tmp, t0, None if size <= ANNOTATE_ALL else reachable(tmp))
    if size >= 100_000:
        t1 = time.perf_counter()
        SqliteStore(tmp, INFO, vector_index="hnsw").close()  # builds and saves <store>.hnsw
        print(f"  HNSW graph built in {time.perf_counter() - t1:.0f} s", flush=True)
    for file in CACHE.glob(f"{tmp.name}*"):
        file.rename(CACHE / file.name.replace(tmp.name, path.name))
    print(f"  store-{size} built in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def reachable(path: Path) -> list[int]:
    """Claims a bench statement can read: the real ones, and each statement's exact dense
    and FTS5 top 100 (retrieval takes 50 of each), for the first 200 statements."""
    model = encoder()
    pool = statements(200)
    queries = model.encode(pool, normalize_embeddings=True).astype(np.float32)
    ids, matrix = all_vectors(path)
    found = set(range(1, len(real_claims(model)[0]) + 1))
    store = SqliteStore(path, INFO, vector_index="exact")
    for text, q in zip(pool, queries, strict=True):
        found.update(exact_top(ids, matrix, q, 100))
        found.update(i for i, _ in store.search_text(text, 100, SearchFilter()))
    store.close()
    return sorted(found)


def annotate_claims(path: Path, t0: float, only: list[int] | None) -> None:
    """Annotate the claims (``only`` those, else every one) as ingest would have."""
    from service.judge.annotate import ANNOTATION_VERSION, annotate_many, encode

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    select = (
        "SELECT c.id, c.text, d.published_date FROM claims c "
        "JOIN documents d ON d.id = c.document_id WHERE c.id {} ORDER BY c.id LIMIT 4096"
    )
    done, last = 0, 0
    while True:
        if only is None:
            rows = db.execute(select.format("> ?"), (last,)).fetchall()
        else:
            chunk = only[done : done + 4096]
            rows = db.execute(
                select.format(f"IN ({', '.join('?' * len(chunk))})"), chunk
            ).fetchall()
        if not rows:
            break
        found = annotate_many(
            [(text, datetime.date.fromisoformat(day) if day else None) for _, text, day in rows]
        )
        db.executemany(
            "UPDATE claims SET annotation = ?, annotation_version = ? WHERE id = ?",
            [(encode(a), ANNOTATION_VERSION, r[0]) for r, a in zip(rows, found, strict=True)],
        )
        last, done = rows[-1][0], done + len(rows)
        if done % 102_400 < 4096:
            print(f"  annotated {done:,} claims ({time.perf_counter() - t0:.0f} s)", flush=True)
    db.close()


def all_vectors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, embedding FROM claims ORDER BY id").fetchall()
    db.close()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)


def exact_top(ids: np.ndarray, matrix: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    scores = matrix @ q
    top = np.argpartition(-scores, k - 1)[:k]
    return [int(ids[i]) for i in top[np.argsort(-scores[top])]]


def recall(
    path: Path, queries: np.ndarray, ids: np.ndarray, matrix: np.ndarray
) -> tuple[float, float]:
    """Recall@10 of the store's HNSW search and of the bare graph against exact search."""
    store = SqliteStore(path, INFO, vector_index="hnsw")
    graph: HnswIndex = store._index  # type: ignore[assignment]
    store_hits = graph_hits = 0
    for q in queries:
        truth = set(exact_top(ids, matrix, q, 10))
        store_hits += len(truth & {i for i, _ in store.search_vector(q, 10, SearchFilter())})
        graph_hits += len(truth & {i for i, _ in graph.search(q, 10)})
    store.close()
    return store_hits / (10 * len(queries)), graph_hits / (10 * len(queries))


def lexical_pruning(
    path: Path, texts: list[str], vectors: np.ndarray, max_df: float, top_k: int
) -> list[object]:
    """BM25 latency with all words vs without common ones, and how much the top hits move."""
    from service.retrieve import fuse

    full = SqliteStore(path, INFO, vector_index="hnsw")
    pruned = SqliteStore(path, INFO, vector_index="hnsw", lexical_max_df=max_df)
    times: dict[str, list[float]] = {"full": [], "pruned": []}
    lexical = fused = 0
    flt = SearchFilter()
    for text, q in zip(texts, vectors, strict=True):
        found = {}
        for name, store in (("full", full), ("pruned", pruned)):
            t0 = time.perf_counter()
            found[name] = store.search_text(text, 50, flt)
            times[name].append((time.perf_counter() - t0) * 1000)
        dense = full.search_vector(q, 50, flt)
        lexical += len({i for i, _ in found["full"]} & {i for i, _ in found["pruned"]})
        top = [{c.claim_id for c in fuse(dense, found[n])[:top_k]} for n in ("full", "pruned")]
        fused += len(top[0] & top[1])
    full.close()
    pruned.close()
    return [
        f"{len(full._index):,}",
        percentile(times["full"], 50),
        percentile(times["pruned"], 50),
        percentile(times["pruned"], 99),
        lexical / (50 * len(texts)),
        fused / (top_k * len(texts)),
    ]


def service_run(base: str, texts: list[str], top_k: int, clients: int) -> dict[str, Any]:
    """Single-client latencies, then concurrent throughput, over distinct statements."""
    single, many = texts[: len(texts) // 2], texts[len(texts) // 2 :]
    latencies, responses = [], []
    with httpx.Client(base_url=base, timeout=120) as http:
        for t in statements(200)[-5:]:  # warm-up, statements not measured
            http.post("/v1/check", json={"statement": t, "top_k": top_k}).raise_for_status()
        for t in single:
            t0 = time.perf_counter()
            r = http.post("/v1/check", json={"statement": t, "top_k": top_k})
            latencies.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            responses.append(r.json())
    queue = list(many)
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    t = queue.pop()
                http.post("/v1/check", json={"statement": t, "top_k": top_k}).raise_for_status()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rate = len(many) / (time.perf_counter() - t0)
    return {"latencies": latencies, "responses": responses, "statements": single, "rate": rate}


def raw_models(model: Any, stance_path: str, served: Settings) -> tuple[Any, Any]:
    """The floor's two model calls, each on the runtime and threads the service uses.

    A torch model is called through sentence-transformers (the stance model in the
    service's dtype: bf16 or fp32); an ONNX one through a bare ONNX Runtime session on the
    file the service's exporter writes from the same weights (into the bench cache).
    """
    from sentence_transformers import CrossEncoder

    names = ("input_ids", "attention_mask", "token_type_ids")
    cache = str(CACHE / "onnx")
    emb_rt = msgspec.structs.replace(served.runtime(served.embedding_backend), onnx_cache=cache)
    st_rt = msgspec.structs.replace(served.runtime(served.stance_backend), onnx_cache=cache)
    stance = CrossEncoder(
        stance_path, device="cpu", max_length=256, model_kwargs={"dtype": st_rt.torch_dtype}
    )

    def encode_torch(text: str) -> np.ndarray:
        return model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]

    def judge_torch(pairs: list[tuple[str, str]]) -> np.ndarray:
        return stance.predict(pairs, batch_size=32, show_progress_bar=False)

    encode, judge = encode_torch, judge_torch
    if emb_rt.onnx:
        emb = onnx_session(
            model[0].auto_model,
            model.tokenizer,
            resolve_model(DEFAULT_EMBEDDING_MODEL),
            emb_rt,
            output="last_hidden_state",
        )

        def encode(text: str) -> np.ndarray:
            enc = model.tokenizer([text], truncation=True, max_length=256, return_tensors="np")
            hidden = emb.run(None, {n: enc[n] for n in names})[0][0]
            v = hidden.mean(axis=0)
            return v / np.linalg.norm(v)

    if st_rt.onnx:
        ce = onnx_session(stance.model, stance.tokenizer, stance_path, st_rt, output="logits")

        def judge(pairs: list[tuple[str, str]]) -> np.ndarray:
            passages, hypotheses = [p for p, _ in pairs], [h for _, h in pairs]
            return onnx_run(ce, stance.tokenizer, passages, hypotheses, 256)[0]

    return encode, judge


def floor_run(
    path: Path,
    hnsw: bool,
    run: dict[str, Any],
    calls: tuple[Any, Any],
    top_k: int,
    ids: np.ndarray,
    matrix: np.ndarray,
    expansion: int,
) -> list[float]:
    """encode + raw vector search + stance on the judged pairs, per statement (ms)."""
    encode, judge = calls
    graph = None
    if hnsw:
        from usearch.index import Index

        graph = Index.restore(str(path) + ".hnsw")
        graph.expansion_search = expansion  # as wide as the service's search
    times = []
    for text, response in zip(run["statements"], run["responses"], strict=True):
        pairs = [(e["text"], text) for e in response["evidence"]]
        t0 = time.perf_counter()
        q = encode(text)
        if graph is not None:
            graph.search(q, top_k, threads=1)
        else:
            exact_top(ids, matrix, q, top_k)
        if pairs:
            judge(pairs)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def profile(size: int, texts: list[str], top_k: int) -> None:
    """pyinstrument over Engine.check_many in this process: where a check's time goes.

    ``check_many`` directly (a batch of one, what the micro-batcher's worker runs), so the
    profiler sees the work in its own thread rather than a wait on the worker.
    """
    from pyinstrument import Profiler

    from service.engine import Engine
    from service.schemas import CheckRequest

    settings = Settings.from_env(store=str(CACHE / f"store-{size}.db"), verdict_model="")
    engine = Engine.open(settings)
    for t in texts[:3]:
        engine.check_many([CheckRequest(statement=t, top_k=top_k)])
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for t in texts[3:]:
        engine.check_many([CheckRequest(statement=t, top_k=top_k)])
    profiler.stop()
    engine.close()
    print(f"\n### profile: Engine.check_many at {size:,} claims, {len(texts) - 3} statements\n")
    print(profiler.output_text(time="percent_of_total"))
    flat = profiler.output_text(flat=True, time="percent_of_total").splitlines()
    print("\n".join(flat[:30]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=60, help="statements per single-client run")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, help="also profile Engine.check at SIZE")
    ap.add_argument(
        "--lexical-max-df", type=float, default=0.0, help="also measure BM25 word pruning"
    )
    ap.add_argument("--env", action="append", default=[], help="extra FACTCHECK_X=Y for the server")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine()}")
    import torch

    model = encoder()
    texts, vectors = real_claims(model)
    stance_path = Settings.from_env().stance_model
    print(f"real claims: {len(texts):,}; stance model: {stance_path}")
    pool = statements(10_000)[: 2 * args.queries]
    pool_vectors = model.encode(pool, normalize_embeddings=True).astype(np.float32)
    extra_env = dict(e.split("=", 1) for e in args.env)
    served = Settings.from_env({**os.environ, **extra_env})
    if served.intra_op_threads:
        torch.set_num_threads(served.intra_op_threads)
    calls = raw_models(model, stance_path, served)
    print(
        f"service: embedding {served.runtime(served.embedding_backend).backend}, "
        f"stance {served.runtime(served.stance_backend).backend}, "
        f"intra-op threads {served.intra_op_threads or 'default'}; floor: the same runtimes "
        "(bare onnxruntime sessions for ONNX, sentence-transformers for torch), same threads"
    )
    rows, recall_rows, memory_rows, lexical_rows = [], [], [], []
    p50_100k = None
    for size in sizes:
        path = build_store(size, texts, vectors)
        ids, matrix = all_vectors(path)
        kind = extra_env.get("FACTCHECK_VECTOR_INDEX", "auto")
        hnsw = kind == "hnsw" or (kind == "auto" and size >= Settings().ann_min_claims)
        if size >= 100_000 or hnsw:
            store_recall, graph_recall = recall(path, pool_vectors, ids, matrix)
            recall_rows.append([f"{size:,}", store_recall, graph_recall])
        if args.lexical_max_df and size >= 100_000:
            lexical_rows.append(
                lexical_pruning(path, pool, pool_vectors, args.lexical_max_df, args.top_k)
            )
        env = {"FACTCHECK_STORE": str(path), "FACTCHECK_VERDICT_MODEL": "", **extra_env}
        with live_server(env) as (base, pid):
            run = service_run(base, pool, args.top_k, args.clients)
            server_rss = rss_mb(pid)
        floor = floor_run(
            path, hnsw, run, calls, args.top_k, ids, matrix, served.ann_expansion_search
        )
        del matrix
        lat = run["latencies"]
        server_ms = [r["timings"]["total_ms"] for r in run["responses"]]
        p50, f50 = percentile(lat, 50), percentile(floor, 50)
        if size == 100_000:
            p50_100k = p50
        rows.append(
            [
                f"{size:,}",
                "hnsw" if hnsw else "exact",
                p50,
                percentile(lat, 99),
                percentile(server_ms, 50),
                f50,
                p50 / f50,
                run["rate"],
                server_rss,
            ]
        )
        memory_rows.append([f"{size:,}", server_rss, store_rss(path, hnsw)])
        print(f"  {size:,}: p50 {p50:.1f} ms, floor {f50:.1f} ms ({machine()})", flush=True)
    print(f"\nmachine after: {machine()}\n")
    print(
        table(
            [
                "claims",
                "index",
                "p50 ms",
                "p99 ms",
                "server p50 ms",
                "floor p50 ms",
                "p50 / floor",
                f"checks/s ({args.clients} clients)",
                "server RSS MiB",
            ],
            rows,
        )
    )
    if recall_rows:
        print()
        print(
            table(
                [
                    "claims",
                    "recall@10 (store: graph + float32 re-score)",
                    "recall@10 (bare int8 graph)",
                ],
                recall_rows,
            )
        )
    if lexical_rows:
        print(f"\nBM25 without words in over {args.lexical_max_df:.0%} of the claims:\n")
        print(
            table(
                [
                    "claims",
                    "BM25 p50 ms (all words)",
                    "p50 ms (pruned)",
                    "p99 ms (pruned)",
                    "top-50 lexical overlap",
                    f"fused top-{args.top_k} overlap",
                ],
                lexical_rows,
            )
        )
    print()
    print(table(["claims", "service RSS MiB (models + store)", "store alone RSS MiB"], memory_rows))
    if p50_100k and any(r[0] == "1,000,000" for r in rows):
        p50_1m = next(r[2] for r in rows if r[0] == "1,000,000")
        print(f"\n1M p50 / 100k p50: {p50_1m / p50_100k:.2f} (target ≤ 2)")
    if args.profile:
        profile(args.profile, pool[: args.queries // 2 + 3], args.top_k)


def store_rss(path: Path, hnsw: bool) -> float:
    """RSS of a fresh process that opens the store (no models) and runs one search."""
    code = (
        "import sys, numpy as np; sys.path.insert(0, sys.argv[1]);"
        "from service.store import SqliteStore, EmbeddingInfo, SearchFilter;"
        f"info = EmbeddingInfo(model={DEFAULT_EMBEDDING_MODEL!r}, dimension=384);"
        f"s = SqliteStore(sys.argv[2], info, vector_index={'hnsw' if hnsw else 'exact'!r});"
        "q = np.ones(384, dtype=np.float32) / 384 ** 0.5; s.search_vector(q, 50, SearchFilter());"
        "s.search_text('global warming sea level', 50, SearchFilter());"
        "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code, root, str(path)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    main()
