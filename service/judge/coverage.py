"""What a passage leaves out: the statement's names, figures and dates it does not state.

A passage can only support a statement whose specific details it states. The small stance
model often reads support into a passage that shares the statement's topic but not its
details ("Bekele won the marathon" against "Gebre won the marathon": a name it does not
state), and often misses support that states every detail in other words ("Jana Kessler
co-founded Solvend" / "Solvend was founded by Jana Kessler"). The verdict model weighs the
support of passages that state every detail apart (``covered_support``,
service/judge/verdict.py), and the panel shows an editor what a passage does not say.

A detail of the statement is *stated* by the passage when

* a **name**: the passage names the same referent (one's words contain the other's, the
  same last word, one geonames place) or a place inside it ("Russia" is stated by "Moscow";
  "Moscow" is not stated by "Russia"), or its words appear in the passage as written;
* a **figure**: a passage amount of the same unit meets its range (its qualifier and
  rounding included, as the number rules read them), whatever its role;
* a **date**: a bounded passage time (relative times resolved against the publication
  date) overlaps it.

Unlike the mismatch rules this needs no alignment of the two events: a missing detail
is no contradiction, only an absence, so it never refutes anything by itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.judge.annotate import Annotation
from service.judge.entities import Entity, contains, same_referent
from service.judge.numbers import Quantity, meets
from service.temporal import TimeExpression

__all__ = ["Detail", "missing_details"]

_NON_WORD_RE = re.compile(r"[^\w]+")


class Detail(msgspec.Struct, frozen=True, kw_only=True):
    """A detail of the statement: its kind and the statement's words for it."""

    kind: Annotated[Literal["name", "number", "time"], Meta(examples=["time"])]
    text: Annotated[str, Meta(examples=["in 2022"])]


def missing_details(s: Annotation, p: Annotation, passage: str) -> tuple[Detail, ...]:
    """The statement's names, figures and dates that the passage does not state."""
    flat = f" {_flat(passage)} "
    out = [
        Detail(kind="name", text=e.text)
        for e in s.entities
        if not _named(e, p.entities) and f" {_flat(e.key)} " not in flat
    ]
    out += [Detail(kind="number", text=q.text) for q in s.quantities if not _figured(q, p)]
    out += [Detail(kind="time", text=t.text) for t in s.times if not _dated(t, p)]
    return tuple(out)


def _flat(text: str) -> str:
    return _NON_WORD_RE.sub(" ", text.lower()).strip()


def _named(e: Entity, found: tuple[Entity, ...]) -> bool:
    return any(same_referent(e, f) or contains(e, f) for f in found)


def _figured(q: Quantity, p: Annotation) -> bool:
    return any(f.unit == q.unit and meets(q, f) for f in p.quantities)


def _dated(t: TimeExpression, p: Annotation) -> bool:
    return any(f.interval.bounded() and f.interval.overlaps(t.interval) for f in p.times)
