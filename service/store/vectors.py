"""In-process vector search behind a small interface, so an ANN index can replace it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]


class VectorIndex(Protocol):
    """Nearest neighbours by cosine over normalised vectors, keyed by claim id."""

    def __len__(self) -> int: ...

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add (or overwrite) vectors under ``ids``."""

    def remove(self, ids: Iterable[int]) -> None:
        """Forget ``ids``; unknown ids are ignored."""

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(id, cosine)`` pairs, restricted to ``allowed`` ids if given."""

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """The stored vectors of ``ids`` that are in the index."""


def top_k(ids: Ids, scores: Vectors, k: int) -> list[tuple[int, float]]:
    """The ``k`` best ``(id, score)`` pairs, best first (ties keep their order)."""
    k = min(k, len(ids))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]


class ExactIndex:
    """Exact cosine search: one matrix-vector product. Fine up to a few 100k claims.

    Rows live in a buffer that grows by doubling, so adding a document does not copy
    the whole matrix.
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._n = 0
        self._id_buf: Ids = np.zeros(0, dtype=np.int64)
        self._buf: Vectors = np.zeros((0, dimension), dtype=np.float32)
        self._row: dict[int, int] = {}

    def __len__(self) -> int:
        return self._n

    @property
    def _ids(self) -> Ids:
        return self._id_buf[: self._n]

    @property
    def _matrix(self) -> Vectors:
        return self._buf[: self._n]

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add vectors; ids already present are replaced."""
        if len(ids) == 0:  # a document without claims: its (0, 0) array has no dimension
            return
        self.remove(int(i) for i in ids if int(i) in self._row)
        start, end = self._n, self._n + len(ids)
        if end > len(self._buf):
            capacity = max(end, 2 * len(self._buf), 1024)
            self._buf = np.resize(self._buf, (capacity, self.dimension))
            self._id_buf = np.resize(self._id_buf, capacity)
        self._buf[start:end] = vectors
        self._id_buf[start:end] = ids
        self._n = end
        self._row.update((int(i), start + n) for n, i in enumerate(ids))

    def remove(self, ids: Iterable[int]) -> None:
        """Drop ids by compacting the matrix."""
        rows = [self._row[i] for i in ids if i in self._row]
        if not rows:
            return
        keep = np.ones(self._n, dtype=bool)
        keep[rows] = False
        kept = int(keep.sum())
        self._buf[:kept] = self._matrix[keep]
        self._id_buf[:kept] = self._ids[keep]
        self._n = kept
        self._row = {int(i): n for n, i in enumerate(self._ids)}

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """Top-k by dot product (cosine, as vectors are normalised)."""
        ids, matrix = self._ids, self._matrix
        if allowed is not None:
            mask = np.isin(ids, allowed)
            ids, matrix = ids[mask], matrix[mask]
        if len(ids) == 0 or k <= 0:
            return []
        return top_k(ids, matrix @ query.reshape(-1).astype(np.float32), k)

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """Stored vectors by id."""
        return {i: self._buf[self._row[i]].copy() for i in ids if i in self._row}
