"""Polarity conflicts and corroboration on real news sentences (pure logic: no models)."""

from __future__ import annotations

import datetime as dt

import pytest

from service.judge.agreement import corroborates, polarity_conflict

JULY_2022 = dt.date(2022, 7, 5)  # the reports of Xi declining Putin's invitation
MARCH_2023 = dt.date(2023, 3, 17)  # the announcements of the March 2023 state visit

REJECTED = "Beijing rejected Putin’s request for Xi Jinping to visit Moscow"
TURNED_DOWN = "Xi Jinping turns down Putin’s invitation to visit Russia – media"
REFUSED_TO_COME = (
    "Chinese leader Xi Jinping  refused to come to Russia at the invitation of Russian "
    "President Vladimir Putin."
)
DIFFICULT = (
    "Diplomatic sources in Beijing said that during a June 15 telephone conversation with Xi "
    "Jinping, Putin invited him to visit Russia, but the Chinese leader said it would be "
    "“difficult” to come to Russia in the near future."
)
NOT_CONFIRMED = "Ignored Putin's invitation: China did not confirm Xi Jinping's visit to Moscow"
VISITS = "Chinese President Xi Jinping visits President Putin in Moscow"
WILL_PAY = (
    "China’s foreign ministry said in a statement on Friday that Xi will pay a state visit to "
    "Moscow from Monday to Wednesday."
)
NOT_CONDEMNED = (
    "Beijing has not condemned Russia’s invasion of Ukraine, despite strong international "
    "pressure to do so."
)


@pytest.mark.parametrize(
    ("passage", "published"),
    [
        (REJECTED, JULY_2022),
        (TURNED_DOWN, JULY_2022),
        (REFUSED_TO_COME, JULY_2022),
        (NOT_CONFIRMED, dt.date(2022, 12, 31)),
        ("Xi Jinping's visit to Moscow was called off.", JULY_2022),
    ],
)
def test_a_refused_visit_conflicts_with_a_visit_in_that_year(
    passage: str, published: dt.date
) -> None:
    found = polarity_conflict("Xi visited Moscow in 2022", None, passage, published)
    assert found is not None
    assert found.kind == "polarity"
    assert not corroborates("Xi visited Moscow in 2022", None, passage, published)


def test_a_passage_is_read_afresh_for_each_statement() -> None:
    # the rules cache what they read of a passage; the statement's side must still count
    for _ in range(2):
        assert polarity_conflict("Xi visited Moscow in 2022", None, REJECTED, JULY_2022)
        assert polarity_conflict("Xi visited Moscow in 2023", None, REJECTED, JULY_2022) is None
        assert corroborates("Xi refused to visit Moscow in 2022", None, REJECTED, JULY_2022)
        assert not corroborates("Xi visited Moscow in 2022", None, REJECTED, JULY_2022)


def test_a_refusal_does_not_speak_for_the_following_year() -> None:
    assert polarity_conflict("Xi visited Moscow in 2023", None, REJECTED, JULY_2022) is None


def test_near_future_wording_stretches_the_refusal_half_a_year() -> None:
    statement = "Xi visited Russia in January 2023"
    assert polarity_conflict(statement, None, DIFFICULT, dt.date(2022, 10, 1)) is not None
    assert polarity_conflict(statement, None, REFUSED_TO_COME, dt.date(2022, 10, 1)) is None


def test_a_refusal_does_not_speak_for_years_long_before_it() -> None:
    assert polarity_conflict("Xi visited Moscow in 2019", None, REJECTED, JULY_2022) is None


def test_a_time_less_visit_is_not_refuted_by_one_refusal() -> None:
    # Xi declined in 2022 and went in 2023: "Xi visited Moscow" is true.
    assert polarity_conflict("Xi visited Moscow", None, REJECTED, JULY_2022) is None


def test_has_not_conflicts_even_without_a_time() -> None:
    statement = "China has condemned Russia's invasion of Ukraine"
    found = polarity_conflict(statement, None, NOT_CONDEMNED, MARCH_2023)
    assert found is not None
    assert found.passage_span == "condemned"


def test_statements_about_the_refusal_agree_with_reports_of_it() -> None:
    statement = "Xi refused Putin's invitation"
    passage = "Xi turned down Putin's invitation"
    assert polarity_conflict(statement, None, passage, JULY_2022) is None
    assert corroborates(statement, None, passage, JULY_2022)


@pytest.mark.parametrize("passage", [TURNED_DOWN, REFUSED_TO_COME, DIFFICULT, REJECTED])
def test_refusal_statement_is_corroborated_by_each_report(passage: str) -> None:
    statement = "Xi Jinping refused Putin's invitation to visit Russia"
    assert corroborates(statement, None, passage, JULY_2022)
    assert polarity_conflict(statement, None, passage, JULY_2022) is None


def test_a_time_less_refusal_does_not_conflict_with_a_later_visit() -> None:
    statement = "Xi Jinping refused Putin's invitation to visit Russia"
    assert polarity_conflict(statement, None, VISITS, MARCH_2023) is None
    assert not corroborates(statement, None, VISITS, MARCH_2023)


def test_a_negated_statement_conflicts_with_a_visit_dated_inside_its_time() -> None:
    found = polarity_conflict("Xi did not visit Moscow in 2023", None, VISITS, MARCH_2023)
    assert found is not None
    assert polarity_conflict("Xi did not visit Moscow in 2021", None, VISITS, MARCH_2023) is None


@pytest.mark.parametrize(
    "statement",
    [
        "Xi visited Moscow in 2023",
        "Xi Jinping made a state visit to Moscow in March 2023",
        "Xi visited Russia",
    ],
)
def test_a_present_tense_report_corroborates_around_its_publication(statement: str) -> None:
    assert corroborates(statement, None, VISITS, MARCH_2023)


def test_an_announced_visit_is_dated_by_its_own_days() -> None:
    statement = "Xi Jinping made a state visit to Moscow in March 2023"
    assert corroborates(statement, None, WILL_PAY, MARCH_2023)
    assert not corroborates("Xi visited Moscow in April 2023", None, WILL_PAY, MARCH_2023)


def test_a_present_tense_report_says_nothing_about_another_year() -> None:
    assert not corroborates("Xi visited Moscow in 2021", None, VISITS, MARCH_2023)
    assert not corroborates("Xi visited Moscow in 2023", None, VISITS, None)


@pytest.mark.parametrize(
    ("statement", "passage"),
    [
        ("Xi could visit Moscow", VISITS),  # a possibility claims nothing
        ("Xi visited Moscow", "Xi could visit Moscow soon, officials said."),
        ("Xi visited Moscow", "Putin invited Xi to visit Moscow."),
        ("Xi visited Moscow", "Xi Jinping visits Putin in Beijing"),  # Moscow missing
        ("Xi visited Moscow", "Biden visited Moscow"),  # another subject
        ("Xi visited Moscow", "Xi visited Moscow but did not visit Kyiv"),  # both readings
    ],
)
def test_no_corroboration(statement: str, passage: str) -> None:
    assert not corroborates(statement, None, passage, MARCH_2023)


def test_a_city_agrees_with_its_country_and_a_short_name_with_the_full_one() -> None:
    assert corroborates("Xi visited Russia", None, "Xi Jinping arrived in Moscow", None)


def test_an_infinitive_is_no_visit_but_a_schedule_is() -> None:
    turn = "According to diplomatic rules, it was Xi Jinping’s turn to visit Russia."
    assert not corroborates("Xi visited Moscow", None, turn, dt.date(2022, 7, 5))
    scheduled = "Chinese President Xi Jinping is scheduled to visit Russia from Monday."
    assert corroborates("Xi visited Russia in March 2023", None, scheduled, MARCH_2023)
