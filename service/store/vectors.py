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


class ExactIndex:
    """Exact cosine search: one matrix-vector product. Fine up to a few 100k claims."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._ids: Ids = np.zeros(0, dtype=np.int64)
        self._matrix: Vectors = np.zeros((0, dimension), dtype=np.float32)
        self._row: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        """Add vectors; ids already present are replaced."""
        if len(ids) == 0:  # a document without claims: its (0, 0) array has no dimension
            return
        self.remove(int(i) for i in ids if int(i) in self._row)
        start = len(self._ids)
        self._ids = np.concatenate([self._ids, ids.astype(np.int64)])
        self._matrix = np.concatenate([self._matrix, vectors.astype(np.float32)])
        self._row.update((int(i), start + n) for n, i in enumerate(ids))

    def remove(self, ids: Iterable[int]) -> None:
        """Drop ids by compacting the matrix."""
        rows = [self._row[i] for i in ids if i in self._row]
        if not rows:
            return
        keep = np.ones(len(self._ids), dtype=bool)
        keep[rows] = False
        self._ids = self._ids[keep]
        self._matrix = self._matrix[keep]
        self._row = {int(i): n for n, i in enumerate(self._ids)}

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """Top-k by dot product (cosine, as vectors are normalised)."""
        ids, matrix = self._ids, self._matrix
        if allowed is not None:
            mask = np.isin(ids, allowed)
            ids, matrix = ids[mask], matrix[mask]
        if len(ids) == 0 or k <= 0:
            return []
        scores = matrix @ query.reshape(-1).astype(np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """Stored vectors by id."""
        return {i: self._matrix[self._row[i]] for i in ids if i in self._row}
