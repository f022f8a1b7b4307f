"""Editors' feedback on evidence links, and the labelled set the evaluation harness reads.

The panel lets an editor accept or reject each evidence passage shown for a sentence of
their draft. Each judgement is stored with the passage as it read at the time (claim ids
die when a document is replaced), so the feedback stays usable as the corpus changes.

How ``factcheck eval`` uses it: call :func:`labelled_set` on the store and, for every
:class:`LabelledPair`, check ``statement`` again.

* ``label == "accept"``: the passage is relevant evidence for the statement. Score
  retrieval by whether ``claim_id`` (or, after a correction, a claim of ``document_id``
  with the same ``evidence_text``) comes back in the top k; where ``stance`` is set, it is
  a gold stance for the pair (``evidence_text``, ``statement``) for the stance model.
* ``label == "reject"``: a hard negative. The passage was shown and judged wrong: either
  irrelevant, or (``stance`` set) its stance was wrong. Score how often it still ranks
  in the top k, or still gets ``stance``.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import msgspec

from service.errors import NotFoundError
from service.schemas import FeedbackRequest
from service.store import FeedbackRecord, Store

_PAGE = 500


def record_feedback(store: Store, req: FeedbackRequest) -> FeedbackRecord:
    """Store a judgement on a claim the store holds now (NotFoundError otherwise)."""
    found = store.fetch([req.claim_id]).get(req.claim_id)
    if found is None:
        raise NotFoundError(f"no evidence claim with id {req.claim_id}; check the statement again")
    claim, doc, _ = found
    return store.add_feedback(
        FeedbackRecord(
            statement=req.statement.strip(),
            claim_id=claim.id,
            document_id=doc.id,
            evidence_text=claim.text,
            judgement=req.judgement,
            stance=req.stance,
            editor_id=req.editor_id,
            comment=req.comment,
        )
    )


def all_feedback(store: Store) -> list[FeedbackRecord]:
    """Every stored judgement, oldest first."""
    records: list[FeedbackRecord] = []
    offset = 0
    while True:
        page, total = store.list_feedback(limit=_PAGE, offset=offset)
        records.extend(page)
        offset += len(page)
        if not page or offset >= total:
            break
    return records[::-1]


class LabelledPair(msgspec.Struct, frozen=True, kw_only=True):
    """A (statement, evidence) pair with the editors' resolved judgement."""

    statement: str
    claim_id: int
    document_id: str
    evidence_text: str
    label: Literal["accept", "reject"]
    stance: Literal["supports", "neutral", "contradicts"] | None
    votes: int  # how many editors' judgements the label rests on


def labelled_set(store: Store) -> list[LabelledPair]:
    """Stored feedback as a labelled set: one pair per (statement, claim), majority label.

    Each editor counts once per pair, with their latest judgement; judgements without an
    editor id count one each. Ties are left out: the editors disagree. ``stance`` is the
    stance shown with the latest judgement of the winning side.
    """
    latest: dict[tuple[str, int], dict[object, FeedbackRecord]] = {}
    for record in all_feedback(store):
        voter: object = record.editor_id if record.editor_id is not None else record.id
        latest.setdefault((record.statement, record.claim_id), {})[voter] = record
    pairs = []
    for (statement, claim_id), by_voter in latest.items():
        counts = Counter(r.judgement for r in by_voter.values())
        (label, votes), *rest = counts.most_common()
        if rest and rest[0][1] == votes:
            continue
        last = max((r for r in by_voter.values() if r.judgement == label), key=lambda r: r.id)
        pairs.append(
            LabelledPair(
                statement=statement,
                claim_id=claim_id,
                document_id=last.document_id,
                evidence_text=last.evidence_text,
                label=label,
                stance=last.stance,
                votes=votes,
            )
        )
    return pairs
