"""Programmatic NLI pairs generated from real sentences (training-split premises only).

Each generator takes one real sentence (and the premise text it came from) and
returns a (premise, hypothesis, label) triple or None when it does not apply.
Contradictions: negation, antonyms, changed numbers, changed dates, swapped
names/places, refusal/cancellation of a reported action. Entailments:
paraphrase-preserving edits (synonyms, dropping modifiers/parentheticals/trailing
phrases, sub-clauses, double negation). Neutrals: the reverse of an information-
dropping edit (the hypothesis adds a detail the premise does not give) and
hypothesis drawn from another sentence of similar topic.

Everything is driven by a seeded ``random.Random`` so the output is deterministic.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from training.data import Pair

# ---------------------------------------------------------------- sentence splitting
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_ABBREV_END = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Prof|U\.S|Inc|Co|Corp|No|Nov|Dec|Jan|Feb|Aug|Sept|Oct)\.$"
)


def split_sentences(text: str) -> list[str]:
    parts = _SENT_SPLIT.split(text.strip())
    out: list[str] = []
    for p in parts:
        if out and _ABBREV_END.search(out[-1]):
            out[-1] = out[-1] + " " + p
        else:
            out.append(p)
    return [s.strip() for s in out if 4 <= len(s.split()) <= 60]


# ---------------------------------------------------------------- lexical resources
AUX_NEG = {
    "is": "is not",
    "are": "are not",
    "was": "was not",
    "were": "were not",
    "has": "has not",
    "have": "have not",
    "had": "had not",
    "will": "will not",
    "can": "cannot",
    "could": "could not",
    "would": "would not",
    "should": "should not",
    "may": "may not",
    "must": "must not",
    "does": "does not",
    "did": "did not",
    "do": "do not",
}
NEG_AUX = {
    "is not": "is",
    "isn't": "is",
    "are not": "are",
    "aren't": "are",
    "was not": "was",
    "wasn't": "was",
    "were not": "were",
    "weren't": "were",
    "has not": "has",
    "hasn't": "has",
    "have not": "have",
    "haven't": "have",
    "had not": "had",
    "will not": "will",
    "won't": "will",
    "cannot": "can",
    "can't": "can",
    "could not": "could",
    "would not": "would",
    "does not": "does",
    "doesn't": "does",
    "did not": "did",
    "didn't": "did",
    "do not": "do",
    "don't": "do",
    "never": "",
}
# past tense -> base form, for "did not X" / "refused to X" / "cancelled"
PAST_BASE = {
    "visited": "visit",
    "signed": "sign",
    "attended": "attend",
    "met": "meet",
    "won": "win",
    "approved": "approve",
    "announced": "announce",
    "agreed": "agree",
    "accepted": "accept",
    "joined": "join",
    "launched": "launch",
    "opened": "open",
    "bought": "buy",
    "sold": "sell",
    "killed": "kill",
    "arrested": "arrest",
    "elected": "elect",
    "appointed": "appoint",
    "founded": "found",
    "built": "build",
    "discovered": "discover",
    "published": "publish",
    "released": "release",
    "invaded": "invade",
    "attacked": "attack",
    "received": "receive",
    "married": "marry",
    "resigned": "resign",
    "died": "die",
    "reported": "report",
    "confirmed": "confirm",
    "increased": "increase",
    "reduced": "reduce",
    "produced": "produce",
    "caused": "cause",
    "supported": "support",
    "criticized": "criticize",
    "paid": "pay",
    "left": "leave",
    "arrived": "arrive",
    "travelled": "travel",
    "traveled": "travel",
    "returned": "return",
    "said": "say",
    "told": "tell",
    "gave": "give",
    "took": "take",
    "made": "make",
    "found": "find",
    "wrote": "write",
    "led": "lead",
    "held": "hold",
    "hosted": "host",
    "ratified": "ratify",
    "passed": "pass",
    "adopted": "adopt",
    "played": "play",
    "helped": "help",
    "owned": "own",
    "ate": "eat",
    "drank": "drink",
    "rode": "ride",
    "ran": "run",
    "threw": "throw",
    "entered": "enter",
    "fired": "fire",
    "banned": "ban",
    "allowed": "allow",
}
REFUSAL_VERBS = frozenset(
    {
        "visited",
        "signed",
        "attended",
        "met",
        "approved",
        "announced",
        "agreed",
        "accepted",
        "joined",
        "launched",
        "opened",
        "bought",
        "sold",
        "paid",
        "hosted",
        "ratified",
        "adopted",
        "travelled",
        "traveled",
        "returned",
        "arrived",
        "attacked",
        "invaded",
        "resigned",
        "released",
        "published",
        "wrote",
        "confirmed",
        "supported",
        "entered",
        "banned",
        "hired",
    }
)
ANTONYMS = [
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("increases", "decreases"),
    ("rise", "fall"),
    ("rose", "fell"),
    ("rising", "falling"),
    ("rises", "falls"),
    ("won", "lost"),
    ("win", "lose"),
    ("wins", "loses"),
    ("accepted", "rejected"),
    ("approved", "rejected"),
    ("allowed", "banned"),
    ("open", "closed"),
    ("opened", "closed"),
    ("more", "less"),
    ("higher", "lower"),
    ("larger", "smaller"),
    ("before", "after"),
    ("warmer", "colder"),
    ("warming", "cooling"),
    ("up", "down"),
    ("inside", "outside"),
    ("first", "last"),
    ("early", "late"),
    ("many", "few"),
    ("large", "small"),
    ("big", "small"),
    ("young", "old"),
    ("man", "woman"),
    ("men", "women"),
    ("boy", "girl"),
    ("boys", "girls"),
    ("dog", "cat"),
    ("dogs", "cats"),
    ("sitting", "standing"),
    ("entered", "left"),
    ("arrived", "departed"),
    ("started", "ended"),
    ("begins", "ends"),
    ("began", "ended"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("legal", "illegal"),
    ("true", "false"),
    ("alive", "dead"),
    ("strong", "weak"),
    ("positive", "negative"),
    ("majority", "minority"),
    ("north", "south"),
    ("east", "west"),
    ("always", "never"),
    ("everyone", "no one"),
    ("supported", "opposed"),
    ("supports", "opposes"),
    ("expanded", "shrank"),
    ("gained", "lost"),
    ("profit", "loss"),
    ("hired", "fired"),
    ("bought", "sold"),
    ("buying", "selling"),
    ("wet", "dry"),
    ("empty", "full"),
    ("asleep", "awake"),
    ("happy", "sad"),
    ("black", "white"),
    ("day", "night"),
]
ANT = {a: b for a, b in ANTONYMS} | {b: a for a, b in ANTONYMS}
SYNONYMS = {
    "said": "stated",
    "bought": "purchased",
    "big": "large",
    "large": "big",
    "start": "begin",
    "started": "began",
    "began": "started",
    "help": "assist",
    "helped": "assisted",
    "buy": "purchase",
    "children": "kids",
    "kids": "children",
    "man": "person",
    "woman": "person",
    "boy": "child",
    "girl": "child",
    "people": "persons",
    "quickly": "fast",
    "show": "demonstrate",
    "shows": "demonstrates",
    "showed": "demonstrated",
    "about": "approximately",
    "approximately": "about",
    "roughly": "about",
    "nearly": "almost",
    "almost": "nearly",
    "died": "passed away",
    "home": "house",
    "car": "vehicle",
    "cars": "vehicles",
    "film": "movie",
    "movie": "film",
    "small": "little",
    "little": "small",
    "talk": "speak",
    "talking": "speaking",
    "speaking": "talking",
    "announced": "declared",
    "leader": "head",
    "country": "nation",
    "nation": "country",
    "company": "firm",
    "firm": "company",
    "global": "worldwide",
    "worldwide": "global",
    "reported": "said",
    "rapidly": "quickly",
    "attempt": "try",
    "tried": "attempted",
    "received": "got",
    "cut": "reduced",
    "major": "significant",
    "significant": "major",
}
HYPERNYMS = {  # premise word -> more general word (entailment), only that direction
    "dog": "animal",
    "dogs": "animals",
    "cat": "animal",
    "horse": "animal",
    "boy": "child",
    "girl": "child",
    "man": "person",
    "woman": "person",
    "guitar": "instrument",
    "piano": "instrument",
    "car": "vehicle",
    "truck": "vehicle",
    "Moscow": "Russia",
    "Beijing": "China",
    "Paris": "France",
    "London": "Britain",
    "Washington": "the United States",
    "president": "leader",
    "minister": "official",
    "senator": "politician",
    "CO2": "a gas",
}
PLACES = [
    "Moscow",
    "Beijing",
    "Washington",
    "London",
    "Paris",
    "Berlin",
    "Tokyo",
    "Kyiv",
    "Rome",
    "Madrid",
    "Cairo",
    "Delhi",
    "Brussels",
    "Geneva",
    "Ankara",
    "Tehran",
    "Seoul",
    "Ottawa",
    "Russia",
    "China",
    "France",
    "Germany",
    "Japan",
    "India",
    "Brazil",
    "Canada",
    "Italy",
    "Spain",
    "Egypt",
    "Iran",
    "Iraq",
    "Israel",
    "Ukraine",
    "Turkey",
    "Mexico",
    "Australia",
    "Britain",
    "Pakistan",
    "Afghanistan",
    "Syria",
    "Poland",
    "Kenya",
    "Nigeria",
    "Chile",
    "Greenland",
    "Antarctica",
    "Africa",
    "Europe",
    "Asia",
    "Pennsylvania",
    "Texas",
    "California",
    "New York",
    "Chicago",
    "Boston",
    "Sydney",
    "Toronto",
    "Baghdad",
    "Jerusalem",
    "Naples",
]
PERSON_TITLES = (
    r"(?:President|Prime Minister|Minister|Senator|Governor|Mr\.|Mrs\.|Ms\.|Dr\.|Pope|King"
    r"|Queen|General|Chancellor|Secretary)"
)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

_WORD = re.compile(r"\b[\w'-]+\b")
_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w.]*\d)")
_YEAR = re.compile(r"\b(1[89]\d\d|20[0-3]\d)\b")


def _cap_like(src: str, word: str) -> str:
    return word[:1].upper() + word[1:] if src[:1].isupper() else word


def _replace_word(sent: str, idx: int, end: int, new: str) -> str:
    out = sent[:idx] + new + sent[end:]
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU]\w)", r"\1n ", out)


# ---------------------------------------------------------------- contradiction edits
def negate(sent: str, rng: random.Random) -> str | None:
    """Add or remove a negation on an auxiliary (or turn a past verb into 'did not X')."""
    low = sent.lower()
    for neg, pos in NEG_AUX.items():
        m = re.search(rf"\b{re.escape(neg)}\b", low)
        if m and neg != "never":
            return re.sub(
                r"\s+",
                " ",
                _replace_word(sent, m.start(), m.end(), _cap_like(sent[m.start() :], pos)),
            )
    cands = [m for m in _WORD.finditer(sent) if m.group(0).lower() in AUX_NEG and m.start() > 0]
    if cands:
        m = rng.choice(cands)
        return _replace_word(sent, m.start(), m.end(), AUX_NEG[m.group(0).lower()])
    cands = [m for m in _WORD.finditer(sent) if m.group(0) in PAST_BASE and m.start() > 0]
    if cands:
        m = rng.choice(cands)
        return _replace_word(sent, m.start(), m.end(), "did not " + PAST_BASE[m.group(0)])
    return None


def refuse(sent: str, rng: random.Random) -> str | None:
    """'X visited Y' -> 'X refused to visit Y' / 'X cancelled plans to visit Y' / ..."""
    cands = [
        m
        for m in _WORD.finditer(sent)
        if m.group(0) in REFUSAL_VERBS
        and m.start() > 0
        and not re.search(
            r"\b(?:that|which|who|been|be|was|were|is|are|has|have|had)\s+$", sent[: m.start()]
        )
    ]
    if not cands:
        return None
    m = rng.choice(cands)
    base = PAST_BASE[m.group(0)]
    form = rng.choice(
        [
            "refused to {b}",
            "declined to {b}",
            "cancelled plans to {b}",
            "never {p}",
            "failed to {b}",
            "called off plans to {b}",
        ]
    )
    return _replace_word(sent, m.start(), m.end(), form.format(b=base, p=m.group(0)))


def antonym(sent: str, rng: random.Random) -> str | None:
    cands = [m for m in _WORD.finditer(sent) if m.group(0).lower() in ANT]
    if not cands:
        return None
    m = rng.choice(cands)
    return _replace_word(sent, m.start(), m.end(), _cap_like(m.group(0), ANT[m.group(0).lower()]))


def change_number(sent: str, rng: random.Random) -> str | None:
    cands = [m for m in _NUM.finditer(sent) if not _YEAR.fullmatch(m.group(0))]
    if not cands:
        return None
    m = rng.choice(cands)
    raw = m.group(0).replace(",", "")
    val = float(raw)
    factor = rng.choice([0.25, 0.5, 2, 3, 10, 0.1])
    new = val * factor if val >= 2 else val + rng.choice([2, 5, 10])
    if new == val:
        return None
    if "." in raw:
        txt = f"{new:.{len(raw.split('.')[1])}f}"
    else:
        txt = f"{round(new):,}" if "," in m.group(0) else str(round(new))
    if txt == m.group(0):
        return None
    return _replace_word(sent, m.start(), m.end(), txt)


def change_date(sent: str, rng: random.Random) -> str | None:
    years = list(_YEAR.finditer(sent))
    months = [m for m in _WORD.finditer(sent) if m.group(0) in MONTHS]
    days = [m for m in _WORD.finditer(sent) if m.group(0) in WEEKDAYS]
    kinds = [k for k, v in (("y", years), ("m", months), ("d", days)) if v]
    if not kinds:
        return None
    k = rng.choice(kinds)
    if k == "y":
        m = rng.choice(years)
        new = str(int(m.group(0)) + rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 7]))
    elif k == "m":
        m = rng.choice(months)
        new = rng.choice([x for x in MONTHS if x != m.group(0)])
    else:
        m = rng.choice(days)
        new = rng.choice([x for x in WEEKDAYS if x != m.group(0)])
    return _replace_word(sent, m.start(), m.end(), new)


def swap_entity(sent: str, rng: random.Random, names: list[str]) -> str | None:
    """Replace a known place, or a titled person's name, with another one."""
    places = [m for p in PLACES for m in re.finditer(rf"\b{re.escape(p)}\b", sent)]
    persons = list(re.finditer(rf"{PERSON_TITLES}\s+((?:[A-Z][a-z]+\s?){{1,2}})", sent))
    if places and (not persons or rng.random() < 0.5):
        m = rng.choice(places)
        new = rng.choice([p for p in PLACES if p != m.group(0) and p not in sent])
        return _replace_word(sent, m.start(), m.end(), new)
    if persons and names:
        m = rng.choice(persons)
        old = m.group(1).strip()
        cands = [n for n in names if n != old and n not in sent]
        if not cands:
            return None
        new = rng.choice(cands)
        return sent[: m.start(1)] + new + sent[m.start(1) + len(old) :]
    return None


# ---------------------------------------------------------------- entailment edits
_PAREN = re.compile(r",\s+(?:who|which|whose)\b[^,]{3,80},\s+")
_TRAIL_PP = re.compile(
    r"\s+(?:in|on|at|during|last|this|since|after|for)\s+(?:[^\s,;]+\s+){0,3}[^\s,;.!?]+([.!?]?)$"
)
_ADVERBS = re.compile(
    r"\b(?:also|reportedly|recently|currently|still|already|quickly|slowly|"
    r"officially|finally|now|just|very|widely|largely|mostly|nearly|almost)\s+"
)


def synonym(sent: str, rng: random.Random) -> str | None:
    cands = [m for m in _WORD.finditer(sent) if m.group(0).lower() in SYNONYMS]
    if not cands:
        return None
    m = rng.choice(cands)
    return _replace_word(
        sent, m.start(), m.end(), _cap_like(m.group(0), SYNONYMS[m.group(0).lower()])
    )


def hypernym(sent: str, rng: random.Random) -> str | None:
    cands = [m for m in _WORD.finditer(sent) if m.group(0) in HYPERNYMS]
    if not cands:
        return None
    m = rng.choice(cands)
    return _replace_word(sent, m.start(), m.end(), _cap_like(m.group(0), HYPERNYMS[m.group(0)]))


def drop_parenthetical(sent: str, rng: random.Random) -> str | None:
    m = _PAREN.search(sent)
    if not m:
        return None
    return sent[: m.start()] + " " + sent[m.end() :]


def drop_trailing(sent: str, rng: random.Random) -> str | None:
    m = _TRAIL_PP.search(sent)
    if not m or len(sent[: m.start()].split()) < 4:
        return None
    return sent[: m.start()] + (m.group(1) or ".")


def drop_adverb(sent: str, rng: random.Random) -> str | None:
    new = _ADVERBS.sub("", sent, count=1)
    return new if new != sent else None


def sub_clause(sent: str, rng: random.Random) -> str | None:
    """A main clause on its own: the part before ', and' / '; ' / ', but' (if it has >= 4 words)."""
    parts = re.split(r";\s+|,\s+(?:and|but|while|as)\s+", sent)
    if len(parts) < 2:
        return None
    first = parts[0].rstrip(",")
    if len(first.split()) < 4:
        return None
    return first + "."


CONTRA: dict[str, Callable[..., str | None]] = {
    "negation": negate,
    "refusal": refuse,
    "antonym": antonym,
    "number": change_number,
    "date": change_date,
    "entity": swap_entity,
}
ENTAIL: dict[str, Callable[..., str | None]] = {
    "synonym": synonym,
    "hypernym": hypernym,
    "parenthetical": drop_parenthetical,
    "trailing": drop_trailing,
    "adverb": drop_adverb,
    "subclause": sub_clause,
}
INFO_DROPPING = ("parenthetical", "trailing", "subclause", "hypernym")


def _person_names(texts: list[str]) -> list[str]:
    names: set[str] = set()
    for t in texts:
        for m in re.finditer(rf"{PERSON_TITLES}\s+((?:[A-Z][a-z]+\s?){{1,2}})", t):
            names.add(m.group(1).strip())
    return sorted(names)


def generate(
    texts: list[str], *, seed: int = 13, kinds: frozenset[str] | None = None, per_text: int = 1
) -> list[Pair]:
    """Augmented pairs from real premise texts.

    kinds selects families: "contradiction", "entailment", "neutral" (default: all).
    For each text, ``per_text`` sentences are edited; premise = the full original text,
    hypothesis = the edited sentence (RTE-like: long premise, short hypothesis). For
    contradictions, half the pairs also use premise = edited, hypothesis = original sentence.
    """
    kinds = kinds or frozenset({"contradiction", "entailment", "neutral"})
    rng = random.Random(seed)
    names = _person_names(texts)
    by_word: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        for w in set(re.findall(r"(?<=\s)[A-Z][a-z]{3,}", t)):
            by_word.setdefault(w, []).append(i)
    out: list[Pair] = []
    for ti, text in enumerate(texts):
        sents = split_sentences(text)
        if not sents:
            continue
        if "neutral" in kinds and rng.random() < 0.5:
            # same topic (shares a capitalised word), different statement -> neutral
            words = sorted(
                w
                for w in set(re.findall(r"(?<=\s)[A-Z][a-z]{3,}", text))
                if 1 < len(by_word.get(w, ())) < 50
            )
            if words:
                others = [j for j in by_word[rng.choice(words)] if j != ti]
                other = split_sentences(texts[rng.choice(others)]) if others else []
                if other:
                    hyp = rng.choice(other)
                    if hyp not in text:
                        out.append(Pair(text, hyp, "neutral", "aug:topic"))
        for _ in range(per_text):
            sent = rng.choice(sents)
            if "contradiction" in kinds:
                order = list(CONTRA)
                rng.shuffle(order)
                for name in order:
                    fn = CONTRA[name]
                    new = fn(sent, rng, names) if name == "entity" else fn(sent, rng)
                    if new and new != sent:
                        if rng.random() < 0.5 or len(sents) == 1:
                            out.append(Pair(text, new, "contradiction", f"aug:{name}"))
                        else:
                            out.append(Pair(new, sent, "contradiction", f"aug:{name}"))
                        break
            if "entailment" in kinds or "neutral" in kinds:
                order = list(ENTAIL)
                rng.shuffle(order)
                done_e, done_n = "entailment" not in kinds, "neutral" not in kinds
                for name in order:
                    new = ENTAIL[name](sent, rng)
                    if not new or new == sent:
                        continue
                    if not done_e:
                        out.append(Pair(text, new, "entailment", f"aug:{name}"))
                        done_e = True
                    elif not done_n and name in INFO_DROPPING:
                        # reverse direction: hypothesis carries a detail the premise lacks
                        out.append(Pair(new, sent, "neutral", f"aug:rev-{name}"))
                        done_n = True
                    if done_e and done_n:
                        break
    return out
