"""Loading the NLI sources into one pair format, with fixed splits.

Every example is a :class:`Pair` (premise, hypothesis, label). Labels are the
three standard NLI names plus ``not_entailment`` for two-way RTE pairs (a
partial label: neutral *or* contradiction; see ``training.losses``).

Splits (fixed, no randomness):
- SICK: TRAIN -> train, TRIAL -> dev (model selection), TEST -> test.
- RTE: rte-train -> train, rte-dev -> dev (model selection), rte-test -> test.
- climate-fever: climate-fever-train -> train (evidence = premise, claim = hypothesis);
  climate-fever-dev -> test only (never trained or tuned on).
- the NLI pool (``nli/pool/train.jsonl.gz``, 129k pairs of 16 sets): train only, each set
  capped by ``POOL_CAPS`` (synthetic or templated sets would otherwise dominate).
- XNLI English dev and FEVER-Symmetric dev: model selection and reporting only.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FACTCHECK_DATA", PROJECT_ROOT.parent / "shared" / "data"))

LABELS = ("entailment", "neutral", "contradiction")  # model output order (config id2label)
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
NOT_ENTAILMENT = "not_entailment"
NOT_ENTAILMENT_ID = 3  # partial label: neutral or contradiction
ALL_LABEL_IDS = {**LABEL2ID, NOT_ENTAILMENT: NOT_ENTAILMENT_ID}

CF_MAP = {"SUPPORTS": "entailment", "REFUTES": "contradiction", "NOT_ENOUGH_INFO": "neutral"}


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: str  # entailment / neutral / contradiction / not_entailment
    source: str  # e.g. "rte", "sick", "cf", "aug:negation"


def load_sick(split: str) -> list[Pair]:
    """SICK pairs of one SemEval_set: TRAIN, TRIAL or TEST."""
    out = []
    with open(DATA_DIR / "nli" / "SICK.txt", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["SemEval_set"] == split:
                out.append(
                    Pair(
                        row["sentence_A"],
                        row["sentence_B"],
                        row["entailment_label"].lower(),
                        "sick",
                    )
                )
    return out


def load_rte(split: str) -> list[Pair]:
    """RTE pairs of rte-{split}.tsv (train, dev, test); labels entailment / not_entailment."""
    out = []
    with open(DATA_DIR / "nli" / f"rte-{split}.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            _, premise, hypothesis, label = parts
            out.append(Pair(premise, hypothesis, label, "rte"))
    return out


def load_climate_fever(split: str) -> list[Pair]:
    """Claim-evidence pairs of climate-fever-{split}.jsonl: premise=evidence, hypothesis=claim."""
    out = []
    with open(DATA_DIR / "eval" / f"climate-fever-{split}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            claim = json.loads(line)
            for ev in claim["evidences"]:
                out.append(Pair(ev["evidence"], claim["claim"], CF_MAP[ev["evidence_label"]], "cf"))
    return out


# Rows kept per pool set (seeded sample). Crowd-written sets are kept whole; synthetic,
# templated or noisily labelled sets are capped so they stay a minority of each batch.
POOL_CAPS = {
    "imppres": 5000,  # template-generated presupposition/implicature pairs
    "conjnli": 5000,  # 15k of its rows are heuristically labelled
    "breaking_nli": 3000,  # one-word swaps, 88% contradiction
    "mpe": 4000,  # four Flickr captions joined
    "addone_rte": 2000,  # one inserted adjective, 2-way
    "med": 3000,  # monotonicity templates, 2-way
}


def load_pool(caps: dict[str, int] | None = None, seed: int = 13) -> list[Pair]:
    """The shared NLI pool, each set capped by ``caps`` (default ``POOL_CAPS``)."""
    caps = POOL_CAPS if caps is None else caps
    by_set: dict[str, list[Pair]] = {}
    with gzip.open(DATA_DIR / "nli" / "pool" / "train.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            by_set.setdefault(row["source"], []).append(
                Pair(row["premise"], row["hypothesis"], row["label"], f"pool:{row['source']}")
            )
    rng = random.Random(seed)
    out: list[Pair] = []
    for name, pairs in sorted(by_set.items()):
        cap = caps.get(name)
        out.extend(rng.sample(pairs, cap) if cap is not None and cap < len(pairs) else pairs)
    return out


def _load_jsonl_dev(name: str) -> list[Pair]:
    with open(DATA_DIR / "nli" / "dev" / name, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [Pair(r["premise"], r["hypothesis"], r["label"], r["source"]) for r in rows]


def raw_sentences() -> list[str]:
    """Real texts for augmentation: premises of the news/encyclopedic training splits (RTE, CF).

    SICK captions are left out: the augmentation is there to bring news-like text in.
    """
    seen: set[str] = set()
    out: list[str] = []
    for p in load_rte("train") + load_climate_fever("train"):
        s = p.premise.strip()
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def train_pairs(sources: list[str]) -> list[Pair]:
    """Training pairs of the named sources (rte, sick, cf, pool); augmentation comes apart."""
    loaders = {
        "rte": lambda: load_rte("train"),
        "sick": lambda: load_sick("TRAIN"),
        "cf": lambda: load_climate_fever("train"),
        "pool": load_pool,
    }
    out: list[Pair] = []
    for s in sources:
        out.extend(loaders[s]())
    return out


def dev_sets() -> dict[str, list[Pair]]:
    """Model-selection sets (never reported as held-out results)."""
    return {
        "xnli_dev": _load_jsonl_dev("xnli_en_dev.jsonl"),
        "fever_sym_dev": _load_jsonl_dev("fever_symmetric_dev.jsonl"),
        "rte_dev": load_rte("dev"),
        "sick_trial": load_sick("TRIAL"),
    }


def test_sets() -> dict[str, list[Pair]]:
    """Held-out evaluation sets: never trained or tuned on."""
    return {
        "rte_test": load_rte("test"),
        "sick_test": load_sick("TEST"),
        "cf_dev": load_climate_fever("dev"),
    }
