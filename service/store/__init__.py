"""Stores: where documents, claims and vectors live, all behind one protocol."""

from service.store.base import (
    ClaimRecord,
    DocumentRecord,
    EmbeddingInfo,
    FeedbackRecord,
    SearchFilter,
    Store,
    VersionRecord,
)
from service.store.sqlite import SqliteStore

__all__ = [
    "ClaimRecord",
    "DocumentRecord",
    "EmbeddingInfo",
    "FeedbackRecord",
    "SearchFilter",
    "SqliteStore",
    "Store",
    "VersionRecord",
    "open_store",
]


def open_store(
    location: str, embedding: EmbeddingInfo, *, allow_model_change: bool = False
) -> Store:
    """Open the store named by the ``store`` setting (a SQLite file path)."""
    if location.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("the PostgreSQL store is not built yet")
    return SqliteStore(location, embedding, allow_model_change=allow_model_change)
