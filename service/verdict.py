"""The verdict rule: from judged passages to supported / refuted / conflicting / not_enough_info.

The rule, in order:

1. **Relevance.** A passage counts in proportion to its similarity to the statement:
   ``r = clip((similarity - LOW) / (HIGH - LOW), 0, 1)``. Below ``LOW`` a passage is off
   topic whatever the stance model says (NLI models over-read unrelated pairs).
2. **Passage weight.** ``support = P(supports) · r`` and ``contradiction = P(contradicts) · r``.
   A passage with a mismatch (its time, number or named entity conflicts with the
   statement's) is about the statement's event but disagrees on a detail the stance model
   does not weigh, so its support turns into contradiction:
   ``contradiction = max(P(contradicts), P(supports)) · r`` and ``support = 0``. A time or
   polarity mismatch (the passage dates the event elsewhere, or reports it refused or not
   happening) is precise enough to stand without the model, which often calls such passages
   neutral: its contradiction is at least ``MISMATCH_FLOOR · r``. Number and entity
   mismatches are less precise and get no floor.
   A *corroborated* passage (service/agreement.py: it reports the statement's event with its
   names, polarity and time, and has no mismatch) counts ``support ≥ CORROBORATION_FLOOR · r``
   and ``contradiction = 0``: where the rules read the same event the same way, the model's
   contradiction is the negation artifact it usually is ("refused" vs "turned down").
   A *paraphrase* (similarity ≥ ``PARAPHRASE_SIMILARITY``, no mismatch, P(contradicts) <
   ``PARAPHRASE_MAX_CONTRADICTION``) counts ``support ≥ PARAPHRASE_FLOOR · r``: the
   embedding model was trained on paraphrase pairs and places restatements there ("cited
   coronavirus restrictions for declining" / "explained the refusal by coronavirus
   restrictions", 0.83), which the small stance model reads as neutral. The threshold was
   picked on Climate-FEVER train (0.75 / 0.80 / 0.85 / off: accuracy 0.567 / 0.579 / 0.573 /
   0.573); there, model-neutral pairs at ≥ 0.80 are 11 SUPPORTS, 2 NOT_ENOUGH_INFO, 0 REFUTES.
3. **Rules over paraphrase.** Where the rules read the statement's event in a passage (a
   time or polarity mismatch at or above the threshold, or a corroboration), a passage that
   never names the event (no word for it: service/agreement.py ``mentions_event``) and
   has no rule signal of its own does not count in the other direction: it could only
   agree or disagree by paraphrase, which the stance model over-reads from shared words
   (model card: most of its errors are unrelated pairs read as entailment). Its weight in
   the direction the rules agree with still counts.
4. **Independence.** Passages are grouped by source (the document's ``source``, else its
   id): within a source only the strongest passage of each direction counts, so two
   articles of one outlet are one confirmation, not two.
5. **Agreement.** Sources combine by noisy-OR: ``S = 1 - Π(1 - support_source)``, likewise
   ``C``. Independent agreeing sources raise the score; none can lower it.
6. **Decision.** ``S ≥ T`` and ``C ≥ T`` → conflicting; ``S ≥ T`` → supported; ``C ≥ T`` →
   refuted; otherwise not_enough_info. The raw confidence is ``S``, ``C``,
   ``min(S, C)`` and ``1 - max(S, C)`` respectively; it is calibrated separately.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

LOW = 0.30
HIGH = 0.60
THRESHOLD = 0.5
MISMATCH_FLOOR = 0.7
CORROBORATION_FLOOR = 0.7
FLOORED_MISMATCHES = frozenset({"time", "polarity"})
PARAPHRASE_SIMILARITY = 0.80
PARAPHRASE_MAX_CONTRADICTION = 0.2
PARAPHRASE_FLOOR = 0.6


class Judged(msgspec.Struct, frozen=True, kw_only=True):
    """What the verdict rule needs to know about one passage."""

    similarity: float
    supports: float
    neutral: float
    contradicts: float
    source: str
    mismatch: str | None = None  # kind of the conflict found, if any
    corroborated: bool = False  # the rules read the statement's event in it (never with mismatch)
    mentions_event: bool | None = None  # has a word for the statement's event (None: unread)


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict with its raw confidence and machine-readable reasons."""

    verdict: str
    confidence: float
    support: float
    contradiction: float
    reasons: list[str]


def relevance(similarity: float) -> float:
    """How much a passage of this similarity counts, from 0 (off topic) to 1."""
    return min(1.0, max(0.0, (similarity - LOW) / (HIGH - LOW)))


def weights(p: Judged) -> tuple[float, float]:
    """(support, contradiction) weight of one passage."""
    r = relevance(p.similarity)
    if p.mismatch is not None:
        c = max(p.contradicts, p.supports)
        if p.mismatch in FLOORED_MISMATCHES:
            c = max(c, MISMATCH_FLOOR)
        return 0.0, c * r
    if p.corroborated:
        return max(p.supports, CORROBORATION_FLOOR) * r, 0.0
    if paraphrase(p):
        return max(p.supports, PARAPHRASE_FLOOR) * r, p.contradicts * r
    return p.supports * r, p.contradicts * r


def paraphrase(p: Judged) -> bool:
    """A passage the embedding model places as a paraphrase, with nothing read against it."""
    return (
        p.similarity >= PARAPHRASE_SIMILARITY
        and p.mismatch is None
        and p.contradicts < PARAPHRASE_MAX_CONTRADICTION
    )


def _noisy_or(values: Sequence[float]) -> float:
    remaining = 1.0
    for v in values:
        remaining *= 1.0 - v
    return 1.0 - remaining


def decide(passages: Sequence[Judged], threshold: float = THRESHOLD) -> Decision:
    """Apply the rule in the module docstring."""
    best_support: dict[str, float] = {}
    best_contra: dict[str, float] = {}
    mismatches: dict[str, int] = {}
    weighed = [(p, *weights(p)) for p in passages]
    # whether the rules read the statement's event as refuted / confirmed somewhere
    refuted = any(p.mismatch in FLOORED_MISMATCHES and c >= threshold for p, _, c in weighed)
    confirmed = any(p.corroborated and s >= threshold for p, s, _ in weighed)
    discounted = 0
    for p, s, c in weighed:
        if p.mentions_event is False and p.mismatch is None and not p.corroborated:
            before = (s, c)
            s, c = (0.0 if refuted else s), (0.0 if confirmed else c)
            if max(before) >= threshold and (s, c) != before:
                discounted += 1
        best_support[p.source] = max(best_support.get(p.source, 0.0), s)
        best_contra[p.source] = max(best_contra.get(p.source, 0.0), c)
        if p.mismatch is not None and c >= threshold:
            mismatches[p.mismatch] = mismatches.get(p.mismatch, 0) + 1
    support = _noisy_or(list(best_support.values()))
    contra = _noisy_or(list(best_contra.values()))
    n_support = sum(1 for v in best_support.values() if v >= threshold)
    n_contra = sum(1 for v in best_contra.values() if v >= threshold)
    reasons = []
    if not any(relevance(p.similarity) > 0 for p in passages):
        reasons.append("no_relevant_evidence")
    if n_support:
        reasons.append(f"supported_by_sources:{n_support}")
    if n_contra:
        reasons.append(f"contradicted_by_sources:{n_contra}")
    reasons.extend(f"{kind}_mismatch:{count}" for kind, count in sorted(mismatches.items()))
    if discounted:
        reasons.append(f"paraphrase_outweighed_by_rules:{discounted}")
    if support >= threshold and contra >= threshold:
        verdict, confidence = "conflicting", min(support, contra)
    elif support >= threshold:
        verdict, confidence = "supported", support
    elif contra >= threshold:
        verdict, confidence = "refuted", contra
    else:
        verdict, confidence = "not_enough_info", 1.0 - max(support, contra)
        if passages and "no_relevant_evidence" not in reasons:
            reasons.append("no_decisive_evidence")
    return Decision(
        verdict=verdict,
        confidence=confidence,
        support=support,
        contradiction=contra,
        reasons=reasons,
    )
