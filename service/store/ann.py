"""Approximate nearest neighbours: a usearch HNSW graph over int8-quantised vectors.

At a million claims exact search reads 1.5 GB of float32 per query; the graph visits a
few thousand int8 vectors instead, and the index is the only in-memory copy of the
vectors (384 bytes each plus ~280 bytes of links at connectivity 32). It is saved next
to the store so that opening a large store does not rebuild it (``SqliteStore`` decides
when the saved copy is stale).

usearch has no filtered search, so a search restricted to ``allowed`` ids is exact
over those ids when they are few, and an over-fetching graph search, checked against
``allowed``, when they are many.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from service.store.vectors import Ids, Vectors, top_k

# Below this many allowed ids, scoring them one by one beats walking the graph.
EXACT_FILTER_LIMIT = 20_000
# Batches at least this large are inserted on every core (see HnswIndex.add).
PARALLEL_ADD_MIN = 10_000


@dataclass(frozen=True)
class HnswParams:
    """How the graph is built and searched (figures: bench/NOTES.md, from bench/ann.py).

    On corpora where claims come in clusters of near-equidistant neighbours (paraphrases;
    the bench's synthetic 1M corpus is 2,633 such clusters), HNSW's neighbour pruning
    keeps only ~7 of the 32 level-0 links per node at connectivity 16, and searches miss
    whole clusters: recall@10 0.81 at 1M, 0.93 even with ``expansion_search`` 4096. The
    vectors' precision is not the limit (a float16 graph does no better, and would put
    the 1M store over 1 GiB). Connectivity 32 built with ``expansion_add`` 256 keeps ~15
    links; searching it 512 wide gives recall@10 0.97 at 1M (1.00 at 100k) in ~6 % of an
    exact search's time, with the store at 811 MiB resident. The graph's int8 ranking of
    near-ties is rough, so its best ``rescore`` hits are re-scored with the float32
    vectors from the file: recall rises from 0.87 to 0.97, and the cosines returned are
    the exact ones.
    """

    dtype: Literal["i8", "f16", "f32"] = "i8"
    connectivity: int = 32
    expansion_add: int = 256
    expansion_search: int = 512
    rescore: int = 100  # graph hits re-scored: max(k, rescore)

    def graph_shape(self) -> dict[str, Any]:
        """What a saved graph must have been built with to be reused."""
        return {"dtype": self.dtype, "connectivity": self.connectivity, "add": self.expansion_add}


class HnswIndex:
    """Cosine HNSW (usearch) keyed by claim id."""

    def __init__(self, dimension: int, params: HnswParams | None = None) -> None:
        params = params or HnswParams()
        # onnxruntime 1.32 segfaults on import once usearch 2.26's extension is loaded
        # (unless torch came first): load it before, as the models will load it anyway.
        import onnxruntime  # noqa: F401
        from usearch.index import Index

        self.dimension = dimension
        self._index: Any = Index(
            ndim=dimension,
            metric="cos",
            dtype=params.dtype,
            connectivity=params.connectivity,
            expansion_add=params.expansion_add,
            expansion_search=params.expansion_search,
        )

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add vectors; ids already present are replaced."""
        if len(ids) == 0:
            return
        keys = np.asarray(ids, dtype=np.uint64)
        present = np.asarray(self._index.contains(keys), dtype=bool)
        if present.any():
            self._index.remove(keys[present])
        # usearch's parallel insert leaves some nodes unreachable (self-search misses ~1% of
        # a 191-vector index built on 16 threads): small batches go in one thread, where
        # parallelism saves nothing anyway; a bulk build keeps its 2.5x (recall 0.991 vs 0.996).
        threads = 0 if len(keys) >= PARALLEL_ADD_MIN else 1
        self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)

    def remove(self, ids: Iterable[int]) -> None:
        """Forget ids (unknown ones are ignored)."""
        keys = np.fromiter(ids, dtype=np.uint64)
        if len(keys):
            self._index.remove(keys)

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest ids with their (approximate) cosine."""
        size = len(self._index)
        if size == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        if allowed is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return self._exact(q, k, allowed)
        wanted = k if allowed is None else min(size, k * max(2, 2 * size // max(1, len(allowed))))
        found = self._graph(q, wanted)
        if allowed is not None:
            keys = np.fromiter((hit[0] for hit in found), dtype=np.int64, count=len(found))
            found = [hit for hit, ok in zip(found, np.isin(keys, allowed), strict=True) if ok]
            if len(found) < k and wanted < size:
                return self._exact(q, k, allowed)
        return found[:k]

    def _graph(self, q: Vectors, count: int) -> list[tuple[int, float]]:
        # One query per call; the service runs calls in parallel threads, so one core each.
        matches = self._index.search(q, count, threads=1)
        return [
            (int(key), 1.0 - float(dist))
            for key, dist in zip(matches.keys, matches.distances, strict=True)
        ]

    def _exact(self, q: Vectors, k: int, allowed: Ids) -> list[tuple[int, float]]:
        vectors = self.vectors(int(i) for i in allowed)
        if not vectors:
            return []
        ids = np.fromiter(vectors, dtype=np.int64, count=len(vectors))
        matrix = np.stack(list(vectors.values()))
        return top_k(ids, matrix @ q, k)

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """Stored vectors (dequantised to float32, renormalised) by id."""
        keys = np.fromiter(ids, dtype=np.uint64)
        if len(keys) == 0:
            return {}
        found = self._index.get(keys, dtype=np.float32)
        out: dict[int, Vectors] = {}
        for key, vector in zip(keys.tolist(), found, strict=True):
            if vector is not None:
                v = np.asarray(vector, dtype=np.float32).reshape(-1)
                out[int(key)] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    def memory_bytes(self) -> int:
        """What usearch reports the graph and vectors take."""
        return int(self._index.memory_usage)

    def save(self, path: Path) -> None:
        """Write the index atomically (a temporary file renamed over ``path``)."""
        tmp = path.with_name(path.name + ".tmp")
        self._index.save(str(tmp))
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        """Replace this index's contents with the file's."""
        self._index.load(str(path))
