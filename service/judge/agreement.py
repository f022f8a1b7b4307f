"""Polarity conflicts and corroboration: rule-based readings of whether an event happened.

The small stance model often calls "neutral" a passage that plainly reports the statement's
event ("Xi Jinping visits Putin in Moscow" for "Xi visited Moscow in 2023") or plainly reports
it refused ("Beijing rejected Putin's request for Xi Jinping to visit Moscow"). Both readings
here are tuned for precision and work on the statement's *event*: the verb after its first
named subject ("visited" -> visit), or, when that verb is a refusal or is negated ("refused
Putin's invitation to visit Russia"), the event it governs (visit, negated).

Each mention of the event in a passage is read as

* **negated** when a negator ("not", "never", "no"), a refusal ("refused", "declined",
  "rejected", "turned down", "cancelled", "called off", "postponed", "ignored") or a
  reluctance ("unlikely/difficult to") precedes it in its clause, or a cancellation follows
  it ("the visit was called off", "did not take place");
* **affirmed** when the statement's subject precedes it in its clause with no modal
  ("could", "may", "would"...), invitation or wish ("invited him to visit", "hopes to") in
  between, and it is no infinitive ("Xi's turn to visit") other than a schedule ("is
  scheduled to visit");
* otherwise neither (an invitation, a plan, a possibility).

:func:`polarity_conflict`: the passage names all the statement's entities and reports the
event only negated while the statement asserts it (or the reverse). A refusal speaks for the
time up to its publication and a while after (``REFUSAL_HORIZON``), so a statement time that
starts later, or ends over a year before publication, is out of its scope. A statement
without a time ("Xi visited Moscow") is true if the event ever happened, so only a passage
saying it never happened up to publication ("has not condemned", "never") conflicts with it.
A negated statement conflicts only with an affirmed event dated inside the statement's time.

:func:`corroborates`: the passage names all the statement's entities (spaCy's; a city agrees
with its country, "Xi" with "Xi Jinping") and reports the event with the statement's polarity, and,
when the statement names a time, dates it inside that time: by a time in the event's clause,
else, for a present-tense report, by its publication (a fortnight before to a month after),
for a future-tense one, by the half year after publication.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from typing import Literal

from service.judge.annotate import Annotation, passage_annotation, statement_annotation
from service.judge.entities import Entity, contains, same_referent
from service.judge.result import Mismatch
from service.judge.timing import AROUND_PUBLICATION, anchored_times
from service.judge.words import (
    CLAUSE_END,
    CONTROL,
    NEGATORS,
    WORD_RE,
    event_stem,
    sentences,
    skip_aux,
    stem,
)
from service.judge.words import (
    words as _words,
)
from service.temporal import Interval, Tenses, TimeExpression, shift

__all__ = ["REFUSAL_HORIZON", "corroborates", "polarity_conflict"]

REFUSAL_HORIZON = datetime.timedelta(days=180)  # "difficult ... in the near future"
_REFUSAL_MEMORY = datetime.timedelta(days=365)  # how far back a refusal report speaks

_REFUSALS = _words(
    "refus refusal declin reject rejection deny cancel cancellation postpon postponement"
    " ignor scrap abandon"
)  # stems
_PHRASAL = {"turn": "down", "cal": "off", "rul": "out"}  # stems: "turned down", "called off"
_RELUCTANT = _words("unlikely difficult reluctant impossible")
_MODALS = _words("could may might would should can must possibly perhaps if whether")
_WISHES = _words(
    "invit ask offer request urg want hop propos consider seek try intend suggest expect wish"
)  # stems: "invited him to visit" is not a visit
_PERFECT = _words("has have never")  # "has not condemned": not up to publication
_FUTURE_RE = re.compile(r"(?i:\b(?:future|coming (?:weeks|months)|soon)\b)")
_SCHEDULED = _words("scheduled set due")  # "is scheduled to visit": the only affirmed "to <verb>"
_WINDOW = 10  # tokens of the event's clause read before it

Reading = Literal["negated", "affirmed", "other"]


@dataclass(frozen=True, slots=True)
class _Claim:
    """The statement's event: stem, polarity and the names it involves."""

    event: str
    negated: bool
    subject: Entity
    entities: tuple[Entity, ...]


@dataclass(frozen=True, slots=True)
class _Name:
    """An entity placed on the word tokens of one sentence."""

    entity: Entity
    first: int  # token indices, inclusive..exclusive
    last: int
    possessive: bool


def _names(sentence: str, offset: int, entities: tuple[Entity, ...]) -> list[_Name]:
    """The entities inside ``sentence`` (at ``offset`` in its text) by word token index."""
    spans = [m.span() for m in WORD_RE.finditer(sentence)]
    out: list[_Name] = []
    for e in entities:
        inside = [
            i for i, (a, b) in enumerate(spans) if a + offset < e.end and e.start < b + offset
        ]
        if inside:
            last = sentence[spans[inside[-1]][0] : spans[inside[-1]][1]]
            possessive = e.possessive or last.endswith(("'s", "’s"))
            out.append(_Name(e, inside[0], inside[-1] + 1, possessive))
    return out


@dataclass(frozen=True, slots=True)
class _Mention:
    reading: Reading
    pos: int  # character offset of the event word in the passage
    perfect: bool  # negated with "has not"/"never"


def _lower_token(low: list[str], words: list[str], k: int) -> bool:
    return k < len(low) and words[k][0].islower() and low[k] not in CLAUSE_END


def _refusal_at(low: list[str], k: int) -> int | None:
    """Index after a refusal word (and its particle) at ``k``, else None."""
    st = stem(low[k])
    if st in _REFUSALS:
        return k + 1
    if _PHRASAL.get(st) is not None and low[k + 1 : k + 2] == [_PHRASAL[st]]:
        return k + 2
    return None


def _governed(low: list[str], words: list[str], k: int) -> str | None:
    """The event a refusal governs: "... to <verb>" in its clause, else its first noun."""
    noun = None
    for j in range(k, min(k + _WINDOW, len(low))):
        if low[j] in CLAUSE_END:
            break
        if low[j] == "to" and _lower_token(low, words, j + 1) and low[j + 1] not in ("the", "a"):
            return event_stem(low, j + 1)
        if noun is None and words[j][0].islower() and low[j] not in ("the", "a", "an", "his"):
            noun = stem(low[j])
    return noun


@functools.lru_cache(maxsize=256)  # read once per statement, not once per passage and rule
def _claim(statement: str, statement_ref: datetime.date | None) -> _Claim | None:
    """Read the statement's event; None for modal, wished or subject-less statements."""
    sents = sentences(statement)
    if not sents:
        return None
    words = WORD_RE.findall(sents[0])
    low = [w.lower() for w in words]
    ents = statement_annotation(statement, statement_ref).entities
    for name in _names(sents[0], statement.find(sents[0]), ents):
        e = name.entity
        if name.possessive:
            continue
        k = skip_aux(low, name.last)
        between = low[name.last : k]
        if not _lower_token(low, words, k) or any(w in _MODALS for w in between):
            continue
        negated = any(w in NEGATORS or w.endswith("n't") for w in between)
        after = _refusal_at(low, k)
        if after is not None:
            event = _governed(low, words, after)
            if event is None:
                return None
            return _Claim(event, not negated, e, ents)
        if low[k] in CONTROL or stem(low[k]) in _WISHES:
            return None  # "Xi agreed to visit": an intention, not an event
        return _Claim(event_stem(low, k), negated, e, ents)
    return None


def _same_place_or_name(a: Entity, b: Entity) -> bool:
    return same_referent(a, b) or contains(a, b) or contains(b, a)  # Moscow is in Russia


def _mentions(claim: _Claim, passage: str, p: Annotation) -> list[_Mention]:
    """Every mention of the claim's event in the passage, with its reading."""
    out: list[_Mention] = []
    offset = 0
    for sent in sentences(passage):
        offset = passage.find(sent, offset)
        matches = list(WORD_RE.finditer(sent))
        words = [m.group() for m in matches]
        low = [w.lower() for w in words]
        ents = _names(sent, offset, p.entities)
        if not any(_same_place_or_name(claim.subject, e.entity) for e in ents):
            continue
        for k, w in enumerate(words):
            if not w[0].islower() or event_stem(low, k) != claim.event:
                continue
            start = k
            while start > 0 and low[start - 1] not in CLAUSE_END and k - start < _WINDOW:
                start -= 1
            reading, perfect = _read(claim, low, ents, start, k)
            out.append(_Mention(reading, offset + matches[k].start(), perfect))
    return out


def _read(
    claim: _Claim, low: list[str], ents: list[_Name], start: int, k: int
) -> tuple[Reading, bool]:
    before = low[start:k]
    neg = [
        j
        for j in range(start, k)
        if low[j] in NEGATORS
        or low[j].endswith("n't")
        or low[j] in _RELUCTANT
        or _refusal_at(low, j) is not None
    ]
    if _cancelled_after(low, k):
        return "negated", False
    if neg:
        perfect = any(w in _PERFECT or w in ("hasn't", "haven't") for w in low[start : neg[0] + 1])
        return "negated", perfect
    governed = any(
        start <= e.first < k and _same_place_or_name(claim.subject, e.entity) for e in ents
    )
    if not governed or any(w in _MODALS or w in CONTROL or stem(w) in _WISHES for w in before):
        return "other", False
    if before[-1:] == ["to"] and not (len(before) > 1 and before[-2] in _SCHEDULED):
        return "other", False  # "it was Xi's turn to visit", "a request for Xi to visit"
    return "affirmed", False


def _cancelled_after(low: list[str], k: int) -> bool:
    """Whether a cancellation follows the mention: "was called off", "did not take place"."""
    for j in range(k + 1, min(k + 6, len(low))):
        if low[j] in CLAUSE_END:
            return False
        if _refusal_at(low, j) is not None and stem(low[j]) not in ("turn", "rul"):
            return True
        if (low[j] in NEGATORS or low[j].endswith("n't")) and any(
            stem(w) in ("tak", "happen", "go") for w in low[j + 1 : j + 3]
        ):
            return True
    return False


def _names_all(claim: _Claim, p: Annotation) -> bool:
    return all(any(_same_place_or_name(a, b) for b in p.entities) for a in claim.entities)


def _dated(
    claim: _Claim,
    s_times: tuple[TimeExpression, ...],
    passage: str,
    p: Annotation,
    mention: _Mention,
    published: datetime.date | None,
) -> bool:
    """Whether the passage dates the mentioned event inside one of the statement's times."""
    p_times = anchored_times({claim.event}, passage, p.times)
    if p_times:
        return any(s.interval.overlaps(t.interval) for s in s_times for t in p_times)
    if published is None:
        return False
    tense = Tenses(passage).at(mention.pos)
    if tense == "past":
        return False
    if tense == "future":
        when = Interval(published, shift(published, REFUSAL_HORIZON))
    else:
        before, after = AROUND_PUBLICATION
        when = Interval(shift(published, -before), shift(published, after))
    return any(s.interval.overlaps(when) for s in s_times)


def _readings(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    p: Annotation,
) -> tuple[_Claim, tuple[_Mention, ...], tuple[_Mention, ...]] | None:
    claim = _claim(statement, statement_ref)
    if claim is None or not _names_all(claim, p):
        return None
    mentions = _mentions(claim, passage, p)
    negated = tuple(m for m in mentions if m.reading == "negated")
    affirmed = tuple(m for m in mentions if m.reading == "affirmed")
    return claim, negated, affirmed


def polarity_conflict(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    published: datetime.date | None,
    *,
    annotation: Annotation | None = None,
) -> Mismatch | None:
    """The passage reports the statement's event with the opposite polarity (module doc).

    ``annotation`` is the passage's stored one (made here when None).
    """
    p = annotation or passage_annotation(passage, published)
    read = _readings(statement, statement_ref, passage, p)
    if read is None:
        return None
    claim, negated, affirmed = read
    s_times = statement_annotation(statement, statement_ref).times
    if not claim.negated:
        if not negated or affirmed:
            return None
        if not s_times:
            if not any(m.perfect for m in negated):
                return None
        elif published is None or not any(
            s.interval.start <= shift(published, _horizon(passage))
            and s.interval.end >= shift(published, -_REFUSAL_MEMORY)
            for s in s_times
        ):
            return None
        return _conflict(statement, passage, negated[0], "did not happen")
    if negated or not affirmed or not s_times:
        return None
    if not any(_dated(claim, s_times, passage, p, m, published) for m in affirmed):
        return None
    return _conflict(statement, passage, affirmed[0], "happened")


def _horizon(passage: str) -> datetime.timedelta:
    """How far past its publication a refusal speaks: a while for "in the near future"."""
    if _FUTURE_RE.search(passage):
        return REFUSAL_HORIZON
    return datetime.timedelta(0)


def _conflict(statement: str, passage: str, m: _Mention, what: str) -> Mismatch:
    end = passage.find(" ", m.pos)
    span = passage[m.pos : end if end > 0 else len(passage)]
    return Mismatch(
        kind="polarity",
        statement_span=statement,
        passage_span=span,
        explanation=f"The passage reports that the event the statement is about {what}.",
    )


def corroborates(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    published: datetime.date | None,
    *,
    annotation: Annotation | None = None,
) -> bool:
    """The passage reports the statement's event with its names, polarity and time."""
    p = annotation or passage_annotation(passage, published)
    read = _readings(statement, statement_ref, passage, p)
    if read is None:
        return False
    claim, negated, affirmed = read
    agree, disagree = (negated, affirmed) if claim.negated else (affirmed, negated)
    if not agree or disagree:
        return False
    s_times = statement_annotation(statement, statement_ref).times
    return not s_times or any(_dated(claim, s_times, passage, p, m, published) for m in agree)
