"""The runtime table: which backend and how many threads run a model call of each size.

The fastest way to run a model depends on the call. A lone check embeds one statement and
judges ``top_k`` pairs: small calls, where the per-call overhead of a runtime and the
hand-off between threads weigh as much as the arithmetic. The batch path makes calls of
hundreds of pairs, where only the arithmetic counts. So each call size gets the backend
(ONNX Runtime fp32, torch fp32, torch bf16) and the intra-op thread count (one, or every
core) that ran it fastest on this machine.

The table is measured once (a few seconds to a minute: ``factcheck prepare``, or the first
start with ``runtime_table=auto``), saved in the ONNX cache folder under a key made of the
models' files, the core count, the CPU's bf16 support and the library versions, and reused
while they stay the same. ``runtime_table=off`` runs every call on the configured
``*_backend`` and ``intra_op_threads*`` instead; a path loads a table written elsewhere.

Backends that change the numbers beyond float rounding (int8) are never candidates. bf16
and fp32 stance judgements agree within half a point of accuracy (the model card) but not
in every probability, so the precision is chosen once per model, by its largest calls, and
only the runtime within it (ONNX Runtime or torch) and the threads vary with the size: a
statement gets the same probabilities alone, in a batch, or in a stream.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from service.onnx_backend import Runtime, Step, fingerprint, native_bf16

if TYPE_CHECKING:
    from service.settings import Settings

log = logging.getLogger(__name__)


def embed_sizes(settings: Settings) -> tuple[int, ...]:
    """Texts per measured embedding call: one statement, a few, a full chunk."""
    return tuple(sorted({1, 4, settings.embed_batch_size}))


def stance_sizes(settings: Settings) -> tuple[int, ...]:
    """Pairs per measured stance call: one, a lone check (5: the default ``top_k``), a chunk.

    Bigger calls are made of full chunks (``stance_batch_size``).
    """
    return tuple(sorted({1, 5, settings.stance_batch_size}))


ROUNDS = 5
"""Timed calls of each candidate at each size (the median is kept)."""
_FORMAT = 4  # bump when what is measured or how it is chosen changes: saved tables expire

# News-like sentences of the lengths the service sees (statements, claims).
_SENTENCES = (
    "Xi Jinping arrived in Moscow on Monday for a three-day state visit.",
    "The central bank raised its benchmark rate by a quarter point to 5.25 percent.",
    "Flu hospitalisations fell 38 percent in the week to Sunday, health officials said.",
    "The council approved a $4.2 billion budget after a nine-hour session that ended late.",
    "Bekele won the marathon in two hours and four minutes, ahead of two Kenyan runners.",
    "Sea levels rose by about 20 centimetres over the twentieth century.",
    "The court rejected the appeal by a 7-2 vote, upholding the lower court's ruling.",
    "Shares of the carmaker closed 4 percent lower after it cut its forecast for the year.",
)


class Measured(msgspec.Struct, frozen=True, kw_only=True):
    """Milliseconds of one call of ``size`` inputs on ``backend`` with ``threads``."""

    size: int
    backend: str
    threads: int
    ms: float


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """The chosen steps of each model, with what they were chosen from."""

    key: str
    embedding: tuple[Step, ...]
    stance: tuple[Step, ...]
    measured: dict[str, tuple[Measured, ...]] = {}


def candidates(runtime: Runtime, *, stance: bool) -> list[Step]:
    """The (backend, threads) pairs worth measuring for a model configured with ``runtime``.

    ``auto`` allows every fp32 and bf16 runtime (bf16 only on a CPU with bf16 units, where
    it is not emulated); a named backend is kept, and only its threads are chosen.
    """
    if runtime.backend == "auto" and stance:
        backends = ["onnx", "torch", *(["torch-bf16"] if native_bf16() else [])]
    else:
        backends = [runtime.resolve().backend]
    threads = sorted({1, os.cpu_count() or 1})
    return [Step(backend=b, threads=t) for b in backends for t in threads]


def table_key(settings: Settings) -> str:
    """What a saved table must match: models, backends allowed, machine, libraries."""
    from service.embed import resolve_model

    parts = [
        str(_FORMAT),
        fingerprint(resolve_model(settings.embedding_model)),
        fingerprint(settings.stance_model) if Path(settings.stance_model).is_dir() else "",
        settings.embedding_model,
        settings.stance_model,
        settings.embedding_backend,
        settings.stance_backend,
        f"{settings.embed_batch_size}:{settings.stance_batch_size}",
        str(os.cpu_count()),
        str(native_bf16()),
        *(_version(p) for p in ("torch", "onnxruntime", "sentence-transformers")),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def time_calls(calls: Sequence[Sequence[Callable[[], object]]]) -> list[float]:
    """Median milliseconds of each candidate's calls after its first (a warm-up).

    The calls are timed in interleaved rounds, round-robin, so a burst of other work on
    the machine slows every candidate alike instead of deciding against whichever was
    running during it.
    """
    for runs in calls:
        runs[0]()  # first calls load kernels and caches
    times: list[list[float]] = [[] for _ in calls]
    for r in range(1, min(len(runs) for runs in calls)):
        for runs, spent in zip(calls, times, strict=True):
            start = time.perf_counter()
            runs[r]()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) * 1000 for spent in times]


def precision(backend: str) -> str:
    """What a backend's numbers are: runtimes of one precision give the same outputs."""
    return backend.removeprefix("torch-") if backend in ("torch-bf16", "onnx-int8") else "fp32"


def choose(measured: Sequence[Measured], sizes: Sequence[int]) -> tuple[Step, ...]:
    """The fastest step for each size, as ``upto`` rows; neighbours that agree are merged.

    The precision is chosen once, by the largest calls (throughput), and every row keeps
    it: a statement then gets the same probabilities alone and in a batch. Within it, ONNX
    Runtime and torch fp32 agree to 1e-6 and each size takes the faster, with its threads.
    """
    largest = min((m for m in measured if m.size == sizes[-1]), key=lambda m: m.ms)
    kept = [m for m in measured if precision(m.backend) == precision(largest.backend)]
    steps: list[Step] = []
    for i, size in enumerate(sizes):
        best = min((m for m in kept if m.size == size), key=lambda m: m.ms)
        # Each row covers the sizes up to its own; the largest covers every bigger call.
        upto = 0 if i == len(sizes) - 1 else size
        step = Step(upto=upto, backend=best.backend, threads=best.threads)
        if steps and (steps[-1].backend, steps[-1].threads) == (step.backend, step.threads):
            steps[-1] = step
        else:
            steps.append(step)
    return tuple(steps)


def measure(settings: Settings) -> Table:
    """Time every candidate of both models at each call size and keep the fastest."""
    from service.embed import Embedder
    from service.stance import StanceModel

    embed_rt = settings.runtime(settings.embedding_backend)
    # the stance candidates come from the setting itself: `auto` before it is resolved
    stance_rt = msgspec.structs.replace(
        settings.runtime(settings.stance_backend), backend=settings.stance_backend
    )
    embed_steps = candidates(embed_rt, stance=False)
    stance_steps = candidates(stance_rt, stance=True)
    embedder = Embedder(
        settings.embedding_model,
        device=settings.device,
        batch_size=settings.embed_batch_size,
        runtime=msgspec.structs.replace(embed_rt, steps=tuple(embed_steps)),
    )
    embedding = _time_steps(
        lambda texts, step: embedder.encode(texts, step=step),
        embed_steps,
        embed_sizes(settings),
        lambda size, r: [_text(i + r, 1 + (i + r) % 2) for i in range(size)],
    )
    stance = StanceModel(
        settings.stance_model,
        label_map=settings.stance_label_map(),
        device=settings.device,
        runtime=msgspec.structs.replace(stance_rt, steps=tuple(stance_steps)).resolve(),
    )
    judged = _time_steps(
        lambda pairs, step: stance.predict(pairs, settings.stance_batch_size, step=step),
        stance_steps,
        stance_sizes(settings),
        lambda size, r: [
            (_text(i + r, 1 + (i + r) % 3), _text(i * 3 + r + 1, 1)) for i in range(size)
        ],
    )
    return Table(
        key=table_key(settings),
        embedding=choose(embedding, embed_sizes(settings)),
        stance=choose(judged, stance_sizes(settings)),
        measured={"embedding": tuple(embedding), "stance": tuple(judged)},
    )


def _text(start: int, sentences: int) -> str:
    """``sentences`` consecutive sample sentences from ``start`` (passages of 1-3)."""
    return " ".join(_SENTENCES[(start + j) % len(_SENTENCES)] for j in range(sentences))


def _time_steps(
    call: Callable[[Any, Step], object],
    steps: Sequence[Step],
    sizes: Sequence[int],
    inputs: Callable[[int, int], Any],
) -> list[Measured]:
    """Time each step at each size.

    Every round has other inputs, of other lengths (shapes), as real calls do: a runtime
    that compiles kernels per shape pays for that here too.
    """
    found: list[Measured] = []
    for size in sizes:
        rounds = [inputs(size, r) for r in range(ROUNDS + 1)]
        times = time_calls(
            [[functools.partial(call, items, step) for items in rounds] for step in steps]
        )
        found.extend(
            Measured(size=size, backend=step.backend, threads=step.threads, ms=ms)
            for step, ms in zip(steps, times, strict=True)
        )
    return found


def table_path(settings: Settings) -> Path:
    """Where ``auto`` keeps this configuration's table."""
    return Path(settings.onnx_cache) / f"runtime-table-{table_key(settings)}.json"


def load_or_measure(settings: Settings) -> Table | None:
    """The table ``settings.runtime_table`` names: None for ``off``.

    ``auto``: the saved table of this configuration, measured and saved first if there is
    none (or it cannot be read). A path: the table in that file, whatever its key (the
    operator chose it); a missing or malformed file is an error.
    """
    if settings.runtime_table == "off":
        return None
    if settings.runtime_table != "auto":
        return msgspec.json.decode(Path(settings.runtime_table).read_bytes(), type=Table)
    path = table_path(settings)
    try:
        return msgspec.json.decode(path.read_bytes(), type=Table)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        pass  # not measured yet on this machine, or a damaged file: measure again
    table = measure(settings)
    try:
        save(table, path)
    except OSError as exc:  # a read-only image folder: use it, measure again next start
        log.warning("runtime table not saved to %s: %s", path, exc)
    return table


def save(table: Table, path: Path) -> None:
    """Write the table atomically (two servers measuring at once both leave a whole file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(json.dumps(msgspec.to_builtins(table), indent=1).encode())
    tmp.replace(path)


def runtimes(settings: Settings, table: Table | None) -> tuple[Runtime, Runtime]:
    """The embedding and stance runtimes of ``settings``, with the table's steps if any."""
    embed_rt = settings.runtime(settings.embedding_backend)
    stance_rt = settings.runtime(settings.stance_backend)
    if table is None:
        return embed_rt, stance_rt
    return (
        msgspec.structs.replace(embed_rt, steps=table.embedding),
        msgspec.structs.replace(stance_rt, steps=table.stance),
    )
