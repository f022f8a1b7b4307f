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

:func:`corroborates`: the passage names all the statement's entities (a city agrees with its
country, "Xi" with "Xi Jinping") and reports the event with the statement's polarity, and,
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

from service.mismatch import (
    _AROUND_PUBLICATION,
    _CLAUSE_END,
    _CONTROL,
    _NEGATORS,
    _PLACES,
    _WORD_RE,
    Mismatch,
    _anchored_times,
    _entities,
    _Entity,
    _event_stem,
    _events,
    _sentences,
    _skip_aux,
    _stem,
    _times,
    _words,
)
from service.temporal import Interval, Tenses, TimeExpression, shift

__all__ = ["REFUSAL_HORIZON", "corroborates", "mentions_event", "polarity_conflict"]

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
    subject: _Entity
    entities: list[_Entity]


@dataclass(frozen=True, slots=True)
class _Mention:
    reading: Reading
    pos: int  # character offset of the event word in the passage
    perfect: bool  # negated with "has not"/"never"


def _lower_token(low: list[str], words: list[str], k: int) -> bool:
    return k < len(low) and words[k][0].islower() and low[k] not in _CLAUSE_END


def _refusal_at(low: list[str], k: int) -> int | None:
    """Index after a refusal word (and its particle) at ``k``, else None."""
    stem = _stem(low[k])
    if stem in _REFUSALS:
        return k + 1
    if _PHRASAL.get(stem) is not None and low[k + 1 : k + 2] == [_PHRASAL[stem]]:
        return k + 2
    return None


def _governed(low: list[str], words: list[str], k: int) -> str | None:
    """The event a refusal governs: "... to <verb>" in its clause, else its first noun."""
    noun = None
    for j in range(k, min(k + _WINDOW, len(low))):
        if low[j] in _CLAUSE_END:
            break
        if low[j] == "to" and _lower_token(low, words, j + 1) and low[j + 1] not in ("the", "a"):
            return _event_stem(low, j + 1)
        if noun is None and words[j][0].islower() and low[j] not in ("the", "a", "an", "his"):
            noun = _stem(low[j])
    return noun


@functools.lru_cache(maxsize=256)  # read once per statement, not once per passage and rule
def _claim(statement: str) -> _Claim | None:
    """Read the statement's event; None for modal, wished or subject-less statements."""
    sents = _sentences(statement)
    if not sents:
        return None
    words = _WORD_RE.findall(sents[0])
    low = [w.lower() for w in words]
    ents = _entities(words)
    for e in ents:
        if e.possessive:
            continue
        k = _skip_aux(low, e.last)
        between = low[e.last : k]
        if not _lower_token(low, words, k) or any(w in _MODALS for w in between):
            continue
        negated = any(w in _NEGATORS or w.endswith("n't") for w in between)
        after = _refusal_at(low, k)
        if after is not None:
            event = _governed(low, words, after)
            if event is None:
                return None
            return _Claim(event, not negated, e, ents)
        if low[k] in _CONTROL or _stem(low[k]) in _WISHES:
            return None  # "Xi agreed to visit": an intention, not an event
        return _Claim(_event_stem(low, k), negated, e, ents)
    return None


def _same_place_or_name(a: _Entity, b: _Entity) -> bool:
    if a.same(b):
        return True
    # Moscow is in Russia
    return a.kind == b.kind == "PLACE" and (_PLACES[a.name] == b.name or _PLACES[b.name] == a.name)


def _mentions(claim: _Claim, passage: str) -> list[_Mention]:
    """Every mention of the claim's event in the passage, with its reading."""
    out: list[_Mention] = []
    offset = 0
    for sent in _sentences(passage):
        offset = passage.find(sent, offset)
        matches = list(_WORD_RE.finditer(sent))
        words = [m.group() for m in matches]
        low = [w.lower() for w in words]
        ents = _events(sent)[1]
        if not any(_same_place_or_name(claim.subject, e) for e in ents):
            continue
        for k, w in enumerate(words):
            if not w[0].islower() or _event_stem(low, k) != claim.event:
                continue
            start = k
            while start > 0 and low[start - 1] not in _CLAUSE_END and k - start < _WINDOW:
                start -= 1
            reading, perfect = _read(claim, low, ents, start, k)
            out.append(_Mention(reading, offset + matches[k].start(), perfect))
    return out


def _read(
    claim: _Claim, low: list[str], ents: list[_Entity], start: int, k: int
) -> tuple[Reading, bool]:
    before = low[start:k]
    neg = [
        j
        for j in range(start, k)
        if low[j] in _NEGATORS
        or low[j].endswith("n't")
        or low[j] in _RELUCTANT
        or _refusal_at(low, j) is not None
    ]
    if _cancelled_after(low, k):
        return "negated", False
    if neg:
        perfect = any(w in _PERFECT or w in ("hasn't", "haven't") for w in low[start : neg[0] + 1])
        return "negated", perfect
    governed = any(start <= e.first < k and _same_place_or_name(claim.subject, e) for e in ents)
    if not governed or any(w in _MODALS or w in _CONTROL or _stem(w) in _WISHES for w in before):
        return "other", False
    if before[-1:] == ["to"] and not (len(before) > 1 and before[-2] in _SCHEDULED):
        return "other", False  # "it was Xi's turn to visit", "a request for Xi to visit"
    return "affirmed", False


def _cancelled_after(low: list[str], k: int) -> bool:
    """Whether a cancellation follows the mention: "was called off", "did not take place"."""
    for j in range(k + 1, min(k + 6, len(low))):
        if low[j] in _CLAUSE_END:
            return False
        if _refusal_at(low, j) is not None and _stem(low[j]) not in ("turn", "rul"):
            return True
        if (low[j] in _NEGATORS or low[j].endswith("n't")) and any(
            _stem(w) in ("tak", "happen", "go") for w in low[j + 1 : j + 3]
        ):
            return True
    return False


def mentions_event(statement: str, passage: str) -> bool | None:
    """Whether the passage has a word for the statement's event (None: no event read).

    Without one, a passage can confirm or deny the statement only by paraphrase, the stance
    model's weakest reading (service/verdict.py weighs it so).
    """
    claim = _claim(statement)
    if claim is None:
        return None
    return claim.event in _event_stems(passage)


@functools.lru_cache(maxsize=4096)  # a passage meets many statements in a batch
def _event_stems(passage: str) -> frozenset[str]:
    low = [w.lower() for w in _WORD_RE.findall(passage)]
    return frozenset(_event_stem(low, k) for k in range(len(low)))


def _names_all(claim: _Claim, passage: str) -> bool:
    # _events parses each sentence once (cached) for the entity rule too
    p_ents = [e for s in _sentences(passage) for e in _events(s)[1]]
    return all(any(_same_place_or_name(a, b) for b in p_ents) for a in claim.entities)


def _dated(
    claim: _Claim,
    s_times: list[TimeExpression],
    passage: str,
    mention: _Mention,
    published: datetime.date | None,
) -> bool:
    """Whether the passage dates the mentioned event inside one of the statement's times."""
    p_times = _anchored_times({claim.event}, passage, _times(passage, published))
    if p_times:
        return any(s.interval.overlaps(p.interval) for s in s_times for p in p_times)
    if published is None:
        return False
    tense = Tenses(passage).at(mention.pos)
    if tense == "past":
        return False
    if tense == "future":
        when = Interval(published, shift(published, REFUSAL_HORIZON))
    else:
        before, after = _AROUND_PUBLICATION
        when = Interval(shift(published, -before), shift(published, after))
    return any(s.interval.overlaps(when) for s in s_times)


@functools.lru_cache(maxsize=1024)  # both polarity_conflict and corroborates read each pair
def _readings(
    statement: str, passage: str
) -> tuple[_Claim, tuple[_Mention, ...], tuple[_Mention, ...]] | None:
    claim = _claim(statement)
    if claim is None or not _names_all(claim, passage):
        return None
    mentions = _mentions(claim, passage)
    negated = tuple(m for m in mentions if m.reading == "negated")
    affirmed = tuple(m for m in mentions if m.reading == "affirmed")
    return claim, negated, affirmed


def polarity_conflict(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    published: datetime.date | None,
) -> Mismatch | None:
    """The passage reports the statement's event with the opposite polarity (module doc)."""
    read = _readings(statement, passage)
    if read is None:
        return None
    claim, negated, affirmed = read
    s_times = _times(statement, statement_ref)
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
    if not any(_dated(claim, s_times, passage, m, published) for m in affirmed):
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
) -> bool:
    """The passage reports the statement's event with its names, polarity and time."""
    read = _readings(statement, passage)
    if read is None:
        return False
    claim, negated, affirmed = read
    agree, disagree = (negated, affirmed) if claim.negated else (affirmed, negated)
    if not agree or disagree:
        return False
    s_times = _times(statement, statement_ref)
    return not s_times or any(_dated(claim, s_times, passage, m, published) for m in agree)
