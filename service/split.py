"""Splitting: cut cleaned article lines into claims with offsets into the original text.

Sentences come from nupunkt (a maintained Punkt implementation). Each line kept by
cleaning is segmented on its own, so a sentence never spans a paragraph break; offsets
are kept into the original document so a client can highlight the exact passage.
"""

from __future__ import annotations

import re

import msgspec
import nupunkt

from service.clean import Span, clean, lines

MIN_WORDS = 4
MAX_CHARS = 1_000
# Widget text glued to the end of a sentence by scraping ("...the coronavirus.play video").
_GLUED_WIDGET = re.compile(
    r"(?<=[.!?”\"])\s*(play video|watch video|read more|advertisement)\s*$", re.IGNORECASE
)
_LETTER = re.compile(r"[^\W\d_]")
_TERMINAL = re.compile(r"[.!?…:;][\"'”’)\]]*$")
# A sentence cut off by the scrape ends on a word that cannot end a sentence.
_DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "by",
        "as",
        "according",
        "than",
        "that",
        "which",
    ]
)


class Claim(msgspec.Struct, frozen=True):
    """A sentence of a document, ready to embed and index."""

    seq: int
    start: int
    end: int
    text: str
    context: str


def sentences(text: str, offset: int = 0) -> list[Span]:
    """Segment ``text`` into sentences; offsets are shifted by ``offset``."""
    spans: list[Span] = []
    for start, end in nupunkt.sent_spans(text):
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trimmed = piece.strip()
        if trimmed:
            s = start + lead
            spans.append(Span(offset + s, offset + s + len(trimmed), trimmed))
    return spans


def _trim_widget(span: Span) -> Span:
    match = _GLUED_WIDGET.search(span.text)
    if not match:
        return span
    text = span.text[: match.start()].rstrip()
    return Span(span.start, span.start + len(text), text)


def _rejection(span: Span) -> str | None:
    words = span.text.split()
    if len(words) < MIN_WORDS or not _LETTER.search(span.text):
        return "too short"
    if len(span.text) > MAX_CHARS:
        return "too long for one claim"
    if not _TERMINAL.search(span.text) and words[-1].casefold() in _DANGLING:
        return "cut-off sentence"
    return None


def split_lines(lines: list[Span]) -> tuple[list[Span], list[tuple[Span, str]]]:
    """Sentences of the kept lines (trimmed of glued widgets), and the rejected ones."""
    kept: list[Span] = []
    rejected: list[tuple[Span, str]] = []
    for line in lines:
        for span in sentences(line.text, line.start):
            span = _trim_widget(span)
            reason = _rejection(span)
            if reason is None:
                kept.append(span)
            else:
                rejected.append((span, reason))
    return kept, rejected


def claims(spans: list[Span]) -> list[Claim]:
    """Claims with their context: the neighbouring sentence on each side."""
    result = []
    for i, span in enumerate(spans):
        before = spans[i - 1].text if i > 0 else ""
        after = spans[i + 1].text if i + 1 < len(spans) else ""
        context = " ".join(part for part in (before, span.text, after) if part)
        result.append(Claim(i, span.start, span.end, span.text, context))
    return result


class Split(msgspec.Struct, frozen=True):
    """A document cut into claims, with everything left out and why."""

    claims: list[Claim]
    dropped: list[tuple[Span, str]]


def split_document(
    text: str, *, title: str = "", language: str = "en", layout: str = "article"
) -> Split:
    """Clean and split a document into claims; report dropped lines and sentences.

    With ``layout="lines"`` every non-empty line is one claim, kept whole and uncleaned.
    """
    if layout == "lines":
        return Split(claims=claims(list(lines(text))), dropped=[])
    cleaned = clean(text, title=title, language=language)
    kept, rejected = split_lines(cleaned.kept)
    dropped = list(cleaned.dropped)
    dropped.extend(rejected)
    dropped.sort(key=lambda item: item[0].start)
    return Split(claims=claims(kept), dropped=dropped)


_LINE = re.compile(r"[^\r\n]+")


def statement_spans(text: str) -> list[Span]:
    """Every sentence of an editor's draft, with offsets into ``text``.

    Unlike :func:`split_document` nothing is cleaned or rejected: the editor wrote every
    line, so every sentence is checked. A sentence never spans a line break.
    """
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        spans.extend(sentences(line.group(), line.start()))
    return spans
