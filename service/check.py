"""Check pipeline: statement → embed → retrieve (hybrid) → judge (stance) → verdict."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from service.calibrate import Calibration
from service.embed import Vectors
from service.retrieve import retrieve
from service.schemas import (
    CheckRequest,
    CheckResponse,
    DocumentRef,
    Evidence,
    ModelInfo,
    StanceProbabilities,
    Timings,
    parse_date,
)
from service.stance import STANCES
from service.store import ClaimRecord, DocumentRecord, SearchFilter, Store
from service.mismatch import Mismatch, find_mismatches
from service.verdict import Judged, decide, relevance

Predict = Callable[[Sequence[tuple[str, str]]], npt.NDArray[np.float32]]


def search_filter(req: CheckRequest) -> SearchFilter:
    """The store filter of a check request."""
    return SearchFilter(
        sources=tuple(req.sources) if req.sources else None,
        document_ids=tuple(req.document_ids) if req.document_ids else None,
        published_after=parse_date(req.published_after, "published_after")
        if req.published_after
        else None,
        published_before=parse_date(req.published_before, "published_before")
        if req.published_before
        else None,
    )


def _ref(doc: DocumentRecord) -> DocumentRef:
    return DocumentRef(
        id=doc.id, title=doc.title, url=doc.url, source=doc.source, published_at=doc.published_at
    )


def check(
    req: CheckRequest,
    *,
    store: Store,
    query: Vectors,
    predict: Predict,
    models: ModelInfo,
    candidates: int,
    rrf_k: int,
    calibration: Calibration | None = None,
    embed_ms: float = 0.0,
) -> CheckResponse:
    """Judge one statement whose embedding ``query`` is already computed."""
    t0 = time.perf_counter()
    index_version = store.index_version()
    found = retrieve(
        store,
        req.statement,
        query,
        search_filter(req),
        candidates=max(candidates, req.top_k),
        rrf_k=rrf_k,
    )[: req.top_k]
    rows = store.fetch([c.claim_id for c in found])
    found = [c for c in found if c.claim_id in rows]  # deleted between search and fetch
    t1 = time.perf_counter()
    probs = predict([(rows[c.claim_id][0].text, req.statement) for c in found])
    t2 = time.perf_counter()

    evidence: list[Evidence] = []
    judged: list[Judged] = []
    q = query.reshape(-1)
    as_of = parse_date(req.as_of, "as_of") if req.as_of else None
    for rank, (cand, p) in enumerate(zip(found, probs, strict=True), start=1):
        claim, doc, vector = rows[cand.claim_id]
        similarity = float(np.dot(vector, q))
        mismatch = _mismatch(req.statement, as_of, claim.text, doc, similarity)
        stance = STANCES[int(np.argmax(p))]
        if mismatch is not None and max(p[0], p[2]) >= p[1]:
            stance = "contradicts"  # about the statement's event, but it disagrees on a detail
        evidence.append(
            _evidence(claim, doc, similarity, p, stance, rank, cand.retrieved_by, mismatch)
        )
        judged.append(
            Judged(
                similarity=similarity,
                supports=float(p[0]),
                neutral=float(p[1]),
                contradicts=float(p[2]),
                source=doc.source or doc.id,
                mismatch=mismatch.kind if mismatch else None,
            )
        )
    decision = decide(judged)
    confidence = decision.confidence
    if calibration is not None:
        confidence = calibration.apply(decision.verdict, confidence)
    return CheckResponse(
        statement=req.statement,
        verdict=decision.verdict,  # type: ignore[arg-type]
        confidence=round(confidence, 4),
        evidence=evidence,
        models=models,
        index_version=index_version,
        timings=Timings(
            embed_ms=round(embed_ms, 2),
            retrieve_ms=round((t1 - t0) * 1000, 2),
            judge_ms=round((t2 - t1) * 1000, 2),
            total_ms=round(embed_ms + (time.perf_counter() - t0) * 1000, 2),
        ),
        reasons=decision.reasons,
    )


def _mismatch(
    statement: str, as_of: dt.date | None, passage: str, doc: DocumentRecord, similarity: float
) -> Mismatch | None:
    """The first conflict of an on-topic passage (off-topic ones are not compared)."""
    if relevance(similarity) == 0.0:
        return None
    found = find_mismatches(statement, as_of, passage, doc.published_date)
    return found[0] if found else None


def _evidence(
    claim: ClaimRecord,
    doc: DocumentRecord,
    similarity: float,
    p: npt.NDArray[np.float32],
    stance: str,
    rank: int,
    retrieved_by: list[str],
    mismatch: Mismatch | None,
) -> Evidence:
    return Evidence(
        claim_id=claim.id,
        text=claim.text,
        context=claim.context,
        document=_ref(doc),
        start=claim.start,
        end=claim.end,
        similarity=round(similarity, 4),
        stance=stance,  # type: ignore[arg-type]
        probabilities=StanceProbabilities(
            supports=round(float(p[0]), 4),
            neutral=round(float(p[1]), 4),
            contradicts=round(float(p[2]), 4),
        ),
        rank=rank,
        retrieved_by=retrieved_by,  # type: ignore[arg-type]
        mismatch=mismatch,
    )
