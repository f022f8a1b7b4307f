"""Time expressions in news text, resolved to inclusive date intervals.

Spans are found with precompiled regular expressions and resolved with calendar arithmetic.
``dateparser.search.search_dates`` was measured on the seed sentences and not used: about
1.3 ms per sentence, it reads "may"/"march" (verbs) and the score "3-1" as dates, and it puts
"on Friday" in a Friday-dated article one week later.

Resolution rules (``reference`` is the document's published date or a statement's as-of date):

* Absolute dates keep their granularity: a year is 1 Jan..31 Dec, a month the whole month,
  "spring 2023" March..May 2023 (meteorological, northern hemisphere). "winter 2023" is
  widened to Dec 2022..Feb 2024 because usage differs ("winter 2022/23" or "Jan-Feb 2023").
* A date without its year ("June 15", "in May", "in the spring") and a bare weekday take the
  occurrence chosen by the tense of its clause (else its sentence): a future cue ("will",
  "scheduled", "invited", ...) picks the next occurrence (or the one containing the reference),
  a past cue ("was", "said", any "-ed" word) the previous one, no cue the nearest one.
  A weekday equal to the reference's weekday is the reference day itself (news: "on Friday"
  in a Friday article); "from Monday" without a past cue is the coming Monday.
* "last/next X" are strictly before/after the reference, "this X" contains the reference or is
  the nearest one; weeks are ISO weeks (Monday..Sunday).
* "the new year" is the next calendar year when said in October..December, else the current one.
* "since X" runs to the reference (open-ended without one); "until/by X", "before X" and
  "after X" are open-ended, so that such spans rarely conflict with anything.
* With ``reference=None`` every expression that needs it is skipped, not guessed.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["Interval", "TimeExpression", "extract_times", "shift"]

_DAY_1 = datetime.timedelta(days=1)
_MIN_YEAR, _MAX_YEAR = datetime.MINYEAR, datetime.MAXYEAR


def shift(day: datetime.date, delta: datetime.timedelta) -> datetime.date:
    """``day + delta``, clamped to the calendar's ends instead of raising OverflowError.

    Dates come from callers (a document's ``published_at``, a check's ``as_of``) and may be
    0001-01-01 or 9999-12-31; time arithmetic must be total over every date they can send.
    """
    try:
        return day + delta
    except OverflowError:
        return datetime.date.min if delta < datetime.timedelta(0) else datetime.date.max


def _clamp_year(y: int) -> int:
    return min(max(y, _MIN_YEAR), _MAX_YEAR)


_MONTHS_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class Interval(msgspec.Struct, frozen=True):
    """An inclusive date interval; ``date.min``/``date.max`` mark an open end."""

    start: Annotated[datetime.date, Meta(examples=["2022-01-01"])]
    end: Annotated[datetime.date, Meta(examples=["2022-12-31"])]

    def overlaps(self, other: Interval) -> bool:
        """Return True when the two intervals share at least one day."""
        return self.start <= other.end and other.start <= self.end

    def bounded(self) -> bool:
        """Return True when neither end is open ("since 2019" is not bounded)."""
        return self.start != datetime.date.min and self.end != datetime.date.max

    def describe(self) -> str:
        """Return a short human rendering: "2022", "March 2023", "20–22 March 2023"."""
        s, e = self.start, self.end
        if s == datetime.date.min and e == datetime.date.max:
            return "any time"
        if s == datetime.date.min:
            return f"up to {Interval(e, e)._end_text()}"
        if e == datetime.date.max:
            return f"{Interval(s, s)._start_text()} onwards"
        if (s.month, s.day, e.month, e.day) == (1, 1, 12, 31):
            return str(s.year) if s.year == e.year else f"{s.year}–{e.year}"
        if s.day == 1 and e.day == calendar.monthrange(e.year, e.month)[1]:
            if (s.year, s.month) == (e.year, e.month):
                return f"{s:%B %Y}"
            if s.year == e.year:
                return f"{s:%B}–{e:%B %Y}"
            return f"{s:%B %Y}–{e:%B %Y}"
        if s == e:
            return f"{s.day} {s:%B %Y}"
        if (s.year, s.month) == (e.year, e.month):
            return f"{s.day}–{e.day} {e:%B %Y}"
        if s.year == e.year:
            return f"{s.day} {s:%B}–{e.day} {e:%B %Y}"
        return f"{s.day} {s:%B %Y}–{e.day} {e:%B %Y}"

    def _start_text(self) -> str:
        d = self.start
        return str(d.year) if (d.month, d.day) == (1, 1) else f"{d.day} {d:%B %Y}"

    def _end_text(self) -> str:
        d = self.end
        return str(d.year) if (d.month, d.day) == (12, 31) else f"{d.day} {d:%B %Y}"


class TimeExpression(msgspec.Struct, frozen=True):
    """A time expression found in a text: the span as written, its offsets and its interval."""

    text: str
    start: int
    end: int
    interval: Interval


_Unit = Literal["day", "weekday", "week", "month", "season", "year", "decade", "span"]
_Tense = Literal["future", "past"] | None


@dataclass(slots=True)
class _Cand:
    start: int
    end: int
    interval: Interval
    unit: _Unit
    weak: bool = False  # a bare year without date context: kept only inside a list of years
    has_from: bool = False
    yearless: bool = False  # "June 15", "in May": its year came from the reference


# --- lexical pieces -----------------------------------------------------------------------

_MONTH_FULL = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_MONTH = rf"(?:(?:{_MONTH_FULL}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:19|20)[0-9][0-9]\b(?![.,:/][0-9]|-[0-9]|%)"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_NUMWORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_REL = r"(?P<rel>(?i:last|next|this|coming|past))\s+"

_ISO_RE = re.compile(r"\b((?:19|20)[0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\b")
_DMY_RANGE_RE = re.compile(
    rf"\b(?P<d1>{_DAY})\s*(?:-|–|—|to|and)\s*(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m>{_MONTH})"
    rf"(?:,?\s+(?P<y>{_YEAR}))?"
)
_MDY_RANGE_RE = re.compile(
    rf"\b(?P<m>{_MONTH})\s+(?P<d1>{_DAY})\s*(?:-|–|—)\s*(?P<d2>{_DAY})(?:,?\s+(?P<y>{_YEAR}))?"
)
_DMY_RE = re.compile(
    rf"(?<![0-9,.])\b(?P<d>{_DAY})\s+(?:of\s+)?(?P<m>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?"
)
_MDY_RE = re.compile(rf"\b(?P<m>{_MONTH})\s+(?P<d>{_DAY})(?![,.]?[0-9])(?:,?\s+(?P<y>{_YEAR}))?")
_MY_RE = re.compile(rf"\b(?P<m>{_MONTH}),?\s+(?:of\s+)?(?P<y>{_YEAR})")
# A month alone must follow a date-like word, so "May" the modal and "March" the verb never match.
_M_RE = re.compile(
    rf"(?:{_REL}|(?i:\b(?:in|since|until|till|by|during|from|between|through|before|after|of|early|"
    rf"late|mid|around|end|start|beginning|middle)\s+|\bmid-|(?P<join>\b(?:and|to|or)\s+)))"
    rf"(?P<m>{_MONTH_FULL})\b"
)
_MONTH_BEFORE_RE = re.compile(rf"\b(?:{_MONTH_FULL})\b")
_SEASON_RE = re.compile(
    rf"(?:{_REL}|(?P<prep>(?i:\b(?:in|during|by|until|since|through|over|early|late|mid)\s+"
    rf"(?:the\s+)?)))?\b(?P<s>(?i:spring|summer|autumn|fall|winter))\b"
    rf"(?:\s+(?:of\s+)?(?P<y>{_YEAR})|(?!\s+of\b))"
)
_YEAR_RE = re.compile(
    rf"(?<![\w$€£#.,/:])(?:(?<=mid-)|(?<!-))(?P<y>{_YEAR})(?P<poss>['’]s\b)?(?![\w-])"
)
_YEAR_RANGE_RE = re.compile(
    r"(?i:\b(?:in|from|between|during|the)\s+)(?P<y1>(?:19|20)[0-9][0-9])\s*[-–—/]\s*"
    r"(?P<y2>(?:19|20)[0-9][0-9]|[0-9][0-9])\b(?![.,][0-9]|%)"
)
_DECADE_RE = re.compile(r"(?i:\bthe\s+)(?P<y>(?:19|20)[0-9]0)['’]?s\b")
_WEEKDAY_RE = re.compile(
    rf"(?:{_REL})?\b(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b(?!s\b)"
)
_RELATIVE_RE = re.compile(
    r"(?i:\b(?:(?P<rel>last|next|this|past|previous|coming|current)\s+(?P<unit>week|weekend|month"
    r"|year|decade)|(?P<eword>earlier|later)\s+this\s+(?P<eunit>week|month|year)"
    r"|(?P<day>today|yesterday|tomorrow|tonight)|this\s+(?:morning|afternoon|evening)"
    r"|(?P<n>[0-9]{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
    r"(?P<agounit>day|week|month|year)s?\s+ago|(?P<newyear>the\s+new\s+year))\b)"
)
# A bare year counts only after a date-like word, before "'s", or inside a list of years.
_YEAR_CONTEXT_RE = re.compile(
    r"(?i:\b(?:in|since|until|till|by|during|of|from|before|after|through|throughout|around|"
    r"circa|year|early|late|between|the|spring|summer|autumn|fall|winter|end|start|beginning|"
    r"middle|half|quarter|mid)\s+\Z|\bmid-\Z)"
)
_COUNT_NOUN_RE = re.compile(
    r"\s+(?i:people|persons|men|women|children|residents|civilians|soldiers|troops|fighters|"
    r"police|officers|protesters|demonstrators|workers|employees|students|votes|voters|cases|"
    r"deaths|dead|killed|injured|homes|houses|jobs|units|vehicles|tanks|dollars|euros|pounds|"
    r"rubles|roubles|yuan|tons|tonnes|barrels|km|kilometres|kilometers|miles|metres|meters|"
    r"times|more|others|of\s+the|of\s+them|million|billion|thousand|hundred)\b"
)
_LIST_SEP_RE = re.compile(r"\s*(?:,|,?\s*and|or|to|-|–|—)\s*")
_RANGE_SEP_RE = re.compile(r"\s*(?:(?P<w>to|until|till|through|and)|-|–|—)\s*")
_FROM_RE = re.compile(r"(?i:\b(?P<w>from|between)\s+)\Z")
_FRACTION_RE = re.compile(
    r"(?i:\b(?:the\s+)?(?:(?P<half>first|second|1st|2nd)\s+half|(?P<q>first|second|third|"
    r"fourth|final|last|1st|2nd|3rd|4th)\s+quarter|(?P<edge>beginning|start|middle|end|close))"
    r"\s+of\s+(?:the\s+)?\Z|\b(?P<part>early|mid|late)(?:\s+|-)\Z)"
)
_OPEN_RE = re.compile(
    r"(?i:\b(?P<w>since|from|until|till|through|by|before|after|prior\s+to|ahead\s+of)\s+\Z)"
)
_HOLIDAY_PREFIX_RE = re.compile(r"\b(?:Good|Black|Super|Ash|Easter|Palm|Holy|Bloody|Cyber)\s+\Z")

# One pass finds both kinds of tense cue; "to visit" marks the future of an invitation or plan.
_CUE_RE = re.compile(
    r"(?P<future>(?i:\b(?:will|won't|shall|would|going\s+to|plans?|planned|planning|scheduled|"
    r"expected|set\s+to|due\s+to|upcoming|intends?|to\s+be\s+held|next|coming|later|"
    r"to\s+(?:visit|come|go|travel|meet|hold|attend|sign|return|pay|make|take\s+place))\b|['’]ll\b))"
    r"|(?P<past>(?i:\b(?:was|were|had|did|didn't|ago|last|earlier|previously|said|told|met|went|"
    r"came|held|took|made)\b)|\b(?!hundred\b)[a-z]{2,}(?<!e)ed\b)"
)
_CLAUSE_BREAK_RE = re.compile(r"[.;:!?,()\"“”]|\b(?:that|but|while|although|whereas|because)\b")
_SENTENCE_BREAK_RE = re.compile(r"[.!?](?=\s|$)|\n")


def _month_num(name: str) -> int:
    return _MONTHS_ABBR.index(name[:3].lower()) + 1


def _day_num(text: str) -> int:
    return int(text.rstrip("stndrh"))


def _year_iv(y: int) -> Interval:
    y = _clamp_year(y)
    return Interval(datetime.date(y, 1, 1), datetime.date(y, 12, 31))


def _month_iv(y: int, m: int) -> Interval:
    if not _MIN_YEAR <= y <= _MAX_YEAR:  # before the first month or after the last
        y, m = (_MIN_YEAR, 1) if y < _MIN_YEAR else (_MAX_YEAR, 12)
    return Interval(datetime.date(y, m, 1), datetime.date(y, m, calendar.monthrange(y, m)[1]))


def _date(y: int, m: int, d: int) -> datetime.date | None:
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


def _day_iv(y: int, m: int, d: int) -> Interval | None:
    day = _date(y, m, d)
    return None if day is None else Interval(day, day)


def _season_iv(y: int, name: str, explicit: bool) -> Interval:
    first = _SEASONS[name.lower()]
    if first != 12:
        return Interval(datetime.date(y, first, 1), _month_iv(y, first + 2).end)
    if explicit:  # "winter 2023": both readings, see the module docstring
        return Interval(_month_iv(y - 1, 12).start, _month_iv(y + 1, 2).end)
    return Interval(_month_iv(y, 12).start, _month_iv(y + 1, 2).end)


def _week_iv(day: datetime.date) -> Interval:
    monday = shift(day, datetime.timedelta(days=-day.weekday()))
    return Interval(monday, shift(monday, datetime.timedelta(days=6)))


def _add_months(day: datetime.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _distance(iv: Interval, day: datetime.date) -> int:
    if day < iv.start:
        return (iv.start - day).days
    return max(0, (day - iv.end).days)


def _pick(
    make: Callable[[int], Interval | None], ref: datetime.date, mode: str | None
) -> Interval | None:
    """Choose among the occurrences around ``ref`` (see the module docstring for the modes)."""
    years = (y for y in (ref.year - 1, ref.year, ref.year + 1) if _MIN_YEAR <= y <= _MAX_YEAR)
    cands = [iv for iv in map(make, years) if iv]
    if not cands:
        return None
    if mode == "last":
        return next((iv for iv in reversed(cands) if iv.end < ref), None)
    if mode == "next":
        return next((iv for iv in cands if iv.start > ref), None)
    if mode == "future":
        return next((iv for iv in cands if iv.end >= ref), None)
    if mode == "past":
        return next((iv for iv in reversed(cands) if iv.start <= ref), None)
    return min(cands, key=lambda iv: (_distance(iv, ref), iv.start > ref))  # ties: the past


def _rel_mode(rel: str | None, tense: _Tense) -> str | None:
    if rel is None:
        return tense
    rel = rel.lower()
    if rel in ("last", "past"):
        return "last"
    if rel in ("next", "coming"):
        return "next"
    return None  # "this": containing or nearest


def _fraction(iv: Interval, k: int, n: int) -> Interval:
    """Return part ``k`` (0-based) of ``n`` equal parts, month-aligned when possible."""
    months = (iv.end.year - iv.start.year) * 12 + iv.end.month - iv.start.month + 1
    whole = iv.start.day == 1 and iv.end == _month_iv(iv.end.year, iv.end.month).end
    if whole and months % n == 0 and months >= n:
        step = months // n
        y1, m1 = _add_months(iv.start, k * step)
        y2, m2 = _add_months(iv.start, (k + 1) * step - 1)
        return Interval(datetime.date(y1, m1, 1), _month_iv(y2, m2).end)
    days = (iv.end - iv.start).days + 1
    lo = iv.start + datetime.timedelta(days=days * k // n)
    hi = iv.start + datetime.timedelta(days=days * (k + 1) // n - 1)
    return Interval(lo, hi)


class Tenses:
    """Tense cues of one text, looked up lazily by position (clause first, then sentence)."""

    def __init__(self, text: str, past: Sequence[int] = ()) -> None:
        self.text = text
        self._past = past  # offsets of past-tense verbs a tagger found ("began", "won")
        self._clauses: list[int] | None = None
        self._sentences: list[int] = []
        self._cues: list[tuple[int, str | None]] = []

    def at(self, pos: int) -> _Tense:
        """Return the tense of the nearest cue before ``pos`` in its clause, else after it.

        Falls back to the sentence: "said ... will meet on Monday" is future,
        "on Tuesday ... heightened" is past.
        """
        if self._clauses is None:
            self._clauses = [m.end() for m in _CLAUSE_BREAK_RE.finditer(self.text)]
            self._sentences = [m.end() for m in _SENTENCE_BREAK_RE.finditer(self.text)]
            found = {m.start(): m.lastgroup for m in _CUE_RE.finditer(self.text)}
            found.update((pos, "past") for pos in self._past if pos not in found)
            self._cues = sorted(found.items())
        starts = [c[0] for c in self._cues]
        for breaks in (self._clauses, self._sentences):
            i = bisect.bisect_right(breaks, pos)
            lo = breaks[i - 1] if i else 0
            hi = breaks[i] if i < len(breaks) else len(self.text)
            before = bisect.bisect_left(starts, pos) - 1
            if before >= 0 and starts[before] >= lo:
                return "future" if self._cues[before][1] == "future" else "past"
            after = bisect.bisect_right(starts, pos)
            if after < len(starts) and starts[after] < hi:
                return "future" if self._cues[after][1] == "future" else "past"
        return None


# --- extraction ---------------------------------------------------------------------------


def _absolute(text: str, out: list[_Cand], ref: datetime.date | None, tenses: Tenses) -> None:
    for m in _ISO_RE.finditer(text):
        iv = _day_iv(int(m[1]), int(m[2]), int(m[3]))
        if iv:
            out.append(_Cand(m.start(), m.end(), iv, "day"))
    for rx in (_DMY_RANGE_RE, _MDY_RANGE_RE):
        for m in rx.finditer(text):
            month, d1, d2 = _month_num(m["m"]), _day_num(m["d1"]), _day_num(m["d2"])
            if d1 >= d2:
                continue

            def make(y: int, month: int = month, d1: int = d1, d2: int = d2) -> Interval | None:
                a, b = _date(y, month, d1), _date(y, month, d2)
                return Interval(a, b) if a and b else None

            iv = _year_or_pick(m["y"], make, ref, tenses, m.start())
            if iv:
                out.append(_Cand(m.start(), m.end(), iv, "span"))
    for rx in (_DMY_RE, _MDY_RE):
        for m in rx.finditer(text):
            month, day = _month_num(m["m"]), _day_num(m["d"])
            make_day = functools.partial(_day_iv, m=month, d=day)
            iv = _year_or_pick(m["y"], make_day, ref, tenses, m.start())
            if iv:
                out.append(_Cand(m.start(), m.end(), iv, "day", yearless=not m["y"]))
    for m in _MY_RE.finditer(text):
        out.append(_Cand(m.start(), m.end(), _month_iv(int(m["y"]), _month_num(m["m"])), "month"))
    for m in _YEAR_RANGE_RE.finditer(text):
        y1, y2 = int(m["y1"]), m["y2"]
        last = int(y2) if len(y2) == 4 else y1 // 100 * 100 + int(y2)
        if y1 < last <= y1 + 30 and not _COUNT_NOUN_RE.match(text, m.end()):
            out.append(
                _Cand(
                    m.start("y1"), m.end(), Interval(_year_iv(y1).start, _year_iv(last).end), "span"
                )
            )
    for m in _DECADE_RE.finditer(text):
        y = int(m["y"])
        out.append(
            _Cand(m.start(), m.end(), Interval(_year_iv(y).start, _year_iv(y + 9).end), "decade")
        )
    for m in _YEAR_RE.finditer(text):
        if _COUNT_NOUN_RE.match(text, m.end()):
            continue
        weak = not m["poss"] and not _YEAR_CONTEXT_RE.search(
            text, max(0, m.start() - 12), m.start()
        )
        out.append(_Cand(m.start(), m.end(), _year_iv(int(m["y"])), "year", weak=weak))


def _year_or_pick(
    year: str | None,
    make: Callable[[int], Interval | None],
    ref: datetime.date | None,
    tenses: Tenses,
    pos: int,
) -> Interval | None:
    if year:
        return make(int(year))
    return None if ref is None else _pick(make, ref, tenses.at(pos))


def _relative(text: str, out: list[_Cand], ref: datetime.date, tenses: Tenses) -> None:
    for m in _M_RE.finditer(text):
        if m["join"] and not _MONTH_BEFORE_RE.search(text, max(0, m.start() - 25), m.start()):
            continue  # "and May" only in "between March and May", not "Xi and May met"
        month = _month_num(m["m"])
        mode = _rel_mode(m["rel"], None if m["rel"] else tenses.at(m.start()))
        iv = _pick(functools.partial(_month_iv, m=month), ref, mode)
        if iv:
            start = m.start("rel") if m["rel"] else m.start("m")
            out.append(_Cand(start, m.end(), iv, "month", yearless=not m["rel"]))
    for m in _SEASON_RE.finditer(text):
        if m["y"]:
            season: Interval | None = _season_iv(int(m["y"]), m["s"], explicit=True)
        elif m["rel"] or m["prep"]:
            mode = _rel_mode(m["rel"], None if m["rel"] else tenses.at(m.start()))
            make = functools.partial(_season_iv, name=m["s"], explicit=False)
            season = _pick(make, ref, mode)
        else:
            continue
        if season:
            start = m.start("rel") if m["rel"] else m.start("s")
            out.append(_Cand(start, m.end(), season, "season"))
    for m in _WEEKDAY_RE.finditer(text):
        if _HOLIDAY_PREFIX_RE.search(text, max(0, m.start() - 8), m.start()):
            continue  # "Good Friday", "Super Tuesday"
        has_from = bool(_FROM_RE.search(text, max(0, m.start() - 10), m.start()))
        day = _resolve_weekday(_WEEKDAYS.index(m["wd"].lower()), m["rel"], ref, tenses, m, has_from)
        start = m.start("rel") if m["rel"] else m.start("wd")
        out.append(_Cand(start, m.end(), Interval(day, day), "weekday", has_from=has_from))
    for m in _RELATIVE_RE.finditer(text):
        iv = _resolve_relative(m, ref)
        if iv:
            unit: _Unit = "year" if m["newyear"] or (m["unit"] or "").lower() == "year" else "span"
            out.append(_Cand(m.start(), m.end(), iv, unit))


def _resolve_weekday(
    wd: int, rel: str | None, ref: datetime.date, tenses: Tenses, m: re.Match[str], has_from: bool
) -> datetime.date:
    back = (ref.weekday() - wd) % 7 or 7  # days back to the previous such day
    fwd = (wd - ref.weekday()) % 7 or 7  # days forward to the next one
    prev = shift(ref, datetime.timedelta(days=-back))
    nxt = shift(ref, datetime.timedelta(days=fwd))
    if rel:
        r = rel.lower()
        if r == "this":
            return shift(_week_iv(ref).start, datetime.timedelta(days=wd))
        return prev if r in ("last", "past") else nxt
    if wd == ref.weekday():
        return ref
    tense = tenses.at(m.start())
    if tense == "future" or (has_from and tense != "past"):
        return nxt
    if tense == "past":
        return prev
    return prev if back <= fwd else nxt


def _resolve_relative(m: re.Match[str], ref: datetime.date) -> Interval | None:
    if m["unit"]:
        rel, unit = m["rel"].lower(), m["unit"].lower()
        step = -1 if rel in ("last", "previous") else 1 if rel in ("next", "coming") else 0
        if rel == "past":  # "the past week/month/year": a rolling window up to the reference
            days = {"week": 7, "weekend": 7, "month": 31, "year": 366, "decade": 3653}[unit]
            return Interval(shift(ref, datetime.timedelta(days=-days)), ref)
        if unit in ("week", "weekend"):
            week = _week_iv(shift(ref, datetime.timedelta(weeks=step)))
            if unit == "weekend":
                return Interval(shift(week.end, -_DAY_1), week.end)
            return week
        if unit == "month":
            return _month_iv(*_add_months(ref, step))
        if unit == "year":
            return _year_iv(ref.year + step)
        first = ref.year // 10 * 10 + 10 * step
        return Interval(_year_iv(first).start, _year_iv(first + 9).end)
    if m["eunit"]:
        unit = m["eunit"].lower()
        base = _week_iv(ref) if unit == "week" else _month_iv(ref.year, ref.month)
        base = _year_iv(ref.year) if unit == "year" else base
        if m["eword"].lower() == "earlier":
            return Interval(base.start, max(base.start, shift(ref, -_DAY_1)))
        return Interval(min(base.end, shift(ref, _DAY_1)), base.end)
    if m["day"]:
        offset = {"yesterday": -1, "tomorrow": 1}.get(m["day"].lower(), 0)
        day = shift(ref, datetime.timedelta(days=offset))
        return Interval(day, day)
    if m["agounit"]:
        n_text = m["n"].lower()
        n = int(n_text) if n_text.isascii() and n_text.isdigit() else _NUMWORDS[n_text]
        unit = m["agounit"].lower()
        if unit == "day":
            day = shift(ref, datetime.timedelta(days=-n))
            return Interval(day, day)
        if unit == "week":
            return _week_iv(shift(ref, datetime.timedelta(weeks=-n)))
        if unit == "month":
            return _month_iv(*_add_months(ref, -n))
        return _year_iv(ref.year - n)
    if m["newyear"]:
        return _year_iv(ref.year + 1 if ref.month >= 10 else ref.year)
    return Interval(ref, ref)  # "this morning/afternoon/evening"


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Keep the longest non-overlapping candidates, then drop weak years outside a year list."""
    chosen: list[_Cand] = []
    taken: list[tuple[int, int]] = []
    for c in sorted(cands, key=lambda c: (c.start - c.end, c.start)):
        if all(c.end <= s or c.start >= e for s, e in taken):
            chosen.append(c)
            taken.append((c.start, c.end))
    chosen.sort(key=lambda c: c.start)
    return chosen


def _apply_fraction(text: str, c: _Cand) -> None:
    if c.unit not in ("year", "month", "season", "decade", "week", "span"):
        return
    m = _FRACTION_RE.search(text, max(0, c.start - 30), c.start)
    if not m:
        return
    iv = c.interval
    if m["half"]:
        iv = _fraction(iv, 0 if m["half"].lower() in ("first", "1st") else 1, 2)
    elif m["q"]:
        iv = _fraction(iv, _QUARTERS[m["q"].lower()], 4)
    elif m["edge"]:
        edge = m["edge"].lower()
        iv = _fraction(iv, 1 if edge == "middle" else 0 if edge in ("beginning", "start") else 2, 3)
    elif m["part"]:
        iv = _fraction(iv, ("early", "mid", "late").index(m["part"].lower()), 3)
    else:
        return
    c.interval, c.start = iv, m.start()


_QUARTERS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_QUARTERS |= {"fourth": 3, "4th": 3, "final": 3, "last": 3}


def _merge(text: str, cands: list[_Cand]) -> list[_Cand]:
    """Join "from X to Y", "between X and Y", "X–Y" and "Monday, March 20" into one span."""
    out: list[_Cand] = []
    i = 0
    while i < len(cands):
        a = cands[i]
        b = cands[i + 1] if i + 1 < len(cands) else None
        merged = _merge_pair(text, a, b) if b else None
        if merged:
            out.append(merged)
            i += 2
        else:
            out.append(a)
            i += 1
    return out


def _merge_pair(text: str, a: _Cand, b: _Cand) -> _Cand | None:
    between = text[a.end : b.start]
    if a.yearless and b.unit == "year" and re.fullmatch(r"\s+(?:of\s+)?|,\s*", between):
        y = b.interval.start.year  # "in February last year", "June 15 this year"
        first = _date(y, a.interval.start.month, a.interval.start.day)
        last = _date(y, a.interval.end.month, a.interval.end.day)
        if first and last and b.interval.start.year == b.interval.end.year:
            return _Cand(a.start, b.end, Interval(first, last), a.unit)
    if a.unit == "weekday" and b.unit == "day" and re.fullmatch(r",?\s*", between):
        return _Cand(a.start, b.end, b.interval, "day")
    sep = _RANGE_SEP_RE.fullmatch(between)
    if not sep:
        return None
    lead = _FROM_RE.search(text, max(0, a.start - 10), a.start)
    word = (sep["w"] or "").lower()
    if word == "and" and not (lead and lead["w"].lower() == "between"):
        return None
    if not word and a.unit != b.unit:
        return None  # a dash joins only like with like ("Monday–Wednesday", "2014–2022")
    start = lead.start() if lead else a.start
    if a.unit == "weekday" and b.unit == "weekday":
        gap = (b.interval.start.weekday() - a.interval.start.weekday()) % 7
        return _Cand(
            start,
            b.end,
            Interval(a.interval.start, shift(a.interval.start, datetime.timedelta(days=gap))),
            "span",
        )
    a_iv = a.interval
    if a.yearless and not b.yearless:  # "from March to May 2023": March takes May's year
        y = b.interval.end.year
        if (a_iv.start.month, a_iv.start.day) > (b.interval.end.month, b.interval.end.day):
            y -= 1
        moved = _date(y, a_iv.start.month, a_iv.start.day)
        a_iv = Interval(moved, a_iv.end) if moved else a_iv
    if a_iv.start > b.interval.end:
        return None
    return _Cand(start, b.end, Interval(a_iv.start, b.interval.end), "span", has_from=True)


def extract_times(
    text: str, reference: datetime.date | None, past: Sequence[int] = ()
) -> list[TimeExpression]:
    """Find the time expressions of ``text`` and resolve them against ``reference``.

    Returns the expressions in text order, non-overlapping. Relative expressions ("last year",
    "Monday", "June 15") are skipped when ``reference`` is None. ``past`` adds the offsets
    of past-tense verbs a tagger found to the tense cues (the cue list knows few irregular
    verbs: "began on Monday" is the Monday before).
    """
    tenses = Tenses(text, past)
    cands: list[_Cand] = []
    _absolute(text, cands, reference, tenses)
    if reference is not None:
        _relative(text, cands, reference, tenses)
    chosen = _select(cands)
    kept: list[_Cand] = []
    for c in chosen:  # a weak year survives only right after a kept time: "in 2014 and 2022"
        if c.weak and not (kept and _LIST_SEP_RE.fullmatch(text, kept[-1].end, c.start)):
            continue
        kept.append(c)
    for c in kept:
        _apply_fraction(text, c)
    result: list[TimeExpression] = []
    for c in _merge(text, kept):
        iv = c.interval
        m = (
            None
            if c.has_from and c.unit == "span"
            else _OPEN_RE.search(text, max(0, c.start - 12), c.start)
        )
        if m and m["w"].lower() == "from" and c.unit == "span":
            c.start = m.start()  # "from 20 to 22 March": a closed range
        elif m:
            iv, c.start = _open(iv, m["w"].lower(), reference), m.start()
        result.append(TimeExpression(text[c.start : c.end], c.start, c.end, iv))
    return result


def _open(iv: Interval, word: str, ref: datetime.date | None) -> Interval:
    if word in ("since", "from"):
        end = ref if ref is not None and ref >= iv.start and word == "since" else datetime.date.max
        return Interval(iv.start, end)
    if word in ("until", "till", "through", "by"):
        return Interval(datetime.date.min, iv.end)
    if word == "after":
        return Interval(shift(iv.end, _DAY_1), datetime.date.max)
    return Interval(datetime.date.min, shift(iv.start, -_DAY_1))  # before / prior to / ahead of
