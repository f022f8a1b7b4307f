"""HNSW settings at 100k and 1M claims: recall@10 against exact search, latency, build, RSS.

    python bench/ann.py [--sizes 100000,1000000] [--queries 300]
                        [--graphs i8:16:128,f16:16:128] [--searches 96:200,128:10]
                        [--neighbours]

Stores and statements are bench/check.py's (same corpus construction, same cache): 2,633
real claims, the rest synthetic mixes of two of them. Statements: the first
``--queries`` Climate-FEVER dev claims, embedded once (cached). Truth: the exact top 10
by numpy over every float32 vector of the store.

A graph is ``dtype:connectivity:expansion_add``; it is built through the store (a
``SqliteStore`` opened with those ``HnswParams`` on a link to the cached store, in
``<cache>/ann/<size>-<graph>/``, so that each graph is saved beside its own link and
kept), in a child process, timed once (``build.json``). A search setting is
``expansion_search:rescore``. Each (graph, search setting) runs in a fresh child process
that opens the store (loading the saved graph), runs a few warm-up searches, reads its
resident set (the store's RSS: no models, as a deployment that only serves lookups),
then loads the float32 matrix and, statement by statement, times
``store.search_vector(q, 10)`` and exact search back to back, so that their ratio
survives the noisy shared machine. Recall@10 of ``search_vector(q, 10)``, of the top 10
of ``search_vector(q, 50)`` (the service asks for ``candidates`` = 50), and of the bare
graph (no re-scoring); once per graph, of usearch's ``exact=True`` brute force over the
graph's own vectors (what its dtype allows at best).

``--raw``: the lever sweep without the store: each graph built directly with usearch on
the cached vectors (keys = claim ids; saved as ``<cache>/ann/raw-<size>-<graph>.usearch``),
then for each ``expansion_search`` and number of candidates re-scored with the float32
vectors (``--raw-searches``): recall@10, ms per statement (one thread), the graph's mean
links per node at level 0, and its recall when a node is searched by its own vector.

``--neighbours``: how the synthetic claims sit next to the real ones (nearest-neighbour
cosines, how many of a synthetic claim's neighbours share its first parent, and how many
claims crowd a statement's 10th neighbour).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from check import INFO, all_vectors, build_store, encoder, real_claims, synthetic
from common import CACHE, machine, percentile, statements, table

from service.store import HnswParams, SearchFilter, SqliteStore
from service.store.ann import HnswIndex

DEFAULT = HnswParams()
WARM_UP = 5


def params(graph: str, search: str = "") -> HnswParams:
    dtype, connectivity, expansion_add = graph.split(":")
    fields: dict[str, Any] = {
        "dtype": dtype,
        "connectivity": int(connectivity),
        "expansion_add": int(expansion_add),
    }
    if search:
        expansion_search, rescore = search.split(":")
        fields |= {"expansion_search": int(expansion_search), "rescore": int(rescore)}
    return HnswParams(**fields)


def linked_store(size: int, graph: str) -> Path:
    """A link to the cached store in a folder of its own, where this graph is saved."""
    folder = CACHE / "ann" / f"{size}-{graph.replace(':', '-')}"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / f"store-{size}.db"
    if not link.exists():
        link.symlink_to(CACHE / f"store-{size}.db")
    return link


def queries(count: int) -> np.ndarray:
    path = CACHE / f"statements-{count}.npy"
    if not path.exists():
        vectors = encoder().encode(statements(count), normalize_embeddings=True)
        np.save(path, vectors.astype(np.float32))
    return np.load(path)


def matrix(size: int) -> np.ndarray:
    """Every vector of the store, row i = claim id i + 1 (cached as .npy: fast to load)."""
    path = CACHE / f"vectors-{size}.npy"
    if not path.exists():
        ids, vectors = all_vectors(CACHE / f"store-{size}.db")
        assert (ids == np.arange(1, size + 1)).all()
        np.save(path, vectors)
    return np.load(path)


def exact_top(vectors: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Claim ids of the exact top ``k`` (the store's ExactIndex does the same)."""
    scores = vectors @ q
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])] + 1


def truth(size: int, qs: np.ndarray) -> np.ndarray:
    path = CACHE / f"truth-{size}-{len(qs)}.npy"
    if not path.exists():
        vectors = matrix(size)
        np.save(path, np.stack([exact_top(vectors, q, 10) for q in qs]))
    return np.load(path)


def rss_mib() -> tuple[float, float]:
    """This process's resident set and its peak, MiB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def hits(found: Any, want: np.ndarray) -> int:
    return len({int(i) for i in found} & set(want.tolist()))


def child_build(size: int, graph: str) -> dict[str, Any]:
    link = linked_store(size, graph)
    t0 = time.perf_counter()
    SqliteStore(link, INFO, vector_index="hnsw", hnsw=params(graph)).close()
    return {"build_s": time.perf_counter() - t0}


def child_search(size: int, graph: str, search: str, count: int, brute: bool) -> dict[str, Any]:
    link = linked_store(size, graph)
    qs, want = queries(count), truth(size, queries(count))
    t0 = time.perf_counter()
    store = SqliteStore(link, INFO, vector_index="hnsw", hnsw=params(graph, search))
    opened = time.perf_counter() - t0
    flt = SearchFilter()
    for q in qs[-WARM_UP:]:
        store.search_vector(q, 10, flt)
    store.search_text("global warming sea level", 50, flt)
    rss, peak = rss_mib()
    index: HnswIndex = store._index  # type: ignore[assignment]
    vectors = matrix(size)
    ann_ms, exact_ms = [], []
    got = {"k10": 0, "k50": 0, "bare": 0, "brute": 0}
    for q, truth_ids in zip(qs, want, strict=True):
        t1 = time.perf_counter()
        found = store.search_vector(q, 10, flt)
        t2 = time.perf_counter()
        exact_top(vectors, q, 10)
        t3 = time.perf_counter()
        ann_ms.append((t2 - t1) * 1000)
        exact_ms.append((t3 - t2) * 1000)
        got["k10"] += hits((i for i, _ in found), truth_ids)
        got["k50"] += hits((i for i, _ in store.search_vector(q, 50, flt)[:10]), truth_ids)
        got["bare"] += hits((i for i, _ in index.search(q, 10)), truth_ids)
    if brute:  # usearch's exhaustive search over the graph's own (quantised) vectors
        found_keys = index._index.search(qs, 10, exact=True, threads=0).keys
        got["brute"] = sum(hits(k, t) for k, t in zip(found_keys, want, strict=True))
    store.close()
    ann50, exact50 = percentile(ann_ms, 50), percentile(exact_ms, 50)
    return {
        "open_s": opened,
        "rss_mib": rss,
        "peak_mib": peak,
        "file_mib": Path(f"{link}.hnsw").stat().st_size / 2**20,
        "ann_p50": ann50,
        "exact_p50": exact50,
        "ratio": ann50 / exact50,
        **{f"recall_{k}": v / (10 * len(qs)) for k, v in got.items()},
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def sweep(size: int, graphs: list[str], searches: list[str], count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for graph in graphs:
        record = linked_store(size, graph).parent / "build.json"
        if not record.exists():
            record.write_text(json.dumps(run_child("build", str(size), graph)))
        build = json.loads(record.read_text())
        for n, search in enumerate(searches):
            r = run_child("search", str(size), graph, search, str(count), str(n == 0))
            print(f"  {size:,} {graph} {search}: {r} ({machine()})", flush=True)
            rows.append(
                [
                    f"{size:,}",
                    graph,
                    search,
                    f"{r['recall_k10']:.3f}",
                    f"{r['recall_k50']:.3f}",
                    f"{r['recall_bare']:.3f}",
                    f"{r['recall_brute']:.3f}" if n == 0 else "",
                    r["ann_p50"],
                    r["exact_p50"],
                    r["ratio"],
                    build["build_s"],
                    r["file_mib"],
                    r["rss_mib"],
                    r["peak_mib"],
                ]
            )
    return rows


def raw_sweep(size: int, graphs: list[str], searches: list[str], qs: np.ndarray) -> None:
    from usearch.index import Index

    want = truth(size, qs)
    vectors = matrix(size)
    rows: list[list[object]] = []
    for graph in graphs:
        p = params(graph)
        path = CACHE / "ann" / f"raw-{size}-{graph.replace(':', '-')}.usearch"
        t0 = time.perf_counter()
        if path.exists():
            index = Index.restore(str(path))
        else:
            index = Index(
                ndim=vectors.shape[1],
                metric="cos",
                dtype=p.dtype,
                connectivity=p.connectivity,
                expansion_add=p.expansion_add,
            )
            index.add(np.arange(1, size + 1), vectors, threads=0)
            index.save(str(path))
        built = time.perf_counter() - t0
        degree = index.level_stats(0).edges / size
        own = np.random.default_rng(1).choice(size, 2000, replace=False)
        for search in searches:
            expansion, rescore = (int(x) for x in search.split(":"))
            index.expansion_search = expansion
            t0 = time.perf_counter()
            found = index.search(qs, rescore, threads=1).keys
            ms = (time.perf_counter() - t0) / len(qs) * 1000
            got = 0
            for q, keys, truth_ids in zip(qs, found, want, strict=True):
                keys = keys[(keys >= 1) & (keys <= size)]
                got += hits(keys[np.argsort(-(vectors[keys - 1] @ q))[:10]], truth_ids)
            self_found = index.search(vectors[own], 1, threads=0).keys[:, 0] == own + 1
            rows.append(
                [
                    f"{size:,}",
                    graph,
                    search,
                    f"{got / (10 * len(qs)):.3f}",
                    ms,
                    float(self_found.mean()),
                    degree,
                    built,
                    path.stat().st_size / 2**20,
                ]
            )
            print(f"  {rows[-1]} ({machine()})", flush=True)
    print()
    print(
        table(
            [
                "claims",
                "graph (dtype:M:ef_add)",
                "ef_search:re-scored",
                "recall@10",
                "ms / statement",
                "own vector found",
                "links / node (level 0)",
                "build (or load) s",
                "file MiB",
            ],
            rows,
        )
    )


def neighbours(size: int, qs: np.ndarray, sample: int = 500) -> None:
    """The synthetic corpus next to the real claims: nearest-neighbour structure."""
    texts, real = real_claims(encoder())
    vectors = matrix(size)
    n_real = len(texts)
    rng = np.random.default_rng(0)

    def top_cosines(base: np.ndarray, points: np.ndarray, skip_self: bool, k: int) -> np.ndarray:
        scores = points @ base.T
        scores = -np.sort(-scores, axis=1)
        return scores[:, 1 : k + 1] if skip_self else scores[:, :k]

    # Nearest neighbour among the same kind of claims, at the real corpus's size and at size.
    _, same_size = synthetic(texts, real, n_real, n_real)
    picked = rng.choice(np.arange(n_real, size), sample, replace=False)
    rows = []
    for name, base, points in (
        (f"real claims among themselves ({n_real:,})", real, real),
        (f"synthetic among {n_real:,} synthetic", same_size, same_size),
        (f"synthetic among the {size:,}-claim store ({sample} sampled)", vectors, vectors[picked]),
    ):
        top = top_cosines(base, points, True, 10)
        rows.append(
            [name]
            + [float(np.percentile(top[:, 0], p)) for p in (10, 50, 90)]
            + [float(np.mean(top[:, 0] > 0.95)), float(np.median(top[:, 9]))]
        )
    print("\nNearest-neighbour cosine (top 1; top 10: the 10th):\n")
    print(
        table(
            ["claims", "NN p10", "NN p50", "NN p90", "share NN > 0.95", "10th NN p50"],
            rows,
        )
    )
    # Synthetic claim i mixes parents a and b: redraw a as bench/check.py's synthetic() does.
    parents = np.arange(size) % n_real
    for start in range(0, size, 100_000):
        n = min(100_000, size - start)
        first = start + max(0, min(n, n_real - start))
        draw = np.random.default_rng(start).integers(0, n_real, start + n - first)
        parents[first : start + n] = draw
    same_parent = []
    for i in picked[:200]:
        scores = vectors @ vectors[i]
        top = np.argpartition(-scores, 11)[:11]
        top = top[top != i][:10]
        same_parent.append(float(np.mean(parents[top] == parents[i])))
    print(
        f"\nof a sampled synthetic claim's 10 nearest neighbours, share with its first "
        f"parent: {np.mean(same_parent):.2f}"
    )
    crowd = []
    for q in qs:
        for name, base in (("real", real), ("store", vectors)):
            scores = base @ q
            tenth = -np.partition(-scores, 9)[9]
            crowd.append((name, int(np.sum(scores >= tenth - 0.02)), float(tenth)))
    print("\nStatements: claims within 0.02 of the 10th neighbour's cosine (a near-tie crowd):\n")
    out = []
    for name in ("real", "store"):
        sizes = [c for n, c, _ in crowd if n == name]
        tenth = [t for n, _, t in crowd if n == name]
        label = f"real claims ({n_real:,})" if name == "real" else f"store ({size:,})"
        out.append([label, float(np.median(tenth))] + [percentile(sizes, p) for p in (50, 90)])
    print(table(["claims", "10th cosine p50", "crowd p50", "crowd p90"], out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--graphs", default=f"{DEFAULT.dtype}:{DEFAULT.connectivity}:128")
    ap.add_argument("--searches", default=f"{DEFAULT.expansion_search}:{DEFAULT.rescore}")
    ap.add_argument("--raw", action="store_true", help="sweep usearch graphs without the store")
    ap.add_argument("--raw-searches", default="64:200,128:200,256:200,512:200,512:400,1024:200")
    ap.add_argument("--neighbours", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, size, graph, *rest = args.child
        if kind == "build":
            result = child_build(int(size), graph)
        else:
            search, count, brute = rest
            result = child_search(int(size), graph, search, int(count), brute == "True")
        print(json.dumps(result))
        return
    print(f"machine: {machine()}")
    texts, vectors = real_claims(encoder())
    qs = queries(args.queries)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        build_store(size, texts, vectors)
        truth(size, qs)
        if args.raw:
            raw_sweep(size, args.graphs.split(","), args.raw_searches.split(","), qs)
        else:
            rows += sweep(size, args.graphs.split(","), args.searches.split(","), args.queries)
    if args.raw:
        return
    print(f"\nmachine after: {machine()}\n")
    print(
        table(
            [
                "claims",
                "graph (dtype:M:ef_add)",
                "search (ef_search:rescore)",
                "recall@10",
                "recall@10 (k=50 call)",
                "bare graph recall@10",
                "exhaustive in dtype",
                "search p50 ms",
                "exact p50 ms",
                "p50 / exact",
                "build s",
                "file MiB",
                "store RSS MiB",
                "peak MiB",
            ],
            rows,
        )
    )
    if args.neighbours:
        neighbours(max(int(s) for s in args.sizes.split(",")), qs)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
