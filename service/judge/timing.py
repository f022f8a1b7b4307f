"""Time conflicts: the statement's times against the passage times that date the same event.

The passage times counted are those in a comma/clause segment that contains the statement's
event word (its first frame with a named subject, from the dependency parse: "visited" ->
visit, which also matches trip/travel...), leaving out reports of it ("announced the visit
on Friday"), and opening "since/after ... X" and "before/until ... X" at one end. A
mismatch needs that none of those overlaps any statement time. The passage's published
date is never used as the event's date (a report can describe any earlier day, or announce
a later one), except for a present-tense report without a time of its own
(:func:`publication_mismatch`); a statement without a time never yields a time mismatch.
:func:`time_agreement` is the other side: a bounded passage time of the event that meets
a statement time (a date stated alike). Times come from the annotations: the passage's
were resolved against its publication date at ingest, the statement's against its as-of
date.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from service.judge.frames import LIGHT_VERBS, Arg, Frame
from service.judge.result import Mismatch
from service.judge.words import STOP, stem, words
from service.temporal import Interval, Tenses, TimeExpression, shift

if TYPE_CHECKING:
    from service.judge.annotate import Annotation

__all__ = [
    "AROUND_PUBLICATION",
    "anchored_times",
    "dated",
    "publication_mismatch",
    "time_agreement",
    "time_mismatch",
]

# News in the present tense ("Xi visits Putin in Moscow") reports what happens around its
# publication: from a fortnight before to a few weeks after.
AROUND_PUBLICATION = (datetime.timedelta(days=14), datetime.timedelta(days=30))

_YEAR_RE = re.compile(r"\b(?:1[89]|20)[0-9]{2}\b")
_OPEN_RE = re.compile(r"(?i)(?:since|until|till|by|before|after|from)\b")


def dated(text: str, times: Sequence[TimeExpression]) -> str:
    """``text`` with each time written without its year followed by its date, bracketed.

    What the stance model reads: it compares written dates ("on March 11, 2025") well but
    cannot resolve "on Tuesday" or "last month" against a publication date, so "the board
    approved on Tuesday (11 March 2025)" can entail "backed the sale on March 11, 2025".
    Spans with one end open or run up to the publication ("since May") are left as written.
    """
    out: list[str] = []
    last = 0
    for t in times:
        iv = t.interval
        if _YEAR_RE.search(t.text) or _OPEN_RE.match(t.text) or iv.end == datetime.date.max:
            continue
        out += [text[last : t.end], f" ({iv.describe()})"]
        last = t.end
    return "".join(out) + text[last:]


# Segments: a time belongs to the event named in its own comma/clause segment.
_SEGMENT_RE = re.compile(r"[,;:()“”\"]|\b(?:that|although|though|whereas|while|but|when)\b")
_LOWER_WORD_RE = re.compile(r"\b[a-z][a-z’'-]+\b")
_OPENING_RE = re.compile(r"(?i:\b(?P<w>since|after|before|until)\b)[^,;:.]{0,80}\Z")
_FUTURE_CUE_RE = re.compile(
    r"(?i:\b(?:will|would|shall|scheduled|expected|plans?|set\s+to|due\s+to)\b|['’]ll\b)"
)
_GENERIC = words(
    "be is are was were been being have has had do does did make made take took year years"
    " time times day days week weeks month months also new first last next will would could"
    " should may might can"
)
_REPORTING = words("announc say report confirm tell statement stat brief claim")  # stems
# reports of an event, as written: "state" shares its crude stem with "stated"
_REPORTED_RE = re.compile(
    r"(?i)\b(?:announc\w*|say|says|said|saying|reports?|reported|reporting|confirm\w*|tells?"
    r"|telling|told|statements?|stated|brief(?:ed|ing)?|claimed)\b"
)


def _gap(a: Interval, b: Interval) -> int:
    if a.end < b.start:
        return (b.start - a.end).days
    return max(0, (a.start - b.end).days)


def _placed(iv: Interval) -> str:
    text = iv.describe()
    if iv.end == datetime.date.max and iv.start != datetime.date.min:
        return f"from {text}"  # "from 2014 onwards"
    if iv.start == datetime.date.min or iv.end == datetime.date.max:
        return text
    return f"on {text}" if iv.start == iv.end else f"in {text}"


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _stems(text: str) -> set[str]:
    return {stem(w) for w in _LOWER_WORD_RE.findall(text) if w not in STOP and w not in _GENERIC}


def anchors(statement: str, s: Annotation) -> set[str]:
    """Return the statement's event word: the predicate of its first named subject.

    "Xi Jinping declined Putin's invitation to visit Moscow in 2022" dates the declining, so
    only "declin" anchors it; a light or aspectual verb's object is the event ("Solvend made
    its debut on ..." is dated by "debut"). Without a named subject, every content word
    anchors it: reporters word one event with other verbs ("hit Japan" / "made landfall").
    """
    for f in s.frames:
        subj = f.arg("subj")
        if subj is not None and subj.entities and stem(f.lemma) not in _REPORTING:
            obj = _light_object(f)
            return {stem(w) for w in obj.lemmas} if obj else {stem(f.lemma)}
    return _stems(_blank(statement, [(t.start, t.end) for t in s.times]))


# verbs whose object names the event: "made its debut", "is due to start production"
_EVENT_OBJECT_VERBS = LIGHT_VERBS | {"start", "begin", "resume", "finish", "complete"}


def _light_object(f: Frame) -> Arg | None:
    """The object of a light or aspectual verb, which names the event (its dating)."""
    obj = f.arg("obj")
    return obj if f.lemma in _EVENT_OBJECT_VERBS and obj is not None and obj.lemmas else None


def anchored_times(
    anchor: set[str], passage: str, p_times: tuple[TimeExpression, ...]
) -> list[TimeExpression]:
    """Keep the passage times that date the statement's event.

    A time counts when its segment (split at commas and clause words; a bare "On Thursday,"
    joins the next segment) contains the statement's event word ("visit", "trip" and "travel"
    count as one) and is not a report of it ("announced the visit on Friday"). A time inside
    "since/after ... X" is opened towards the future ("first visit since the invasion in
    February last year"), one inside "before/until ... X" towards the past.
    """
    bounds = [0, *(m.end() for m in _SEGMENT_RE.finditer(passage)), len(passage) + 1]
    blanked = _blank(passage, [(t.start, t.end) for t in p_times])
    kept: list[TimeExpression] = []
    for t in p_times:
        i = next(k for k in range(1, len(bounds)) if bounds[k] > t.start)
        lo, hi = bounds[i - 1], bounds[i]
        found = _stems(blanked[lo:hi])
        if not found and i + 1 < len(bounds):  # "On Thursday, Qin contacted Kuleba"
            hi = bounds[i + 1]
            found = _stems(blanked[lo:hi])
        if not anchor & found:
            continue
        if _REPORTED_RE.search(blanked, lo, hi) and not _FUTURE_CUE_RE.search(passage, lo, hi):
            continue
        m = _OPENING_RE.search(passage, lo, t.start)
        if m and not t.text.lower().startswith(m["w"].lower()):
            iv = t.interval
            if m["w"].lower() in ("since", "after"):
                iv = Interval(iv.start, datetime.date.max)
            else:
                iv = Interval(datetime.date.min, iv.end)
            t = TimeExpression(t.text, t.start, t.end, iv)
        kept.append(t)
    return kept


def time_mismatch(statement: str, s: Annotation, passage: str, p: Annotation) -> Mismatch | None:
    """The statement's times miss every passage time of its event (module doc)."""
    if not s.times:
        return None
    p_times = anchored_times(anchors(statement, s), passage, p.times)
    if not p_times or any(a.interval.overlaps(b.interval) for a in s.times for b in p_times):
        return None
    first = s.times[0]
    near = min(p_times, key=lambda b: _gap(first.interval, b.interval))
    return Mismatch(
        kind="time",
        statement_span=first.text,
        passage_span=near.text,
        statement_interval=first.interval,
        passage_interval=near.interval,
        explanation=f"The statement places it {_placed(first.interval)}; "
        f"the passage dates it to {near.interval.describe()}.",
    )


def time_agreement(statement: str, s: Annotation, passage: str, p: Annotation) -> bool:
    """A passage time that dates the statement's event meets one of the statement's times.

    Only bounded passage times count: one opened by the clause around it ("first visit
    since the invasion in February 2022") meets almost any later date.
    """
    bounded = [
        t for t in anchored_times(anchors(statement, s), passage, p.times) if t.interval.bounded()
    ]
    return any(a.interval.overlaps(b.interval) for a in s.times for b in bounded)


def publication_mismatch(
    statement: str,
    s: Annotation,
    passage: str,
    p: Annotation,
    published: datetime.date | None,
) -> Mismatch | None:
    """Date a time-less, present-tense passage about the statement's event by its publication.

    Only the present tense is dated this way: a past-tense passage says only "before
    publication" (which rarely conflicts) and a future one may be far ahead.
    """
    if not s.times or p.times or published is None:
        return None
    anchor = anchors(statement, s)
    tenses = Tenses(passage)
    hits = [m for m in _LOWER_WORD_RE.finditer(passage) if stem(m.group()) in anchor]
    if not hits or any(tenses.at(m.end()) is not None for m in hits):  # its own tense counts
        return None
    before, after = AROUND_PUBLICATION
    around = Interval(shift(published, -before), shift(published, after))
    if any(t.interval.overlaps(around) for t in s.times):
        return None
    first = s.times[0]
    return Mismatch(
        kind="time",
        statement_span=first.text,
        passage_span=hits[0].group(),
        statement_interval=first.interval,
        passage_interval=around,
        explanation=f"The statement places it {_placed(first.interval)}; the passage reports it "
        f"in the present tense on {published:%d %B %Y}.",
    )
