"""Quantities with units, qualifiers and rounding; number conflicts between aligned quantities.

spaCy finds the amounts (MONEY, PERCENT, QUANTITY, CARDINAL, and the ages and spans of time
it tags DATE or TIME; times and scores are masked first); each is parsed into a range of
values and a unit:

* **unit**: a currency ("$4.2 billion" and "4.2 billion dollars" are both USD), "%" (also
  "percent", "per cent"), "pp" (percentage points), a measure ("3 tonnes"), the noun a
  cardinal counts ("3 people"), "age" ("54 years old", "a 44-year-old", "Okonjo, 44,"), a
  race time ("2:19:52", in seconds, as pint's "2 hours"), or nothing for a bare number ("12
  were killed").
* **rounding**: a number is exact to its last written digit: "$1.2bn" is 1.15–1.25bn and
  agrees with "$1.19bn"; "$5 billion" is 4.5–5.5bn and conflicts with "$4.2 billion"; "12"
  conflicts with "10". Round thousands ("10,000") are read as rounded to their last non-zero
  digit, within 10%.
* **qualifiers** widen the range: "more than/at least/over" (open above), "fewer than/up
  to/under" (open below), "about/around/some/roughly/close to/an estimated" (±10%),
  "nearly/almost" (up to 20% below); "dozens/hundreds/thousands of" are wide ranges of
  their own. Two amounts with the same open qualifier ("up to 2.1 GW" / "up to 1.2 GW")
  are compared by their written numbers. A **range** ("between €150,000 and €400,000",
  "40% to 45%", "from four to 11") runs from one end to the other.

* **measures** are converted by ``pint``: "180 kilometres per hour" and "112 mph" are both
  speeds, compared in metres per second; "two years" and "12 months" are both spans of
  time, compared in seconds.

Two quantities are compared when their units agree (a bare number matches a counted noun)
and they sit in the same role of aligned frames (:mod:`service.judge.frames`: same
predicate, the other shared arguments agree), or, outside any frame, modify the same noun,
or (outlets word one fact differently: "a 41% premium" / "a premium of 38%") they have the
same unit and share an **anchor**, a content word on the path from the amount up the parse
or the subject of the verb it hangs from ("turnout was 41%"), and no differing proper name
in that subject ("Solvend shares" is not "Vantora shares"). A statement quantity conflicts
when every comparable passage quantity's range misses its own, and **agrees**
(:func:`number_agreements`) when one of them meets it. Scores ("3-1", "a 9-0 vote")
conflict when they differ, and match results when the statement's winner is the passage's
loser, or a draw meets a win.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import msgspec

from service.judge.entities import comparable_kinds
from service.judge.frames import aligned
from service.judge.result import Mismatch

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

    from service.judge.annotate import Annotation
    from service.judge.frames import Frame

__all__ = [
    "SCORE_RE",
    "Quantity",
    "extract_quantities",
    "meets",
    "number_agreements",
    "number_conflicts",
]

_INF = 1e308  # "open above": the stored JSON has no infinity
_AMOUNTS = frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
SCORE_RE = re.compile(r"(?<![0-9.,:/-])([0-9]{1,2})\s*[-–]\s*([0-9]{1,2})(?![0-9,:/]|[.-][0-9])")
_WORD_RE = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?[a-z]*|[a-z]+|[$€£¥%]")
_NUMBER_RE = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?(bn|b|mn|m|k|tn)?\Z")
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}  # fmt: skip
_SCALES = {
    "hundred": 100.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
    "bn": 1e9, "b": 1e9, "mn": 1e6, "m": 1e6, "k": 1e3, "tn": 1e12, "dozen": 12.0,
}  # fmt: skip
_VAGUE = {
    "dozens": (12.0, 199.0), "scores": (40.0, 199.0), "hundreds": (100.0, 1999.0),
    "thousands": (1e3, 99_999.0), "millions": (1e6, 999e6), "billions": (1e9, 999e9),
}  # fmt: skip
_QUALIFIERS = (  # longest first
    ("no more than", "max"), ("fewer than", "max"), ("less than", "max"),
    ("more than", "min"), ("at least", "min"), ("at most", "max"), ("up to", "max"),
    ("as many as", "max"), ("upwards of", "min"), ("close to", "about"), ("nearly", "below"),
    ("almost", "below"), ("an estimated", "about"), ("estimated", "about"), ("about", "about"),
    ("around", "about"), ("approximately", "about"),
    ("roughly", "about"), ("some", "about"), ("over", "min"), ("under", "max"),
    ("exactly", "exact"), ("only", "exact"),
)  # fmt: skip
_CURRENCIES = {
    "$": "USD", "dollar": "USD", "dollars": "USD", "usd": "USD", "€": "EUR", "euro": "EUR",
    "euros": "EUR", "eur": "EUR", "£": "GBP", "pound": "GBP", "pounds": "GBP", "gbp": "GBP",
    "sterling": "GBP", "¥": "JPY", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY",
    "rupee": "INR", "rupees": "INR", "rouble": "RUB", "roubles": "RUB", "ruble": "RUB",
    "rubles": "RUB",
}  # fmt: skip
_PERCENT = frozenset({"%", "percent", "pct"})
_MODIFIER_DEPS = frozenset({"nummod", "compound", "amod", "nmod", "quantmod", "npadvmod"})
_ROLES = {
    "nsubj": "subj", "csubj": "subj", "nsubjpass": "obj", "dobj": "obj", "dative": "obj",
    "attr": "attr", "oprd": "attr", "npadvmod": "extent",
}  # fmt: skip


class Quantity(msgspec.Struct, frozen=True, array_like=True):
    """An amount in a text: its span, value range, unit and where it sits in the parse."""

    text: str
    start: int
    end: int
    lo: float
    hi: float
    unit: str  # "USD", "%", "pp", a measure or counted noun, "" for a bare number
    noun: str  # the noun it modifies ("budget"), else ""
    frame_start: int  # character offset of its frame's predicate, -1 outside any frame
    role: str  # its role in that frame
    anchors: tuple[str, ...] = ()  # content lemmas above it in the parse, and its subject's
    names: tuple[str, ...] = ()  # proper names in that subject
    subject: str = ""  # the lemma of that subject, when a common noun
    bound: str = "exact"  # its qualifier's kind: exact, min, max, about, below, vague
    written_lo: float = 0.0  # the written number's own range, before the qualifier
    written_hi: float = 0.0


def extract_quantities(
    doc: Doc, masked: list[tuple[int, int]], predicates: frozenset[int]
) -> list[Quantity]:
    """The amounts of a parsed text outside the ``masked`` character spans (times, scores).

    ``predicates`` holds the token indices that head a frame.
    """
    out: list[Quantity] = []
    for ent in doc.ents:
        if any(ent.start_char < e and s < ent.end_char for s, e in masked):
            continue
        if out and ent.start_char < out[-1].end:  # the upper end of a range already read
            continue
        if ent.label_ in ("DATE", "TIME"):
            q = _age(ent, predicates)
            if q is None and _PERIOD_RE.fullmatch(ent.text):
                q = _quantity(doc, ent, predicates)
        elif ent.label_ in _AMOUNTS:
            q = _quantity(doc, ent, predicates)
        else:
            continue
        if q is not None:
            out.append(q)
    return out


def _quantity(doc: Doc, ent: Span, predicates: frozenset[int]) -> Quantity | None:
    # "half a million people" is a count the tagger may call a quantity
    label = "CARDINAL" if ent.label_ == "QUANTITY" and ent[-1].lower_ in _SCALES else ent.label_
    start = ent.start
    if start > 0 and doc[start - 1].text in _CURRENCIES:  # "$" left out of "$1.2bn"
        start -= 1
    # a qualifier left out: "about $5 billion" ("over the next 18 months" has a preposition)
    for qual, _ in _QUALIFIERS if ent[0].lower_ != "the" else ():
        n = len(qual.split())
        if start >= n and " ".join(t.lower_ for t in doc[start - n : start]) == qual:
            start -= n
            break
    end = ent.end
    if doc[end - 1].lower_ == "to":  # the tagger splits "40% to 45%" after "to"
        upper = next((e for e in doc.ents if e.start == end and e.label_ == ent.label_), None)
        end = upper.end if upper is not None else end
    if end < len(doc) and doc[end].lower_.rstrip(".") in _SCALES and not doc[end - 1].whitespace_:
        end += 1  # the tokenizer splits "£12m" into "£12" and "m" (or "m." at the end)
    words = _WORD_RE.findall(doc[start:end].text.lower())
    if ent.label_ in ("DATE", "TIME"):  # a span of time: "the next 18 months"
        words = [w for w in words if w not in _PERIOD_OPENERS]
    clock = _DURATION_RE.fullmatch(ent.text)
    parsed = _duration(clock) if clock else _parse(words)
    if parsed is None:
        return None
    lo, hi, unit, bound, written_lo, written_hi = parsed
    root = ent.root
    if root.dep_ == "det":  # "an estimated 83,000 fish": every token hangs from "fish"
        root = next((t for t in ent if t.like_num), root)
    noun, attach = "", root
    if root.dep_ in _MODIFIER_DEPS and root.head.pos_ in ("NOUN", "PROPN") and root.head.i >= end:
        attach = root.head
        if label == "CARDINAL" and not unit:
            unit, end = _counted(attach), attach.i + 1
        else:
            noun = attach.lemma_.lower()
    elif label == "CARDINAL" and not unit:
        of = [p for c in root.children if c.lower_ == "of" for p in c.children if p.dep_ == "pobj"]
        unit = _counted(of[0]) if of else ""
    if label in ("QUANTITY", "DATE", "TIME") and not unit:
        unit = ent[-1].lemma_.lower().rstrip(".")
        if end + 1 < len(doc) and doc[end].text in "/-" and not doc[end - 1].whitespace_:
            end += 2  # the parser splits "km/h" after "198 km", "light-years" after "light"
            if attach.i < end:  # and may take its "h" for the noun it modifies
                noun, attach = "", root
    if label != "MONEY" and unit and unit not in ("%", "pp"):
        measured = _measure(doc, start, end)
        if measured is not None:
            unit, factor = measured
            lo, hi = lo * factor, hi * factor
            written_lo, written_hi = written_lo * factor, written_hi * factor
    if not unit and lo == hi - 1 and 1900 <= lo + 0.5 <= 2099 and "," not in ent.text:
        return None  # a year the time extractor left
    if label == "MONEY" and not unit:
        unit = "money"
    frame_start, role = _frame_of(attach, predicates)
    anchors, names, subject = _anchors(root, range(start, end))
    text = doc[start:end].text.rstrip(".")
    return Quantity(text, doc[start].idx, doc[start].idx + len(text), lo, hi, unit, noun,
                    frame_start, role, anchors, names, subject, bound, written_lo,
                    written_hi)  # fmt: skip


_NUMBER_WORDS = "|".join(w for w in _WORDS if len(w) > 2)
_AGE_RE = re.compile(
    rf"(?:aged )?([0-9]{{1,3}}|{_NUMBER_WORDS})[- ]years?[- ]old|aged ([0-9]{{1,3}})",
    re.IGNORECASE,
)


def _age(ent: Span, predicates: frozenset[int]) -> Quantity | None:
    """A person's age, which spaCy tags as a date.

    "54 years old", "a 44-year-old", "Sixteen-year-old", "aged 54", and a bare number set
    off by commas after a name ("Okonjo, 44, won").
    """
    doc = ent.doc
    m = _AGE_RE.fullmatch(ent.text)
    if m is not None:
        written = (m[1] or m[2]).lower()
        years = float(_WORDS.get(written) or written)
    elif (
        re.fullmatch(r"[0-9]{1,3}", ent.text)
        and ent.start >= 2
        and ent.end < len(doc)
        and doc[ent.start - 1].text == doc[ent.end].text == ","
        and doc[ent.start - 2].pos_ == "PROPN"
    ):
        years = float(ent.text)
    else:
        return None
    frame_start, role = _frame_of(ent.root, predicates)
    anchors, names, subject = _anchors(ent.root, range(ent.start, ent.end))
    return Quantity(ent.text, ent.start_char, ent.end_char, years - 0.5, years + 0.5, "age", "",
                    frame_start, role, anchors, names, subject, "exact", years - 0.5,
                    years + 0.5)  # fmt: skip


# a span of time spaCy tags as a date: "two years", "12 months", "a 12-month", "46 hours"
_PERIODS = frozenset({"year", "month", "week", "day", "hour", "minute", "second"})
_PERIOD_OPENERS = ("the", "next", "past", "last", "first")  # "the next 18 months"
_PERIOD_RE = re.compile(
    rf"(?:(?:{'|'.join(q for q, _ in _QUALIFIERS)}) )?"
    rf"(?:(?:the )?(?:{'|'.join(_PERIOD_OPENERS[1:])}) )?"
    rf"(?:[0-9]+(?:\.[0-9]+)?|{'|'.join(_WORDS)})[ -]"
    rf"(?:{'|'.join(_PERIODS)})s?",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(r"([0-9]{1,2}):([0-5][0-9]):([0-5][0-9])")
_DURATION = "[time]"  # pint's dimension of "2 hours", so the two compare


def _duration(m: re.Match[str]) -> tuple[float, float, str, str, float, float]:
    """A race time, "2:19:52": hours, minutes and seconds, exact to the second."""
    seconds = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    return seconds - 0.5, seconds + 0.5, _DURATION, "exact", seconds - 0.5, seconds + 0.5


@functools.cache
def _units() -> Any:
    import pint

    return pint.UnitRegistry()


_MEASURE_RE = re.compile(r"[a-z]+(?:[ /-][a-z]+){0,3}\Z")


def _measure(doc: Doc, start: int, end: int) -> tuple[str, float] | None:
    """(dimension, factor to base units) of the unit words after an amount's number, by pint."""
    last = max(
        (i for i in range(start, end) if doc[i].like_num or doc[i].lower_ in _SCALES), default=-1
    )
    written = doc[last + 1 : end].text.lower().rstrip(".")  # "km/h." ends a sentence
    words = written.replace("-", "_") if last >= 0 else ""
    if not _MEASURE_RE.match(words.replace("_", "-")):
        return None
    import pint

    try:
        base = _units().parse_expression(words).to_base_units()
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, SyntaxError):
        return None
    if not isinstance(base, _units().Quantity) or base.dimensionless:
        return None
    return str(base.dimensionality), float(base.magnitude)


_SUBJECTS = frozenset({"nsubj", "nsubjpass"})


def _content(t: Token) -> bool:
    return t.pos_ in ("NOUN", "VERB", "ADJ") and not t.is_stop and not t.like_num


_NAMED = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "EVENT"})


def _name(t: Token) -> bool:
    # the tagger calls unknown names ("Solvend shares") nouns: a capitalised modifier counts
    capitalised_modifier = t.dep_ in ("compound", "poss") and t.text[:1].isupper()
    return t.pos_ == "PROPN" or t.ent_type_ in _NAMED or (capitalised_modifier and t.pos_ != "PRON")


def _anchors(root: Token, own: range) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Content lemmas up the parse from an amount to its verb, and that verb's subject.

    Returns the lemmas, the subject's names and, when it is a common noun, its lemma.
    """
    lemmas: set[str] = set()
    names: set[str] = set()
    subject = ""
    node = root
    for _ in range(6):
        if node.i not in own and _content(node):
            lemmas.add(node.lemma_.lower())
        before = node.doc[node.i - 1] if node.i > 0 else node
        if (
            node.dep_ == "prep"
            and before.i not in own
            and before.pos_ == "NOUN"
            and _content(before)
        ):
            # "car parks with 50 spaces": the parser may hang "with" on the verb instead
            lemmas.add(before.lemma_.lower())
        if node.pos_ in ("VERB", "AUX"):
            for subj in (c for c in node.children if c.dep_ in _SUBJECTS and c.i not in own):
                if _content(subj) and not _name(subj):
                    subject = subj.lemma_.lower()
                    lemmas.add(subject)
                names.update(t.lemma_.lower() for t in subj.subtree if _name(t))
            break
        if node.head.i == node.i:
            break
        node = node.head
    return tuple(sorted(lemmas)), tuple(sorted(names)), subject


def _counted(noun: Token) -> str:
    lemma = noun.lemma_.lower()
    if lemma == "point" and any(c.lower_ == "percentage" for c in noun.children):
        return "pp"
    return _CURRENCIES.get(lemma, "%" if lemma in _PERCENT else lemma)


def _frame_of(attach: Token, predicates: frozenset[int]) -> tuple[int, str]:
    """The predicate above ``attach`` (or an "acl" participle below it) and the role."""
    node, child = attach, attach
    while node.i not in predicates:
        if node.head.i == node.i:
            below = [c for c in attach.children if c.dep_ == "acl" and c.i in predicates]
            return (below[0].idx, "obj") if below else (-1, "")
        child, node = node, node.head
    if child is attach or child.dep_ != "prep":
        return node.idx, _ROLES.get(child.dep_, child.dep_)
    return node.idx, f"prep:{child.lemma_.lower()}"


def _parse(words: list[str]) -> tuple[float, float, str, str, float, float] | None:
    """(lo, hi, unit, qualifier kind, written lo, written hi) of an amount's words.

    The words: qualifier, currency, number, scales, unit, or a range of two ("between €150,000
    and €400,000", "420 to 460 million euros", "from four to 11"). The written range is the
    number's own, before its qualifier widened it.
    """
    between = words[:1] == ["between"]
    words = words[1:] if between or words[:1] == ["from"] else words
    text = " ".join(words)
    kind = "exact"
    for qual, qkind in _QUALIFIERS:
        if text == qual or text.startswith(qual + " "):
            kind, words = qkind, words[len(qual.split()) :]
            break
    unit = ""
    if words and words[0] in _CURRENCIES:
        unit, words = _CURRENCIES[words[0]], words[1:]
    if not words:
        return None
    first, rest = words[0], words[1:]
    if first in _VAGUE:
        lo, hi = _VAGUE[first]
        return lo, hi, unit or _unit(rest), kind, lo, hi
    m = _NUMBER_RE.match(first)
    if m:
        value = float(m[1].replace(",", "") + "." + (m[2] or "0"))
        step = 10.0 ** -len(m[2] or "")
        if m[3]:
            value, step = value * _SCALES[m[3]], step * _SCALES[m[3]]
        elif not m[2] and value >= 1000:  # "10,000": rounded to its last non-zero digit
            zeros = len(m[1].replace(",", "")) - len(m[1].replace(",", "").rstrip("0"))
            step = min(10.0**zeros, value * 0.2)
    elif first in _WORDS and (
        first not in ("a", "an") or (rest[:1] and (rest[0] in _SCALES or rest[0] in _PERIODS))
    ):
        value, step = float(_WORDS[first]), 1.0
    elif first == "half" and rest[:1] in (["a"], ["an"]) and rest[1:2] and rest[1] in _SCALES:
        value, step, rest = 0.5, 0.1, rest[1:]  # "half a million": 450,000–550,000
    else:
        return None
    scaled = bool(m and m[3])
    while rest and rest[0] in _SCALES:
        value, step, rest = value * _SCALES[rest[0]], step * _SCALES[rest[0]], rest[1:]
        scaled = True
    lo, hi = value - step / 2, value + step / 2
    own = rest[:1] if rest[:1] and rest[0] in _PERCENT else []  # "40% to 45%"
    joint = rest[len(own) : len(own) + 1]
    if kind == "exact" and (joint == ["to"] or (between and joint == ["and"])):
        rest = rest[len(own) :]
        upper = _parse(rest[1:])
        if upper is not None:
            scale = next((_SCALES[w] for w in rest[1:] if w in _SCALES), 1.0)
            factor = 1.0 if scaled or upper[1] < scale else scale  # "420 to 460 million"
            lo, hi = lo * factor, upper[1]
            return lo, hi, unit or upper[2], kind, lo, hi
    return (*_qualified(value, lo, hi, kind), unit or _unit(rest), kind, lo, hi)


def _unit(rest: list[str]) -> str:
    text = " ".join(rest)
    if text.startswith(("percentage point", "percent point")):
        return "pp"
    if rest and (rest[0] in _PERCENT or text.startswith("per cent")):
        return "%"
    return _CURRENCIES.get(rest[0], "") if rest else ""


def _qualified(value: float, lo: float, hi: float, kind: str) -> tuple[float, float]:
    if kind == "min":
        return lo, _INF
    if kind == "max":
        return 0.0, hi
    if kind == "about":
        return min(lo, value * 0.9), max(hi, value * 1.1)
    if kind == "below":
        return min(lo, value * 0.8), hi
    return lo, hi


# --- conflicts ----------------------------------------------------------------------------


def _frame(a: Annotation, q: Quantity) -> Frame | None:
    return next((f for f in a.frames if f.start == q.frame_start), None)


def _comparable(qs: Quantity, qp: Quantity, s: Annotation, p: Annotation) -> bool:
    if qs.unit != qp.unit:
        bare, other = (qs, qp) if not qs.unit else (qp, qs)
        if bare.unit or other.unit in ("%", "pp", "money") or other.unit.isupper():
            return False
    if qs.noun and qp.noun and qs.noun != qp.noun:
        return False
    fs, fp = _frame(s, qs), _frame(p, qp)
    if fs is None or fp is None:
        if fs is fp and bool(qs.noun) and qs.noun == qp.noun and bool(qs.unit):
            return True
    elif qs.role == qp.role and aligned(fs, fp, s, p, skip=qs.role):
        return True
    return _anchored(qs, qp, s, p)


def _anchored(qs: Quantity, qp: Quantity, s: Annotation, p: Annotation) -> bool:
    """The same unit, a shared anchor (or noun), and nothing that says they are about others.

    Their subjects must be the same noun and their names must meet when both have some,
    and when the statement's subject is named, a passage that names only others of its kind
    ("Kelby employs 6,300 people" for "Solvend employs 780") speaks of someone else; one
    that names no one, or only a place, continues its story. A copula's amount of a named
    subject is anchored by the names (:func:`_described`).
    """
    if not qs.unit or qs.unit != qp.unit:
        return False
    if _described(qs, qp):
        return True
    if qs.names and qp.names and not set(qs.names) & set(qp.names):
        return False
    if not {qs.noun, *qs.anchors} & {qp.noun, *qp.anchors} - {""}:
        return False
    if qs.subject and qp.subject and qs.subject != qp.subject:
        return False  # "exports rose 5%" / "imports rose 3%"
    ours = {w for e in s.entities for w in e.key.split()} | set(qs.names)
    named = [e for e in s.entities if set(e.key.split()) & set(qs.names)]
    # others of the subject's kind: a place the passage also names is no other subject
    others = [e for e in p.entities if not named or any(comparable_kinds(e, n) for n in named)]
    theirs = {w for e in others for w in e.key.split()}
    return not (qs.names and theirs and not ours & theirs)


def _described(qs: Quantity, qp: Quantity) -> bool:
    """A copula's amount of a named subject, with no content word of its own to anchor it.

    "HX-2218 b is 3.2 times the radius of Earth", "Okonjo is 54 years old": the names of one
    side's subject must all be the other's (a later mention keeps only the surname: "Helen
    Okonjo" / "Okonjo, 44,"). An amount with an anchor ("Vantora's offer is a 41% premium":
    the offer) is compared by its anchor.
    """
    ours, theirs = set(qs.names), set(qp.names)
    return (
        qs.role in ("attr", "acomp")
        and not qs.anchors
        and bool(ours and theirs)
        and (ours <= theirs or theirs <= ours)
    )


def meets(a: Quantity, b: Quantity) -> bool:
    """Whether two amounts' ranges (qualifiers and rounding included) share a value."""
    return not _disjoint(a, b)


def _disjoint(a: Quantity, b: Quantity) -> bool:
    # rounding ranges are half-open: "12" (11.5–12.5) and "13" (12.5–13.5) do not meet
    if a.bound == b.bound and a.bound in ("min", "max"):
        # "up to 2.1 GW" and "up to 1.2 GW" are two claims about one ceiling
        return a.written_hi <= b.written_lo or b.written_hi <= a.written_lo
    return a.hi <= b.lo or b.hi <= a.lo


def number_conflicts(s: Annotation, p: Annotation, statement: str, passage: str) -> list[Mismatch]:
    """Quantity, score and result conflicts (module doc)."""
    out: list[Mismatch] = []
    for qs in s.quantities:
        same = [qp for qp in p.quantities if _comparable(qs, qp, s, p)]
        if same and all(_disjoint(qs, qp) for qp in same):
            out.append(
                Mismatch(
                    kind="number",
                    statement_span=qs.text,
                    passage_span=same[0].text,
                    explanation=f"The statement gives {qs.text}; the passage gives {same[0].text}.",
                )
            )
    out.extend(_score_conflicts(statement, passage))
    return out


def number_agreements(s: Annotation, p: Annotation) -> list[str]:
    """The statement's amounts that a comparable passage amount meets (module doc)."""
    return [
        qs.text
        for qs in s.quantities
        if any(_comparable(qs, qp, s, p) and meets(qs, qp) for qp in p.quantities)
    ]


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


def _score_conflicts(statement: str, passage: str) -> list[Mismatch]:
    s_scores = [(sorted(map(int, m.groups())), m.group()) for m in SCORE_RE.finditer(statement)]
    p_scores = [(sorted(map(int, m.groups())), m.group()) for m in SCORE_RE.finditer(passage)]
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
