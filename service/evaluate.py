"""The quality harness: run a labelled claim set through the API's code path and score it.

``factcheck eval DATASET`` ingests the set's evidence corpus into a fresh store, checks
every claim with :meth:`Engine.check` (the code behind ``POST /v1/check``), and reports
evidence recall@1/5/10, verdict accuracy and macro-F1, per-class F1, the confusion
matrix, expected calibration error and claims per second.

Datasets:

* a CLIMATE-FEVER JSONL file (``claim``, ``claim_label``, ``evidences[]``): every evidence
  sentence becomes a passage of a document named by its Wikipedia article, and a claim's
  gold evidence is its SUPPORTS/REFUTES sentences;
* a seed set JSONL (``statement``, ``verdict``, ``evidence_documents``, optional ``as_of``)
  checked against the demo corpus; its gold evidence is any passage of the named documents;
* the news suite folder (``tests/data/news_suite/``: ``articles.jsonl`` + ``statements.jsonl``,
  each row with a ``split``): wire stories of several outlets and statements of nine kinds;
  ``split`` picks its train or test half (the whole corpus is always ingested, so each half
  is checked against every outlet). Reports add accuracy per kind and list the false
  statements marked supported.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from service.corpus import demo_documents
from service.embed import Vectors
from service.engine import Engine
from service.judge.verdict import Judged
from service.retrieve import retrieve
from service.schemas import CheckRequest, CheckResponse, DocumentIn
from service.store import SearchFilter

VERDICTS = ("supported", "refuted", "conflicting", "not_enough_info")
_CLIMATE_LABELS = {
    "SUPPORTS": "supported",
    "REFUTES": "refuted",
    "DISPUTED": "conflicting",
    "NOT_ENOUGH_INFO": "not_enough_info",
}
RECALL_AT = (1, 5, 10)
BATCH = 32


class Gold(msgspec.Struct, frozen=True):
    """A passage (or, with ``text`` None, any passage of a document) that is gold evidence."""

    document: str
    text: str | None = None


class LabelledClaim(msgspec.Struct, frozen=True, kw_only=True):
    """A statement with its expected verdict and gold evidence."""

    id: str
    statement: str
    verdict: str
    gold: list[Gold]
    as_of: str | None = None
    kind: str | None = None


class Dataset(msgspec.Struct, frozen=True):
    """Claims and the corpus they are checked against."""

    name: str
    claims: list[LabelledClaim]
    corpus: list[DocumentIn]


class Report(msgspec.Struct, kw_only=True):
    """Everything ``factcheck eval`` measures."""

    dataset: str
    claims: int
    corpus_passages: int
    top_k: int
    recall: dict[str, float]
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    ece: float
    claims_per_second: float
    per_kind: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    false_supported: list[str] = msgspec.field(default_factory=list)  # ids: gold not supported
    predictions: list[dict[str, Any]] = msgspec.field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._:-]+", "_", text).strip("_")[:200] or "untitled"


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def climate_fever(path: Path) -> Dataset:
    """A CLIMATE-FEVER file as a dataset (DISPUTED → conflicting)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    articles: dict[str, dict[str, None]] = {}
    claims = []
    for row in rows:
        gold = []
        for ev in row["evidences"]:
            articles.setdefault(ev["article"], {})[ev["evidence"].replace("\n", " ")] = None
            if ev["evidence_label"] in ("SUPPORTS", "REFUTES"):
                gold.append(Gold(_slug(ev["article"]), _norm(ev["evidence"])))
        claims.append(
            LabelledClaim(
                id=str(row["claim_id"]),
                statement=row["claim"],
                verdict=_CLIMATE_LABELS[row["claim_label"]],
                gold=gold,
            )
        )
    corpus = [
        DocumentIn(
            id=_slug(article),
            title=article,
            text="\n".join(sentences),
            layout="lines",
            source=_slug(article),
        )
        for article, sentences in articles.items()
    ]
    return Dataset(name=path.name, claims=claims, corpus=corpus)


def seed_set(path: Path, demo_path: str) -> Dataset:
    """A seed-corpus claim set: statements about the demo articles."""
    claims = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        claims.append(
            LabelledClaim(
                id=str(row.get("id", n)),
                statement=row["statement"],
                verdict=row["verdict"],
                gold=[Gold(d) for d in row.get("evidence_documents", [])],
                as_of=row.get("as_of"),
            )
        )
    return Dataset(name=path.name, claims=claims, corpus=demo_documents(demo_path))


def news_suite(folder: Path, split: str = "all") -> Dataset:
    """The news suite: its whole corpus, and the statements of one split (or all)."""

    def rows(name: str) -> list[dict[str, Any]]:
        text = (folder / name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    corpus = [
        DocumentIn(
            id=a["id"],
            title=a["title"],
            text=a["text"],
            url=a.get("url"),
            source=a.get("source"),
            published_at=a.get("published_at"),
            metadata={"desk": a.get("desk", ""), "event": a.get("event", "")},
        )
        for a in rows("articles.jsonl")
    ]
    claims = [
        LabelledClaim(
            id=r["id"],
            statement=r["statement"],
            verdict=r["verdict"],
            gold=[Gold(d) for d in r.get("evidence", [])],
            as_of=r.get("as_of"),
            kind=r.get("kind"),
        )
        for r in rows("statements.jsonl")
        if split == "all" or r.get("split") == split
    ]
    name = folder.name if split == "all" else f"{folder.name}:{split}"
    return Dataset(name=name, claims=claims, corpus=corpus)


def load_dataset(path: str | Path, demo_path: str, split: str = "all") -> Dataset:
    """Recognise a dataset by its folder layout or its file's first record."""
    path = Path(path)
    if path.is_dir():
        return news_suite(path, split)
    first = json.loads(next(line for line in path.read_text(encoding="utf-8").splitlines() if line))
    return climate_fever(path) if "evidences" in first else seed_set(path, demo_path)


def _hit(gold: Sequence[Gold], document: str, text: str) -> bool:
    norm = _norm(text)
    return any(g.document == document and (g.text is None or g.text == norm) for g in gold)


def _top(engine: Engine, statement: str, query: Vectors) -> list[tuple[str, str]]:
    """(document id, claim text) of the best passages retrieval finds, best first."""
    ranked = retrieve(
        engine.store,
        statement,
        query,
        SearchFilter(),
        candidates=engine.settings.candidates,
        rrf_k=engine.settings.rrf_k,
    )
    top = [c.claim_id for c in ranked[: max(RECALL_AT)]]
    rows = engine.store.fetch(top)
    return [(rows[i][1].id, rows[i][0].text) for i in top if i in rows]


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts of each (gold, predicted) verdict pair."""
    confusion = {g: dict.fromkeys(VERDICTS, 0) for g in VERDICTS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    return confusion


def per_class_f1(confusion: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each verdict; their F1 mean is the macro-F1."""
    return {
        v: _f1(
            confusion[v][v],
            sum(confusion[g][v] for g in VERDICTS if g != v),
            sum(confusion[v][p] for p in VERDICTS if p != v),
        )
        for v in VERDICTS
    }


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
    }


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width bins."""
    total, n = 0.0, len(confidences)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if lo < c <= hi or (b == 0 and c == 0)]
        if idx:
            acc = sum(correct[i] for i in idx) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            total += len(idx) / n * abs(acc - conf)
    return total


def evaluate(
    engine: Engine, dataset: Dataset, *, top_k: int = 5
) -> tuple[Report, list[list[Judged]]]:
    """Ingest the corpus, check every claim, and score the results.

    Also returns each claim's judged passages, what ``factcheck fit-verdict`` fits on.
    """
    engine.ingest(dataset.corpus)
    statements = [c.statement for c in dataset.claims]
    t0 = time.perf_counter()
    queries = engine.embedder.encode(statements)
    hits = {k: 0 for k in RECALL_AT}
    with_gold = 0
    predictions = []
    judged: list[list[Judged]] = []
    for claim, query in zip(dataset.claims, queries, strict=True):
        found = [
            _hit(claim.gold, doc_id, text) for doc_id, text in _top(engine, claim.statement, query)
        ]
        if claim.gold:
            with_gold += 1
            for k in RECALL_AT:
                hits[k] += any(found[:k])
    requests = [
        CheckRequest(statement=c.statement, top_k=top_k, as_of=c.as_of) for c in dataset.claims
    ]
    for start in range(0, len(requests), BATCH):
        # The API's batch path: one embedding and one stance call per batch of claims.
        results = engine.check_many(requests[start : start + BATCH])
        for claim, result in zip(dataset.claims[start : start + BATCH], results, strict=True):
            if isinstance(result, Exception):
                raise result
            judged.append(judged_passages(result))
            predictions.append(
                {
                    "id": claim.id,
                    "statement": claim.statement,
                    "gold": claim.verdict,
                    "predicted": result.verdict,
                    "confidence": result.confidence,
                    "reasons": result.reasons,
                    "kind": claim.kind,
                }
            )
    elapsed = time.perf_counter() - t0
    report = _score(
        dataset, predictions, hits, with_gold, top_k, elapsed, engine.store.count_claims()
    )
    return report, judged


def judged_passages(result: CheckResponse) -> list[Judged]:
    """What the verdict model saw for one check, read back from its evidence."""
    return [
        Judged(
            similarity=e.similarity,
            supports=e.probabilities.supports if e.probabilities else 0.0,
            neutral=e.probabilities.neutral if e.probabilities else 1.0,
            contradicts=e.probabilities.contradicts if e.probabilities else 0.0,
            source=e.document.source or e.document.id,
            mismatch=e.mismatch.kind if e.mismatch else None,
            corroborated=e.corroborated,
            agrees=tuple(e.agrees_on),
            missing=tuple(d.kind for d in e.missing),
        )
        for e in result.evidence
    ]


def _score(
    dataset: Dataset,
    predictions: list[dict[str, Any]],
    hits: dict[int, int],
    with_gold: int,
    top_k: int,
    elapsed: float,
    passages: int,
) -> Report:
    confusion = confusion_matrix(
        [p["gold"] for p in predictions], [p["predicted"] for p in predictions]
    )
    per_class = per_class_f1(confusion)
    correct = [p["gold"] == p["predicted"] for p in predictions]
    n = len(predictions)
    per_kind: dict[str, dict[str, float]] = {}
    for p, ok in zip(predictions, correct, strict=True):
        if p.get("kind"):
            k = per_kind.setdefault(p["kind"], {"n": 0, "correct": 0})
            k["n"] += 1
            k["correct"] += ok
    for k in per_kind.values():
        k["accuracy"] = round(k["correct"] / k["n"], 4)
    return Report(
        dataset=dataset.name,
        claims=n,
        corpus_passages=passages,
        top_k=top_k,
        recall={f"@{k}": round(hits[k] / with_gold, 4) if with_gold else 0.0 for k in RECALL_AT},
        accuracy=round(sum(correct) / n, 4) if n else 0.0,
        macro_f1=round(sum(c["f1"] for c in per_class.values()) / len(VERDICTS), 4),
        per_class=per_class,
        confusion=confusion,
        ece=round(expected_calibration_error([p["confidence"] for p in predictions], correct), 4),
        claims_per_second=round(n / elapsed, 2) if elapsed else 0.0,
        per_kind=dict(sorted(per_kind.items())),
        false_supported=[
            p["id"] for p in predictions if p["predicted"] == "supported" != p["gold"]
        ],
        predictions=predictions,
    )


def table(report: Report) -> str:
    """The report as a readable Markdown table."""
    lines = [
        f"dataset {report.dataset}: {report.claims} claims, "
        f"{report.corpus_passages} passages, top_k {report.top_k}",
        "",
        "| metric | value |",
        "| --- | --- |",
        *(f"| evidence recall{k} | {v:.3f} |" for k, v in report.recall.items()),
        f"| verdict accuracy | {report.accuracy:.3f} |",
        f"| verdict macro-F1 | {report.macro_f1:.3f} |",
        *(f"| F1 {v} | {m['f1']:.3f} (n={m['support']}) |" for v, m in report.per_class.items()),
        f"| expected calibration error | {report.ece:.3f} |",
        f"| claims/s | {report.claims_per_second:.1f} |",
        "",
        "| gold \\ predicted | " + " | ".join(VERDICTS) + " |",
        "| --- |" + " --- |" * len(VERDICTS),
        *(
            f"| {g} | " + " | ".join(str(report.confusion[g][p]) for p in VERDICTS) + " |"
            for g in VERDICTS
        ),
    ]
    if report.per_kind:
        lines += ["", "| kind | n | accuracy |", "| --- | --- | --- |"]
        lines += [
            f"| {kind} | {m['n']:.0f} | {m['accuracy']:.3f} |"
            for kind, m in report.per_kind.items()
        ]
    lines += ["", f"statements wrongly marked supported: {len(report.false_supported)}"]
    lines += [f"- {sid}" for sid in report.false_supported]
    return "\n".join(lines)


class FeedbackReport(msgspec.Struct, kw_only=True):
    """How the current models agree with editors' stored judgements."""

    pairs: int
    accepted: int
    rejected: int
    accepted_recall_at_10: float  # accepted evidence that retrieval still finds
    rejected_shown_at_k: float  # rejected evidence still among the judged top_k (lower is better)
    stance_agreement: float  # accepted pairs with a stance: the model still gives it
    stance_changed_on_rejected: float  # rejected pairs with a stance: the model now differs


def evaluate_feedback(engine: Engine, *, top_k: int = 5) -> FeedbackReport:
    """Score the engine against the labelled set built from editors' feedback in its store."""
    from service.feedback import labelled_set
    from service.stance import STANCES

    pairs = labelled_set(engine.store)
    found_accepted = shown_rejected = agree = changed = 0
    with_stance = {"accept": 0, "reject": 0}
    queries = engine.embedder.encode([p.statement for p in pairs])
    probs = engine.stance.predict([(p.evidence_text, p.statement) for p in pairs])
    for pair, query, prob in zip(pairs, queries, probs, strict=True):
        texts = [_norm(text) for _, text in _top(engine, pair.statement, query)]
        rank = (
            texts.index(_norm(pair.evidence_text)) if _norm(pair.evidence_text) in texts else None
        )
        if pair.label == "accept":
            found_accepted += rank is not None
        else:
            shown_rejected += rank is not None and rank < top_k
        if pair.stance is not None:
            with_stance[pair.label] += 1
            same = STANCES[int(prob.argmax())] == pair.stance
            agree += same and pair.label == "accept"
            changed += (not same) and pair.label == "reject"
    accepted = sum(p.label == "accept" for p in pairs)
    rejected = len(pairs) - accepted

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 0.0

    return FeedbackReport(
        pairs=len(pairs),
        accepted=accepted,
        rejected=rejected,
        accepted_recall_at_10=ratio(found_accepted, accepted),
        rejected_shown_at_k=ratio(shown_rejected, rejected),
        stance_agreement=ratio(agree, with_stance["accept"]),
        stance_changed_on_rejected=ratio(changed, with_stance["reject"]),
    )
