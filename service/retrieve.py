"""Retrieval: dense cosine and BM25 candidates fused by reciprocal rank fusion."""

from __future__ import annotations

import msgspec

from service.embed import Vectors
from service.store import SearchFilter, Store


class Candidate(msgspec.Struct, kw_only=True):
    """A claim found by one or both retrievers."""

    claim_id: int
    score: float  # fused RRF score
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def retrieved_by(self) -> list[str]:
        """Which retrievers found it."""
        found = [("dense", self.dense_rank), ("lexical", self.lexical_rank)]
        return [name for name, rank in found if rank is not None]


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], *, k: int = 60
) -> list[Candidate]:
    """Reciprocal rank fusion: score = Σ 1 / (k + rank), best first.

    RRF needs no score calibration between cosine and BM25, which live on different scales.
    """
    found: dict[int, Candidate] = {}
    for rank, (claim_id, _) in enumerate(dense, start=1):
        found[claim_id] = Candidate(claim_id=claim_id, score=1.0 / (k + rank), dense_rank=rank)
    for rank, (claim_id, _) in enumerate(lexical, start=1):
        cand = found.setdefault(claim_id, Candidate(claim_id=claim_id, score=0.0))
        cand.score += 1.0 / (k + rank)
        cand.lexical_rank = rank
    return sorted(found.values(), key=lambda c: (-c.score, c.claim_id))


def retrieve(
    store: Store, statement: str, query: Vectors, flt: SearchFilter, *, candidates: int, rrf_k: int
) -> list[Candidate]:
    """Hybrid candidates for a statement, best first."""
    dense = store.search_vector(query, candidates, flt)
    lexical = store.search_text(statement, candidates, flt)
    return fuse(dense, lexical, k=rrf_k)
