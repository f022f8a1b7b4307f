"""The engine: models and store opened once, and the pipelines run against them.

Both the HTTP app (in its lifespan) and the CLI build one ``Engine`` from ``Settings``.
Its methods are synchronous and CPU-bound; the HTTP layer runs them in worker threads.
Checks go through one micro-batcher (:mod:`service.batching`), so that statements of
concurrent requests share their model calls.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from service import language
from service.batching import MicroBatcher
from service.check import Encode, Pipeline, check_many
from service.embed import Embedder, Vectors, offline_mode
from service.errors import NotFoundError
from service.ingest import ingest
from service.judge.annotate import warm_up
from service.judge.calibrate import load as load_verdict_model
from service.judge.verdict import VerdictModel
from service.metrics import QUEUE_DEPTH, timed
from service.runner import Work
from service.runtime_table import load_or_measure, runtimes
from service.schemas import CheckRequest, CheckResponse, DocumentIn, IngestResponse, ModelInfo
from service.settings import Settings
from service.stance import StanceModel
from service.store import DocumentRecord, EmbeddingInfo, Store, open_store

log = logging.getLogger(__name__)


def checkpointed(encode: Encode, work: Work, part: int) -> Encode:
    """``encode`` run on parts of ``part`` texts, with ``work.checkpoint()`` before each.

    Texts are sorted by length across all parts first (and their vectors put back in
    order), as the encoder sorts within one call, so parts pad no more than one call does.
    """

    def call(texts: Sequence[str]) -> Vectors:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = []
        for start in range(0, len(order), part):
            work.checkpoint()
            parts.append(encode([texts[i] for i in order[start : start + part]]))
        vectors = np.concatenate(parts)
        vectors[order] = vectors.copy()
        return vectors

    return call


class Engine:
    """Everything a request needs: settings, store, embedder and stance model."""

    def __init__(
        self, settings: Settings, store: Store, embedder: Embedder, stance: StanceModel
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.stance = stance
        self.models = ModelInfo(embedding=model_name(embedder.name), stance=model_name(stance.name))
        self.pipeline = Pipeline(
            store=store,
            encode=timed("embedding", embedder.encode_queries),
            predict=timed(
                "stance",
                # looked up per call, so a swapped model (reload, tests) takes effect
                lambda pairs: self.stance.predict(pairs, batch_size=settings.stance_batch_size),
            ),
            models=self.models,
            candidates=settings.candidates,
            rrf_k=settings.rrf_k,
            max_statement_chars=settings.max_statement_chars,
            max_top_k=settings.max_top_k,
            judge_extra=settings.judge_extra,
            verdict_model=self._verdict_model(),
        )
        self.batcher: MicroBatcher[CheckRequest, CheckResponse] = MicroBatcher(
            self.check_many,
            max_batch=settings.microbatch_size,
            max_wait_s=settings.microbatch_wait_ms / 1000,
            max_queue=settings.queue_size,
            caller_quota=settings.caller_quota,
            stream_quota=settings.stream_quota,
            reserved=settings.single_reserve,
            workers=settings.microbatch_workers or os.cpu_count() or 1,
            name="check-batcher",
        )
        QUEUE_DEPTH.set_function(lambda: self.batcher.waiting)

    def _verdict_model(self) -> VerdictModel | None:
        """The configured verdict model, if any.

        Logs a warning when it was fitted on another stance model's readings: its
        confidence is then not calibrated for this one.
        """
        if not self.settings.verdict_model:
            return None
        model = load_verdict_model(self.settings.verdict_model)
        if model is not None and model.stance_model not in ("", self.models.stance):
            log.warning(
                "the verdict model %s was fitted on readings of the stance model %s, not %s: "
                "its confidence is not calibrated for it; refit it (factcheck fit-verdict)",
                self.settings.verdict_model,
                model.stance_model,
                self.models.stance,
            )
        return model

    @classmethod
    def open(cls, settings: Settings, *, allow_model_change: bool = False) -> Engine:
        """Load the models and open the store (refusing a store of another embedding model)."""
        embedder, stance = load_models(settings)
        language.identifier()  # here, not in the first ingest or check
        warm_up()  # spaCy, for the rules: not on the first request
        store = open_configured_store(settings, embedder, allow_model_change=allow_model_change)
        # OpenBLAS (numpy's and scipy's copies, loaded by now: the exact index's
        # matrix-vector product, memory-bound) keeps its threads spinning after each call,
        # on the cores the model call right after it needs: at 10k claims a check took
        # 138 ms with its default threads, 98 ms with one (bench/NOTES.md). torch and ONNX
        # Runtime have thread pools of their own.
        ThreadpoolController().select(internal_api="openblas").limit(limits=1)
        return cls(settings, store, embedder, stance)

    def close(self) -> None:
        """Finish queued checks, then close the store."""
        self.batcher.close()
        self.store.close()

    def ingest(self, docs: Sequence[DocumentIn], work: Work | None = None) -> IngestResponse:
        """Clean, split, embed and index documents.

        With ``work``, texts are embedded one encoder call at a time with a checkpoint
        before each, so a cancelled ingest stops at its next model call.
        """
        encode: Encode = timed("embedding", self.embedder.encode)
        if work is not None:
            encode = checkpointed(encode, work, self.settings.embed_batch_size)
        results = ingest(self.store, encode, docs)
        return IngestResponse(documents=results, index_version=self.store.index_version())

    def check(self, req: CheckRequest) -> CheckResponse:
        """Judge one statement against the corpus (batched with concurrent checks)."""
        return self.submit([req])[0].result()

    def submit(
        self,
        requests: Sequence[CheckRequest],
        *,
        caller: str = "",
        stream: str | None = None,
        single: bool = False,
    ) -> list[Future[CheckResponse]]:
        """Queue statements for the micro-batcher; one future per statement, in order.

        ``caller``, ``stream`` and ``single`` (a single check) say whose share of the queue
        they take (see :mod:`service.batching`).

        Raises:
            OverloadedError: No room for all of them (nothing is queued); its subclass
                QuotaExceededError when the caller's or the stream's share is full.
        """
        return self.batcher.submit(requests, caller=caller, stream=stream, single=single)

    def check_many(self, requests: Sequence[CheckRequest]) -> list[CheckResponse | Exception]:
        """Judge statements now with one embedding and one stance call for them all.

        Results are in input order; a statement that cannot be served gets its error.
        """
        return check_many(requests, self.pipeline)

    def document(self, doc_id: str) -> DocumentRecord:
        """A stored document or NotFoundError."""
        doc = self.store.get_document(doc_id)
        if doc is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        return doc


def model_name(name_or_path: str) -> str:
    """What responses call a model: its hub name, or for a local model its folder's name.

    A server path says nothing to a client and tells it how the server is laid out.
    """
    path = Path(name_or_path)
    return path.name if path.is_absolute() or path.exists() else name_or_path


def embedding_info(embedder: Embedder) -> EmbeddingInfo:
    """What a store records about the model its vectors come from."""
    return EmbeddingInfo(
        model=embedder.name, dimension=embedder.dimension, normalized=embedder.normalized
    )


def open_configured_store(
    settings: Settings, embedder: Embedder, *, allow_model_change: bool = False
) -> Store:
    """The store of ``settings``, with its vector index and lexical settings."""
    return open_store(
        settings.store,
        embedding_info(embedder),
        allow_model_change=allow_model_change,
        vector_index=settings.vector_index,
        ann_min_claims=settings.ann_min_claims,
        hnsw=settings.hnsw(),
        lexical_max_df=settings.lexical_max_df,
        lexical_index=settings.lexical_index,
        lexical_min_claims=settings.lexical_min_claims,
        lexical_candidates=settings.lexical_candidates,
    )


def load_models(settings: Settings) -> tuple[Embedder, StanceModel]:
    """The embedder and the stance model, each call on the runtime its size runs fastest on.

    The runtime table (:mod:`service.runtime_table`) is measured at the first start on a
    machine, unless ``factcheck prepare`` made it. With ONNX Runtime a model is exported
    into ``settings.onnx_cache`` the first time it is loaded; ``factcheck prepare`` does
    that ahead of time (the image bakes the files in).
    """
    offline_mode(settings.offline)
    # torch's oneDNN kernels keep up to 1,024 compiled primitives, one per input shape, and
    # every check brings new ones: 180 s of mixed load grew the server to 2.1 GiB. 64 holds
    # it at 1.7 GiB at the same speed (bench/NOTES.md). Read at oneDNN's first use, so here.
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    embed_runtime, stance_runtime = runtimes(settings, load_or_measure(settings))
    embedder = Embedder(
        settings.embedding_model,
        device=settings.device,
        batch_size=settings.embed_batch_size,
        query_cache_size=settings.query_cache_size,
        runtime=embed_runtime,
    )
    stance = StanceModel(
        settings.stance_model,
        label_map=settings.stance_label_map(),
        device=settings.device,
        runtime=stance_runtime,
    )
    return embedder, stance
