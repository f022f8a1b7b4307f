"""What a passage leaves out of a statement (service/judge/coverage.py), on real spaCy parses."""

from datetime import date

import pytest

from service.judge.annotate import annotate
from service.judge.coverage import Detail, missing_details

PUBLISHED = date(2025, 3, 12)  # a Wednesday


def missing(statement: str, passage: str) -> list[tuple[str, str]]:
    found = missing_details(annotate(statement, PUBLISHED), annotate(passage, PUBLISHED), passage)
    return [(d.kind, d.text) for d in found]


@pytest.mark.parametrize(
    ("statement", "passage"),
    [
        # the same people and organisations in other words
        (
            "Jana Kessler co-founded Solvend Energy.",
            "Solvend was founded in 2016 by Jana Kessler and two engineering graduates.",
        ),
        # a country is stated by a city inside it, a surname by the full name
        ("Xi visited Russia in 2023.", "Xi Jinping arrived in Moscow on March 20, 2023."),
        # "on Tuesday" resolved against the publication date is March 11
        (
            "Kelby's board backed the sale on March 11, 2025.",
            "Kelby's board voted on Tuesday to back the sale.",
        ),
        # "$4.2bn" and "$4.2 billion" are one figure; "about 6,300" meets 6,250
        ("Vantora will pay $4.2bn.", "Vantora agreed to pay $4.2 billion in cash."),
        ("Kelby employs 6,250 people.", "Kelby employs about 6,300 people."),
    ],
)
def test_a_passage_that_states_every_detail_misses_nothing(statement: str, passage: str) -> None:
    assert missing(statement, passage) == []


@pytest.mark.parametrize(
    ("statement", "passage", "expected"),
    [
        pytest.param(
            "Bekele won the Rotterdam Marathon.",
            "Kenya's Daniel Kiprono won the Rotterdam Marathon on Sunday.",
            ("name", "Bekele"),
            id="a-name-the-passage-does-not-state",
        ),
        pytest.param(
            "Xi visited Moscow.",
            "Xi Jinping visited Russia.",
            ("name", "Moscow"),
            id="a-city-is-not-stated-by-its-country",
        ),
        pytest.param(
            "Vantora will pay $5 billion.",
            "Vantora will pay $4.2 billion.",
            ("number", "$5 billion"),
            id="another-figure-of-the-same-unit",
        ),
        pytest.param(
            "The board backed the sale on March 10, 2025.",
            "The board voted on Tuesday to back the sale.",
            ("time", "March 10, 2025"),
            id="a-date-the-passage-does-not-give",
        ),
    ],
)
def test_a_detail_the_passage_does_not_state_is_missing(
    statement: str, passage: str, expected: tuple[str, str]
) -> None:
    assert missing(statement, passage) == [expected]


def test_a_passage_without_any_time_does_not_state_the_statements_date() -> None:
    found = missing_details(
        annotate("The plant opened in 2019.", PUBLISHED),
        annotate("The plant opened to great fanfare.", PUBLISHED),
        "The plant opened to great fanfare.",
    )
    assert found == (Detail(kind="time", text="2019"),)
