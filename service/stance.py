"""Stance of a statement against a passage: a thin wrapper around an NLI cross-encoder.

The model is any sentence-transformers ``CrossEncoder`` with a classification head
whose labels are named in its ``config.json`` (``id2label``). The label order is
read from the model, never hard-coded; label names are mapped to the service's
three stances with :data:`NLI_TO_STANCE` (the standard NLI names) or a per-model
``label_map``. The project's own model lives in ``models/factcheck-nli-minilm-l6-v2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from service import settings
from service.embed import set_torch_threads, torch_threads
from service.onnx_backend import OnnxModel, Runtime, Step, batches, run, torch_dtype
from service.priority import MODELS

STANCES: tuple[str, str, str] = ("supports", "neutral", "contradicts")
"""Column order of the probabilities returned by :meth:`StanceModel.predict`."""

NLI_TO_STANCE: dict[str, str] = {
    "entailment": "supports",
    "neutral": "neutral",
    "contradiction": "contradicts",
    # two-way NLI models (RTE-style): "not entailed" is no evidence either way
    "not_entailment": "neutral",
    "non_entailment": "neutral",
}
"""The single default mapping of NLI label names (case-insensitive) to stances."""

DEFAULT_STANCE_MODEL: str = str(settings.DEFAULT_STANCE_MODEL)
"""Absolute path of the project's shipped NLI cross-encoder."""


def _norm(label: str) -> str:
    return label.strip().lower().replace("-", "_").replace(" ", "_")


def stance_columns(
    id2label: Mapping[int, str], label_map: Mapping[str, str] | None = None
) -> list[int]:
    """For each model output (in id order), the index of its stance in :data:`STANCES`.

    Args:
        id2label: The model's output index -> label name (``config.id2label``).
        label_map: Label name -> stance; replaces :data:`NLI_TO_STANCE` when given.
            Keys are matched case-insensitively.

    Raises:
        ValueError: If the model has fewer than two outputs, a label has no stance,
            or a stance named in the mapping is not one of :data:`STANCES`.
    """
    mapping = {_norm(k): v for k, v in (NLI_TO_STANCE if label_map is None else label_map).items()}
    for label, stance in mapping.items():
        if stance not in STANCES:
            raise ValueError(
                f"label map sends {label!r} to {stance!r}, which is not a stance; "
                f"use one of {', '.join(STANCES)}"
            )
    ids = sorted(int(i) for i in id2label)
    if len(ids) < 2 or ids != list(range(len(ids))):
        raise ValueError(
            f"a stance model needs a classification head with 2 or more labels numbered "
            f"0..n-1; this one has id2label={dict(id2label)!r}"
        )
    columns: list[int] = []
    for i in ids:
        label = str(id2label[i])
        found = mapping.get(_norm(label))
        if found is None:
            known = ", ".join(sorted(mapping)) or "none"
            raise ValueError(
                f"cannot map the model's label {label!r} (output {i}) to a stance; "
                f"known labels: {known}. Pass a label map such as "
                f"'{label}=supports' (stances: {', '.join(STANCES)})"
            )
        columns.append(STANCES.index(found))
    return columns


class StanceModel:
    """An NLI cross-encoder scoring (passage, statement) pairs as a stance."""

    def __init__(
        self,
        name_or_path: str,
        *,
        label_map: Mapping[str, str] | None = None,
        device: str = "cpu",
        max_length: int = 256,
        runtime: Runtime | None = None,
    ) -> None:
        # torch loads here, not at import: the service's pure-logic modules import fast.
        import torch
        from sentence_transformers import CrossEncoder

        self.name: str = name_or_path
        runtime = (runtime or Runtime()).resolve()
        self.runtime: Runtime = runtime
        self._max_length = max_length
        # One copy of the weights per backend the runtime's calls use: torch models compute in
        # fp32 or bf16 (stored fp16 weights are upcast; CPUs have no fast fp16 matmul), and
        # an ONNX Runtime session holds its own copy, so the torch module behind it is dropped.
        self._torch: dict[str, Any] = {}
        self._onnx: dict[str, OnnxModel] = {}
        model: Any = None
        for backend in runtime.backends:
            model = CrossEncoder(
                name_or_path,
                device=device,
                max_length=max_length,
                activation_fn=torch.nn.Identity(),  # raw logits; softmax is applied here
                model_kwargs={"dtype": torch_dtype(backend)} if device == "cpu" else None,
            )
            if backend.startswith("onnx"):
                self._onnx[backend] = OnnxModel(
                    model.model,
                    model.tokenizer,
                    name_or_path,
                    msgspec.structs.replace(runtime, backend=backend),
                    output="logits",
                )
            else:
                self._torch[backend] = model
        config: Any = getattr(model, "config", None)
        id2label: Mapping[int, str] | None = getattr(config, "id2label", None)
        if not id2label:
            raise ValueError(f"model {name_or_path!r} has no id2label in its config")
        self.labels: tuple[str, ...] = tuple(str(id2label[i]) for i in sorted(id2label))
        self._columns = stance_columns(id2label, label_map)
        # (num_labels, 3) 0/1 matrix that adds each label's probability to its stance column
        self._to_stance = np.zeros((len(self._columns), len(STANCES)), dtype=np.float64)
        for label_idx, col in enumerate(self._columns):
            self._to_stance[label_idx, col] = 1.0
        set_torch_threads(runtime.threads)
        self._tokenizer: Any = model.tokenizer

    @property
    def label_to_stance(self) -> dict[str, str]:
        """The model's label names (in output order) and the stance each one counts for."""
        return {label: STANCES[c] for label, c in zip(self.labels, self._columns, strict=True)}

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, *, step: Step | None = None
    ) -> npt.NDArray[np.float32]:
        """Stance probabilities for (premise = corpus passage, hypothesis = statement) pairs.

        ``step`` runs the call on that backend and thread count instead of the runtime's
        choice for its size (the runtime table measures each this way).

        Returns:
            A float32 array of shape ``(len(pairs), 3)``; each row sums to 1, columns in
            :data:`STANCES` order. Labels that map to the same stance add up.
        """
        if len(pairs) == 0:
            return np.zeros((0, len(STANCES)), dtype=np.float32)
        step = step or self.runtime.step(len(pairs), batch_size)
        logits = self._logits(pairs, batch_size, step).astype(np.float64).reshape(len(pairs), -1)
        if logits.shape[1] != len(self._columns):
            raise ValueError(
                f"model {self.name!r} returned {logits.shape[1]} scores per pair, "
                f"expected {len(self._columns)}"
            )
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        out: npt.NDArray[np.float32] = (probs @ self._to_stance).astype(np.float32)
        return out

    def _logits(
        self, pairs: Sequence[tuple[str, str]], batch_size: int, step: Step
    ) -> npt.NDArray[Any]:
        out: list[npt.NDArray[np.float32]] = [np.zeros(0, dtype=np.float32)] * len(pairs)
        lengths = [len(p) + len(h) for p, h in pairs]
        # one forward pass per chunk, each in its turn on the cores (service/priority.py)
        for idx in batches(len(pairs), batch_size, lengths):
            chunk = [pairs[i] for i in idx]
            with MODELS.slot():
                logits = self._forward(chunk, step)
            for i, row in zip(idx.tolist(), logits, strict=True):
                out[i] = row
        return np.stack(out)

    def _forward(self, pairs: list[tuple[str, str]], step: Step) -> npt.NDArray[Any]:
        if step.backend in self._torch:
            with torch_threads(step.threads):
                return np.asarray(
                    self._torch[step.backend].predict(
                        pairs, batch_size=len(pairs), show_progress_bar=False, convert_to_numpy=True
                    )
                )
        session = self._onnx[step.backend].session(step.threads)
        logits, _ = run(
            session,
            self._tokenizer,
            [p for p, _ in pairs],
            [h for _, h in pairs],
            self._max_length,
        )
        return np.asarray(logits)
