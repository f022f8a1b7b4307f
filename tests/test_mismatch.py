from datetime import date

import pytest

from service.judge.mismatch import Mismatch, find_agreements, find_mismatches
from service.temporal import Interval

FRI = date(2023, 3, 17)
JULY = date(2022, 7, 5)
XI_VISIT = "Xi will pay a state visit to Moscow from Monday to Wednesday."


def kinds(
    statement: str, passage: str, s_ref: date | None = None, p_ref: date | None = FRI
) -> list[str]:
    return [m.kind for m in find_mismatches(statement, s_ref, passage, p_ref)]


def one(
    statement: str, passage: str, s_ref: date | None = None, p_ref: date | None = FRI
) -> Mismatch:
    found = find_mismatches(statement, s_ref, passage, p_ref)
    assert len(found) == 1, found
    return found[0]


# --- time -----------------------------------------------------------------------------------


def test_xi_2022_statement_conflicts_with_march_2023_visit() -> None:
    m = one("Xi visited Moscow in 2022", XI_VISIT)
    assert m.kind == "time"
    assert m.statement_span == "2022"
    assert m.passage_span == "from Monday to Wednesday"
    assert m.statement_interval == Interval(date(2022, 1, 1), date(2022, 12, 31))
    assert m.passage_interval == Interval(date(2023, 3, 20), date(2023, 3, 22))
    assert m.explanation == (
        "The statement places it in 2022; the passage dates it to 20–22 March 2023."
    )


def test_next_week_passage_also_conflicts_with_2022() -> None:
    passage = "Chinese leader Xi Jinping will visit Russian President Vladimir Putin next week."
    m = one("Xi visited Moscow in 2022", passage)
    assert m.passage_interval == Interval(date(2023, 3, 20), date(2023, 3, 26))


@pytest.mark.parametrize(
    "statement",
    ["Xi visited Moscow in 2023", "Xi visited Moscow in March 2023", "Xi visited Moscow"],
)
def test_consistent_or_timeless_statements_have_no_time_mismatch(statement: str) -> None:
    assert kinds(statement, XI_VISIT) == []


def test_relative_statement_time_uses_its_own_reference() -> None:
    assert kinds("Xi visited Moscow last week", XI_VISIT, s_ref=date(2023, 3, 27)) == []
    assert kinds("Xi visited Moscow last year", XI_VISIT, s_ref=date(2023, 3, 27)) == ["time"]
    assert kinds("Xi visited Moscow last year", XI_VISIT, s_ref=None) == []  # not guessed


def test_passage_without_reference_or_explicit_time_gives_no_time_mismatch() -> None:
    assert kinds("Xi visited Moscow in 2022", XI_VISIT, p_ref=None) == []
    passage = "Chinese leader Xi Jinping refused to come to Russia at the invitation of Putin."
    assert kinds("Xi visited Russia in 2023", passage, p_ref=JULY) == []


def test_any_overlapping_passage_time_prevents_a_time_mismatch() -> None:
    passage = "Xi met Putin in Beijing on February 4 and will visit Moscow in 2023."
    assert kinds("Xi visited Moscow in 2023", passage, p_ref=JULY) == []


def test_times_of_other_events_in_the_passage_are_not_used() -> None:
    passage = (
        "The state visit marks Xi Jinping’s first visit to Russia since Moscow’s invasion of "
        "Ukraine in February last year, although he has kept in touch with Putin and the two "
        "met for discussions about security in Uzbekistan last September."
    )
    assert kinds("Xi visited Moscow in March 2023", passage) == []


def test_time_mismatch_with_past_reference() -> None:
    passage = "Putin and Xi Jinping met in Beijing on February 4 on the eve of the invasion."
    m = one("Putin and Xi met in Beijing in 2021", passage, p_ref=JULY)
    assert (m.kind, m.passage_span) == ("time", "February 4")
    assert m.passage_interval == Interval(date(2022, 2, 4), date(2022, 2, 4))


def test_a_light_verbs_object_is_the_event_it_dates() -> None:
    passage = "BERLIN - Kaltwerk AG made a strong stock market debut on Thursday, its shares up 9%."
    m = one(
        "Kaltwerk made its stock market debut on June 6, 2025.", passage, p_ref=date(2025, 6, 6)
    )
    assert m.passage_interval == Interval(date(2025, 6, 5), date(2025, 6, 5))
    assert kinds("Kaltwerk made its debut on June 5, 2025.", passage, p_ref=date(2025, 6, 6)) == []


def test_a_date_of_the_event_stated_alike_is_an_agreement() -> None:
    passage = "Judge Amara Osei ruled in Accra on Wednesday that the contract was void."
    ref = date(2025, 10, 9)
    statement = "Judge Amara Osei ruled on the contract on October 8, 2025."
    assert find_agreements(statement, None, passage, ref) == ("time",)
    assert kinds(statement, passage, p_ref=ref) == []
    other_day = statement.replace("October 8", "October 7")
    assert find_agreements(other_day, None, passage, ref) == ()
    assert kinds(other_day, passage, p_ref=ref) == ["time"]
    # a time opened by "since" meets almost any later date: no agreement
    since = "It is Xi's first visit to Moscow since the invasion in February 2022."
    assert find_agreements("Xi visited Moscow in 2024.", None, since, ref) == ()


def test_a_state_is_no_report() -> None:
    # "state" shares its crude stem with "stated": the segment is not a report of the vote
    passage = "Bavaria's state parliament on Wednesday approved a law requiring heat pumps."
    ref = date(2025, 11, 20)
    found = find_mismatches("Bavaria's parliament approved the law last month.", ref, passage, ref)
    assert [m.kind for m in found] == ["time"]


# --- numbers --------------------------------------------------------------------------------


def test_crowd_size_conflict_with_qualifier_range() -> None:
    m = one("10,000 people protested in Moscow", "Fewer than a hundred people protested in Moscow.")
    assert m.kind == "number"
    assert (m.statement_span, m.passage_span) == ("10,000 people", "Fewer than a hundred people")


def test_casualty_count_conflict() -> None:
    m = one("3 people were killed in the attack", "12 were killed in the attack, officials said.")
    assert (m.kind, m.statement_span, m.passage_span) == ("number", "3 people", "12")
    assert kinds("Three killed in the attack", "Twelve killed in the attack.") == ["number"]


@pytest.mark.parametrize(
    ("statement", "passage"),
    [
        ("About 10,000 people marched", "More than 9,500 people marched."),
        ("Thousands of people marched", "Some 10,000 people marched through the city."),
        ("3 people were injured in the attack", "12 people were killed in the attack."),
        ("12 killed in the attack", "At least 10 people were killed in the attack."),
        ("Nearly 100 people were arrested", "95 people were arrested."),
        ("The army has 10,000 troops there", "Russia sent 200 tanks."),  # different units
        # a range: either end, or between
        ("Turnout in the by-election was 11%.", "Turnout rose from 4% to 11%, officials said."),
        ("Turnout in the by-election was 43%.", "Turnout was 40% to 45%, officials said."),
    ],
)
def test_compatible_or_incomparable_numbers(statement: str, passage: str) -> None:
    assert kinds(statement, passage) == []


@pytest.mark.parametrize(
    ("statement", "conflicting", "agreeing"),
    [
        # one fact worded two ways: the amount hangs from the same noun or subject
        (
            "Vantora's offer is a 41% premium to Kelby's Monday closing price.",
            "Vantora will pay $38.50 a share, a premium of 38% over Kelby's close on Monday.",
            "The offer of $38.50 per share represents a 41% premium to Kelby's Monday close.",
        ),
        (
            "Turnout in the Ashcombe by-election was 41%.",
            "Turnout was 38%, down from 64% at the general election.",
            "Turnout was 41%, according to the returning officer.",
        ),
        # measures in other units are converted (pint): km/h against kilometres per hour
        (
            "The typhoon had maximum sustained winds of 198 km/h at landfall.",
            "The typhoon made landfall with maximum sustained winds of 180 kilometres per hour.",
            "Sorabi came ashore with maximum sustained winds of 123 miles per hour.",
        ),
    ],
)
def test_a_fact_worded_differently_conflicts_or_agrees(
    statement: str, conflicting: str, agreeing: str
) -> None:
    assert kinds(statement, conflicting) == ["number"]
    assert find_agreements(statement, None, conflicting, FRI) == ()
    assert kinds(statement, agreeing) == []
    assert find_agreements(statement, None, agreeing, FRI) == ("number",)


def test_like_qualified_amounts_compare_by_their_written_numbers() -> None:
    statement = "The measure could add up to 2.1 gigawatts of solar capacity by 2035."
    passage = "The minister said the measure could add up to 1.2 gigawatts of solar capacity."
    assert kinds(statement, passage) == ["number"]
    assert kinds(statement, passage.replace("1.2", "2.1")) == []
    # "about" allows a tenth either way, not a fifth
    assert kinds("Turnout was about 55%.", "Turnout was 46%.") == ["number"]
    assert kinds("Turnout was about 50%.", "Turnout was 46%.") == []


def test_another_subjects_amount_is_not_compared() -> None:
    statement = "Solvend shares ended their first day 19% above the offer price."
    assert kinds(statement, "Vantora shares ended Tuesday down 2.1% at $61.40.") == []
    assert find_agreements(statement, None, "Vantora shares ended 19% higher.", FRI) == ()


def test_a_passage_is_read_the_same_for_each_statement_in_any_order() -> None:
    # a passage's quantities are cached per (text, reference) for the next statement
    passage = "Fewer than a hundred people protested in Moscow on Saturday."
    statements = ["10,000 people protested in Moscow", "About 80 people protested in Moscow"]
    assert [kinds(s, passage) for s in statements] == [["number"], []]
    assert [kinds(s, passage) for s in reversed(statements)] == [[], ["number"]]
    assert kinds(statements[0], passage, p_ref=None) == ["number"]


@pytest.mark.parametrize(
    ("statement", "conflicting", "agreeing"),
    [
        # "an estimated" qualifies the amount; spaCy hangs every word of it from the noun
        (
            "The spill killed an estimated 61,000 trout.",
            "Officials said the spill killed an estimated 16,000 trout in the river.",
            "Officials said the spill killed an estimated 60,000 trout in the river.",
        ),
        # an age, which spaCy tags as a date, against the same person's age in an apposition
        (
            "Marta Lindqvist is 58 years old.",
            "Marta Lindqvist, a 48-year-old engineer, was elected on Sunday.",
            "Marta Lindqvist, a 58-year-old engineer, was elected on Sunday.",
        ),
        # an age set off by commas after a later mention's surname, and one written in words
        (
            "Marta Lindqvist is 58 years old.",
            "Lindqvist, 48, was elected on Sunday.",
            "Lindqvist, 58, was elected on Sunday.",
        ),
        (
            "Arjun Rao is 15 years old.",
            "Sixteen-year-old Arjun Rao won the tournament on Sunday.",
            "Fifteen-year-old Arjun Rao won the tournament on Sunday.",
        ),
        # a copula's amount of a named subject: the subject is its anchor
        (
            "TOI-1452 b is about 4.1 times the mass of Earth.",
            "The planet, named TOI-1452 b, is about 1.4 times the mass of Earth.",
            "The planet, named TOI-1452 b, is roughly 4 times the mass of Earth.",
        ),
        # a race time, to the second
        (
            "Amina Keter won the women's race in 2:21:14.",
            "In the women's race, Kenya's Amina Keter won in 2:21:41, ahead of Sara Tolosa.",
            "The women's race went to Amina Keter of Kenya in 2:21:14.",
        ),
        # the passage names a place where the statement names its subject: no other subject
        (
            "Cyclone Imani had maximum sustained winds of 210 km/h when it came ashore.",
            "The cyclone came ashore near Beira with maximum sustained winds of 160 km/h, "
            "flattening homes.",
            "The cyclone came ashore near Beira with maximum sustained winds of 210 km/h, "
            "flattening homes.",
        ),
        # a span of time, which spaCy tags as a date, converted to one unit (pint)
        (
            "Kestrel Bank is offering affected customers two years of free identity protection.",
            "Kestrel Bank is offering affected customers 12 months of free identity protection.",
            "Kestrel Bank is offering affected customers 24 months of free identity protection.",
        ),
        # "half a million", which the tagger may call a quantity
        (
            "Kenya's health authorities will vaccinate half a million people against cholera.",
            "Health authorities will start vaccinating 800,000 people against cholera.",
            "Health authorities will start vaccinating 500,000 people against cholera.",
        ),
        # a range of two amounts
        (
            "Turnout in the by-election was 52%.",
            "Turnout was between 40% and 45%, officials said.",
            "Turnout was between 50% and 55%, officials said.",
        ),
        # "over the next ...": a span of time, not "more than"
        (
            "Marlow & Finch will open 15 shops over the next three years.",
            "Marlow & Finch will open 15 shops across Yorkshire over the next 18 months.",
            "Marlow & Finch will open 15 shops across Yorkshire over the next 36 months.",
        ),
        # a unit at the end of the sentence ("km/h." is one token there)
        (
            "Cyclone Imani came ashore with maximum sustained winds of 180 km/h.",
            "The cyclone came ashore near Beira with maximum sustained winds of 198 km/h, "
            "flattening homes.",
            "The cyclone came ashore near Beira with maximum sustained winds of 112 mph, "
            "flattening homes.",
        ),
        # "with" hung on the verb in one parse and on the noun in the other
        (
            "The rule covers new warehouses with more than 200 bays.",
            "The council approved a rule requiring solar roofs over new warehouses with more than "
            "80 bays.",
            "The council approved a rule requiring solar roofs over new warehouses with more than "
            "200 bays.",
        ),
    ],
)
def test_amounts_found_by_their_noun_subject_or_age(
    statement: str, conflicting: str, agreeing: str
) -> None:
    assert kinds(statement, conflicting) == ["number"]
    assert kinds(statement, agreeing) == []


@pytest.mark.parametrize(
    ("statement", "passage"),
    [
        # another person's age
        ("Marta Lindqvist is 58 years old.", "Jonas Berg, a 48-year-old engineer, lost."),
        # a copula's amount with an anchor of its own: the offer, not the shares
        (
            "Orlen's offer is a 22% premium to Lotos's closing price.",
            "Lotos shares jumped 18% on Tuesday, while Orlen shares fell 3%.",
        ),
        # spans of time of other things
        ("The strike lasted three days.", "The talks lasted two weeks."),
        # a percentage's own sign is no anchor: other prices, other stocks
        (
            "The $12.40-a-share offer is 22% above where Orlen's stock closed.",
            "The stock opened at 9.10 euros and closed 7% above the offer price.",
        ),
    ],
)
def test_amounts_of_other_things_are_not_compared(statement: str, passage: str) -> None:
    assert kinds(statement, passage) == []


def test_years_and_dates_are_not_quantities() -> None:
    assert kinds("10,000 people marched in 2022", "In 2022, 10,000 people marched.") == []
    assert kinds("Xi visited Moscow on 20 March", "Xi arrived in Moscow on 20 March.") == []


def test_score_and_result_conflicts() -> None:
    found = find_mismatches("Arsenal beat Chelsea 3-1", None, "Chelsea beat Arsenal 2-1.", None)
    assert [(m.kind, m.statement_span, m.passage_span) for m in found] == [
        ("number", "3-1", "2-1"),
        ("number", "Arsenal beat Chelsea", "Chelsea beat Arsenal"),
    ]
    # the result, and the antonym predicates won/lost about one subject
    assert kinds("Arsenal won 3-1", "Arsenal lost to Chelsea 1-3.") == ["number", "polarity"]
    assert kinds("Arsenal beat Chelsea 3-1", "Arsenal defeated Chelsea 3-1 on Sunday.") == []
    assert kinds("Arsenal drew with Chelsea", "Chelsea beat Arsenal on Sunday.") == ["number"]


# --- entities -------------------------------------------------------------------------------


def test_destination_swapped() -> None:
    m = one("Xi visited Moscow", "Xi visited Beijing last week.")
    assert (m.kind, m.statement_span, m.passage_span) == ("entity", "Moscow", "Beijing")
    assert "Moscow" in m.explanation and "Beijing" in m.explanation


def test_subject_swapped() -> None:
    m = one("Putin visited Moscow", XI_VISIT)
    assert (m.kind, m.statement_span, m.passage_span) == ("entity", "Putin", "Xi")
    m = one("Biden met Putin in Geneva", "Macron met Putin in Geneva.")
    assert (m.statement_span, m.passage_span) == ("Biden", "Macron")


def test_location_of_meeting_swapped() -> None:
    m = one("Xi met Putin in Moscow", "Xi met Putin in Beijing.")
    assert (m.kind, m.statement_span, m.passage_span) == ("entity", "Moscow", "Beijing")


@pytest.mark.parametrize(
    ("statement", "passage"),
    [
        ("Xi visited Russia", XI_VISIT),  # Moscow is in Russia
        ("Xi Jinping visited Moscow", "Chinese President Xi visited Moscow."),  # aliases
        ("Xi Jinping visited Moscow", "Mr. Xi traveled to Moscow."),  # verb paraphrase
        ("Xi visited Beijing", "Xi Jinping refused to visit Moscow, citing the pandemic."),
        ("Xi visited Moscow", "Xi did not visit Beijing."),  # negated
        ("Beijing rejected Putin's request", "Xi rejected Putin's request."),  # place vs person
        ("Xi visited Moscow", "Putin visited Beijing."),  # two slots differ: another event
        ("Xi visited Moscow and Beijing", "Xi visited Beijing."),
        ("Xi visited Moscow", "Xi met Putin in Beijing."),  # another verb
    ],
)
def test_no_entity_false_positives(statement: str, passage: str) -> None:
    assert [m for m in find_mismatches(statement, None, passage, FRI) if m.kind == "entity"] == []


def test_verb_paraphrase_still_detects_subject_swap() -> None:
    m = one("Putin traveled to Beijing", "Xi Jinping flew to Beijing.")
    assert (m.statement_span, m.passage_span) == ("Putin", "Xi Jinping")


def test_may_the_verb_causes_nothing() -> None:
    assert (
        find_mismatches("Putin may visit China", None, "10,000 people may march in May.", JULY)
        == []
    )


def test_present_tense_passage_without_a_time_is_dated_by_its_publication() -> None:
    headline = "Chinese President Xi Jinping visits President Putin in Moscow"
    published = date(2023, 3, 17)
    found = find_mismatches("Xi visited Moscow in 2022", None, headline, published)
    assert [m.kind for m in found] == ["time"]
    assert found[0].passage_interval is not None
    assert found[0].passage_interval.start <= published <= found[0].passage_interval.end
    assert "17 March 2023" in found[0].explanation
    assert find_mismatches("Xi visited Moscow in 2023", None, headline, published) == []
    # Past tense only says "before publication"; without a publication date nothing is dated.
    past = "Xi Jinping visited President Putin in Moscow"
    assert find_mismatches("Xi visited Moscow in 2022", None, past, published) == []
    assert find_mismatches("Xi visited Moscow in 2022", None, headline, None) == []
