"""HTML documents: the article text and its metadata, extracted with trafilatura (offline).

trafilatura finds the article in the page and leaves out its navigation, cookie banners,
bylines, link lists, comments and footers. The extracted text is what the service stores
and splits, so claim offsets point into it.
"""

from __future__ import annotations

import logging

import msgspec

from service.schemas import parse_date


class Extracted(msgspec.Struct, frozen=True, kw_only=True):
    """The article of an HTML page and what the page says about it."""

    text: str
    title: str | None = None
    author: str | None = None
    published_at: str | None = None  # ISO date
    url: str | None = None


# trafilatura logs a page it finds nothing in as an error; for the service that is an
# ordinary answer (a document without claims), not a fault to alert on.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def extract(html: str) -> Extracted:
    """The article text and metadata of ``html``; the text is empty when it holds none.

    No deduplication: trafilatura's drops text it has seen in *earlier* pages of the
    process, so a corrected page would lose its unchanged paragraphs.
    """
    # Imported here: trafilatura takes half a second to import, and most runs need no HTML.
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    doc = bare_extraction(html, with_metadata=True, include_comments=False)
    if not isinstance(doc, Document):
        return Extracted(text="")
    text = (doc.text or "").strip()
    date = doc.date
    if date is not None:
        try:
            parse_date(date, "published_at")
        except ValueError:
            date = None  # a date the page gives in a form the API does not take
    return Extracted(
        text=text,
        title=doc.title or None,
        author=doc.author or None,
        published_at=date,
        url=doc.url or None,
    )
