"""The verdict, case by case (pure logic: no models), and fitting the verdict model.

One test opens engines with the real models: the verdict model names the stance model it
was fitted on, and the engine says when the configured pair does not match.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from service.engine import Engine
from service.judge.calibrate import SUPPORT_FLOORS, Labelled, cross_validated, fit, load, save
from service.judge.verdict import (
    FEATURES,
    VERDICTS,
    Judged,
    VerdictModel,
    choose,
    decide,
    features,
    relevance,
    weigh,
)
from service.settings import Settings


def p(
    sim: float,
    s: float,
    c: float,
    source: str,
    mismatch: str | None = None,
    corroborated: bool = False,
    agrees: tuple[str, ...] = (),
    missing: tuple[str, ...] = (),
) -> Judged:
    return Judged(
        similarity=sim,
        supports=s,
        neutral=1 - s - c,
        contradicts=c,
        source=source,
        mismatch=mismatch,
        corroborated=corroborated,
        agrees=agrees,
        missing=missing,
    )


def test_no_passages_is_not_enough_info() -> None:
    d = decide([])
    assert d.verdict == "not_enough_info"
    assert d.reasons == ["no_relevant_evidence"]


def test_off_topic_passages_do_not_count_whatever_their_stance() -> None:
    d = decide([p(0.2, 0.99, 0.0, "a"), p(0.25, 0.0, 0.99, "b")])
    assert d.verdict == "not_enough_info"
    assert "no_relevant_evidence" in d.reasons
    assert weigh(p(0.2, 0.99, 0.0, "a")).stance == "neutral"


def test_threshold_rule_without_a_model() -> None:
    assert decide([p(0.75, 0.9, 0.05, "a")]).verdict == "supported"
    assert decide([p(0.75, 0.9, 0.05, "a")]).confidence == pytest.approx(0.9)
    assert decide([p(0.7, 0.02, 0.95, "a")]).verdict == "refuted"
    both = decide([p(0.7, 0.9, 0.0, "a"), p(0.7, 0.0, 0.9, "b")])
    assert both.verdict == "conflicting"
    assert "supported_by_sources:1" in both.reasons
    assert "contradicted_by_sources:1" in both.reasons


def test_a_mismatch_turns_support_into_contradiction_it_can_point_to() -> None:
    w = weigh(p(0.7, 0.9, 0.05, "a", mismatch="number"))
    assert (w.supports, w.contradicts, w.stance) == (0.0, 1.0, "contradicts")
    # the rule's contradiction stands where the model read the passage as neutral
    assert weigh(p(0.7, 0.05, 0.1, "a", mismatch="polarity")).stance == "contradicts"
    d = decide([p(0.7, 0.9, 0.05, "a", mismatch="number")])
    assert d.verdict == "refuted"
    assert "number_mismatch:1" in d.reasons


def test_no_rule_turns_the_models_contradiction_into_support() -> None:
    # the "fell 38 percent" case: the model says contradicts; corroboration cannot flip it
    w = weigh(p(0.8, 0.07, 0.59, "a", corroborated=True))
    assert w.stance == "contradicts"
    assert w.supports == pytest.approx(0.07)
    assert decide([p(0.8, 0.07, 0.59, "a", corroborated=True)]).verdict == "refuted"


def test_stance_agrees_with_the_weights_shown() -> None:
    for sim, s, c in [(0.8, 0.07, 0.59), (0.8, 0.6, 0.3), (0.45, 0.9, 0.0), (0.9, 0.3, 0.3)]:
        w = weigh(p(sim, s, c, "a"))
        if w.stance == "supports":
            assert w.supports >= 0.5 and w.supports >= w.contradicts
        elif w.stance == "contradicts":
            assert w.contradicts >= 0.5 and w.contradicts > w.supports
        else:
            assert max(w.supports, w.contradicts) < 0.5


def test_one_source_counts_once() -> None:
    one = features([p(0.7, 0.6, 0.0, "a"), p(0.7, 0.6, 0.0, "a")])
    two = features([p(0.7, 0.6, 0.0, "a"), p(0.7, 0.6, 0.0, "b")])
    assert one[FEATURES.index("support")] == pytest.approx(0.6)
    assert two[FEATURES.index("support")] == pytest.approx(0.84)


def test_covered_support_counts_only_passages_that_state_every_detail() -> None:
    x = FEATURES.index("covered_support")
    states_all = p(0.7, 0.6, 0.1, "a")
    leaves_a_name_out = p(0.7, 0.9, 0.0, "b", missing=("name",))
    assert features([states_all, leaves_a_name_out])[x] == pytest.approx(0.6)
    assert features([leaves_a_name_out])[x] == 0.0
    assert features([p(0.7, 0.6, 0.1, "a", mismatch="number")])[x] == 0.0
    assert features([p(0.2, 0.6, 0.1, "a")])[x] == 0.0  # off topic


def test_outlets_disagree_when_one_states_the_detail_and_another_contradicts_it() -> None:
    x = FEATURES.index("outlets_disagree")
    agrees = p(0.8, 0.3, 0.1, "Harbor Wire", agrees=("number",))
    differs = p(0.6, 0.1, 0.2, "Daily Ledger", mismatch="number")
    assert features([agrees, differs])[x] == pytest.approx(relevance(0.6))
    # one outlet's two passages, another kind of mismatch, or an off-topic one: no dispute
    same_outlet = p(0.6, 0.1, 0.2, "Harbor Wire", mismatch="number")
    assert features([agrees, same_outlet])[x] == 0.0
    assert features([agrees, p(0.6, 0.1, 0.2, "Daily Ledger", mismatch="time")])[x] == 0.0
    assert features([agrees, p(0.2, 0.1, 0.2, "Daily Ledger", mismatch="number")])[x] == 0.0


def test_outlets_that_disagree_make_conflicting_with_the_fitted_confidence() -> None:
    agrees = p(0.8, 0.9, 0.05, "Harbor Wire", agrees=("number",))
    differs = p(0.75, 0.1, 0.2, "Daily Ledger", mismatch="number")
    # without a model, the threshold rule alone would call this supported
    assert decide([agrees]).verdict == "supported"
    d = decide([agrees, differs])
    assert d.verdict == "conflicting"
    assert "outlets_disagree" in d.reasons
    model = msgspec.structs.replace(_model({v: [0.0] * len(FEATURES) for v in VERDICTS}),
                                    dispute_confidence=0.6)  # fmt: skip
    d = decide([agrees, differs], model)
    assert (d.verdict, d.confidence) == ("conflicting", 0.6)
    # a barely relevant second outlet is no dispute
    assert decide([agrees, p(0.4, 0.1, 0.2, "Daily Ledger", mismatch="number")]).verdict != (
        "conflicting"
    )


def test_relevance_is_clipped_and_moves_with_the_floor() -> None:
    assert relevance(0.1) == 0.0
    assert relevance(0.9) == 1.0
    assert relevance(0.4, floor=0.45) == 0.0
    assert 0 < relevance(0.4) < 1


def _model(coefficients: dict[str, list[float]], floor: float = 0.3) -> VerdictModel:
    return VerdictModel(
        features=list(FEATURES),
        coefficients=coefficients,
        relevance_floor=floor,
        fitted_on=["unit"],
        samples=0,
    )


def test_model_verdict_is_the_most_probable_and_confidence_its_probability() -> None:
    zeros = [0.0] * len(FEATURES)
    refute = list(zeros)
    refute[FEATURES.index("contradiction")] = 6.0
    model = _model(
        {"supported": zeros, "refuted": refute, "conflicting": zeros, "not_enough_info": zeros}
    )
    d = decide([p(0.7, 0.02, 0.95, "a")], model)
    assert d.verdict == "refuted"
    assert sum(d.probabilities.values()) == pytest.approx(1.0)
    assert d.confidence == pytest.approx(d.probabilities["refuted"])


def test_supported_needs_the_support_floor() -> None:
    probs = {"supported": 0.45, "refuted": 0.30, "conflicting": 0.05, "not_enough_info": 0.20}
    assert choose(probs, 0.0) == "supported"
    assert choose(probs, 0.5) == "not_enough_info"  # unverified, never refuted for it
    zeros = [0.0] * len(FEATURES)
    support = list(zeros)
    support[FEATURES.index("support")] = 3.0
    model = msgspec.structs.replace(
        _model(
            {"supported": support, "refuted": zeros, "conflicting": zeros, "not_enough_info": zeros}
        ),
        support_floor=0.99,
    )
    d = decide([p(0.7, 0.9, 0.05, "a")], model)
    assert d.verdict == "not_enough_info"
    assert d.confidence == pytest.approx(d.probabilities[d.verdict])
    assert "support_below_floor" in d.reasons  # the panel shows it leans supported
    below = decide([p(0.7, 0.9, 0.05, "a")], msgspec.structs.replace(model, support_floor=0.0))
    assert below.verdict == "supported"
    assert "support_below_floor" not in below.reasons


def _claims() -> tuple[list[list[Judged]], list[str]]:
    claims: list[list[Judged]] = []
    gold: list[str] = []
    for i in range(40):
        x = 0.6 + (i % 5) * 0.08
        claims += [
            [p(0.7, x, 0.05, "a"), p(0.5, 0.1, 0.1, "b")],
            [p(0.7, 0.05, x, "a")],
            [p(0.7, x, 0.0, "a"), p(0.7, 0.0, x, "b")],
            [p(0.35, 0.3, 0.3, "a"), p(0.2, 0.9, 0.0, "b")],
        ]
        gold += ["supported", "refuted", "conflicting", "not_enough_info"]
    return claims, gold


@pytest.fixture(scope="module")
def fitted() -> tuple[VerdictModel, dict[tuple[float, float], float]]:
    """One fit of the synthetic claims (the whole grid: ~10 s), shared by the tests below."""
    claims, gold = _claims()
    return fit(claims, gold, fitted_on=["synthetic"], stance_model="nli-x", repeats=1)


def test_fit_learns_the_verdicts_and_round_trips(
    tmp_path: Path, fitted: tuple[VerdictModel, dict[tuple[float, float], float]]
) -> None:
    claims, gold = _claims()
    model, losses = fitted
    assert model.stance_model == "nli-x"
    assert {floor for floor, _ in losses} == {0.30, 0.35, 0.40, 0.45}
    assert (model.relevance_floor, model.regularisation) == min(losses, key=losses.__getitem__)
    assert model.support_floor in SUPPORT_FLOORS
    assert model.train_accuracy >= 0.95
    predicted = [decide(c, model).verdict for c in claims]
    assert sum(a == b for a, b in zip(predicted, gold, strict=True)) / len(gold) >= 0.95
    save(model, tmp_path / "m.json")
    assert load(tmp_path / "m.json") == model
    assert load(tmp_path / "missing.json") is None


def test_load_refuses_a_model_of_other_features(
    tmp_path: Path, fitted: tuple[VerdictModel, dict[tuple[float, float], float]]
) -> None:
    stale = msgspec.structs.replace(fitted[0], features=["bias"])
    save(stale, tmp_path / "m.json")
    with pytest.raises(ValueError, match="refit"):
        load(tmp_path / "m.json")


def test_a_verdict_model_of_another_stance_model_is_used_with_a_warning(
    tmp_path: Path,
    session_engine_factory: Callable[[Settings], Engine],
    caplog: pytest.LogCaptureFixture,
) -> None:
    shipped = load(Settings.from_env().verdict_model)
    assert shipped is not None and shipped.stance_model == "factcheck-nli-minilm-l6-v2"
    other = msgspec.structs.replace(shipped, stance_model="some-org/bigger-nli")
    save(other, tmp_path / "other.json")
    with caplog.at_level(logging.WARNING, logger="service.engine"):
        session_engine_factory(Settings(store=str(tmp_path / "a.db"))).close()
        assert not caplog.records  # the shipped pair matches
        engine = session_engine_factory(
            Settings(store=str(tmp_path / "b.db"), verdict_model=str(tmp_path / "other.json"))
        )
    engine.close()
    assert engine.pipeline.verdict_model == other  # still used: it is the one configured
    [record] = caplog.records
    assert "some-org/bigger-nli" in record.getMessage() and "refit" in record.getMessage()


def test_cross_validation_repeats_over_fresh_folds_reproducibly() -> None:
    claims, gold = _claims()
    claims, gold = claims[:40], gold[:40]
    loss, held_out = cross_validated(claims, gold, 0.30, 3e-3, repeats=2)
    again, same = cross_validated(claims, gold, 0.30, 3e-3, repeats=2)
    assert again == loss
    assert same.ravel() == pytest.approx(held_out.ravel())
    assert held_out.sum(axis=1) == pytest.approx([1.0] * len(gold))
    _, one_draw = cross_validated(claims, gold, 0.30, 3e-3, repeats=1)
    assert one_draw.ravel() != pytest.approx(held_out.ravel())  # each draw has its own folds


def test_cross_validation_trains_on_another_set_without_holding_it_out() -> None:
    claims, gold = _claims()
    claims, gold = claims[:40], gold[:40]
    alone, _ = cross_validated(claims, gold, 0.30, 3e-3, repeats=1)
    # a set where the same readings mean the opposite verdicts, in every training fold
    swapped = {"supported": "refuted", "refuted": "supported"}
    other = Labelled(sets=["other"], claims=claims * 3, gold=[swapped.get(g, g) for g in gold] * 3)
    mixed, held_out = cross_validated(claims, gold, 0.30, 3e-3, repeats=1, always=other)
    assert held_out.shape == (len(claims), 4)  # only the target's claims are held out
    assert held_out.sum(axis=1) == pytest.approx([1.0] * len(gold))
    assert mixed > alone + 0.5
    again, _ = cross_validated(claims, gold, 0.30, 3e-3, repeats=1, always=Labelled(sets=[]))
    assert again == alone
