"""Held-out evaluation of an NLI cross-encoder: accuracy, per-class F1, confusion matrices.

    python -m training.evaluate_stance models/factcheck-nli-minilm-l6-v2 [--json X.json] [--md X.md]
        [--backend torch|torch-bf16|onnx|onnx-int8]   # the runtime, as the service runs it
        [--sets test,dev,hard]                        # which groups of sets (default: all)

Test sets (never trained or tuned on): RTE test (2-way: a predicted neutral or
contradiction counts as not_entailment), SICK TEST, climate-fever dev (claim-evidence
pairs; SUPPORTS=entailment, REFUTES=contradiction, NOT_ENOUGH_INFO=neutral). Dev sets
(model selection): XNLI English dev (3-way), FEVER-Symmetric dev (SUPPORTS vs REFUTES:
the larger of P(entailment) and P(contradiction) decides), RTE dev, SICK TRIAL. The
held-out slice of generated hard negatives (``training.hard_negatives``) is scored per
kind (number, date, entity, antonym, unit, shorten).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

from training.data import LABELS, Pair, dev_sets, test_sets

RTE_LABELS = ("entailment", "not_entailment")


# sets scored as SUPPORTS vs REFUTES: neutral is not an answer there
NO_NEUTRAL_SETS = frozenset({"fever_sym_dev"})


def predict_labels(
    model, pairs: list[Pair], batch_size: int = 64, no_neutral: bool = False
) -> list[str]:
    """Predicted label names, in the model's own label order (config id2label).

    With ``no_neutral`` (FEVER-Symmetric), the larger of the entailment and contradiction
    logits decides.
    """
    id2label = {int(k): v.lower() for k, v in model.config.id2label.items()}
    allowed = [i for i, name in id2label.items() if not no_neutral or name != "neutral"]
    order = sorted(
        range(len(pairs)), key=lambda i: len(pairs[i].premise) + len(pairs[i].hypothesis)
    )
    logits = model.predict(
        [(pairs[i].premise, pairs[i].hypothesis) for i in order],
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    out = [""] * len(pairs)
    for j, i in enumerate(order):
        out[i] = id2label[allowed[int(np.argmax(logits[j][allowed]))]]
    return out


def _f1(gold: list[str], pred: list[str], label: str) -> float:
    tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
    fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
    fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def score(pairs: list[Pair], pred3: list[str]) -> dict:
    gold = [p.label for p in pairs]
    two_way = any(g == "not_entailment" for g in gold)
    labels = RTE_LABELS if two_way else LABELS
    pred = (
        [("entailment" if p == "entailment" else "not_entailment") for p in pred3]
        if two_way
        else pred3
    )
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    f1 = {lab: _f1(gold, pred, lab) for lab in labels}
    confusion = {
        g: {
            p: sum(1 for a, b in zip(gold, pred3, strict=True) if a == g and b == p) for p in LABELS
        }
        for g in labels
    }
    return {
        "n": len(gold),
        "accuracy": acc,
        "macro_f1": sum(f1.values()) / len(f1),
        "f1": f1,
        "confusion_gold_x_pred3": confusion,
        "majority_baseline": max(gold.count(lab) for lab in labels) / len(gold),
    }


class ServiceRuntime:
    """The service's StanceModel on a given runtime, with the CrossEncoder calls used here."""

    def __init__(self, path: str, backend: str, threads: int) -> None:
        from types import SimpleNamespace

        from service.onnx_backend import Runtime
        from service.settings import Settings
        from service.stance import StanceModel

        # the service's own export cache, wherever the command runs from
        runtime = Runtime(backend=backend, threads=threads, onnx_cache=Settings().onnx_cache)
        self.model = StanceModel(path, runtime=runtime)
        # StanceModel's columns are supports, neutral, contradicts
        self.config = SimpleNamespace(id2label={0: "entailment", 1: "neutral", 2: "contradiction"})

    def predict(self, pairs, batch_size: int = 64, **_: object) -> np.ndarray:
        return self.model.predict(pairs, batch_size=batch_size)


def evaluate(model, sets: dict[str, list[Pair]] | None = None) -> dict:
    sets = test_sets() if sets is None else sets
    out = {}
    for name, pairs in sets.items():
        t0 = time.perf_counter()
        res = score(pairs, predict_labels(model, pairs, no_neutral=name in NO_NEUTRAL_SETS))
        res["seconds"] = round(time.perf_counter() - t0, 1)
        out[name] = res
    return out


def evaluate_dev(model) -> dict:
    return evaluate(model, dev_sets())


def evaluate_hard(model, sentences: int = 12000, seed: int = 13) -> dict:
    """Accuracy on the held-out slice of generated hard negatives, per kind and overall."""
    from training import hard_negatives

    pairs = hard_negatives.pairs_for(sentences, seed, "test")
    pred = predict_labels(model, pairs)
    out = {"all": score(pairs, pred)}
    for kind in sorted({p.source for p in pairs}):
        idx = [i for i, p in enumerate(pairs) if p.source == kind]
        out[kind.removeprefix("hard:")] = score([pairs[i] for i in idx], [pred[i] for i in idx])
    return out


def markdown(metrics: dict) -> str:
    lines = [
        "| split | n | accuracy | macro-F1 | per-class F1 | majority baseline |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics.items():
        per = ", ".join(f"{k} {v:.3f}" for k, v in m["f1"].items())
        lines.append(
            f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {per} "
            f"| {m['majority_baseline']:.3f} |"
        )
    for name, m in metrics.items():
        lines += [
            "",
            f"Confusion matrix, {name} (rows gold, columns predicted 3-way label):",
            "",
            "| gold \\ pred | " + " | ".join(LABELS) + " |",
            "|---|---|---|---|",
        ]
        for g, row in m["confusion_gold_x_pred3"].items():
            lines.append(f"| {g} | " + " | ".join(str(row[p]) for p in LABELS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument(
        "--fp32", action="store_true", help="upcast weights to float32 before evaluating"
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--backend", default="torch", choices=("torch", "torch-bf16", "onnx", "onnx-int8")
    )
    ap.add_argument("--sets", default="test,dev,hard", help="comma list of test, dev, hard")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from sentence_transformers import CrossEncoder

    if args.backend == "torch":
        model = CrossEncoder(args.model, device="cpu", activation_fn=torch.nn.Identity())
        if args.fp32:
            model.float()
    else:
        model = ServiceRuntime(args.model, args.backend, args.threads)
    groups = set(args.sets.split(","))
    metrics = evaluate(model) if "test" in groups else {}
    if "dev" in groups:
        metrics |= evaluate_dev(model)
    if "hard" in groups:
        metrics |= {f"hard_{k}": v for k, v in evaluate_hard(model).items()}
    md = markdown(metrics)
    print(md)
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2) + "\n")
    if args.md:
        Path(args.md).write_text(md)


if __name__ == "__main__":
    main()
