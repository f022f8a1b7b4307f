"""ONNX Runtime for the two BERT-style models: exported locally, run without torch per call.

sentence-transformers' own ``backend="onnx"`` needs optimum, whose ONNX package pins
transformers 4.x; this module exports the already loaded torch module with
``torch.onnx.export`` instead (no hub), caches the file under ``cache_dir`` keyed by the
model's weights, and runs it with ONNX Runtime. The outputs are the torch model's to
within float rounding (bench/levers.py measures it). ``int8`` applies ONNX Runtime's
dynamic quantization to the exported file.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def native_bf16() -> bool:
    """True when this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX tiles)."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a call plan: calls of up to ``upto`` inputs run on ``backend``, ``threads``."""

    upto: int = 0  # inputs per call at most; 0: any number
    backend: str
    threads: int = 0  # intra-op threads; 0: all cores


class Runtime(msgspec.Struct, frozen=True, kw_only=True):
    """How a model runs: torch in fp32 or bf16, or ONNX Runtime in fp32 or int8; threads.

    A call is run by its :meth:`step`: the first of ``steps`` whose ``upto`` admits the
    call's size (a table measured on this machine, :mod:`service.runtime_table`), or without
    steps ``backend`` with ``threads`` for calls under a batch and ``batch_threads`` above.
    """

    backend: str = "torch"  # "torch" | "torch-bf16" | "onnx" | "onnx-int8" | "auto"
    threads: int = 0  # per model call; 0 leaves the library's default (all cores)
    # per call of a full batch or more (0: all cores). Large calls come from the batch
    # path, one at a time, where every core helps.
    batch_threads: int = 0
    onnx_cache: str = ""  # where exported ONNX files are kept
    steps: tuple[Step, ...] = ()

    def threads_for(self, count: int, batch_size: int) -> int:
        """Intra-op threads for a call on ``count`` inputs (0 is resolved to all cores)."""
        return self.step(count, batch_size).threads

    def step(self, count: int, batch_size: int) -> Step:
        """The backend and the intra-op threads (0 resolved to all cores) of one call."""
        for step in self.steps:
            if step.upto == 0 or count <= step.upto:
                return msgspec.structs.replace(step, threads=step.threads or _cores())
        threads = self.threads if count < batch_size else self.batch_threads
        return Step(backend=self.backend, threads=threads or _cores())

    @property
    def backends(self) -> tuple[str, ...]:
        """Every backend a call may run on."""
        return tuple(dict.fromkeys(s.backend for s in self.steps)) or (self.backend,)

    def thread_counts(self, backend: str) -> set[int]:
        """The intra-op thread counts calls on ``backend`` may use."""
        if not self.steps:
            return {self.threads or _cores(), self.batch_threads or _cores()}
        return {s.threads or _cores() for s in self.steps if s.backend == backend}

    @property
    def onnx(self) -> bool:
        """True for either ONNX Runtime backend."""
        return self.backend.startswith("onnx")

    @property
    def torch_dtype(self) -> Any:
        """The dtype torch computes in on CPU (stored fp16 weights are upcast to it)."""
        return torch_dtype(self.backend)

    def resolve(self) -> Runtime:
        """``auto`` made concrete: torch in bf16 where the CPU has bf16 units, else ONNX fp32.

        On such a CPU (AVX-512 BF16, AMX) bf16 matmuls run at about twice the fp32 rate,
        which beats ONNX Runtime's fp32 kernels; elsewhere bf16 is emulated and slow.
        """
        if self.backend != "auto":
            return self
        return msgspec.structs.replace(self, backend="torch-bf16" if native_bf16() else "onnx")


def _cores() -> int:
    return os.cpu_count() or 1


def torch_dtype(backend: str) -> Any:
    """The dtype a torch ``backend`` computes in on CPU."""
    import torch

    return torch.bfloat16 if backend == "torch-bf16" else torch.float32


def fingerprint(model_dir: str) -> str:
    """A short hash that changes when the weights do: names, sizes and times of the files."""
    parts = []
    for file in sorted(Path(model_dir).glob("*")):
        if file.is_file():
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join([str(Path(model_dir).resolve()), *parts]).encode()).hexdigest()[
        :16
    ]


def _export(module: Any, tokenizer: Any, path: Path, output: str) -> None:
    import torch

    sample = tokenizer(["a sentence to trace", "b"], ["x", "y"], padding=True, return_tensors="pt")
    names = [n for n in _INPUTS if n in sample]
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "seq"} for n in names}
    axes[output] = {0: "batch"} if output == "logits" else {0: "batch", 1: "seq"}

    class FirstOutput(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(names, args, strict=True)))[0]

    tmp = path.with_name(path.name + ".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo, which needs onnxscript;
        # it traces these models exactly (outputs compared in bench/levers.py).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            FirstOutput().eval(),
            tuple(sample[n] for n in names),
            str(tmp),
            input_names=names,
            output_names=[output],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(path)


def _ffn_outputs(path: Path) -> list[str]:
    """The feed-forward output projections: kept in fp32 by int8 quantization.

    Their inputs come out of GELU with the widest range of any activation, which per-tensor
    int8 quantizes worst (argmax agreement with fp32 on Climate-FEVER pairs: 96.3 % with
    them quantized, 98.1 % without).
    """
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name
    ]


def onnx_session(
    module: Any, tokenizer: Any, model_dir: str, runtime: Runtime, *, output: str
) -> Any:
    """An ONNX Runtime session for ``module`` (exported to ``runtime.onnx_cache`` once)."""
    import onnxruntime as ort

    folder = Path(runtime.onnx_cache) / fingerprint(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    if not path.exists():
        _export(module, tokenizer, path, output)
    if runtime.backend == "onnx-int8":
        quantized = folder / "model-int8.onnx"
        if not quantized.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = folder / "model-int8.onnx.tmp"
            quantize_dynamic(
                str(path),
                str(tmp),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=_ffn_outputs(path),
            )
            tmp.replace(quantized)
        path = quantized
    options = ort.SessionOptions()
    options.intra_op_num_threads = runtime.threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """A model's ONNX Runtime sessions, one per intra-op thread count its runtime may use.

    A session's intra-op threads are fixed when it is made, so a model that serves both
    single checks and batches on different thread counts holds two (the weights twice:
    90 MB for a MiniLM).
    """

    def __init__(
        self, module: Any, tokenizer: Any, model_dir: str, runtime: Runtime, *, output: str
    ) -> None:
        self._sessions: dict[int, Any] = {}
        for threads in runtime.thread_counts(runtime.backend):
            self._sessions[threads] = onnx_session(
                module,
                tokenizer,
                model_dir,
                msgspec.structs.replace(runtime, threads=threads),
                output=output,
            )

    def session(self, threads: int) -> Any:
        """The session with ``threads`` intra-op threads."""
        return self._sessions[threads]


def run(
    session: Any, tokenizer: Any, first: list[str], second: list[str] | None, max_length: int
) -> tuple[Array, Any]:
    """The model's first output for one batch, with the attention mask."""
    enc = tokenizer(
        first, second, padding=True, truncation=True, max_length=max_length, return_tensors="np"
    )
    names = {i.name for i in session.get_inputs()}
    feeds = {n: enc[n].astype(np.int64) for n in _INPUTS if n in names}
    return np.asarray(session.run(None, feeds)[0], dtype=np.float32), enc["attention_mask"]


def mean_pool(hidden: Array, mask: Any) -> Array:
    """Mean of the token vectors under the attention mask, L2-normalised."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    out: Array = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return out


def batches(count: int, size: int, lengths: Sequence[int]) -> list[npt.NDArray[np.int64]]:
    """Index batches, longest first, so that each batch pads to similar lengths."""
    order = np.argsort([-n for n in lengths], kind="stable")
    return [order[i : i + size] for i in range(0, count, size)]
