"""The verdict rule, case by case (pure logic: no models)."""

from __future__ import annotations

import pytest

from service.verdict import (
    CORROBORATION_FLOOR,
    MISMATCH_FLOOR,
    PARAPHRASE_FLOOR,
    Judged,
    decide,
    relevance,
    weights,
)


def p(
    sim: float,
    s: float,
    c: float,
    source: str,
    mismatch: str | None = None,
    corroborated: bool = False,
    mentions_event: bool | None = None,
) -> Judged:
    return Judged(
        similarity=sim,
        supports=s,
        neutral=1 - s - c,
        contradicts=c,
        source=source,
        mismatch=mismatch,
        corroborated=corroborated,
        mentions_event=mentions_event,
    )


def test_no_passages_is_not_enough_info() -> None:
    d = decide([])
    assert d.verdict == "not_enough_info"
    assert d.reasons == ["no_relevant_evidence"]


def test_off_topic_passages_do_not_count_whatever_their_stance() -> None:
    d = decide([p(0.2, 0.99, 0.0, "a"), p(0.25, 0.0, 0.99, "b")])
    assert d.verdict == "not_enough_info"
    assert "no_relevant_evidence" in d.reasons


def test_one_strong_relevant_supporting_source() -> None:
    d = decide([p(0.75, 0.9, 0.05, "a"), p(0.5, 0.0, 0.1, "b")])
    assert d.verdict == "supported"
    assert d.confidence == pytest.approx(0.9)
    assert "supported_by_sources:1" in d.reasons


def test_contradiction_refutes() -> None:
    d = decide([p(0.7, 0.02, 0.95, "a")])
    assert d.verdict == "refuted"


def test_both_directions_conflict() -> None:
    d = decide([p(0.7, 0.9, 0.05, "a"), p(0.7, 0.05, 0.9, "b")])
    assert d.verdict == "conflicting"
    # Each side also counts the other passage's small probability (noisy-OR).
    assert d.confidence == pytest.approx(1 - 0.1 * 0.95)


def test_two_passages_of_one_source_are_one_confirmation() -> None:
    one_source = decide([p(0.6, 0.4, 0.0, "a"), p(0.6, 0.4, 0.0, "a")])
    two_sources = decide([p(0.6, 0.4, 0.0, "a"), p(0.6, 0.4, 0.0, "b")])
    assert one_source.verdict == "not_enough_info"
    assert two_sources.verdict == "supported"
    assert two_sources.support == pytest.approx(1 - 0.6 * 0.6)


def test_mismatch_turns_support_into_contradiction() -> None:
    d = decide([p(0.8, 0.9, 0.02, "a", mismatch="time")])
    assert d.verdict == "refuted"
    assert d.support == 0.0
    assert "time_mismatch:1" in d.reasons


@pytest.mark.parametrize("kind", ["time", "polarity"])
def test_time_and_polarity_mismatches_refute_a_neutral_passage(kind: str) -> None:
    d = decide([p(0.45, 0.05, 0.04, "a", mismatch=kind)])  # r = 0.5
    assert d.contradiction == pytest.approx(MISMATCH_FLOOR * 0.5)
    d = decide([p(0.8, 0.05, 0.04, "a", mismatch=kind)])
    assert d.verdict == "refuted"
    assert f"{kind}_mismatch:1" in d.reasons


@pytest.mark.parametrize("kind", ["number", "entity"])
def test_number_and_entity_mismatches_get_no_floor(kind: str) -> None:
    d = decide([p(0.8, 0.05, 0.04, "a", mismatch=kind)])
    assert d.verdict == "not_enough_info"
    assert d.contradiction == pytest.approx(0.05)


def test_corroboration_supports_a_neutral_passage() -> None:
    assert weights(p(0.45, 0.1, 0.04, "a", corroborated=True)) == pytest.approx(
        (CORROBORATION_FLOOR * 0.5, 0.0)
    )
    d = decide([p(0.8, 0.1, 0.04, "a", corroborated=True)])
    assert d.verdict == "supported"
    assert d.support == pytest.approx(CORROBORATION_FLOOR)


def test_corroboration_overrides_the_models_contradiction_but_keeps_higher_support() -> None:
    # "Xi refused Putin's invitation" / "Xi turned down Putin's invitation": NLI says 0.96.
    d = decide([p(0.8, 0.9, 0.02, "a", corroborated=True), p(0.8, 0.01, 0.96, "a")])
    assert d.verdict == "conflicting"  # an uncorroborated passage still counts
    d = decide(
        [p(0.8, 0.9, 0.02, "a", corroborated=True), p(0.8, 0.01, 0.96, "b", corroborated=True)]
    )
    assert d.verdict == "supported"
    assert d.support == pytest.approx(1 - 0.1 * (1 - CORROBORATION_FLOOR))
    assert d.contradiction == 0.0


def test_a_rule_read_refutation_outweighs_support_from_a_passage_without_the_event() -> None:
    # "China has condemned ...": "Beijing has not condemned ..." (polarity rule) against the
    # model's 0.73 support for a sentence about the war that never says "condemn".
    refusal = p(0.8, 0.03, 0.96, "a", mismatch="polarity", mentions_event=True)
    blind = p(0.67, 0.73, 0.15, "b", mentions_event=False)
    d = decide([refusal, blind])
    assert d.verdict == "refuted"
    assert "paraphrase_outweighed_by_rules:1" in d.reasons
    assert d.support == 0.0
    assert d.contradiction == pytest.approx(1 - 0.04 * 0.85)  # its contradiction still counts
    # a passage that names the event, or a statement whose event is not read, still conflicts
    for other in (p(0.67, 0.73, 0.15, "b", mentions_event=True), p(0.67, 0.73, 0.15, "b")):
        assert decide([refusal, other]).verdict == "conflicting"
    # without the rules reading the event, the model's support stands
    assert decide([p(0.8, 0.03, 0.96, "a"), blind]).verdict == "conflicting"


def test_corroboration_outweighs_contradiction_from_a_passage_without_the_event() -> None:
    seen = p(0.8, 0.2, 0.05, "a", corroborated=True, mentions_event=True)
    blind = p(0.7, 0.05, 0.9, "b", mentions_event=False)
    d = decide([seen, blind])
    assert d.verdict == "supported"
    assert d.contradiction == 0.0
    assert "paraphrase_outweighed_by_rules:1" in d.reasons


def test_a_close_paraphrase_the_model_reads_as_neutral_supports() -> None:
    # "cited coronavirus restrictions for declining the visit" /
    # "explained the refusal by coronavirus restrictions": similarity 0.83, P(neutral) 0.75
    d = decide([p(0.83, 0.17, 0.09, "a")])
    assert d.verdict == "supported"
    assert d.support == pytest.approx(PARAPHRASE_FLOOR)
    assert decide([p(0.83, 0.17, 0.25, "a")]).verdict == "not_enough_info"  # contradiction read
    assert decide([p(0.78, 0.17, 0.09, "a")]).verdict == "not_enough_info"  # not close enough
    assert decide([p(0.83, 0.17, 0.09, "a", mismatch="number")]).verdict == "not_enough_info"


def test_relevance_ramp() -> None:
    assert relevance(0.1) == 0.0
    assert relevance(0.45) == pytest.approx(0.5)
    assert relevance(0.95) == 1.0
