"""Conflicts between a statement and an on-topic passage that a stance model tends to miss.

Three detectors, all tuned for precision (a false mismatch would refute a true statement):

* time: the statement's times are compared with the passage times that date the same event:
  those in a comma/clause segment that contains the statement's event word (the verb after
  its subject: "visited" -> visit/trip/travel...), leaving out reports of it ("announced the
  visit on Friday") and opening "since/after ... X" and "before/until ... X" at one end.
  A mismatch needs that none of those overlaps any statement time. The passage's published
  date is never used as the event's date (a report can describe any earlier day, or announce
  a later one), and a statement without a time never yields a time mismatch.
* number: quantities attached to the same word ("10,000 people" / "fewer than a hundred
  people", "3 killed" / "12 were killed") whose ranges do not overlap, with qualifiers
  ("about", "more than", "fewer than", "at least", "nearly", "hundreds of") read as ranges;
  times, ordinals and years are not quantities. Scores ("3-1") conflict when they differ, and
  results conflict when the statement's winner is the passage's loser (or a draw against a win).
* entity: a light clause reader takes "Subject verb [Object] [Place]" with a small gazetteer
  of places and people and titles ("President", "Mr") for typing. A mismatch needs the same
  verb (or "visit"/"travel"/"go" alike), one other slot in agreement, exactly one slot with
  different entities of the same type (PERSON or PLACE; a city inside the named country agrees
  with it), and the statement's entity absent from the passage. Negated or refused events
  ("refused to visit") are not used.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.temporal import Interval, Tenses, TimeExpression, extract_times, shift

__all__ = ["Mismatch", "find_mismatches"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    """One conflict between a statement and a passage, with a one-sentence explanation."""

    # Examples (the OpenAPI schema shows them): "Xi visited Moscow in 2022" against a
    # report of the March 2023 visit in the present tense.
    kind: Annotated[Literal["time", "number", "entity", "polarity"], Meta(examples=["time"])]
    statement_span: Annotated[str, Meta(examples=["2022"])]
    passage_span: Annotated[str, Meta(examples=["visits"])]
    statement_interval: Interval | None = None
    passage_interval: Interval | None = None
    explanation: Annotated[
        str,
        Meta(
            examples=[
                "The statement places it in 2022; the passage reports it in the present tense "
                "on 17 March 2023."
            ]
        ),
    ]


def find_mismatches(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    passage_ref: datetime.date | None,
) -> list[Mismatch]:
    """Return the time, number and entity conflicts between ``statement`` and ``passage``.

    ``statement_ref``/``passage_ref`` resolve relative times ("last year", "Monday"); with None
    such times are ignored. The caller is expected to pass on-topic passages only.
    """
    s_times, p_times = _times(statement, statement_ref), _times(passage, passage_ref)
    out: list[Mismatch] = []
    found = _time_mismatch(statement, s_times, passage, p_times) or _publication_mismatch(
        statement, s_times, passage, p_times, passage_ref
    )
    if found:
        out.append(found)
    out.extend(_number_mismatches(statement, statement_ref, passage, passage_ref))
    out.extend(_entity_mismatches(statement, passage))
    return out


@functools.lru_cache(maxsize=4096)
def _times(text: str, ref: datetime.date | None) -> list[TimeExpression]:
    # The same statement meets many passages and a passage many statements; callers never
    # mutate the list.
    return extract_times(text, ref)


# --- time ---------------------------------------------------------------------------------


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


# Segments: a time belongs to the event named in its own comma/clause segment.
_SEGMENT_RE = re.compile(r"[,;:()“”\"]|\b(?:that|although|though|whereas|while|but|when)\b")
_LOWER_WORD_RE = re.compile(r"\b[a-z][a-z’'-]+\b")
_OPENING_RE = re.compile(r"(?i:\b(?P<w>since|after|before|until)\b)[^,;:.]{0,80}\Z")
_FUTURE_CUE_RE = re.compile(
    r"(?i:\b(?:will|would|shall|scheduled|expected|plans?|set\s+to|due\s+to)\b|['’]ll\b)"
)
_GENERIC = _words(
    "be is are was were been being have has had do does did make made take took year years"
    " time times day days week weeks month months also new first last next will would could"
    " should may might can"
)
_REPORTING = _words("announc say report confirm tell statement stat brief claim")  # stems


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _LOWER_WORD_RE.findall(text) if w not in _STOP and w not in _GENERIC}


def _anchors(statement: str, s_times: list[TimeExpression]) -> set[str]:
    """Return the statement's event word: the verb after its first named subject.

    "Xi Jinping declined Putin's invitation to visit Moscow in 2022" dates the declining, so
    only "declin" anchors it; without a subject and verb, every content word does.
    """
    for sent in _sentences(statement):
        words = _WORD_RE.findall(sent)
        low = [w.lower() for w in words]
        for e in _entities(words):
            if e.possessive:
                if _nominal_visit(low, e.last) is not None:
                    return {"visit"}
                continue
            k = _skip_aux(low, e.last)
            if k < len(low) and words[k][0].islower() and low[k] not in _CLAUSE_END:
                stem = _event_stem(low, k)
                if stem not in _REPORTING:
                    return {stem}
    return _stems(_blank(statement, [(t.start, t.end) for t in s_times]))


def _anchored_times(
    anchors: set[str], passage: str, p_times: list[TimeExpression]
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
        stems = _stems(blanked[lo:hi])
        if not stems and i + 1 < len(bounds):  # "On Thursday, Qin contacted Kuleba"
            hi = bounds[i + 1]
            stems = _stems(blanked[lo:hi])
        if not anchors & stems:
            continue
        if stems & _REPORTING and not _FUTURE_CUE_RE.search(passage, lo, hi):
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


def _time_mismatch(
    statement: str, s_times: list[TimeExpression], passage: str, p_times: list[TimeExpression]
) -> Mismatch | None:
    if not s_times:
        return None
    p_times = _anchored_times(_anchors(statement, s_times), passage, p_times)
    if not p_times or any(s.interval.overlaps(p.interval) for s in s_times for p in p_times):
        return None
    s = s_times[0]
    p = min(p_times, key=lambda p: _gap(s.interval, p.interval))
    return Mismatch(
        kind="time",
        statement_span=s.text,
        passage_span=p.text,
        statement_interval=s.interval,
        passage_interval=p.interval,
        explanation=f"The statement places it {_placed(s.interval)}; "
        f"the passage dates it to {p.interval.describe()}.",
    )


# News in the present tense ("Xi visits Putin in Moscow") reports what happens around its
# publication: from a fortnight before to a few weeks after.
_AROUND_PUBLICATION = (datetime.timedelta(days=14), datetime.timedelta(days=30))


def _publication_mismatch(
    statement: str,
    s_times: list[TimeExpression],
    passage: str,
    p_times: list[TimeExpression],
    passage_ref: datetime.date | None,
) -> Mismatch | None:
    """Date a time-less, present-tense passage about the statement's event by its publication.

    Only the present tense is dated this way: a past-tense passage says only "before
    publication" (which rarely conflicts) and a future one may be far ahead.
    """
    if not s_times or p_times or passage_ref is None:
        return None
    anchors = _anchors(statement, s_times)
    tenses = Tenses(passage)
    words = list(_LOWER_WORD_RE.finditer(passage))
    hits = [m for m in words if _stem(m.group()) in anchors]
    if not hits or any(tenses.at(m.end()) is not None for m in hits):  # its own tense counts
        return None
    before, after = _AROUND_PUBLICATION
    around = Interval(shift(passage_ref, -before), shift(passage_ref, after))
    if any(s.interval.overlaps(around) for s in s_times):
        return None
    s = s_times[0]
    return Mismatch(
        kind="time",
        statement_span=s.text,
        passage_span=hits[0].group(),
        statement_interval=s.interval,
        passage_interval=around,
        explanation=f"The statement places it {_placed(s.interval)}; the passage reports it "
        f"in the present tense on {passage_ref:%d %B %Y}.",
    )


# --- numbers ------------------------------------------------------------------------------

_INF = float("inf")


_TOKEN_RE = re.compile(
    r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?(?:st|nd|rd|th)?\b|[A-Za-z]+(?:['’][a-z]+)?"
    r"|[$€£%]|[^\sA-Za-z0-9]"
)
_SCORE_RE = re.compile(r"(?<![0-9.,:/-])([0-9]{1,2})\s*[-–]\s*([0-9]{1,2})(?![0-9,:/]|[.-][0-9])")
_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_VAGUE = {  # "hundreds of": kept wide on purpose
    "dozens": (12.0, 199.0), "scores": (40.0, 199.0), "hundreds": (100.0, 1999.0),
    "thousands": (1e3, 99_999.0), "millions": (1e6, 999e6), "billions": (1e9, 999e9),
}  # fmt: skip
_QUALIFIERS = (  # longest first; each maps a value to a (lo, hi) range
    (("no", "more", "than"), "max"), (("fewer", "than"), "max"), (("less", "than"), "max"),
    (("more", "than"), "min"), (("at", "least"), "min"), (("at", "most"), "max"),
    (("up", "to"), "max"), (("as", "many", "as"), "max"), (("upwards", "of"), "min"),
    (("close", "to"), "near"), (("nearly",), "below"), (("almost",), "below"),
    (("about",), "about"), (("around",), "about"), (("approximately",), "about"),
    (("roughly",), "about"), (("some",), "about"), (("over",), "min"), (("under",), "max"),
    (("exactly",), "exact"), (("only",), "exact"),
)  # fmt: skip
_STOP = _words(
    "the a an of and or were was are is have has had been be who that than in on at by to for"
    " with as more some other others it its their his her they them this these those which"
    " from all"
)
_CASUALTY = _words("killed dead died injured wounded hurt missing arrested detained")


@dataclass(slots=True)
class _Qty:
    lo: float
    hi: float
    span: str
    words: frozenset[str]


def _norm_word(word: str) -> str:
    w = word.lower()
    if w in ("people", "persons"):
        return "people"
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def _masked(text: str, times: list[TimeExpression]) -> str:
    """Blank out time spans and scores so that their digits are not read as quantities."""
    spans = [(t.start, t.end) for t in times] + [m.span() for m in _SCORE_RE.finditer(text)]
    return _blank(text, spans)


@functools.lru_cache(maxsize=4096)  # as _times: a passage meets many statements
def _quantities(text: str, ref: datetime.date | None) -> tuple[_Qty, ...]:
    masked = _masked(text, _times(text, ref))
    toks = [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(masked)]
    low = [t[0].lower() for t in toks]
    out: list[_Qty] = []
    i = 0
    while i < len(toks):
        parsed = _parse_number(low, i)
        if parsed is None:
            i += 1
            continue
        lo, hi, j, exact = parsed  # tokens i..j-1 are the number
        if exact and 1900 <= lo <= 2099 and "," not in toks[i][0]:
            i = j  # a year that escaped the time extractor
            continue
        q_start, kind = i, "exact" if exact else "vague"
        for qual, qkind in _QUALIFIERS:
            k = i - len(qual)
            if k >= 0 and tuple(low[k:i]) == qual:
                q_start, kind = k, qkind
                break
        lo, hi = _qualified(lo, hi, kind)
        if q_start and low[q_start - 1] == "$":
            q_start -= 1
        words, last = _unit_words(low, toks, q_start, j)
        if words:  # the span runs to the first unit word: "fewer than a hundred people"
            out.append(_Qty(lo, hi, text[toks[q_start][1] : toks[last][2]], words))
        i = j
    return tuple(out)


def _parse_number(low: list[str], i: int) -> tuple[float, float, int, bool] | None:
    """Parse the number starting at token ``i``: (lo, hi, next index, exact)."""
    tok = low[i]
    j = i + 1
    if tok in _VAGUE:
        lo, hi = _VAGUE[tok]
        if low[j : j + 3] == ["of", "thousand", "of"] or low[j : j + 2] == ["of", "thousands"]:
            return None
        return lo, hi, j + 1 if j < len(low) and low[j] == "of" else j, False
    if tok == "tens" and low[j : j + 2] == ["of", "thousands"]:
        return 1e4, 99_999.0, j + 3 if low[j + 2 : j + 3] == ["of"] else j + 2, False
    if tok[0] in "0123456789":
        if tok[-1].isalpha():
            return None  # an ordinal: "13th month"
        value = float(tok.replace(",", ""))
    elif tok in _UNITS:
        value = _UNITS[tok]
        if tok == "one" and j < len(low) and low[j] in ("of", "another", "who", "that", "-"):
            return None
    elif (
        tok in ("a", "an")
        and j < len(low)
        and low[j] in ("dozen", "hundred", "thousand", "million")
    ):
        value = 1
    else:
        return None
    if j < len(low) and low[j] == "dozen":
        value, j = value * 12, j + 1
    while j < len(low) and low[j] in _SCALES:
        value, j = value * _SCALES[low[j]], j + 1
    return value, value, j, True


def _qualified(lo: float, hi: float, kind: str) -> tuple[float, float]:
    if kind == "min":
        return lo, _INF
    if kind == "max":
        return 0.0, hi
    if kind == "about" or kind == "near":
        return lo * 0.8, hi * 1.2
    if kind == "below":
        return lo * 0.8, hi
    if kind == "exact" and lo < 20:
        return lo, hi
    return lo * 0.9, hi * 1.1  # a bare count: reports round, so allow 10%


def _unit_words(
    low: list[str], toks: list[tuple[str, int, int]], start: int, end: int
) -> tuple[frozenset[str], int]:
    """Content words after the number (up to punctuation), a casualty verb before; last index."""
    words: set[str] = set()
    last = end - 1
    for k in range(end, min(end + 4, len(low))):
        w = low[k]
        if not toks[k][0][0].isalnum() and w != "%":
            break
        if w not in _STOP and w[0] not in "0123456789":
            words.add("percent" if w in ("%", "per", "cent") else _norm_word(w))
            last = k if last < end else last
    if start and low[start - 1] in ("killing", "killed", "injuring", "wounding"):
        words.add("killed" if low[start - 1].startswith("kill") else "injured")
    if low[start] == "$":
        words.add("$")
    return frozenset(words), last


def _comparable(a: _Qty, b: _Qty) -> bool:
    if not a.words & b.words:
        return False
    ca, cb = a.words & _CASUALTY, b.words & _CASUALTY
    return not (ca and cb and not ca & cb)  # "3 injured" is not "12 killed"


def _number_mismatches(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    passage_ref: datetime.date | None,
) -> list[Mismatch]:
    out: list[Mismatch] = []
    p_qty = _quantities(passage, passage_ref)
    for s in _quantities(statement, statement_ref):
        same = [p for p in p_qty if _comparable(s, p)]
        if same and all(p.hi < s.lo or p.lo > s.hi for p in same):
            p = same[0]
            out.append(
                Mismatch(
                    kind="number",
                    statement_span=s.span,
                    passage_span=p.span,
                    explanation=f"The statement gives {s.span}; the passage gives {p.span}.",
                )
            )
    out.extend(_score_mismatches(statement, passage))
    return out


_RESULT_RE = re.compile(
    r"(?P<a>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)\s+(?:(?:have|has|had|were|was)\s+)?"
    r"(?P<v>beat|beats|defeated|defeats|thrashed|won|wins|lost|loses|drew|draws|tied|fell)\b"
    r"(?:\s+(?:to|against|with)\b)?(?:\s+(?P<b>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*))?"
)


def _results(text: str) -> list[tuple[str, str | None, str, str]]:
    """Return (winner, loser, outcome, span); a draw has outcome "draw" and both teams."""
    out: list[tuple[str, str | None, str, str]] = []
    for m in _RESULT_RE.finditer(text):
        a, b, v = m["a"].lower(), (m["b"] or "").lower() or None, m["v"].lower()
        if v in ("drew", "draws", "tied"):
            out.append((a, b, "draw", m.group()))
        elif v in ("lost", "loses", "fell"):
            if b:
                out.append((b, a, "win", m.group()))
        else:
            out.append((a, b, "win", m.group()))
    return out


def _score_mismatches(statement: str, passage: str) -> list[Mismatch]:
    s_scores = [(sorted(map(int, m.groups())), m.group()) for m in _SCORE_RE.finditer(statement)]
    p_scores = [(sorted(map(int, m.groups())), m.group()) for m in _SCORE_RE.finditer(passage)]
    out: list[Mismatch] = []
    if s_scores and p_scores and all(p != s_scores[0][0] for p, _ in p_scores):
        out.append(
            Mismatch(
                kind="number",
                statement_span=s_scores[0][1],
                passage_span=p_scores[0][1],
                explanation=f"The statement gives the score {s_scores[0][1]}; "
                f"the passage gives {p_scores[0][1]}.",
            )
        )
    for sw, sl, so, s_span in _results(statement):
        for pw, pl, po, p_span in _results(passage):
            teams_s, teams_p = {sw, sl} - {None}, {pw, pl} - {None}
            flipped = so == po == "win" and (sw == pl or (sl is not None and sl == pw))
            draw_vs_win = so != po and len(teams_s & teams_p) == 2
            if flipped or draw_vs_win:
                out.append(
                    Mismatch(
                        kind="number",
                        statement_span=s_span,
                        passage_span=p_span,
                        explanation=f"The statement says {s_span!r}; the passage says {p_span!r}.",
                    )
                )
                return out
    return out


# --- entities -----------------------------------------------------------------------------

_COUNTRIES = (
    "russia china ukraine united_states united_kingdom france germany italy spain poland japan"
    " india iran iraq israel turkey syria egypt saudi_arabia qatar brazil canada mexico"
    " australia belarus kazakhstan uzbekistan georgia armenia azerbaijan north_korea"
    " south_korea taiwan vietnam indonesia pakistan afghanistan serbia hungary romania"
    " finland sweden norway netherlands belgium austria switzerland greece portugal"
    " south_africa nigeria kenya ethiopia argentina chile venezuela cuba mongolia"
)
_CITIES = {
    "russia": "moscow kremlin st_petersburg saint_petersburg kazan sochi vladivostok",
    "china": "beijing shanghai hong_kong shenzhen guangzhou wuhan xinjiang tibet",
    "ukraine": "kyiv kharkiv odesa odessa lviv mariupol kherson zaporizhzhia dnipro",
    "united_states": "washington new_york los_angeles chicago san_francisco",
    "united_kingdom": "london manchester edinburgh",
    "france": "paris", "germany": "berlin munich", "italy": "rome milan", "spain": "madrid",
    "poland": "warsaw", "japan": "tokyo osaka", "india": "new_delhi delhi mumbai",
    "iran": "tehran", "iraq": "baghdad", "israel": "jerusalem tel_aviv",
    "turkey": "ankara istanbul",
    "syria": "damascus", "egypt": "cairo", "saudi_arabia": "riyadh", "qatar": "doha",
    "belarus": "minsk", "kazakhstan": "astana", "uzbekistan": "tashkent samarkand",
    "georgia": "tbilisi", "north_korea": "pyongyang", "south_korea": "seoul",
    "taiwan": "taipei", "brazil": "brasilia", "canada": "ottawa", "belgium": "brussels",
    "austria": "vienna", "switzerland": "geneva bern davos", "hungary": "budapest",
    "serbia": "belgrade", "finland": "helsinki", "sweden": "stockholm", "norway": "oslo",
    "netherlands": "amsterdam the_hague", "greece": "athens", "mongolia": "ulaanbaatar",
}  # fmt: skip
_PLACES: dict[str, str] = {c.replace("_", " "): "" for c in _COUNTRIES.split()}
for _country, _names in _CITIES.items():
    for _name in _names.split():
        _PLACES[_name.replace("_", " ")] = _country.replace("_", " ")
_ALIASES = {
    "kiev": "kyiv", "us": "united states", "u.s": "united states", "usa": "united states",
    "america": "united states", "uk": "united kingdom", "britain": "united kingdom",
    "great britain": "united kingdom", "prc": "china", "st. petersburg": "st petersburg",
}  # fmt: skip
_PERSONS = _words(
    "putin xi jinping biden trump zelensky zelenskyy macron scholz merkel modi erdogan"
    " lukashenko obama sunak starmer kishida lula netanyahu peskov lavrov blinken kuleba"
    " guterres stoltenberg harris shoigu medvedev qin gang wang yi kim jong-un"
    " johnson mao zedong"
)
_TITLES = _words(
    "president minister premier chancellor secretary spokesman spokeswoman spokesperson leader"
    " mr mrs ms dr sen senator rep governor mayor king queen prince pope general gen chairman"
    " ambassador envoy dictator chief head"
)
_TITLE_MODS = _words(
    "prime foreign defence defense vice deputy state former acting interior finance of the"
    " us u.s uk un eu chinese russian american ukrainian french german british japanese indian"
    " turkish iranian israeli belarusian kremlin white house"
)
_ORG_WORDS = _words(
    "ministry party congress council union bank committee office department government army"
    " forces agency news times post organization organisation association university court"
    " parliament assembly senate house commission directorate service media nato games"
    " olympics olympic war"
)
_NOT_NAMES = _words(
    "the a an in on at to of for from by with and or but if as this that these those there"
    " here it its he she they we i you his her their our my however although while when where"
    " after before since during despite according meanwhile also yet so then still now today"
    " yesterday tomorrow last next monday tuesday wednesday thursday friday saturday sunday"
    " january february march april may june july august september october november december"
    " spring summer autumn winter"
)
_AUX = _words(
    "will would shall should can could may might must is are was were be been being has have"
    " had do does did to also reportedly then later finally just already officially"
    " scheduled expected set due going planning plans planned about soon"
)
_NEGATORS = _words("not never n't no")
_NEG_CONTROL = _words(
    "refused refuses refuse declined declines decline rejected rejects reject failed fails"
    " denied denies cancelled canceled postponed turned"
)
_CONTROL = _words(
    "agreed agrees decided decides wants wanted hopes hoped offered promised tried intends"
    " intended sought seeks seeking vowed pledged threatened"
)
_IRREGULAR = {
    "met": "meet", "went": "go", "gone": "go", "came": "come", "flew": "fly", "flown": "fly",
    "held": "hold", "paid": "pay", "made": "make", "took": "take", "gave": "give",
    "left": "leave", "led": "lead", "won": "win", "lost": "lose", "spoke": "speak",
    "said": "say", "told": "tell", "saw": "see", "sent": "send", "signed": "sign",
}  # fmt: skip
_VERB_GROUPS = {
    "visit": "visit", "travel": "visit", "go": "visit", "com": "visit", "arriv": "visit",
    "fly": "visit", "tour": "visit", "trip": "visit", "head": "visit", "meet": "meet",
    "talk": "meet",
}  # fmt: skip
_CLAUSE_END = _words(", ; : ( ) and but while that who which when where because as if")
_PLACE_PREPS = _words("to in at into visit visits visited visiting trip")
_WORD_RE = re.compile(r"[A-Za-z][\w’'.-]*\w|[A-Za-z]|[,;:!?()\"“”]")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|\n+")


@dataclass(slots=True)
class _Entity:
    first: int  # token indices, inclusive..exclusive
    last: int
    surface: str
    name: str  # canonical lowercase name
    kind: Literal["PERSON", "PLACE", "OTHER"]
    possessive: bool = False

    def same(self, other: _Entity) -> bool:
        if self.kind == "PLACE" or other.kind == "PLACE":
            return self.name == other.name
        a, b = set(self.name.split()), set(other.name.split())
        return a <= b or b <= a


@dataclass(slots=True)
class _Event:
    verb: str
    negated: bool
    slots: dict[str, _Entity] = field(default_factory=dict)


@functools.lru_cache(maxsize=65536)  # called for every word of every passage read
def _stem(word: str) -> str:
    w = _IRREGULAR.get(word, word)
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + repl
            break
    w = w.rstrip("e") if len(w) > 3 else w
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]  # "travelled" -> "travel"
    return _VERB_GROUPS.get(w, w)


def _entities(words: list[str]) -> list[_Entity]:
    out: list[_Entity] = []
    i, n = 0, len(words)
    while i < n:
        if not words[i][0].isupper() or words[i].lower() in _NOT_NAMES:
            i += 1
            continue
        j = i + 1  # extend the run over capitalised words, possibly joined by "of"
        while j < n and not _possessive(words[j - 1]):
            if words[j][0].isupper() and words[j].lower() not in _NOT_NAMES:
                j += 1
            elif words[j] == "of" and j + 1 < n and words[j + 1][0].isupper():
                j += 2
            else:
                break
        out.extend(_typed(words, i, j))
        i = j
    return out


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "’s"))


def _typed(words: list[str], i: int, j: int) -> list[_Entity]:
    titled = i > 0 and words[i - 1].lower() in _TITLES
    k = i
    while k < j and (_clean(words[k]) in _TITLES or _clean(words[k]) in _TITLE_MODS):
        titled = titled or _clean(words[k]) in _TITLES
        k += 1
    if k == j:
        return []
    parts = [_clean(w) for w in words[k:j]]
    name = _ALIASES.get(" ".join(parts), " ".join(parts))
    kind: Literal["PERSON", "PLACE", "OTHER"] = "OTHER"
    if any(p in _ORG_WORDS for p in parts):
        kind = "OTHER"
    elif name in _PLACES:
        kind = "PLACE"
    elif titled or any(p in _PERSONS for p in parts):
        kind = "PERSON"
    surface = " ".join(words[k:j])
    surface = surface[:-2] if _possessive(surface) else surface
    return [_Entity(k, j, surface, name, kind, _possessive(words[j - 1]))]


def _clean(word: str) -> str:
    w = word.lower().rstrip(".")
    return w[:-2] if w.endswith(("'s", "’s")) else w


@functools.lru_cache(maxsize=4096)
def _events(sentence: str) -> tuple[list[_Event], list[_Entity]]:
    words = _WORD_RE.findall(sentence)
    low = [w.lower() for w in words]
    ents = _entities(words)
    by_first = {e.first: e for e in ents}
    events: list[_Event] = []
    for e in ents:
        k, negated = e.last, False
        if e.possessive:  # "Xi's (first/state) visit to Moscow"
            hit = _nominal_visit(low, k)
            if hit is None:
                continue
            verb_at = hit
        else:
            while k < len(low) and (low[k] in _AUX or low[k] in _NEGATORS or low[k].endswith("ly")):
                negated = negated or low[k] in _NEGATORS
                k += 1
            if k < len(low) and low[k] in _NEG_CONTROL | _CONTROL:
                negated = negated or low[k] in _NEG_CONTROL
                k = _skip_aux(low, k + 1)
            if k >= len(low) or not words[k][0].islower() or low[k] in _CLAUSE_END:
                continue
            verb_at = k
        ev = _Event(_event_stem(low, verb_at), negated, {"subj": e})
        for x in range(verb_at + 1, min(verb_at + 12, len(low))):
            if low[x] in _CLAUSE_END:
                break
            arg = by_first.get(x)
            if arg is None:
                continue
            if arg.kind == "PERSON" and "obj" not in ev.slots and low[x - 1] != "from":
                ev.slots["obj"] = arg
            elif (
                arg.kind == "PLACE"
                and "place" not in ev.slots
                and (x - 1 == verb_at or low[x - 1] in _PLACE_PREPS)
            ):
                ev.slots["place"] = arg
        events.append(ev)
    return events, ents


def _event_stem(low: list[str], k: int) -> str:
    """Stem of the verb at ``k``, reading "paid/made a (state) visit" as "visit"."""
    verb = _stem(low[k])
    if verb in ("pay", "mak") and any(w in ("visit", "trip") for w in low[k + 1 : k + 4]):
        return "visit"
    return verb


def _skip_aux(low: list[str], k: int) -> int:
    while k < len(low) and (low[k] in _AUX or low[k] in _NEGATORS or low[k].endswith("ly")):
        k += 1
    return k


_VISIT_ADJ = _words("first state official recent upcoming planned latest surprise historic working")


def _nominal_visit(low: list[str], k: int) -> int | None:
    """Index of "visit"/"trip" right after a possessive ("Xi's first state visit"), else None."""
    for x in range(k, min(k + 3, len(low))):
        if low[x] in ("visit", "trip", "visits", "trips"):
            return x
        if low[x] not in _VISIT_ADJ and "-" not in low[x]:
            return None
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_RE.split(text) if s.strip()]


def _entity_mismatches(statement: str, passage: str) -> list[Mismatch]:
    s_events: list[_Event] = []
    s_ents: list[_Entity] = []
    for sent in _sentences(statement):
        evs, ents = _events(sent)
        s_events += evs
        s_ents += ents
    p_events: list[_Event] = []
    p_ents: list[_Entity] = []
    for sent in _sentences(passage):
        evs, ents = _events(sent)
        p_events += evs
        p_ents += ents
    for s in s_events:
        for p in p_events:
            found = _compare(s, p, s_ents, p_ents)
            if found:
                return [found]
    return []


def _compare(s: _Event, p: _Event, s_ents: list[_Entity], p_ents: list[_Entity]) -> Mismatch | None:
    if s.negated or p.negated or s.verb != p.verb:
        return None
    shared = s.slots.keys() & p.slots.keys()
    differ = [k for k in shared if not s.slots[k].same(p.slots[k])]
    if len(differ) != 1 or len(shared) < 2:
        return None  # one slot must differ and at least one must agree (the same event)
    slot = differ[0]
    a, b = s.slots[slot], p.slots[slot]
    if a.kind != b.kind or a.kind == "OTHER" or (slot == "subj" and a.kind != "PERSON"):
        return None
    if a.kind == "PLACE" and (_PLACES[a.name] == b.name or _PLACES[b.name] == a.name):
        return None  # Moscow is in Russia
    if any(a.same(e) for e in p_ents) or any(b.same(e) for e in s_ents):
        return None  # both are named somewhere: likely several participants, not a swap
    text = {
        "subj": f"The statement attributes it to {a.surface}; the passage to {b.surface}.",
        "obj": f"The statement names {a.surface}; the passage names {b.surface} instead.",
        "place": f"The statement places it in {a.surface}; the passage in {b.surface}.",
    }[slot]
    return Mismatch(
        kind="entity", statement_span=a.surface, passage_span=b.surface, explanation=text
    )
