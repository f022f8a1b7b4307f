"""Conflicts between a statement and an on-topic passage that a stance model tends to miss.

Four detectors over spaCy annotations (:mod:`service.judge`), all tuned for precision (a
false mismatch would refute a true statement):

* time (:mod:`service.judge.timing`): the statement's times against the passage times that
  date the same event;
* number (:mod:`service.judge.numbers`): amounts with the same unit in the same role of
  aligned predicates, exact to their last digit unless a qualifier widens them; scores;
* entity (:mod:`service.judge.frames`): another name of the same type in the one differing
  slot of aligned predicates ("Tom Becker proposed the plan" / "Ana Ruiz proposed it"),
  or (:mod:`service.judge.roles`) another holder of the same office ("Tobias Brandt is
  Solvend's chief executive" / "Solvend's chief executive, Jana Kessler");
* polarity (:mod:`service.judge.frames`): antonym predicates about the same subject
  ("hospitalisations fell" / "rose"). :func:`service.judge.agreement.polarity_conflict` covers
  the other polarity conflict, a negated or refused event.

:func:`find_agreements` is the other side: the details the passage states as the statement
does (a number of the same unit in the same role). One outlet's agreement beside another's
mismatch on the same detail is how outlets that disagree show in the verdict.

A passage's annotation is made at ingest and stored with its claim; callers pass it as
``annotation``. Without it (tests, a store not yet reindexed) it is made here.
"""

from __future__ import annotations

import datetime

from service.judge.annotate import Annotation, passage_annotation, statement_annotation
from service.judge.frames import entity_conflicts, polarity_conflicts
from service.judge.numbers import number_agreements, number_conflicts
from service.judge.result import Mismatch
from service.judge.roles import role_conflicts
from service.judge.timing import publication_mismatch, time_agreement, time_mismatch

__all__ = ["Mismatch", "find_agreements", "find_mismatches"]


def find_mismatches(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    passage_ref: datetime.date | None,
    *,
    annotation: Annotation | None = None,
) -> list[Mismatch]:
    """Return the time, number, entity and polarity conflicts between the two texts.

    ``statement_ref``/``passage_ref`` resolve relative times ("last year", "Monday"); with None
    such times are ignored. The caller is expected to pass on-topic passages only.
    """
    s = statement_annotation(statement, statement_ref)
    p = annotation or passage_annotation(passage, passage_ref)
    out: list[Mismatch] = []
    found = time_mismatch(statement, s, passage, p) or publication_mismatch(
        statement, s, passage, p, passage_ref
    )
    if found:
        out.append(found)
    out.extend(number_conflicts(s, p, statement, passage))
    out.extend(entity_conflicts(s, p) or role_conflicts(s, p))
    out.extend(polarity_conflicts(s, p))
    return out


def find_agreements(
    statement: str,
    statement_ref: datetime.date | None,
    passage: str,
    passage_ref: datetime.date | None,
    *,
    annotation: Annotation | None = None,
) -> tuple[str, ...]:
    """The kinds of detail the passage states as the statement does: "number", "time"."""
    s = statement_annotation(statement, statement_ref)
    p = annotation or passage_annotation(passage, passage_ref)
    found = {
        "number": bool(number_agreements(s, p)),
        "time": time_agreement(statement, s, passage, p),
    }
    return tuple(kind for kind, agrees in found.items() if agrees)
