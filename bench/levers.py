"""Speed levers for the two models, each against the torch fp32 path the service runs.

    python bench/levers.py [--stance PATH] [--pairs 600]

* ONNX Runtime: both models exported locally (``torch.onnx.export``, no hub, no
  optimum: optimum-onnx would pin transformers 4.x) to <bench cache>/onnx/, run as fp32
  and as int8 (``onnxruntime.quantization.quantize_dynamic``, per-channel weights).
  Quality against torch fp32: embedding cosine, retrieval recall@10 over the real claims
  (statements and claims both re-embedded), and stance argmax agreement with the largest
  probability change on Climate-FEVER (claim, evidence) pairs.
* Threads: torch intra-op threads 1 vs 2 (the machine has 2 cores) for one statement and
  for 5 stance pairs, the service's per-check model calls.
* Query cache: a repeated statement costs a dictionary look-up instead of an encode.

Speeds are medians over repeated calls in this process; the machine is shared, so the
load average is printed before and after.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import CACHE, eval_records, machine, percentile, statements, table

from service.embed import resolve_model
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings

ONNX_DIR = CACHE / "onnx"


def export(module: Any, tokenizer: Any, path: Path, output: str) -> None:
    """Export a BERT-style module to ONNX with dynamic batch and sequence axes."""
    import torch

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tokenizer(
        ["a sentence to trace", "another"], ["x", "y"], padding=True, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes[output] = {0: "batch"} if output == "logits" else {0: "batch", 1: "seq"}

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out[0]

    with torch.no_grad():
        torch.onnx.export(
            Wrapped().eval(),
            tuple(enc[n] for n in names),
            str(path),
            input_names=names,
            output_names=[output],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize(src: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = src.with_name(src.stem + "-int8.onnx")
    if not dst.exists():
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)
    return dst


def session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_embed(sess: Any, tokenizer: Any, texts: list[str], batch: int = 64) -> np.ndarray:
    """Mean-pooled, normalised embeddings (what all-MiniLM-L6-v2's pipeline does)."""
    out = []
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for i in range(0, len(texts), batch):
        chunk = [texts[j] for j in order[i : i + batch]]
        enc = tokenizer(chunk, padding=True, truncation=True, max_length=256, return_tensors="np")
        feeds = {
            k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")
        }
        hidden = sess.run(None, feeds)[0]
        mask = enc["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    result = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
    result[order] = np.concatenate(out)
    return result


def ort_logits(
    sess: Any, tokenizer: Any, pairs: list[tuple[str, str]], batch: int = 32
) -> np.ndarray:
    out = []
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        enc = tokenizer(
            [p for p, _ in chunk],
            [h for _, h in chunk],
            padding=True,
            truncation=True,
            max_length=256,
            return_tensors="np",
        )
        feeds = {
            k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")
        }
        out.append(sess.run(None, feeds)[0])
    return np.concatenate(out)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 50)


def recall10(
    claims: np.ndarray, queries: np.ndarray, ref_claims: np.ndarray, ref_queries: np.ndarray
) -> float:
    hits = 0
    for q, rq in zip(queries, ref_queries, strict=True):
        got = set(np.argsort(-(claims @ q))[:10].tolist())
        want = set(np.argsort(-(ref_claims @ rq))[:10].tolist())
        hits += len(got & want)
    return hits / (10 * len(queries))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stance", default=Settings.from_env().stance_model)
    ap.add_argument("--pairs", type=int, default=600, help="Climate-FEVER pairs for agreement")
    args = ap.parse_args()
    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer

    print(f"machine: {machine()}")
    print(f"stance model: {args.stance}")
    st = SentenceTransformer(resolve_model(DEFAULT_EMBEDDING_MODEL), device="cpu")
    ce = CrossEncoder(args.stance, device="cpu", max_length=256)
    tok_e, tok_c = st.tokenizer, ce.tokenizer
    real = np.load(CACHE / "real-claims.npz")  # written by bench/check.py
    claims = [str(t) for t in real["texts"]]
    queries = statements(100)
    pairs = [
        (ev["evidence"], r["claim"])
        for r in eval_records()
        for ev in r["evidences"]  # type: ignore[attr-defined]
    ][: args.pairs]
    one, five = queries[:1], [(c, queries[0]) for c in claims[:5]]

    export(st[0].auto_model, tok_e, ONNX_DIR / "embedder.onnx", "last_hidden_state")
    export(ce.model, tok_c, ONNX_DIR / "stance.onnx", "logits")
    emb_paths = {"onnx fp32": ONNX_DIR / "embedder.onnx"}
    emb_paths["onnx int8"] = quantize(emb_paths["onnx fp32"])
    ce_paths = {"onnx fp32": ONNX_DIR / "stance.onnx"}
    ce_paths["onnx int8"] = quantize(ce_paths["onnx fp32"])

    torch.set_num_threads(2)
    ref_claims = st.encode(claims, batch_size=64, normalize_embeddings=True)
    ref_queries = st.encode(queries, batch_size=64, normalize_embeddings=True)
    ref_probs = softmax(ce.predict(pairs, batch_size=32, activation_fn=torch.nn.Identity()))

    emb_rows, ce_rows = [], []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        emb_rows.append(
            [
                f"torch fp32, {threads} thread(s)",
                median_ms(lambda: st.encode(one, normalize_embeddings=True), 30),
                512 / (median_ms(lambda: st.encode(claims[:512], batch_size=64), 2) / 1000),
                1.0,
                1.0,
                1.0,
            ]
        )
        ce_rows.append(
            [
                f"torch fp32, {threads} thread(s)",
                median_ms(lambda: ce.predict(five, batch_size=32, show_progress_bar=False), 20),
                256
                / (
                    median_ms(
                        lambda: ce.predict(pairs[:256], batch_size=32, show_progress_bar=False), 2
                    )
                    / 1000
                ),
                1.0,
                0.0,
            ]
        )
    torch.set_num_threads(2)
    for name, path in emb_paths.items():
        for threads in (2, 1):
            sess = session(path, threads)
            got_claims = ort_embed(sess, tok_e, claims)
            got_queries = ort_embed(sess, tok_e, queries)
            cos = (got_claims * ref_claims).sum(1)
            emb_rows.append(
                [
                    f"{name}, {threads} thread(s)",
                    median_ms(lambda s=sess: ort_embed(s, tok_e, one), 30),
                    512 / (median_ms(lambda s=sess: ort_embed(s, tok_e, claims[:512]), 2) / 1000),
                    float(cos.mean()),
                    float(cos.min()),
                    recall10(got_claims, got_queries, ref_claims, ref_queries),
                ]
            )
    for name, path in ce_paths.items():
        for threads in (2, 1):
            sess = session(path, threads)
            probs = softmax(ort_logits(sess, tok_c, pairs))
            ce_rows.append(
                [
                    f"{name}, {threads} thread(s)",
                    median_ms(lambda s=sess: ort_logits(s, tok_c, five), 20),
                    256 / (median_ms(lambda s=sess: ort_logits(s, tok_c, pairs[:256]), 2) / 1000),
                    float((probs.argmax(1) == ref_probs.argmax(1)).mean()),
                    float(np.abs(probs - ref_probs).max()),
                ]
            )

    cache: dict[str, np.ndarray] = {}

    def cached(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = st.encode([text])[0]
        return cache[text]

    cached(one[0])
    hit = median_ms(lambda: cached(one[0]), 100)

    print(f"machine after: {machine()}\n")
    print("### embedder (all-MiniLM-L6-v2)\n")
    print(
        table(
            [
                "backend",
                "1 statement ms (p50)",
                "claims/s (batch 64)",
                "cosine to torch (mean)",
                "cosine (min)",
                "recall@10 vs torch",
            ],
            emb_rows,
        )
    )
    print(f"\n### stance cross-encoder ({len(pairs)} Climate-FEVER pairs for agreement)\n")
    print(
        table(
            ["backend", "5 pairs ms (p50)", "pairs/s (batch 32)", "argmax agreement", "max |Δp|"],
            ce_rows,
        )
    )
    print(f"\nquery cache hit: {hit * 1000:.1f} µs (vs the encode above)")


if __name__ == "__main__":
    main()
