"""Property-based tests: time arithmetic is total over the whole date range.

A document's ``published_at`` and a check's ``as_of`` may be any date the schema admits,
0001-01-01 and 9999-12-31 included; no time expression resolved against them may raise.
"""

from __future__ import annotations

import datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.judge.agreement import corroborates, polarity_conflict
from service.judge.mismatch import find_mismatches
from service.temporal import extract_times, shift

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
RELATIVE = [
    "today", "yesterday", "tomorrow", "tonight", "this morning",
    "last week", "next week", "this week", "last weekend", "next weekend",
    "last month", "next month", "this month", "past month", "the past week",
    "last year", "next year", "this year", "the past year", "the past decade",
    "last decade", "next decade", "this decade", "earlier this week", "later this month",
    "later this year", "3 days ago", "two weeks ago", "twelve months ago", "5 years ago",
    "the new year", "in May", "in December", "in January", "last spring", "next winter",
    "in the summer", "in the winter", "June 15", "15 March", "20-22 March", "March 20-22",
    "early next year", "the first half of next year", "the end of last month",
    "in 2023", "the 1990s", "spring 2023", "winter 2023",
]  # fmt: skip
PREFIXES = ["", "on ", "from ", "since ", "until ", "after ", "before ", "by "]
MODIFIERS = ["", "last ", "next ", "this ", "coming ", "past "]
FRAMES = [
    "Xi arrived in Moscow {}",
    "Xi will visit Moscow {}",
    "Xi is scheduled to visit Russia {}",
    "{}, Xi met Putin",
    "Putin said Xi was in Moscow {}",
]

weekday_phrase = st.builds(
    lambda mod, wd: mod + wd, st.sampled_from(MODIFIERS), st.sampled_from(WEEKDAYS)
)
expression = st.builds(
    lambda prefix, expr: prefix + expr,
    st.sampled_from(PREFIXES),
    st.one_of(weekday_phrase, st.sampled_from(RELATIVE)),
)
sentence = st.builds(
    lambda frame, first, second, join: frame.format(first + join + second),
    st.sampled_from(FRAMES),
    expression,
    expression,
    st.sampled_from(["", " to ", " and ", "-", ", "]),
)
# Every date of the calendar, its two ends and their neighbours drawn often.
EDGES = [datetime.date.min, datetime.date.max, datetime.date(1, 1, 7), datetime.date(9999, 12, 25)]
any_date = st.one_of(st.sampled_from(EDGES), st.dates())


@settings(max_examples=400, deadline=None)
@given(text=sentence, ref=any_date)
@example(text="Xi arrived in Moscow on Monday", ref=datetime.date.min)
@example(text="Xi arrived in Moscow on Monday", ref=datetime.date.max)
@example(text="Xi will visit Moscow next decade", ref=datetime.date.max)
@example(text="Xi arrived in Moscow last year", ref=datetime.date.min)
def test_extract_times_is_total_over_every_date(text: str, ref: datetime.date) -> None:
    for found in extract_times(text, ref):
        assert found.interval.start <= found.interval.end, (text, ref, found)
        assert text[found.start : found.end] == found.text


@settings(max_examples=200, deadline=None)
@given(
    statement=sentence,
    passage=sentence,
    as_of=st.one_of(st.none(), any_date),
    published=st.one_of(st.none(), any_date),
)
@example(
    statement="Xi arrived in Moscow on Monday",
    passage="Xi is scheduled to visit Russia from Monday to Wednesday",
    as_of=datetime.date.min,
    published=datetime.date.max,
)
def test_comparing_times_is_total_over_every_date(
    statement: str,
    passage: str,
    as_of: datetime.date | None,
    published: datetime.date | None,
) -> None:
    find_mismatches(statement, as_of, passage, published)
    polarity_conflict(statement, as_of, passage, published)
    corroborates(statement, as_of, passage, published)


@given(day=any_date, days=st.integers(-4_000_000, 4_000_000))
def test_shift_clamps_at_the_calendar_ends(day: datetime.date, days: int) -> None:
    moved = shift(day, datetime.timedelta(days=days))
    if datetime.date.min.toordinal() <= day.toordinal() + days <= datetime.date.max.toordinal():
        assert moved.toordinal() == day.toordinal() + days
    else:
        assert moved == (datetime.date.min if days < 0 else datetime.date.max)
