"""Stance model throughput on CPU: pairs/s for ~60-token pairs at batch 32.

    python bench/stance_speed.py [--model PATH] [--pairs 512] [--batch-size 32]

Rows: torch computing in bf16 (``stance_backend=torch-bf16``, what ``auto`` picks on a CPU
with bf16 units) and ONNX Runtime fp32 (``auto`` elsewhere), each with all cores and with 1
thread, torch fp32 from the fp16 weights (``stance_backend=torch``), and torch computing in
fp16 directly. Threads = CPU cores unless a row says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from service.onnx_backend import Runtime
from service.stance import DEFAULT_STANCE_MODEL, StanceModel

PREMISE = (
    "Chinese President Xi Jinping arrived in Moscow on Monday for a three-day state visit, "
    "his first trip abroad since {n}, and held talks with Vladimir Putin on the war in Ukraine."
)
HYPOTHESIS = "Xi Jinping refused to travel to Russia in {n} because of the war."


def make_pairs(n: int) -> list[tuple[str, str]]:
    return [(PREMISE.format(n=2000 + i % 25), HYPOTHESIS.format(n=2000 + i % 25)) for i in range(n)]


def bench(model: StanceModel, pairs: list[tuple[str, str]], batch_size: int) -> float:
    model.predict(pairs[: batch_size * 2], batch_size=batch_size)  # warm-up
    t0 = time.perf_counter()
    model.predict(pairs, batch_size=batch_size)
    return len(pairs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_STANCE_MODEL)
    ap.add_argument("--pairs", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--onnx-cache", default="var/onnx", help="where the ONNX export is kept")
    ap.add_argument("--skip-fp16", action="store_true", help="skip the (slow) fp16-compute row")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    pairs = make_pairs(args.pairs)
    model = StanceModel(args.model)
    tok = model._tokenizer(pairs[0][0], pairs[0][1])
    print(f"model: {args.model}")
    print(
        f"cpu cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
        f"tokens/pair: {len(tok['input_ids'])}, pairs: {len(pairs)}, batch: {args.batch_size}"
    )
    cores = os.cpu_count() or 1
    rows = []
    for backend in ("torch-bf16", "onnx"):
        for threads in (cores, 1):
            runtime = Runtime(
                backend=backend, threads=threads, batch_threads=threads, onnx_cache=args.onnx_cache
            )
            rows.append(
                (
                    f"{backend}, {threads} thread(s)",
                    bench(StanceModel(args.model, runtime=runtime), pairs, args.batch_size),
                )
            )
    torch.set_num_threads(cores)
    rows.append(("torch fp32 compute", bench(model, pairs, args.batch_size)))
    if not args.skip_fp16:
        model._torch["torch"].half()
        rows.append(("torch fp16 compute", bench(model, pairs, args.batch_size)))
    print()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"| {'mode':<36} | {'pairs/s':>8} | {'vs first':>8} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 10}|")
    for name, rate in rows:
        print(f"| {name:<36} | {rate:>8.1f} | {rate / rows[0][1]:>7.2f}x |")


if __name__ == "__main__":
    main()
