"""The verdict: from judged passages to supported / refuted / conflicting / not_enough_info.

Two steps, each with numbers the response shows.

1. **Passage weights** (returned on every evidence item as ``weights``, beside the stance
   model's raw ``probabilities``):

   - relevance ``r = clip((similarity - floor) / (HIGH - floor), 0, 1)``: below the
     fitted relevance ``floor`` a passage is off topic whatever the stance model says (NLI
     models over-read unrelated pairs); it is returned marked ``on_topic: false`` and
     counts for nothing;
   - ``supports = P(supports) · r`` and ``contradicts = P(contradicts) · r``;
   - a **mismatch** the rules can point to (service/judge/mismatch.py: a time, number, named
     entity or polarity of the same event that differs, with a sentence that says why)
     is a contradiction of its own: the passage's ``contradicts`` becomes ``r`` and its
     ``supports`` 0, whatever the stance model read (it often calls "refused to visit"
     neutral against "visited"). The verdict model still weighs each mismatch kind
     (features ``mismatch_*``). This is the only way a rule moves weight, and only towards
     contradiction: no rule turns the model's contradiction into support.

   The evidence ``stance`` is read off these weights (``supports`` or ``contradicts`` when
   that weight is at least ``STANCE_MIN`` and the larger; else ``neutral``), so it always
   agrees with the numbers beside it.

2. **Verdict model.** Passages are grouped by source (the document's ``source``, else its
   id), and within a source only the strongest passage of each direction counts (two
   articles of one outlet are one confirmation). Sources combine by noisy-OR into
   ``S = 1 - Π(1 - supports_source)`` and likewise ``C``. A multinomial logistic model
   over :data:`FEATURES` (``S``, ``C``, ``S·C`` for outlets that disagree, the strongest
   single source each way (noisy-OR alone would let many weak readings add up), how many
   sources each way, the best relevance, which mismatch kinds were found, corroboration
   by the rules, paraphrase-level similarity, a detail stated alike (``agrees``: the
   statement's number or a date of its event, which the small stance model often reads
   as a contradiction), the strongest support from a passage that states every name,
   figure and date of the statement (``covered_support``: support read into a passage
   that leaves one out is weaker evidence, service/judge/coverage.py), and outlets that
   disagree (below)) gives the four verdicts' probabilities; the verdict is the most
   probable, except that ``supported`` needs at least the fitted ``support_floor`` (a
   wrongly supported statement is the costliest error for an editor; below the floor the
   statement is ``not_enough_info``, never refuted, with the reason
   ``support_below_floor``), and ``confidence`` is the verdict's probability — the
   calibrated probability that it is right. Its parameters (and both floors) are fitted
   by ``factcheck fit-verdict`` on the news suite's train half and the seed set
   (service/judge/calibrate.py), stored in ``models/verdict-model.json`` with what they
   were fitted on. Climate-fever train is left out: news is what the service judges, and
   with it the cross-validated log-loss on held-out news claims was 0.885 against 0.824
   without (``bench/verdict_sets.py``; docs/judgement-rounds.md, stop 29).

   **Outlets that disagree** are a rule, not a weight: when one source states a detail as
   the statement does (``agrees``) while another source's passage has a mismatch of that
   detail, both at relevance ``DISPUTE_MIN`` or more (the feature ``outlets_disagree``),
   the verdict is ``conflicting`` whatever the model's probabilities, since an editor must
   see both versions. Disputes are too rare in any training set for the model to learn
   them; their ``confidence`` is ``dispute_confidence``, the share of training claims with
   such a dispute whose gold verdict is ``conflicting`` (add-one smoothed).

Without a fitted model (a deployment that removed the file) the rule is the plain
threshold: ``S ≥ 0.5`` and ``C ≥ 0.5`` → conflicting, ``S ≥ 0.5`` → supported,
``C ≥ 0.5`` → refuted, else not_enough_info, with ``S``, ``C``, ``min(S, C)`` or
``1 - max(S, C)`` as an uncalibrated confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

VERDICTS = ("supported", "refuted", "conflicting", "not_enough_info")
MISMATCH_KINDS = ("time", "number", "entity", "polarity")
LOW = 0.30  # relevance floor used when no fitted model says otherwise
HIGH = 0.60
THRESHOLD = 0.5
STANCE_MIN = 0.5
PARAPHRASE_SIMILARITY = 0.80
PARAPHRASE_MAX_CONTRADICTION = 0.2
DISPUTE_MIN = 0.5
FEATURES = (
    "bias",
    "support",
    "contradiction",
    "support_x_contradiction",
    "strongest_support",
    "strongest_contradiction",
    "sources_supporting",
    "sources_contradicting",
    "best_relevance",
    *(f"mismatch_{k}" for k in MISMATCH_KINDS),
    "corroborated",
    "paraphrase",
    "agreed",
    "covered_support",
    "outlets_disagree",
)


class Judged(msgspec.Struct, frozen=True, kw_only=True):
    """What the verdict needs to know about one passage."""

    similarity: float
    supports: float
    neutral: float
    contradicts: float
    source: str
    mismatch: str | None = None  # kind of the conflict found, if any
    corroborated: bool = False  # the rules read the statement's event in it, same details
    agrees: tuple[str, ...] = ()  # kinds of detail it states as the statement does
    missing: tuple[str, ...] = ()  # kinds of the statement's details it does not state


class Weighed(msgspec.Struct, frozen=True, kw_only=True):
    """A passage's weights in the verdict, and the stance they make."""

    relevance: float
    supports: float
    contradicts: float
    stance: str


class VerdictModel(msgspec.Struct, frozen=True, kw_only=True):
    """Fitted parameters of the verdict model and where they came from."""

    features: list[str]
    coefficients: dict[str, list[float]]  # verdict -> one weight per feature
    relevance_floor: float
    regularisation: float = 0.01  # the L2 strength chosen by cross-validation
    # "supported" is said only at this probability or above (else not_enough_info):
    # a wrongly supported statement is the costliest error for an editor.
    support_floor: float = 0.0
    # the confidence of "conflicting" said by the dispute rule (module doc)
    dispute_confidence: float = 0.5
    fitted_on: list[str] = msgspec.field(default_factory=list)
    # the stance model whose readings it was fitted on (as responses name it; "" unknown):
    # another model's probabilities mean other things, so its confidence would not hold
    stance_model: str = ""
    samples: int = 0
    train_accuracy: float = 0.0

    def probabilities(self, x: Sequence[float]) -> dict[str, float]:
        """Softmax over the verdicts of the features ``x`` (in :data:`FEATURES` order)."""
        z = {
            v: sum(w * f for w, f in zip(ws, x, strict=True)) for v, ws in self.coefficients.items()
        }
        top = max(z.values())
        e = {v: math.exp(s - top) for v, s in z.items()}
        total = sum(e.values())
        return {v: e[v] / total for v in VERDICTS if v in e}


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict with its confidence, the aggregate scores and machine-readable reasons."""

    verdict: str
    confidence: float
    support: float
    contradiction: float
    reasons: list[str]
    probabilities: dict[str, float] = msgspec.field(default_factory=dict)
    weights: list[Weighed] = msgspec.field(default_factory=list)  # per passage, in order


def relevance(similarity: float, floor: float = LOW) -> float:
    """How much a passage of this similarity counts, from 0 (off topic) to 1."""
    return min(1.0, max(0.0, (similarity - floor) / (HIGH - floor)))


def paraphrase(p: Judged) -> bool:
    """A passage the embedding model places as a paraphrase, with nothing read against it."""
    return (
        p.similarity >= PARAPHRASE_SIMILARITY
        and p.mismatch is None
        and p.contradicts < PARAPHRASE_MAX_CONTRADICTION
    )


def weigh(p: Judged, floor: float = LOW) -> Weighed:
    """Step 1 of the module docstring for one passage."""
    r = relevance(p.similarity, floor)
    s, c = p.supports * r, p.contradicts * r
    if p.mismatch is not None:
        s, c = 0.0, r
    if c >= STANCE_MIN and c > s:
        stance = "contradicts"
    elif s >= STANCE_MIN:
        stance = "supports"
    else:
        stance = "neutral"
    return Weighed(relevance=r, supports=s, contradicts=c, stance=stance)


def _noisy_or(values: Sequence[float]) -> float:
    remaining = 1.0
    for v in values:
        remaining *= 1.0 - v
    return 1.0 - remaining


def _by_source(weighed: Sequence[tuple[Judged, Weighed]]) -> tuple[list[float], list[float]]:
    """Each source's strongest support and strongest contradiction."""
    best_s: dict[str, float] = {}
    best_c: dict[str, float] = {}
    for p, w in weighed:
        best_s[p.source] = max(best_s.get(p.source, 0.0), w.supports)
        best_c[p.source] = max(best_c.get(p.source, 0.0), w.contradicts)
    return list(best_s.values()), list(best_c.values())


def features(passages: Sequence[Judged], floor: float = LOW) -> list[float]:
    """The verdict model's inputs, in :data:`FEATURES` order."""
    return _features([(p, weigh(p, floor)) for p in passages])


def _features(weighed: Sequence[tuple[Judged, Weighed]]) -> list[float]:
    per_s, per_c = _by_source(weighed)
    on_topic = [(p, w) for p, w in weighed if w.relevance > 0]
    kinds = {p.mismatch for p, _ in on_topic if p.mismatch is not None}
    s, c = _noisy_or(per_s), _noisy_or(per_c)
    return [
        1.0,
        s,
        c,
        s * c,
        max(per_s, default=0.0),
        max(per_c, default=0.0),
        min(3, sum(v >= THRESHOLD for v in per_s)) / 3,
        min(3, sum(v >= THRESHOLD for v in per_c)) / 3,
        max((w.relevance for _, w in weighed), default=0.0),
        *(float(k in kinds) for k in MISMATCH_KINDS),
        max((w.relevance for p, w in on_topic if p.corroborated), default=0.0),
        max((w.relevance for p, w in on_topic if paraphrase(p)), default=0.0),
        max((w.relevance for p, w in on_topic if p.agrees and p.mismatch is None), default=0.0),
        max((w.supports for p, w in on_topic if not p.missing and p.mismatch is None), default=0.0),
        _disagreement(on_topic),
    ]


def _disagreement(on_topic: Sequence[tuple[Judged, Weighed]]) -> float:
    """How relevant the least relevant of two sources that disagree on a detail is, or 0."""
    return max(
        (
            min(wa.relevance, wb.relevance)
            for a, wa in on_topic
            for b, wb in on_topic
            if a.source != b.source and a.mismatch is None and b.mismatch in a.agrees
        ),
        default=0.0,
    )


def disputed(x: Sequence[float]) -> bool:
    """Two relevant sources disagree on a detail (features ``x``; module doc)."""
    return x[FEATURES.index("outlets_disagree")] >= DISPUTE_MIN


def choose(probs: dict[str, float], support_floor: float, dispute: bool = False) -> str:
    """The most probable verdict; "supported" under ``support_floor`` is "not_enough_info".

    Too little support to say supported is unverified, never refuted. Outlets that
    disagree (``dispute``) make "conflicting" whatever the probabilities.
    """
    if dispute:
        return "conflicting"
    verdict = max(probs, key=probs.__getitem__)
    if verdict == "supported" and probs[verdict] < support_floor:
        return "not_enough_info"
    return verdict


def _threshold(s: float, c: float) -> tuple[str, float]:
    if s >= THRESHOLD and c >= THRESHOLD:
        return "conflicting", min(s, c)
    if s >= THRESHOLD:
        return "supported", s
    if c >= THRESHOLD:
        return "refuted", c
    return "not_enough_info", 1.0 - max(s, c)


def decide(passages: Sequence[Judged], model: VerdictModel | None = None) -> Decision:
    """Apply the module docstring's two steps."""
    floor = model.relevance_floor if model else LOW
    weighed = [(p, weigh(p, floor)) for p in passages]
    x = _features(weighed)
    s, c = x[1], x[2]
    dispute = disputed(x)
    probs: dict[str, float] = {}
    if model is None:
        verdict, confidence = _threshold(s, c)
        verdict = "conflicting" if dispute else verdict
    else:
        probs = model.probabilities(x)
        verdict = choose(probs, model.support_floor, dispute)
        confidence = model.dispute_confidence if dispute else probs[verdict]
    per_s, per_c = _by_source(weighed)
    reasons = []
    if not any(w.relevance > 0 for _, w in weighed):
        reasons.append("no_relevant_evidence")
    n_support = sum(v >= THRESHOLD for v in per_s)
    n_contra = sum(v >= THRESHOLD for v in per_c)
    if n_support:
        reasons.append(f"supported_by_sources:{n_support}")
    if n_contra:
        reasons.append(f"contradicted_by_sources:{n_contra}")
    mismatches: dict[str, int] = {}
    for p, w in weighed:
        if p.mismatch is not None and w.contradicts >= THRESHOLD:
            mismatches[p.mismatch] = mismatches.get(p.mismatch, 0) + 1
    reasons.extend(f"{kind}_mismatch:{n}" for kind, n in sorted(mismatches.items()))
    if dispute:
        reasons.append("outlets_disagree")
    if verdict == "not_enough_info" and passages and "no_relevant_evidence" not in reasons:
        reasons.append("no_decisive_evidence")
    if verdict == "not_enough_info" and probs and max(probs, key=probs.__getitem__) == "supported":
        reasons.append("support_below_floor")  # leans supported, not enough to say so
    return Decision(
        verdict=verdict,
        confidence=confidence,
        support=s,
        contradiction=c,
        reasons=reasons,
        probabilities=probs,
        weights=[w for _, w in weighed],
    )
