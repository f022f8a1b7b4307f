"""Offices and who holds them: a wrong name for a chief executive, a minister, a coach.

"Tobias Brandt is Solvend's chief executive" against "Solvend was founded by Jana
Kessler, now chief executive": no verb frame aligns the two (one is a copula, the other
an apposition), so :mod:`service.judge.frames` cannot see the swap. A **role** ties a
person (or a company: "the owner of Kelby") to an office, read off the parse in three shapes:

* copula: "<person> is (the) <office>", in the present tense and not negated;
* apposition: "<person>, <office>" or "<office>, <person>";
* title: "<office words> <person>" ("Vantora Chief Executive Marisa Okafor").

An **office** is a singular head noun with its modifiers and an "of" phrase that names no
one, lower-cased ("chief executive", "director of public health"); its **organisation**
is a name attached to it (a possessive, an "of" phrase, or a name inside the title).
Indefinite offices ("a director") are not read: an organisation has many of those.

A statement's role **conflicts** with a passage's when the offices are written alike,
they belong to one organisation (both name it, or one names it and the other text
mentions it), and the holders are different people, neither named in the other text.
"Former chief executive" is another office than "chief executive", so a past holder is no
conflict; a statement with a time ("in 2019") is not compared, since offices change hands;
and without an organisation on either side nothing is compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from service.judge.entities import Entity, same_referent
from service.judge.result import Mismatch

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

    from service.judge.annotate import Annotation

__all__ = ["Role", "extract_roles", "role_conflicts"]

# spaCy's small model often tags an unfamiliar name as the wrong kind ("Ines Varga" an ORG,
# "Corvane's" a PERSON): a holder is any name of these kinds (and two holders compare
# whatever their kinds), an organisation any name.
_HOLDERS = ("PERSON", "ORG", "NAME")


class Role(msgspec.Struct, frozen=True, array_like=True):
    """A person holding an office, by their indexes in the annotation's entities."""

    holder: int
    office: str
    organisation: int = -1  # -1: no name attached to the office


def extract_roles(doc: Doc, entities: Sequence[Entity]) -> list[Role]:
    """The roles of a parsed text (module doc); ``entities`` are the text's, in order."""
    spans = [doc.char_span(e.start, e.end, alignment_mode="expand") for e in entities]
    # token index -> index of the entity it lies in
    at = {
        t: k
        for k, span in enumerate(spans)
        if span is not None
        for t in range(span.start, span.end)
    }
    out: list[Role] = []
    for i, (holder, span) in enumerate(zip(entities, spans, strict=True)):
        if holder.kind not in _HOLDERS or span is None:
            continue
        head = span.root
        nouns = [c for c in head.children if c.dep_ == "appos"]
        if head.dep_ == "appos":
            nouns.append(head.head)
        verb = head.head  # "is", not "was": a past holder is no conflict with today's
        if (
            head.dep_ == "nsubj"
            and verb.tag_ in ("VBZ", "VBP")
            and verb.lemma_ == "be"
            and not _negated(verb)
        ):
            nouns += [c for c in verb.children if c.dep_ == "attr"]
        found = [_office(n, at) for n in nouns if n.pos_ == "NOUN" and _definite(n)]
        title = [t for c in head.children if c.dep_ == "compound" and c.i < span.start
                 for t in c.subtree]  # fmt: skip
        found.append(_words(title, at))
        out += [Role(holder=i, office=o, organisation=org) for o, org in found if o and org != i]
    return out


def role_conflicts(s: Annotation, p: Annotation) -> list[Mismatch]:
    """The statement names one holder of an office and the passage another (module doc)."""
    if s.times:  # "was prime minister in 2019": offices change hands; the time rule speaks
        return []
    for rs in s.roles:
        for rp in p.roles:
            if rs.office != rp.office or not _one_organisation(rs, rp, s, p):
                continue
            a, b = s.entities[rs.holder], p.entities[rp.holder]
            if _named_in(a, p.entities) or _named_in(b, s.entities):
                continue
            return [
                Mismatch(
                    kind="entity",
                    statement_span=a.text,
                    passage_span=b.text,
                    explanation=f"The statement names {a.text} as {rs.office}; "
                    f"the passage names {b.text}.",
                )
            ]
    return []


def _negated(verb: Token) -> bool:
    return any(c.dep_ == "neg" for c in verb.children)


def _definite(noun: Token) -> bool:
    if noun.tag_ in ("NNS", "NNPS"):
        return False
    return not any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in noun.children)


def _office(noun: Token, at: dict[int, int]) -> tuple[str, int]:
    """The office a noun names and the entity of its organisation (-1 without one)."""
    tokens = [
        t
        for c in noun.children
        if c.dep_ in ("amod", "compound", "poss") and c.i < noun.i
        for t in c.subtree
    ]
    tokens.append(noun)
    for prep in (c for c in noun.children if c.dep_ == "prep" and c.lower_ == "of"):
        tokens += list(prep.subtree)
    return _words(sorted(tokens, key=lambda t: t.i), at)


def _words(tokens: Sequence[Token], at: dict[int, int]) -> tuple[str, int]:
    """Lower-cased words outside names (honorifics like "Dr." aside), and the first name."""
    words: list[str] = []
    organisation = -1
    for t in tokens:
        if t.i in at:
            organisation = at[t.i] if organisation < 0 else organisation
        elif t.is_alpha and t.pos_ in ("NOUN", "PROPN", "ADJ", "ADP"):
            words.append(t.lower_)
    if words and words[-1] == "of":  # "chief executive of <name>"
        words.pop()
    return " ".join(words), organisation


def _one_organisation(rs: Role, rp: Role, s: Annotation, p: Annotation) -> bool:
    if rs.organisation >= 0 and rp.organisation >= 0:
        return same_referent(s.entities[rs.organisation], p.entities[rp.organisation])
    if rs.organisation >= 0:
        return _named_in(s.entities[rs.organisation], p.entities)
    if rp.organisation >= 0:
        return _named_in(p.entities[rp.organisation], s.entities)
    return False


def _named_in(entity: Entity, others: Sequence[Entity]) -> bool:
    return any(same_referent(entity, o) for o in others)
