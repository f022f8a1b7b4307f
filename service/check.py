"""Check pipeline: statements → embed → retrieve (hybrid) → judge (stance) → verdict.

One code path serves one statement and many: :func:`check_many` embeds every statement
in one model call, retrieves for each, and judges every (passage, statement) pair of the
whole batch in one stance-model call. A statement that cannot be served (bad filter,
store failure, or a bug its input alone triggers) becomes a per-item error; it never
fails the others.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service import priority
from service.embed import Vectors
from service.errors import FactCheckError, InvalidInputError
from service.judge.agreement import corroborates, polarity_conflict
from service.judge.annotate import Annotation, passage_annotation, statement_annotation
from service.judge.coverage import Detail, missing_details
from service.judge.mismatch import Mismatch, find_agreements, find_mismatches
from service.judge.timing import dated
from service.judge.verdict import Judged, VerdictModel, Weighed, decide, relevance
from service.language import detect
from service.retrieve import Candidate, retrieve
from service.schemas import (
    CheckRequest,
    CheckResponse,
    DocumentRef,
    Evidence,
    EvidenceWeights,
    ModelInfo,
    StanceProbabilities,
    Timings,
    VerdictScores,
    parse_date,
)
from service.store import ClaimRecord, DocumentRecord, SearchFilter, Store

Encode = Callable[[Sequence[str]], Vectors]
Predict = Callable[[Sequence[tuple[str, str]]], npt.NDArray[np.float32]]
# What an off-topic passage counts as in the verdict: neutral (it is never given to the model).
_OFF_TOPIC = np.array([0.0, 1.0, 0.0], dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pipeline:
    """What the check pipeline runs against: the store, the two model calls and limits."""

    store: Store
    encode: Encode
    predict: Predict
    models: ModelInfo
    candidates: int
    rrf_k: int
    max_statement_chars: int
    max_top_k: int
    # Passages screened by the rules beyond top_k: those with a rule signal (mismatch,
    # corroboration) are returned first (see _retrieve); the stance model sees only top_k.
    judge_extra: int = 0
    verdict_model: VerdictModel | None = None


@dataclass(frozen=True, slots=True)
class _Screened:
    """One retrieved passage with what the rules (not the stance model) say about it."""

    candidate: Candidate
    rank: int  # in retrieval order, counting the extra passages screened
    claim: ClaimRecord
    doc: DocumentRecord
    similarity: float
    mismatch: Mismatch | None
    corroborated: bool
    agrees: tuple[str, ...] = ()  # details stated as the statement does (find_agreements)
    missing: tuple[Detail, ...] = ()  # the statement's details it does not state
    annotation: Annotation | None = None  # the passage's, for an on-topic one

    @property
    def signalled(self) -> bool:
        return self.mismatch is not None or self.corroborated

    @property
    def on_topic(self) -> bool:
        """Judged by the stance model: above the lowest relevance floor any model may fit."""
        return relevance(self.similarity) > 0.0


@dataclass(slots=True, kw_only=True)
class _Retrieved:
    """One statement after retrieval and screening, waiting for the stance model."""

    req: CheckRequest
    query: Vectors
    index_version: str
    kept: list[_Screened]  # the top_k passages returned, in retrieval order
    retrieve_ms: float

    def pairs(self) -> list[tuple[str, str]]:
        """(premise = passage, hypothesis = statement) for each passage the model judges.

        Both with their relative times dated (:func:`service.judge.timing.dated`).
        """
        as_of = parse_date(self.req.as_of, "as_of") if self.req.as_of else None
        statement = self.req.statement
        hypothesis = dated(statement, statement_annotation(statement, as_of).times)
        return [
            (dated(s.claim.text, s.annotation.times) if s.annotation else s.claim.text, hypothesis)
            for s in self.kept
            if s.on_topic
        ]


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
        id=doc.id,
        title=doc.title,
        url=doc.url,
        source=doc.source,
        published_at=doc.published_at,
        language=doc.language,
    )


def validate(req: CheckRequest, max_statement_chars: int, max_top_k: int) -> None:
    """Limits that depend on the deployment's settings rather than on the API type."""
    if len(req.statement) > max_statement_chars:
        raise InvalidInputError(
            f"`statement` is longer than {max_statement_chars} characters", field="statement"
        )
    if req.top_k > max_top_k:
        raise InvalidInputError(f"`top_k` is above {max_top_k}", field="top_k")


def check_many(requests: Sequence[CheckRequest], pipe: Pipeline) -> list[CheckResponse | Exception]:
    """Judge statements with one embedding call and one stance call for the whole batch.

    Results are in input order; a statement that fails gets its exception in its place,
    whatever the exception: the per-statement steps (retrieval, the time and entity
    rules, the verdict) see only that statement's input. An error of a model call itself
    is not per item and propagates (the micro-batcher then runs each statement alone).
    """
    results: list[CheckResponse | Exception | None] = [None] * len(requests)
    todo: list[int] = []
    for i, req in enumerate(requests):
        try:
            validate(req, pipe.max_statement_chars, pipe.max_top_k)
            todo.append(i)
        except FactCheckError as exc:
            results[i] = exc
    t0 = time.perf_counter()
    # The statements' parses for the rules run while the encoder embeds them: both spend
    # most of their time outside the GIL, and on a lone check the parse is ~10 ms.
    parsed = _PARSER.submit(_parse, [requests[i] for i in todo], priority.current())
    queries = pipe.encode([requests[i].statement for i in todo])
    embed_ms = (time.perf_counter() - t0) * 1000
    parsed.result()

    retrieved: list[tuple[int, _Retrieved]] = []
    for i, query in zip(todo, queries, strict=True):
        try:
            retrieved.append((i, _retrieve(requests[i], query, pipe)))
        except Exception as exc:  # this statement's own failure (see the docstring)
            results[i] = exc

    t1 = time.perf_counter()
    pairs = [pair for _, r in retrieved for pair in r.pairs()]
    probs = pipe.predict(pairs)
    judge_ms = (time.perf_counter() - t1) * 1000

    offset = 0
    for i, r in retrieved:
        n = sum(s.on_topic for s in r.kept)  # its rows in probs, as r.pairs() made them
        timings = Timings(
            embed_ms=round(embed_ms, 2),
            retrieve_ms=round(r.retrieve_ms, 2),
            judge_ms=round(judge_ms, 2),
            total_ms=round(embed_ms + r.retrieve_ms + judge_ms, 2),
            batch_size=len(todo),
        )
        try:
            results[i] = _respond(r, probs[offset : offset + n], pipe, timings)
        except Exception as exc:  # this statement's own failure (see the docstring)
            results[i] = exc
        offset += n
    return [r for r in results if r is not None]


# A thread per call that may run at once (the micro-batcher's lanes): a single check's
# parse must not queue behind a bulk call's 64 statements.
_PARSER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="statement-parser")


def _parse(requests: Sequence[CheckRequest], at: priority.Priority) -> None:
    """Parse the statements, at their call's priority, into the cache the rules read."""
    with priority.running_as(at):
        for req in requests:
            try:
                as_of = parse_date(req.as_of, "as_of") if req.as_of else None
                statement_annotation(req.statement, as_of)
            except Exception:  # the statement's own check meets it again, and reports it
                continue


def _retrieve(req: CheckRequest, query: Vectors, pipe: Pipeline) -> _Retrieved:
    """Retrieve top_k + judge_extra passages, screen them with the rules, keep top_k.

    Passages with a rule signal (a mismatch or corroboration) are kept first, the rest by
    retrieval rank: the rules are precise where the stance model is noisy, and a refusal
    ranked 7th matters more than a neutral passage ranked 3rd. The rules need no model, so
    the stance model later judges only the kept passages.
    """
    t0 = time.perf_counter()
    index_version = pipe.store.index_version()
    found = retrieve(
        pipe.store,
        req.statement,
        query,
        search_filter(req),
        candidates=max(pipe.candidates, req.top_k + pipe.judge_extra),
        rrf_k=pipe.rrf_k,
    )[: req.top_k + pipe.judge_extra]
    rows = pipe.store.fetch([c.claim_id for c in found])
    as_of = parse_date(req.as_of, "as_of") if req.as_of else None
    q = query.reshape(-1)
    screened = [
        _screen(req.statement, as_of, cand, rank, *rows[cand.claim_id], q)
        for rank, cand in enumerate(
            (c for c in found if c.claim_id in rows),  # deleted between search and fetch
            start=1,
        )
    ]
    ranked = sorted(range(len(screened)), key=lambda i: (not screened[i].signalled, i))
    return _Retrieved(
        req=req,
        query=query,
        index_version=index_version,
        kept=[screened[i] for i in sorted(ranked[: req.top_k])],
        retrieve_ms=(time.perf_counter() - t0) * 1000,
    )


def _screen(
    statement: str,
    as_of: dt.date | None,
    cand: Candidate,
    rank: int,
    claim: ClaimRecord,
    doc: DocumentRecord,
    vector: Vectors,
    query: Vectors,
) -> _Screened:
    similarity = float(np.dot(vector, query))
    if relevance(similarity) == 0.0:  # off-topic passages are not compared
        return _Screened(cand, rank, claim, doc, similarity, None, False)
    # the annotation stored at ingest (made now for a claim stored without a current one)
    annotation = passage_annotation(claim.text, doc.published_date, claim.annotation)
    mismatch = _mismatch(statement, as_of, claim.text, doc, annotation)
    corroborated = mismatch is None and corroborates(
        statement, as_of, claim.text, doc.published_date, annotation=annotation
    )
    agrees = find_agreements(
        statement, as_of, claim.text, doc.published_date, annotation=annotation
    )
    missing = missing_details(statement_annotation(statement, as_of), annotation, claim.text)
    return _Screened(
        cand, rank, claim, doc, similarity, mismatch, corroborated, agrees, missing, annotation
    )


def _respond(
    r: _Retrieved, probs: npt.NDArray[np.float32], pipe: Pipeline, timings: Timings
) -> CheckResponse:
    """Evidence and verdict; ``probs`` has a row for each on-topic kept passage."""
    judged: list[Judged] = []
    shown: list[npt.NDArray[np.float32] | None] = []
    rows = iter(probs)
    for s in r.kept:
        # Passages under the lowest floor count for nothing in any verdict, so the stance
        # model is not run on them: they are reported without probabilities.
        p = next(rows) if s.on_topic else _OFF_TOPIC
        shown.append(p if s.on_topic else None)
        judged.append(
            Judged(
                similarity=s.similarity,
                supports=float(p[0]),
                neutral=float(p[1]),
                contradicts=float(p[2]),
                source=s.doc.source or s.doc.id,
                mismatch=s.mismatch.kind if s.mismatch else None,
                corroborated=s.corroborated,
                agrees=s.agrees,
                missing=tuple(d.kind for d in s.missing),
            )
        )
    decision = decide(judged, pipe.verdict_model)
    evidence = [_evidence(s, p, w) for s, p, w in zip(r.kept, shown, decision.weights, strict=True)]
    # off-topic passages last: the panel shows them apart
    evidence.sort(key=lambda e: not e.on_topic)
    return CheckResponse(
        statement=r.req.statement,
        verdict=decision.verdict,  # type: ignore[arg-type]
        confidence=round(decision.confidence, 4),
        evidence=evidence,
        models=pipe.models,
        index_version=r.index_version,
        timings=timings,
        reasons=decision.reasons,
        scores=VerdictScores(
            support=round(decision.support, 4),
            contradiction=round(decision.contradiction, 4),
            probabilities={k: round(v, 4) for k, v in decision.probabilities.items()},
        ),
        language=detect(r.req.statement),
    )


def _mismatch(
    statement: str,
    as_of: dt.date | None,
    passage: str,
    doc: DocumentRecord,
    annotation: Annotation,
) -> Mismatch | None:
    """The first conflict of an on-topic passage."""
    found = find_mismatches(statement, as_of, passage, doc.published_date, annotation=annotation)
    if found:
        return found[0]
    return polarity_conflict(statement, as_of, passage, doc.published_date, annotation=annotation)


def _evidence(s: _Screened, p: npt.NDArray[np.float32] | None, w: Weighed) -> Evidence:
    return Evidence(
        claim_id=s.claim.id,
        text=s.claim.text,
        context=s.claim.context,
        document=_ref(s.doc),
        start=s.claim.start,
        end=s.claim.end,
        similarity=round(s.similarity, 4),
        stance=w.stance,  # type: ignore[arg-type]
        probabilities=None
        if p is None
        else StanceProbabilities(
            supports=round(float(p[0]), 4),
            neutral=round(float(p[1]), 4),
            contradicts=round(float(p[2]), 4),
        ),
        rank=s.rank,
        retrieved_by=s.candidate.retrieved_by,  # type: ignore[arg-type]
        mismatch=s.mismatch,
        weights=EvidenceWeights(
            relevance=round(w.relevance, 4),
            supports=round(w.supports, 4),
            contradicts=round(w.contradicts, 4),
        ),
        on_topic=w.relevance > 0.0,
        corroborated=s.corroborated,
        agrees_on=list(s.agrees),  # type: ignore[arg-type]
        missing=list(s.missing),
    )
