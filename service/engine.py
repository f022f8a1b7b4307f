"""The engine: models and store opened once, and the pipelines run against them.

Both the HTTP app (in its lifespan) and the CLI build one ``Engine`` from ``Settings``.
Its methods are synchronous and CPU-bound; the HTTP layer runs them in worker threads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from service.calibrate import load as load_calibration
from service.check import check
from service.embed import Embedder, Vectors, offline_mode
from service.errors import NotFoundError
from service.ingest import ingest
from service.schemas import CheckRequest, CheckResponse, DocumentIn, IngestResponse, ModelInfo
from service.settings import Settings
from service.stance import StanceModel
from service.store import DocumentRecord, EmbeddingInfo, Store, open_store


class Engine:
    """Everything a request needs: settings, store, embedder and stance model."""

    def __init__(
        self, settings: Settings, store: Store, embedder: Embedder, stance: StanceModel
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.stance = stance
        self.models = ModelInfo(embedding=embedder.name, stance=stance.name)
        self.calibration = load_calibration(settings.calibration) if settings.calibration else None

    @classmethod
    def open(cls, settings: Settings, *, allow_model_change: bool = False) -> Engine:
        """Load both models and open the store (refusing a store of another embedding model)."""
        offline_mode(settings.offline)
        embedder = Embedder(
            settings.embedding_model,
            device=settings.device,
            batch_size=settings.embed_batch_size,
            query_cache_size=settings.query_cache_size,
            runtime=settings.runtime(settings.embedding_backend),
        )
        stance = StanceModel(
            settings.stance_model,
            label_map=settings.stance_label_map(),
            device=settings.device,
            runtime=settings.runtime(settings.stance_backend),
        )
        store = open_store(
            settings.store,
            embedding_info(embedder),
            allow_model_change=allow_model_change,
            vector_index=settings.vector_index,
            ann_min_claims=settings.ann_min_claims,
            lexical_max_df=settings.lexical_max_df,
        )
        return cls(settings, store, embedder, stance)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def ingest(self, docs: Sequence[DocumentIn]) -> IngestResponse:
        """Clean, split, embed and index documents."""
        results = ingest(self.store, self.embedder.encode, docs)
        return IngestResponse(documents=results, index_version=self.store.index_version())

    def check(self, req: CheckRequest, query: Vectors | None = None) -> CheckResponse:
        """Judge one statement against the corpus (``query``: its embedding, if known)."""
        t0 = time.perf_counter()
        if query is None:
            query = self.embedder.encode_query(req.statement)
        embed_ms = (time.perf_counter() - t0) * 1000
        return check(
            req,
            store=self.store,
            query=query,
            predict=lambda pairs: self.stance.predict(
                pairs, batch_size=self.settings.stance_batch_size
            ),
            models=self.models,
            candidates=self.settings.candidates,
            rrf_k=self.settings.rrf_k,
            calibration=self.calibration,
            embed_ms=embed_ms,
        )

    def document(self, doc_id: str) -> DocumentRecord:
        """A stored document or NotFoundError."""
        doc = self.store.get_document(doc_id)
        if doc is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        return doc


def embedding_info(embedder: Embedder) -> EmbeddingInfo:
    """What a store records about the model its vectors come from."""
    return EmbeddingInfo(
        model=embedder.name, dimension=embedder.dimension, normalized=embedder.normalized
    )
