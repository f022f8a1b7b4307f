"""How far a better stance model would take the verdict: the news suite with oracle readings.

    python bench/stance_ceiling.py [--levels 0,0.5,0.75,1] [--repeats 5]

The rules, the coverage and the verdict model can only be as right as the stance model's
reading of the passages they weigh. This measures how much of the news suite's gap is
that reading. The suite's train and test halves go through the check pipeline once (a
fresh store, the shipped models, ``top_k`` 5), keeping each statement's judged passages and
which of them come from its gold evidence documents. Then, for each oracle level ``q``,
the stance probabilities are blended towards what a perfect reader would say:

* **evidence**: the statement's *evidence passage* (the most similar passage of a gold
  evidence document: the suite names documents, not sentences) reads
  ``q · gold + (1 - q) · model``, where gold is "supports" for a supported statement and
  "contradicts" for a refuted one;
* **+ others neutral**: as well, every other on-topic passage reads
  ``q · neutral + (1 - q) · model`` (a perfect reader finds nothing in a passage about
  another detail of the story; it would also find support in a second sentence that
  states the fact, so this row is an approximation from below and above at once).

Conflicting and not_enough_info statements have no gold reading of one passage (the suite
does not say which outlet says what), so theirs stay as read, apart from the second row's
neutral blend. The rules' mismatches, agreements and coverage are kept as they are: a
false mismatch still refutes a true statement under any ``q``.

At each level the verdict model is refitted on the train half with ``factcheck
fit-verdict``'s own procedure (service/judge/calibrate.py: relevance floor, L2 and support
floor cross-validated) and the test half is scored with it. ``q = 0`` is the shipped
pipeline fitted on the train half alone (the shipped model also fits the 12-statement seed
set), the row every other one compares with.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence

import msgspec
import numpy as np
from common import ROOT, machine, table

from service.engine import Engine
from service.evaluate import (
    Dataset,
    confusion_matrix,
    judged_passages,
    news_suite,
    per_class_f1,
)
from service.judge.calibrate import REPEATS, fit
from service.judge.verdict import Judged, VerdictModel, decide
from service.schemas import CheckRequest, CheckResponse
from service.settings import Settings

SUITE = ROOT / "tests" / "data" / "news_suite"
_GOLD = {"supported": (1.0, 0.0, 0.0), "refuted": (0.0, 0.0, 1.0)}
_NEUTRAL = (0.0, 1.0, 0.0)
HEADERS = ("oracle reads", "q", "accuracy", "macro-F1", "false supported", "worst kind", "floor")


def judged_with_evidence(dataset: Dataset) -> list[tuple[list[Judged], int | None]]:
    """Each statement's judged passages and the index of its evidence passage (or None)."""
    with tempfile.TemporaryDirectory(prefix="factcheck-ceiling-") as tmp:
        engine = Engine.open(Settings.from_env(store=f"{tmp}/suite.db"))
        try:
            engine.ingest(dataset.corpus)
            results = engine.check_many(
                [
                    CheckRequest(statement=c.statement, top_k=5, as_of=c.as_of)
                    for c in dataset.claims
                ]
            )
        finally:
            engine.close()
    out = []
    for claim, result in zip(dataset.claims, results, strict=True):
        if isinstance(result, Exception):
            raise result
        out.append(
            (judged_passages(result), _evidence_index(result, {g.document for g in claim.gold}))
        )
    return out


def _evidence_index(result: CheckResponse, documents: set[str]) -> int | None:
    found = [i for i, e in enumerate(result.evidence) if e.on_topic and e.document.id in documents]
    return max(found, key=lambda i: result.evidence[i].similarity, default=None)


def _blend(p: Judged, target: Sequence[float], q: float) -> Judged:
    read = (p.supports, p.neutral, p.contradicts)
    s, n, c = ((1 - q) * a + q * b for a, b in zip(read, target, strict=True))
    return msgspec.structs.replace(p, supports=s, neutral=n, contradicts=c)


def oracle(
    claims: Sequence[tuple[list[Judged], int | None]],
    gold: Sequence[str],
    q: float,
    others_neutral: bool,
) -> list[list[Judged]]:
    """Every statement's passages with the stance readings blended as the module doc says."""
    out = []
    for (passages, evidence), verdict in zip(claims, gold, strict=True):
        row = []
        for i, p in enumerate(passages):
            if i == evidence and verdict in _GOLD:
                row.append(_blend(p, _GOLD[verdict], q))
            elif others_neutral:  # an off-topic passage reads neutral already
                row.append(_blend(p, _NEUTRAL, q))
            else:
                row.append(p)
        out.append(row)
    return out


def score(
    claims: Sequence[Sequence[Judged]],
    gold: Sequence[str],
    kinds: Sequence[str],
    model: VerdictModel,
) -> dict[str, object]:
    """Accuracy, macro-F1, false supports and the worst kind of the test half's verdicts."""
    predicted = [decide(c, model).verdict for c in claims]
    correct = [p == g for p, g in zip(predicted, gold, strict=True)]
    f1s = [c["f1"] for c in per_class_f1(confusion_matrix(gold, predicted)).values()]
    per_kind: dict[str, list[bool]] = {}
    for k, ok in zip(kinds, correct, strict=True):
        per_kind.setdefault(k, []).append(ok)
    worst = min(per_kind, key=lambda k: np.mean(per_kind[k]))
    return {
        "accuracy": np.mean(correct),
        "macro_f1": np.mean(f1s),
        "false_supported": sum(p == "supported" != g for p, g in zip(predicted, gold, strict=True)),
        "worst_kind": f"{worst} {np.mean(per_kind[worst]):.2f}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="0,0.5,0.75,1")
    ap.add_argument("--repeats", type=int, default=REPEATS, help="cross-validation draws")
    args = ap.parse_args()
    print(machine())
    t0 = time.perf_counter()
    train, test = news_suite(SUITE, "train"), news_suite(SUITE, "test")
    train_j, test_j = judged_with_evidence(train), judged_with_evidence(test)
    train_gold = [c.verdict for c in train.claims]
    test_gold = [c.verdict for c in test.claims]
    kinds = [c.kind or "" for c in test.claims]
    print(f"pipeline: {time.perf_counter() - t0:.0f} s for {len(train_j) + len(test_j)} statements")
    found = sum(e is not None for _, e in test_j)
    print(
        f"test statements with an on-topic evidence passage in the top 5: {found} / {len(test_j)}"
    )
    rows = []
    for others in (False, True):
        for q in (float(x) for x in args.levels.split(",")):
            if others and q == 0:
                continue  # the same as the first row
            model, _ = fit(
                oracle(train_j, train_gold, q, others),
                train_gold,
                fitted_on=["news_suite:train (oracle)"],
                repeats=args.repeats,
            )
            r = score(oracle(test_j, test_gold, q, others), test_gold, kinds, model)
            rows.append(
                [
                    "evidence + others neutral" if others else "evidence",
                    f"{q:.2f}",
                    f"{r['accuracy']:.3f}",
                    f"{r['macro_f1']:.3f}",
                    str(r["false_supported"]),
                    r["worst_kind"],
                    f"{model.support_floor:.2f}",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    print()
    print(table(HEADERS, rows))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
