"""The lexical side shared by every store: which words of a statement are searched for."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
# Words that carry no evidence on their own; BM25 would mostly ignore them anyway.
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "to",
        "was",
        "were",
        "will",
        "with",
        "this",
        "these",
        "those",
        "did",
        "does",
        "do",
        "not",
    ]
)


def query_words(text: str) -> list[str]:
    """The statement's distinct content words, case-folded, in order of appearance."""
    words = [w for w in _WORD.findall(text.casefold()) if w not in _STOP and len(w) > 1]
    return list(dict.fromkeys(words))
