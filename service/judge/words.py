"""Word-level helpers the time and polarity rules share: a stemmer and verb/negation words.

These read the passage's own words around an event ("announced the visit on Friday", "has
not condemned") where the dependency parse adds little; names never come from here (see
:mod:`service.judge.entities`).
"""

from __future__ import annotations

import functools
import re

__all__ = ["event_stem", "sentences", "skip_aux", "stem", "words"]


def words(text: str) -> frozenset[str]:
    """The space-separated words of ``text`` as a set."""
    return frozenset(text.split())


AUX = words(
    "will would shall should can could may might must is are was were be been being has have"
    " had do does did to also reportedly then later finally just already officially"
    " scheduled expected set due going planning plans planned about soon"
)
NEGATORS = words("not never n't no")
CONTROL = words(
    "agreed agrees decided decides wants wanted hopes hoped offered promised tried intends"
    " intended sought seeks seeking vowed pledged threatened"
)
CLAUSE_END = words(", ; : ( ) and but while that who which when where because as if")
STOP = words(
    "the a an of and or were was are is have has had been be who that than in on at by to for"
    " with as more some other others it its their his her they them this these those which"
    " from all"
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
WORD_RE = re.compile(r"[A-Za-z][\w’'.-]*\w|[A-Za-z]|[,;:!?()\"“”]")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])|\n+")


@functools.lru_cache(maxsize=65536)  # called for every word of every passage read
def stem(word: str) -> str:
    """A crude stem, with travel words as "visit" and talks as "meet"."""
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


def event_stem(low: list[str], k: int) -> str:
    """Stem of the verb at ``k``, reading "paid/made a (state) visit" as "visit"."""
    verb = stem(low[k])
    if verb in ("pay", "mak") and any(w in ("visit", "trip") for w in low[k + 1 : k + 4]):
        return "visit"
    return verb


def skip_aux(low: list[str], k: int) -> int:
    """The index of the first word from ``k`` on that is no auxiliary, negator or adverb."""
    while k < len(low) and (low[k] in AUX or low[k] in NEGATORS or low[k].endswith("ly")):
        k += 1
    return k


def sentences(text: str) -> list[str]:
    """The text's sentences (split after . ! ? before a capital, and at line breaks)."""
    return [s for s in _SENTENCE_RE.split(text) if s.strip()]
