"""Stores: where documents, claims and vectors live, all behind one protocol."""

from service.store.ann import HnswParams
from service.store.base import (
    ClaimRecord,
    DocumentRecord,
    EmbeddingInfo,
    FeedbackRecord,
    IdempotencyRecord,
    SearchFilter,
    Store,
    VersionRecord,
)
from service.store.sqlite import LexicalIndexKind, SqliteStore, VectorIndexKind

__all__ = [
    "ClaimRecord",
    "DocumentRecord",
    "EmbeddingInfo",
    "FeedbackRecord",
    "HnswParams",
    "IdempotencyRecord",
    "LexicalIndexKind",
    "SearchFilter",
    "SqliteStore",
    "Store",
    "VersionRecord",
    "open_store",
]


def open_store(
    location: str,
    embedding: EmbeddingInfo,
    *,
    allow_model_change: bool = False,
    vector_index: VectorIndexKind = "auto",
    ann_min_claims: int = 50_000,
    hnsw: HnswParams | None = None,
    lexical_max_df: float = 1.0,
    lexical_index: LexicalIndexKind = "auto",
    lexical_min_claims: int = 50_000,
    lexical_candidates: int = 100,
) -> Store:
    """Open the store named by the ``store`` setting: a ``postgresql://`` URL or a SQLite file."""
    if location.startswith(("postgres://", "postgresql://")):
        # Imported here so that the embedded default never loads the PostgreSQL driver.
        from service.store.postgres import PostgresStore

        return PostgresStore(location, embedding, allow_model_change=allow_model_change)
    return SqliteStore(
        location,
        embedding,
        vector_index=vector_index,
        ann_min_claims=ann_min_claims,
        hnsw=hnsw,
        lexical_max_df=lexical_max_df,
        lexical_index=lexical_index,
        lexical_min_claims=lexical_min_claims,
        lexical_candidates=lexical_candidates,
        allow_model_change=allow_model_change,
    )
