"""Cleaning and splitting on the real seed articles and on boilerplate of other sites."""

from __future__ import annotations

import json

import pytest

from service.clean import clean
from service.split import split_document

from .conftest import SEEDS

# Every piece of site furniture in the seeds: none may become a claim.
SEED_BOILERPLATE = [
    "Leave a Reply",
    "Leave a Comment",
    "Your email address will not be published",
    "read more",
    "See also",
    "Advertisements",
    "What do you think?",
    "Written by",
    "Related News",
    "by admin",
    "Liked by",
    "Fill in your details",
    "You are commenting using",
    "Connecting to %s",
    "Akismet",
    "Log Out",
    "photo REUTERS",
    "play video",
    "(C)UNIAN",
    "Translated article from",
    "Chicago Popular",
    "March Madness",
    "Hahaha",
    "WordPress.com Logo",
    "Home Lifestyle",
    "NATO adopted a new strategic concept",
    "German newspaper slams Merkel",
    "اقرأ",
]


def _seeds() -> list[tuple[dict[str, str], str]]:
    metas = [
        json.loads(line) for line in (SEEDS / "metadata.jsonl").read_text().splitlines() if line
    ]
    return [(m, (SEEDS / m["file"]).read_text()) for m in metas]


@pytest.mark.parametrize(
    ("meta", "text"), _seeds(), ids=lambda v: v["id"] if isinstance(v, dict) else ""
)
def test_no_boilerplate_in_seed_claims(meta: dict[str, str], text: str) -> None:
    split = split_document(text, title=meta["title"])
    assert len(split.claims) >= 5
    for claim in split.claims:
        for junk in SEED_BOILERPLATE:
            assert junk.casefold() not in claim.text.casefold(), (junk, claim.text)


@pytest.mark.parametrize(
    ("meta", "text"), _seeds(), ids=lambda v: v["id"] if isinstance(v, dict) else ""
)
def test_offsets_point_into_the_original(meta: dict[str, str], text: str) -> None:
    split = split_document(text, title=meta["title"])
    for claim in split.claims:
        assert text[claim.start : claim.end] == claim.text
        assert claim.text in claim.context
    for span, reason in split.dropped:
        assert text[span.start : span.end] == span.text
        assert reason


def test_article_sentences_survive() -> None:
    meta, text = _seeds()[2]
    # Scraped text keeps its no-break spaces (offsets stay exact); compare on words.
    claims = [" ".join(c.text.split()) for c in split_document(text, title=meta["title"]).claims]
    assert any(
        c.startswith("Chinese leader Xi Jinping") and "refused to come to Russia" in c
        for c in claims
    )
    # The glued widget text is trimmed from the sentence, not kept in it.
    assert any(c.endswith("restrictions caused by the coronavirus.") for c in claims)


def test_rules_generalise_to_other_sites() -> None:
    text = (
        "Storm closes port for a week\n\n"
        "By Jane Doe\n"
        "Share on Facebook\n"
        "Photo: Getty Images\n\n"
        "The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.\n"
        "Officials said repairs would take at least a week.\n\n"
        "Advertisement\n\n"
        "Read more:\n"
        "Why ports are getting bigger\n\n"
        "Shipping companies rerouted 40 vessels to Antwerp, the harbour master said.\n\n"
        "Sign up for our newsletter\n"
        "Comments (12)\n"
        "Great article, thanks for sharing this with everyone!\n"
    )
    split = split_document(text, title="Storm closes port for a week")
    claims = [c.text for c in split.claims]
    assert claims == [
        "Storm closes port for a week",
        "The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.",
        "Officials said repairs would take at least a week.",
        "Shipping companies rerouted 40 vessels to Antwerp, the harbour master said.",
    ]
    reasons = {span.text: why for span, why in split.dropped}
    assert reasons["Why ports are getting bigger"] == "linked headline"
    assert (
        reasons["Great article, thanks for sharing this with everyone!"] == "after end of article"
    )


def test_bullets_are_layout_not_text() -> None:
    cleaned = clean("  • China said Xi will pay a state visit to Moscow.\n", language="en")
    assert cleaned.kept[0].text == "China said Xi will pay a state visit to Moscow."
    assert cleaned.kept[0].start == 4
