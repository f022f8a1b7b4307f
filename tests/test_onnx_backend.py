"""The ONNX Runtime and bf16 backends give the torch fp32 models' outputs (ONNX exported once)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from service.embed import Embedder, Vectors
from service.onnx_backend import Runtime, native_bf16
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings
from service.stance import StanceModel

pytestmark = pytest.mark.slow

TEXTS = [
    "Xi Jinping arrived in Moscow on Monday for a three-day state visit.",
    "Sea levels rose by about 20 centimetres over the twentieth century.",
    "Short.",
]
PAIRS = [
    (TEXTS[0], "Xi visited Moscow."),
    (TEXTS[1], "Sea levels have fallen since 1900."),
    (TEXTS[1] + " " + TEXTS[0], "Nothing happened."),
]


def test_onnx_embedder_matches_torch(embedder: Embedder, tmp_path: Path) -> None:
    runtime = Runtime(backend="onnx", onnx_cache=str(tmp_path))
    onnx = Embedder(DEFAULT_EMBEDDING_MODEL, batch_size=2, runtime=runtime)
    got, want = onnx.encode(TEXTS), embedder.encode(TEXTS)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * want).sum(axis=1).min()) > 0.9999
    exported = list(tmp_path.glob("*/model.onnx"))
    assert len(exported) == 1
    mtime = exported[0].stat().st_mtime_ns
    Embedder(DEFAULT_EMBEDDING_MODEL, runtime=runtime)  # reuses the file
    assert exported[0].stat().st_mtime_ns == mtime


def test_onnx_int8_embedder_is_close(embedder: Embedder, tmp_path: Path) -> None:
    runtime = Runtime(backend="onnx-int8", onnx_cache=str(tmp_path))
    got = Embedder(DEFAULT_EMBEDDING_MODEL, runtime=runtime).encode(TEXTS)
    assert float((got * embedder.encode(TEXTS)).sum(axis=1).min()) > 0.95
    assert (tmp_path / next(tmp_path.iterdir()).name / "model-int8.onnx").exists()


def test_onnx_stance_matches_torch(stance: StanceModel, tmp_path: Path) -> None:
    onnx = StanceModel(
        Settings.from_env().stance_model,
        runtime=Runtime(backend="onnx", onnx_cache=str(tmp_path)),
    )
    got, want = onnx.predict(PAIRS, batch_size=2), stance.predict(PAIRS)
    assert got.shape == (3, 3)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(got, want, atol=1e-4)
    assert onnx.predict([]).shape == (0, 3)


def test_embedder_query_cache_skips_the_model_for_recent_statements() -> None:
    cached = Embedder(DEFAULT_EMBEDDING_MODEL, query_cache_size=2)
    calls: list[list[str]] = []
    encode = cached.encode

    def counted(texts: Sequence[str]) -> Vectors:
        calls.append(list(texts))
        return encode(texts)

    cached.encode = counted  # type: ignore[method-assign]
    want = encode(TEXTS[:3])
    got = cached.encode_queries([TEXTS[0], TEXTS[1], TEXTS[0]])
    assert calls == [[TEXTS[0], TEXTS[1]]]  # one call, each text once
    assert np.allclose(got, want[[0, 1, 0]], atol=1e-6)
    assert np.allclose(cached.encode_queries([TEXTS[1], TEXTS[0]]), want[[1, 0]], atol=1e-6)
    assert len(calls) == 1  # both from the cache
    cached.encode_queries([TEXTS[2]])  # evicts the least recently used: TEXTS[1]
    cached.encode_queries([TEXTS[0], TEXTS[1]])
    assert calls[1:] == [[TEXTS[2]], [TEXTS[1]]]
    assert cached.encode_queries([]).shape == (0, cached.dimension)


def test_bf16_stance_is_close_to_fp32(stance: StanceModel) -> None:
    bf16 = StanceModel(Settings.from_env().stance_model, runtime=Runtime(backend="torch-bf16"))
    got, want = bf16.predict(PAIRS), stance.predict(PAIRS)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    # bf16 keeps 8 bits of mantissa: probabilities move by a little, labels do not
    assert np.abs(got - want).max() < 0.05
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()


def test_auto_picks_bf16_only_where_the_cpu_has_it() -> None:
    assert Runtime(backend="onnx").resolve().backend == "onnx"
    auto = Settings().runtime("auto")
    assert auto.backend == ("torch-bf16" if native_bf16() else "onnx")


def test_batch_calls_get_all_cores_single_calls_one_thread(tmp_path: Path) -> None:
    runtime = Runtime(backend="onnx", threads=1, batch_threads=2, onnx_cache=str(tmp_path))
    assert runtime.threads_for(1, 2) == 1
    assert runtime.threads_for(2, 2) == 2
    assert Runtime(threads=1).threads_for(64, 32) == (os.cpu_count() or 1)
    embedder = Embedder(DEFAULT_EMBEDDING_MODEL, batch_size=2, runtime=runtime)
    sessions = embedder._onnx["onnx"]
    assert sessions.session(1).get_session_options().intra_op_num_threads == 1
    assert sessions.session(2).get_session_options().intra_op_num_threads == 2
    together = embedder.encode(TEXTS)  # one call of a full batch: the 2-thread session
    alone = np.stack([embedder.encode([t])[0] for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
