"""The arithmetic ceiling of batch checks: the most statements/s this machine's cores allow.

    PYTHONPATH=. python bench/ceiling.py --n 256 --top-k 5

Runs the statements of ``bench/batch.py`` through ``Engine.check_many`` (batches of 64, in
process), records every text the embedding model and every pair the stance model sees
(replaying those calls alone, batch for batch, times the models without the service), and
counts the arithmetic a transformer encoder does on them (multiply-adds of the dense layers
and attention, each sequence at its own length, so padding is not counted). It then times
the fastest matrix multiplies torch does here on all cores, in bf16, fp32 and int8, at the
models' own shapes and at a large square one. Work per statement over the fastest
multiply is the ceiling: the rate if every model FLOP ran at that speed and retrieval,
tokenization and the rules were free. The int8 ceiling is what the quantized backends
could reach at best (they fail the quality bar: bench/NOTES.md). Both models are BERT
encoders; any other architecture would need its own count.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from batch import statements
from transformers import AutoConfig, AutoTokenizer

from service.corpus import demo_documents
from service.embed import resolve_model
from service.engine import Engine
from service.schemas import CheckRequest
from service.settings import Settings


def encoder_flops(config: Any, lengths: Sequence[int]) -> float:
    """FLOPs (2 per multiply-add) of a BERT encoder over sequences of these token counts."""
    h, inner, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    dense = 2 * (4 * h * h + 2 * h * inner)  # Q, K, V, output; feed-forward in and out
    return float(sum(layers * (n * dense + 4 * n * n * h) for n in lengths))


def gemm_rate(dtype: torch.dtype, m: int, k: int, n: int, seconds: float = 1.5) -> float:
    """FLOP/s (int8: OP/s) of torch's matrix multiply of (m × k) by (k × n) on all cores."""
    if dtype == torch.int8:
        a = torch.randint(-127, 128, (m, k), dtype=dtype)
        b = torch.randint(-127, 128, (k, n), dtype=dtype)
        multiply = torch._int_mm  # int8 × int8 -> int32, oneDNN's VNNI kernels
    else:
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        multiply = torch.matmul
    for _ in range(3):
        multiply(a, b)
    count, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        multiply(a, b)
        count += 1
    return 2 * m * k * n * count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="statements")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="statements per call")
    parser.add_argument("--target", type=float, default=100.0, help="statements/s to compare")
    args = parser.parse_args()

    os.environ["FACTCHECK_QUERY_CACHE_SIZE"] = "0"  # every statement embedded, as in batch.py
    settings = Settings.from_env(store=str(Path(tempfile.mkdtemp()) / "ceiling.db"))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    engine = Engine.open(settings)
    engine.ingest(demo_documents(settings.demo_path))
    text_batches: list[Sequence[str]] = []
    pair_batches: list[Sequence[tuple[str, str]]] = []
    pipe = engine.pipeline

    def encode(batch: Sequence[str]) -> Any:
        text_batches.append(batch)
        return pipe.encode(batch)

    def predict(batch: Sequence[tuple[str, str]]) -> Any:
        pair_batches.append(batch)
        return pipe.predict(batch)

    engine.pipeline = dataclasses.replace(pipe, encode=encode, predict=predict)
    items = statements(engine, args.n)
    chunks = [
        [CheckRequest(statement=s, top_k=args.top_k) for s in items[i : i + args.batch_size]]
        for i in range(0, len(items), args.batch_size)
    ]
    engine.check_many(chunks[0])  # warm-up: oneDNN builds its kernels per shape
    text_batches.clear()
    pair_batches.clear()
    t0 = time.perf_counter()
    for chunk in chunks:
        engine.check_many(chunk)
    rate = args.n / (time.perf_counter() - t0)
    # The same model calls again, batch for batch, with nothing around them: the most the
    # service could reach with its own overhead (retrieval, rules, hops) at zero.
    t0 = time.perf_counter()
    for texts_batch in text_batches:
        pipe.encode(texts_batch)
    for pairs_batch in pair_batches:
        pipe.predict(pairs_batch)
    bare_rate = args.n / (time.perf_counter() - t0)
    engine.close()
    texts = [t for batch in text_batches for t in batch]
    pairs = [p for batch in pair_batches for p in batch]

    embed_path = resolve_model(settings.embedding_model)
    embed_tok = AutoTokenizer.from_pretrained(embed_path)
    stance_tok = AutoTokenizer.from_pretrained(settings.stance_model)
    embed_lengths = [len(ids) for ids in embed_tok(texts, truncation=True)["input_ids"]]
    stance_lengths = [
        len(ids)
        for ids in stance_tok(
            [p for p, _ in pairs], [h for _, h in pairs], truncation=True, max_length=256
        )["input_ids"]
    ]
    embed_gflop = encoder_flops(AutoConfig.from_pretrained(embed_path), embed_lengths) / 1e9
    stance_gflop = encoder_flops(AutoConfig.from_pretrained(settings.stance_model), stance_lengths)
    stance_gflop /= 1e9
    per_statement = (embed_gflop + stance_gflop) / args.n

    torch.set_num_threads(os.cpu_count() or 1)
    shapes = {"feed-forward in": (4096, 384, 1536), "feed-forward out": (4096, 1536, 384),
              "square 2048": (2048, 2048, 2048)}  # fmt: skip
    dtypes = {"bf16": torch.bfloat16, "fp32": torch.float32, "int8": torch.int8}
    gemm = {
        (name, shape): gemm_rate(dtype, *dims) / 1e9
        for name, dtype in dtypes.items()
        for shape, dims in shapes.items()
    }
    peak = max(rate for (name, _), rate in gemm.items() if name != "int8")
    int8_peak = max(rate for (name, _), rate in gemm.items() if name == "int8")

    print(f"\n{args.n} statements, top_k {args.top_k}, demo corpus, batches of {args.batch_size}")
    print(f"  measured in process: {rate:.2f} statements/s")
    print(f"  the same model calls alone: {bare_rate:.2f} statements/s "
          f"(in process / model calls {rate / bare_rate:.2f})")  # fmt: skip
    print(
        f"  embedding model: {len(embed_lengths) / args.n:.2f} texts/statement, "
        f"{sum(embed_lengths) / len(embed_lengths):.1f} tokens each, "
        f"{embed_gflop / args.n:.2f} GFLOP/statement"
    )
    print(
        f"  stance model: {len(stance_lengths) / args.n:.2f} pairs/statement, "
        f"{sum(stance_lengths) / len(stance_lengths):.1f} tokens each, "
        f"{stance_gflop / args.n:.2f} GFLOP/statement"
    )
    print(f"  model work: {per_statement:.2f} GFLOP/statement, run at "
          f"{per_statement * rate:.0f} GFLOP/s in the measured pass")  # fmt: skip
    print(f"\nMatrix multiply on {torch.get_num_threads()} threads (GFLOP/s; int8: GOP/s):")
    print("| shape (m × k × n) | " + " | ".join(dtypes) + " |")
    print("| --- |" + " ---: |" * len(dtypes))
    for shape, dims in shapes.items():
        rates = " | ".join(f"{gemm[name, shape]:.0f}" for name in dtypes)
        print(f"| {shape} ({' × '.join(map(str, dims))}) | {rates} |")
    print(f"\nceiling at the fastest bf16/fp32 multiply ({peak:.0f} GFLOP/s), retrieval free: "
          f"{peak / per_statement:.1f} statements/s")  # fmt: skip
    print(f"ceiling at the fastest int8 multiply ({int8_peak:.0f} GOP/s), retrieval free: "
          f"{int8_peak / per_statement:.1f} statements/s")  # fmt: skip
    ceiling = peak / per_statement
    print(f"measured / ceiling: {rate / ceiling:.2f}; model calls alone / ceiling: "
          f"{bare_rate / ceiling:.2f}")  # fmt: skip
    need = args.target * per_statement
    print(f"{args.target:.0f} statements/s needs {need:.0f} GFLOP/s of model work: "
          f"{need / peak:.2f} × the fastest multiply measured here")  # fmt: skip
    budget = peak / args.target - embed_gflop / args.n
    print(
        f"for {args.target:.0f}/s at that peak the stance model could spend "
        f"{budget:.2f} GFLOP/statement: {budget / (stance_gflop / args.n):.2f} × this one's"
    )


if __name__ == "__main__":
    main()
