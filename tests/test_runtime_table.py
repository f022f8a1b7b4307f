"""The runtime table: each model call runs on the backend and threads fastest for its size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from service.embed import Embedder
from service.onnx_backend import Runtime, Step, native_bf16
from service.runtime_table import (
    Measured,
    Table,
    candidates,
    choose,
    embed_sizes,
    load_or_measure,
    precision,
    runtimes,
    save,
    stance_sizes,
    table_path,
)
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings
from service.stance import StanceModel

CORES = os.cpu_count() or 1
PAIRS = [
    ("Xi Jinping arrived in Moscow on Monday for a state visit.", "Xi visited Moscow."),
    ("Sea levels rose by about 20 centimetres last century.", "Sea levels have fallen."),
    ("The council approved the budget.", "The council rejected the budget."),
]


def m(size: int, backend: str, threads: int, ms: float) -> Measured:
    return Measured(size=size, backend=backend, threads=threads, ms=ms)


def test_choose_keeps_the_fastest_per_size_and_merges_neighbours() -> None:
    measured = [
        m(1, "onnx", 1, 5.0),
        m(1, "onnx", 2, 4.0),
        m(1, "torch", 2, 9.0),
        m(5, "onnx", 1, 20.0),
        m(5, "onnx", 2, 12.0),
        m(5, "torch", 2, 15.0),
        m(32, "onnx", 2, 90.0),
        m(32, "torch", 2, 80.0),
    ]
    assert choose(measured, (1, 5, 32)) == (
        Step(upto=5, backend="onnx", threads=2),  # sizes 1 and 5 agree: one row
        Step(upto=0, backend="torch", threads=2),  # the largest row takes any size
    )


def test_one_precision_for_every_size_chosen_by_the_largest_calls() -> None:
    measured = [
        m(1, "onnx", 2, 4.0),
        m(1, "torch-bf16", 1, 6.0),
        m(1, "torch-bf16", 2, 7.0),
        m(32, "onnx", 2, 90.0),
        m(32, "torch-bf16", 2, 50.0),
    ]
    # ONNX fp32 is faster alone, but bf16 wins the batches: lone calls stay in bf16
    assert choose(measured, (1, 32)) == (
        Step(upto=1, backend="torch-bf16", threads=1),
        Step(upto=0, backend="torch-bf16", threads=2),
    )
    assert precision("onnx") == precision("torch") == "fp32" != precision("torch-bf16")


def test_a_call_takes_the_first_row_that_admits_its_size() -> None:
    runtime = Runtime(
        backend="onnx",
        steps=(Step(upto=1, backend="onnx", threads=1), Step(backend="torch-bf16", threads=0)),
    )
    assert runtime.step(1, 32) == Step(upto=1, backend="onnx", threads=1)
    assert runtime.step(2, 32) == Step(backend="torch-bf16", threads=CORES)  # 0: every core
    assert runtime.backends == ("onnx", "torch-bf16")
    assert runtime.thread_counts("onnx") == {1}
    # without a table: one backend, single-call threads below a batch, batch threads above
    fixed = Runtime(backend="onnx", threads=1, batch_threads=0)
    assert fixed.step(5, 32) == Step(backend="onnx", threads=1)
    assert fixed.step(32, 32) == Step(backend="onnx", threads=CORES)


def test_candidates_are_fp32_and_bf16_runtimes_never_int8() -> None:
    auto = {(s.backend, s.threads) for s in candidates(Runtime(backend="auto"), stance=True)}
    backends = {"onnx", "torch", *(["torch-bf16"] if native_bf16() else [])}
    assert auto == {(b, t) for b in backends for t in {1, CORES}}
    named = candidates(Runtime(backend="onnx-int8"), stance=True)
    assert {s.backend for s in named} == {"onnx-int8"}  # a named backend: only threads vary


def test_the_table_is_measured_once_saved_and_reused(tmp_path: Path) -> None:
    # ONNX Runtime only (threads vary): a short measurement, in the shared ONNX cache
    settings = Settings.from_env(stance_backend="onnx", runtime_table="auto")
    path = table_path(settings)
    path.unlink(missing_ok=True)
    table = load_or_measure(settings)
    assert table is not None and path.exists()
    assert {(m.size, m.backend, m.threads) for m in table.measured["stance"]} == {
        (size, "onnx", threads) for size in stance_sizes(settings) for threads in {1, CORES}
    }
    assert {m.size for m in table.measured["embedding"]} == set(embed_sizes(settings))
    for steps in (table.embedding, table.stance):
        assert steps[-1].upto == 0  # every call size has a row
    # reused: the saved file answers, unchanged
    mtime = path.stat().st_mtime_ns
    assert load_or_measure(settings) == table
    assert path.stat().st_mtime_ns == mtime
    # a damaged file is measured again
    path.write_text("{not json")
    assert load_or_measure(settings) is not None
    assert path.stat().st_mtime_ns != mtime
    # an operator's table by path, whatever its key; off: no table
    chosen = Table(
        key="elsewhere",
        embedding=(Step(backend="onnx", threads=1),),
        stance=(Step(backend="onnx", threads=1),),
    )
    save(chosen, tmp_path / "mine.json")
    by_path = Settings.from_env(runtime_table=str(tmp_path / "mine.json"))
    assert load_or_measure(by_path) == chosen
    assert load_or_measure(Settings.from_env(runtime_table="off")) is None
    with pytest.raises(FileNotFoundError):
        load_or_measure(Settings.from_env(runtime_table=str(tmp_path / "missing.json")))
    embed_rt, stance_rt = runtimes(by_path, chosen)
    assert embed_rt.steps == chosen.embedding and stance_rt.steps == chosen.stance


def test_models_run_each_call_on_its_row(
    embedder: Embedder, stance: StanceModel, tmp_path: Path
) -> None:
    """Lone calls on ONNX Runtime, batches on torch: the same vectors and stances either way."""
    rows = (Step(upto=1, backend="onnx", threads=1), Step(backend="torch", threads=0))
    runtime = Runtime(backend="onnx", onnx_cache=str(tmp_path), steps=rows)
    mixed = Embedder(DEFAULT_EMBEDDING_MODEL, batch_size=2, runtime=runtime)
    texts = [p for p, _ in PAIRS]
    alone = np.stack([mixed.encode([t])[0] for t in texts])  # ONNX Runtime
    together = mixed.encode(texts)  # torch
    assert np.allclose(alone, together, atol=1e-5)
    assert np.allclose(together, embedder.encode(texts), atol=1e-5)
    judge = StanceModel(Settings.from_env().stance_model, runtime=runtime)
    lone = np.stack([judge.predict([p])[0] for p in PAIRS])
    assert np.allclose(lone, judge.predict(PAIRS), atol=1e-4)
    assert np.allclose(lone, stance.predict(PAIRS), atol=1e-4)
    assert set(judge._onnx) == {"onnx"} and set(judge._torch) == {"torch"}
