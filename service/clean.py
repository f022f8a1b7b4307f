"""Cleaning: find the lines of a scraped article that are article text, drop the rest.

Scraped news carries the site around the article: comment forms, share and login
widgets, "read more" link lists, ad markers, bylines, photo captions repeated as
credits, breadcrumbs, and trailing lists of other headlines. The rules below look at
the *shape* of a line (what widgets and footers look like on any site), not at the
strings of one site, and every dropped line is reported with its reason so that what
was dropped can be inspected. Offsets always point into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import msgspec

# A line that marks the end of the article body: everything after it is site furniture
# (comment sections, footers, lists of other stories).
_END_OF_ARTICLE = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|(\d+\s+)?comments?\s*(\(\d+\))?:?|"
    r"related (news|articles?|posts?|stories|content)|more from\b.*|what do you think\??|"
    r"(\(c\)|©|copyright)\s*\S.*|all rights reserved\.?.*)\s*$",
    re.IGNORECASE,
)
# A line that announces a link list: the next line (a linked headline) goes with it.
_LINK_LEAD = re.compile(
    r"^\s*(read (more|also)|see also|also read|related|recommended|watch|more)\s*:?\s*$",
    re.IGNORECASE,
)
# Widget, ad and credit lines of any site.
_WIDGET = re.compile(
    r"^\s*(advertisements?|sponsored( content)?|ad|share( this( article| story)?)?( on \w+)?|"
    r"(share|follow us) on .*|click (here|to share).*|print|email|"
    r"(log|sign)\s?(in|out|up)\b.*|subscribe\b.*|"
    r"(read more|see also|also read|read also)\b.*|"
    r"play video|watch( the)? video|"
    r"(written |posted )?by [\w .'-]{1,40}|author:.*|.*\bauthor: [\w .'-]+|"
    r"translated (article )?from\b.*|"
    r"your email address will not be published.*|fill in your details.*|"
    r"you are commenting using.*|connecting to %s|"
    r"this site uses akismet.*|liked by \d+ (people|person)|"
    r"(image|photo|picture|video)( credit)?s?:.*|.*\\\s*photo\s+\w+.*|"
    r".*\b(getty images|shutterstock|ap photo|afp photo)\b.{0,20})\s*$",
    re.IGNORECASE,
)
_BULLETS = "•·▪◦*-–—>"
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_LETTER = re.compile(r"[^\W\d_]")


class Span(msgspec.Struct, frozen=True):
    """A piece of the original text: ``text == original[start:end]``."""

    start: int
    end: int
    text: str


class Cleaned(msgspec.Struct, frozen=True):
    """The result of cleaning: kept lines (article body) and dropped lines with reasons."""

    kept: list[Span]
    dropped: list[tuple[Span, str]]


def lines(text: str) -> Iterator[Span]:
    """Non-empty lines of ``text`` without surrounding space and list bullets."""
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        # List bullets are layout, not text: the claim starts after them.
        stripped = body.strip().lstrip(_BULLETS).lstrip()
        if stripped:
            lead = len(body) - len(body.lstrip().lstrip(_BULLETS).lstrip())
            yield Span(pos + lead, pos + lead + len(stripped), stripped)
        pos += len(raw)


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _foreign_script(text: str, language: str) -> bool:
    """True when an English document's line is mostly in a non-Latin script."""
    if language != "en":
        return False
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return bool(letters) and latin / len(letters) < 0.5


def _is_heading(line: Span) -> bool:
    """Short lines without sentence punctuation: section heads, kickers, fragments."""
    return len(line.text.split()) <= 10 and not _TERMINAL.search(line.text)


def clean(text: str, *, title: str = "", language: str = "en") -> Cleaned:
    """Split ``text`` into lines and sort them into article body and furniture."""
    kept: list[Span] = []
    dropped: list[tuple[Span, str]] = []
    seen: set[str] = set()
    norm_title = _normal(title)
    after_end = False
    skip_next = False
    for line in lines(text):
        norm = _normal(line.text)
        reason: str | None = None
        if after_end:
            reason = "after end of article"
        elif _END_OF_ARTICLE.match(line.text):
            after_end, reason = True, "end of article marker"
        elif skip_next:
            reason = "linked headline"
        elif _LINK_LEAD.match(line.text):
            reason = "link list"
        elif _WIDGET.match(line.text):
            reason = "widget, ad or credit"
        elif not _LETTER.search(line.text):
            reason = "no words"
        elif norm in seen:
            reason = "repeated line"
        elif norm_title and norm != norm_title and norm.endswith(norm_title):
            reason = "breadcrumb"
        elif _foreign_script(line.text, language):
            reason = "other language"
        elif norm != norm_title and _is_heading(line):
            # The headline itself is kept: it is the article's first claim.
            reason = "heading or fragment"
        skip_next = reason == "link list"
        seen.add(norm)
        if reason is None:
            kept.append(line)
        else:
            dropped.append((line, reason))
    return Cleaned(kept=kept, dropped=dropped)
