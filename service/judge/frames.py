"""Predicate frames from the dependency parse, their alignment, entity and antonym conflicts.

A frame is a verb (a lemma and its synonym group) with its arguments read off spaCy's parse:
``subj`` (nsubj, or the agent of a passive), ``obj`` (dobj, or a passive's subject),
``attr``, ``place`` (a geonames place after in/at/to/into, or the object of a travel verb),
``extent`` ("fell 38 percent") and ``prep:<word>`` for other prepositional objects. "Pay a
state visit to Moscow" is read as the frame of "visit". A frame is *asserted* unless it is
negated, under a modal ("could", "would"), an infinitive ("refused to visit", "plans to
visit"), a condition ("if", "whether"), a question, or a clause under a denial ("denied that").

Two frames *align* when they have the same predicate group and every argument role they
share agrees (the same referent, or the same head word) except the one being compared,
with at least one agreeing role to show they are about one event. Then:

* **entity**: the one differing role holds names of comparable types (see
  :mod:`service.judge.entities`) on both sides, neither inside the other, and neither name
  appears anywhere in the other text ("Putin and Xi met" is no swap of "Xi met Putin").
* **polarity**: antonym groups (rise/fall, approve/reject, win/lose, confirm/deny,
  open/close, raise/cut, accept/reject) with agreeing subjects, when the passage does not
  also report the statement's predicate. Reversible changes (rise/fall, open/close,
  raise/cut) also need the same time or the same quantity: a price that fell last week may
  rise this week; one-off outcomes (won/lost, approved/rejected) need only no other time.

Frames dated on both sides to times that do not overlap are different occasions and never
conflict (the time detector speaks for those).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import msgspec

from service.judge.entities import Entity, comparable_kinds, contains, same_referent
from service.judge.result import Mismatch

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

    from service.judge.annotate import Annotation

__all__ = [
    "LIGHT_VERBS",
    "Arg",
    "Frame",
    "entity_conflicts",
    "extract_frames",
    "polarity_conflicts",
]

_SYNONYMS = {
    "visit": "visit travel go come arrive fly tour trip head",
    "meet": "meet talk",
    "win": "win beat defeat",
    "lose": "lose",
    "rise": "rise increase climb grow jump surge gain soar",
    "fall": "fall drop decline decrease plunge slide sink dip tumble shrink slump",
    "approve": "approve pass adopt endorse ratify",
    "reject": "reject block veto",
    "confirm": "confirm acknowledge",
    "deny": "deny",
    "open": "open reopen",
    "close": "close shut",
    "raise": "raise hike",
    "cut": "cut lower reduce slash",
    "accept": "accept",
    "propose": "propose suggest",
}
GROUPS = {lemma: group for group, words in _SYNONYMS.items() for lemma in words.split()}
_ONE_OFF = {("win", "lose"), ("approve", "reject"), ("confirm", "deny"), ("accept", "reject")}
_REVERSIBLE = {("rise", "fall"), ("open", "close"), ("raise", "cut"), ("rise", "lose")}
ANTONYMS: dict[str, set[str]] = {}
for _a, _b in _ONE_OFF | _REVERSIBLE:
    ANTONYMS.setdefault(_a, set()).add(_b)
    ANTONYMS.setdefault(_b, set()).add(_a)
LIGHT_VERBS = frozenset({"pay", "make", "hold", "take", "conduct"})  # "pay a visit": the visit
_EVENT_NOUNS = frozenset({"visit", "trip", "tour"})
_MODALS = frozenset({"could", "may", "might", "would", "should", "can", "must"})
_CONDITIONS = frozenset({"if", "whether", "unless"})
_DENIALS = frozenset({"deny", "refuse", "reject", "doubt", "dismiss", "question"})
_PLACE_PREPS = frozenset({"in", "at", "to", "into", "inside"})
_SUBJECT = frozenset({"nsubj", "csubj"})


class Arg(msgspec.Struct, frozen=True, array_like=True):
    """One argument of a frame: its role, head lemmas (with conjuncts) and names."""

    role: str
    lemmas: tuple[str, ...]
    entities: tuple[int, ...]  # indices into Annotation.entities
    quantity: bool = False  # its head is a number: compared by the number detector


class Frame(msgspec.Struct, frozen=True, array_like=True):
    """A predicate with its arguments (module doc)."""

    lemma: str
    group: str
    text: str
    start: int
    end: int
    asserted: bool
    negated: bool
    args: tuple[Arg, ...]
    times: tuple[int, ...] = ()  # indices into Annotation.times dating this clause

    def arg(self, role: str) -> Arg | None:
        """The argument in ``role``, if any."""
        return next((a for a in self.args if a.role == role), None)


def predicate_tokens(doc: Doc) -> list[Token]:
    """The tokens that head a frame: verbs, and "be" with a subject."""
    return [
        t
        for t in doc
        if t.pos_ == "VERB" or (t.pos_ == "AUX" and any(c.dep_ in _SUBJECT for c in t.children))
    ]


def extract_frames(doc: Doc, entities: list[Entity]) -> list[Frame]:
    """The frames of a parsed text, in the order of their predicates."""
    by_char = {i: k for k, e in enumerate(entities) for i in range(e.start, e.end)}
    out: list[Frame] = []
    heads = {t.i for t in predicate_tokens(doc)}
    for t in predicate_tokens(doc):
        lemma, args_of = t.lemma_.lower(), [t]
        light = next((c for c in t.children if c.dep_ == "dobj"), None)
        if lemma in LIGHT_VERBS and light is not None and light.lemma_.lower() in _EVENT_NOUNS:
            lemma, args_of = light.lemma_.lower(), [t, light]
        args: dict[str, Arg] = {}
        for head in args_of:
            for role, arg_head in _arg_heads(head, skip=light if len(args_of) == 2 else None):
                if role not in args:
                    args[role] = _arg(role, arg_head, lemma, by_char, entities)
        if "subj" not in args and t.dep_ == "conj" and t.head.i in heads:
            for role, arg_head in _arg_heads(t.head, skip=None):
                if role == "subj":
                    args[role] = _arg(role, arg_head, lemma, by_char, entities)
        negated = any(c.dep_ == "neg" for c in t.children)
        out.append(
            Frame(
                lemma=lemma,
                group=GROUPS.get(lemma, lemma),
                text=t.text,
                start=t.idx,
                end=t.idx + len(t.text),
                asserted=not negated and not _irrealis(t),
                negated=negated,
                args=tuple(args.values()),
            )
        )
    return out


def _arg_heads(t: Token, skip: Token | None) -> Iterator[tuple[str, Token]]:
    for c in t.children:
        if skip is not None and c.i == skip.i:
            continue
        dep = c.dep_
        if dep in _SUBJECT:
            yield "subj", c
        elif dep in ("dobj", "nsubjpass", "dative"):
            yield "obj", c
        elif dep in ("attr", "oprd"):
            yield "attr", c
        elif dep == "npadvmod" and (c.like_num or c.lemma_ in ("%", "percent", "point")):
            yield "extent", c
        elif dep == "agent":
            for p in c.children:
                if p.dep_ == "pobj":
                    yield "subj", p
        elif dep == "prep":
            for p in c.children:
                if p.dep_ == "pobj":
                    yield f"prep:{c.lemma_.lower()}", p


def _arg(
    role: str, head: Token, lemma: str, by_char: dict[int, int], entities: list[Entity]
) -> Arg:
    tokens = [head, *head.conjuncts]
    ents = tuple(dict.fromkeys(by_char[t.idx] for t in tokens if t.idx in by_char))
    is_place = bool(ents) and all(entities[k].kind == "PLACE" for k in ents)
    if is_place and (
        (role.startswith("prep:") and role[5:] in _PLACE_PREPS)
        or (role == "obj" and GROUPS.get(lemma) == "visit")
    ):
        role = "place"
    quantity = (
        head.like_num
        or head.ent_type_ in ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
        or any(c.dep_ == "nummod" for c in head.children)
    )
    return Arg(role, tuple(t.lemma_.lower() for t in tokens), ents, quantity)


def _irrealis(t: Token) -> bool:
    """Whether the clause of ``t`` asserts nothing: modal, infinitive, condition, question."""
    if any(
        (c.dep_ == "aux" and c.lemma_.lower() in _MODALS)
        or (c.dep_ == "aux" and c.lower_ == "to")
        or (c.dep_ == "mark" and c.lower_ in _CONDITIONS)
        for c in t.children
    ):
        return True
    if t.sent.text.rstrip().endswith("?"):
        return True
    node = t
    while node.dep_ in ("ccomp", "xcomp", "advcl", "conj") and node.head.i != node.i:
        node = node.head
        if node.lemma_.lower() in _DENIALS or any(c.dep_ == "neg" for c in node.children):
            return True
    return False


# --- alignment and conflicts --------------------------------------------------------------


def agree(a: Arg, b: Arg, s: Annotation, p: Annotation) -> bool:
    """The same referent (or one place inside the other), else the same head word."""
    if a.entities and b.entities:
        return any(
            same_referent(x, y) or contains(x, y) or contains(y, x)
            for x in (s.entities[i] for i in a.entities)
            for y in (p.entities[j] for j in b.entities)
        )
    return bool(set(a.lemmas) & set(b.lemmas))


def aligned(fs: Frame, fp: Frame, s: Annotation, p: Annotation, skip: str = "") -> bool:
    """Same group, every shared role but ``skip`` agrees, at least one does (module doc).

    Amounts are left to the number detector: "rose 5% to $1.2bn" aligns with "rose 4% to
    $1.19bn" so that each amount can be compared.
    """
    if fs.group != fp.group or fs.negated != fp.negated or fs.asserted != fp.asserted:
        return False
    shared = [
        (a, b)
        for a in fs.args
        if a.role != skip and (b := fp.arg(a.role)) is not None and not (a.quantity or b.quantity)
    ]
    return bool(shared) and all(agree(a, b, s, p) for a, b in shared)


def same_occasion(fs: Frame, fp: Frame, s: Annotation, p: Annotation) -> bool | None:
    """True/False when both frames are dated (overlapping or not), None otherwise."""
    if not fs.times or not fp.times:
        return None
    return any(
        s.times[i].interval.overlaps(p.times[j].interval) for i in fs.times for j in fp.times
    )


def _mentioned(names: list[Entity], others: tuple[Entity, ...]) -> bool:
    return any(same_referent(a, b) or contains(a, b) for a in names for b in others)


def entity_conflicts(s: Annotation, p: Annotation) -> list[Mismatch]:
    """A different name in the one differing slot of aligned, asserted frames."""
    for fs in (f for f in s.frames if f.asserted):
        for fp in (f for f in p.frames if f.asserted and f.group == fs.group):
            if same_occasion(fs, fp, s, p) is False:
                continue
            found = _entity_conflict(fs, fp, s, p)
            if found:
                return [found]
    return []


def _entity_conflict(fs: Frame, fp: Frame, s: Annotation, p: Annotation) -> Mismatch | None:
    shared = [(a, b) for a in fs.args if (b := fp.arg(a.role)) is not None]
    differ = [(a, b) for a, b in shared if not agree(a, b, s, p)]
    if len(differ) != 1 or len(shared) < 2:
        return None
    a, b = differ[0]
    names_s = [s.entities[i] for i in a.entities]
    names_p = [p.entities[j] for j in b.entities]
    if not names_s or not names_p:
        return None
    if not all(comparable_kinds(x, y) for x in names_s for y in names_p):
        return None
    if _mentioned(names_s, p.entities) or _mentioned(names_p, s.entities):
        return None  # both are named: likely several participants, not a swap
    x, y = names_s[0].text, names_p[0].text
    text = {
        "subj": f"The statement attributes it to {x}; the passage to {y}.",
        "place": f"The statement places it in {x}; the passage in {y}.",
    }.get(a.role, f"The statement names {x}; the passage names {y} instead.")
    return Mismatch(kind="entity", statement_span=x, passage_span=y, explanation=text)


def polarity_conflicts(s: Annotation, p: Annotation) -> list[Mismatch]:
    """An antonym predicate about the same subject (module doc)."""
    for fs in (f for f in s.frames if f.asserted and f.group in ANTONYMS):
        subj = fs.arg("subj")
        if subj is None or any(
            f.asserted and f.group == fs.group and _same_subject(subj, f, s, p) for f in p.frames
        ):
            continue
        for fp in p.frames:
            if not fp.asserted or fp.group not in ANTONYMS[fs.group]:
                continue
            if not _same_subject(subj, fp, s, p) or not _others_agree(fs, fp, s, p):
                continue
            when = same_occasion(fs, fp, s, p)
            pair = (fs.group, fp.group)
            reversible = pair in _REVERSIBLE or pair[::-1] in _REVERSIBLE
            if when is False or (reversible and when is None and not _same_extent(fs, fp, s, p)):
                continue
            return [
                Mismatch(
                    kind="polarity",
                    statement_span=fs.text,
                    passage_span=fp.text,
                    explanation=f"The statement says it {fs.text}; the passage says it {fp.text}.",
                )
            ]
    return []


def _same_subject(subj: Arg, fp: Frame, s: Annotation, p: Annotation) -> bool:
    other = fp.arg("subj")
    return other is not None and agree(subj, other, s, p)


def _others_agree(fs: Frame, fp: Frame, s: Annotation, p: Annotation) -> bool:
    for a in fs.args:
        b = fp.arg(a.role)
        if b is not None and not (a.quantity or b.quantity) and not agree(a, b, s, p):
            return False
    return True


def _same_extent(fs: Frame, fp: Frame, s: Annotation, p: Annotation) -> bool:
    """Both frames carry the same amount ("fell 38 percent" / "rose 38%")."""
    qs = [q for q in s.quantities if fs.start == q.frame_start]
    qp = [q for q in p.quantities if fp.start == q.frame_start]
    return any(a.unit == b.unit and a.lo == b.lo and a.hi == b.hi for a in qs for b in qp)
