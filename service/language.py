"""Language identification with py3langid (offline): the service checks English text only.

The stance model, the splitter's rules and the time, number and entity rules all read
English. Documents and statements are identified so that a response can say when a
statement or a passage is in another language, where its verdict means little.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

ENGLISH = "en"
# Candidates: the languages a newsroom corpus is likely to hold. Fewer candidates make
# short texts less often mistaken for a language nobody sends.
LANGUAGES = (
    "en de fr es it pt nl sv da no fi pl cs sk hu ro bg el ru uk tr ar fa he hi zh ja ko id vi"
)
# Below this probability a text counts as English: short English statements ("Putin met
# Xi", "Rotterdam port storm") score 0.1-0.3 for some other language, while a sentence in
# another language scores 0.6-1.0 for it.
MIN_PROBABILITY = 0.5


@cache
def identifier() -> LanguageIdentifier:
    """The model, loaded once (half a second: the engine loads it at start-up)."""
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(LANGUAGES.split())
    return identifier


def detect(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language when it is surely not English, else ``en``."""
    language, probability = identifier().classify(text)
    return str(language) if probability >= MIN_PROBABILITY else ENGLISH
