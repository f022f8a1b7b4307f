"""The quality harness and calibration: real models on small real data, plus pure-logic units."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from service.calibrate import fit, load, save
from service.engine import Engine
from service.evaluate import (
    climate_fever,
    evaluate,
    evaluate_feedback,
    expected_calibration_error,
    seed_set,
    table,
)
from service.settings import PROJECT_ROOT, Settings

from .conftest import SEEDS

CLIMATE_TRAIN = PROJECT_ROOT.parent / "shared" / "data" / "eval" / "climate-fever-train.jsonl"


def test_expected_calibration_error() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([0.9, 0.9], [False, False]) == pytest.approx(0.9)
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)


def test_calibration_fit_reduces_error_and_round_trips(tmp_path: Path) -> None:
    rng = random.Random(7)
    # Over-confident raw scores: right only 60% of the time at 0.95.
    raw = [rng.uniform(0.5, 1.0) for _ in range(400)]
    correct = [rng.random() < 0.2 + 0.4 * r for r in raw]
    verdicts = ["supported"] * len(raw)
    cal = fit(verdicts, raw, correct, fitted_on="synthetic")
    calibrated = [cal.apply("supported", r) for r in raw]
    assert (
        expected_calibration_error(calibrated, correct)
        < expected_calibration_error(raw, correct) / 2
    )
    save(cal, tmp_path / "cal.json")
    assert load(tmp_path / "cal.json") == cal
    assert load(tmp_path / "missing.json") is None


def test_climate_fever_loader_builds_the_evidence_corpus(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(CLIMATE_TRAIN.read_text().splitlines()[:3]) + "\n")
    data = climate_fever(sample)
    assert len(data.claims) == 3
    assert {c.verdict for c in data.claims} <= {
        "supported",
        "refuted",
        "conflicting",
        "not_enough_info",
    }
    assert all(d.layout == "lines" for d in data.corpus)
    rows = [json.loads(line) for line in sample.read_text().splitlines()]
    assert sum(len(d.text.splitlines()) for d in data.corpus) == len(
        {(e["article"], e["evidence"]) for r in rows for e in r["evidences"]}
    )


def test_eval_on_real_claims_through_the_check_pipeline(
    tmp_path: Path, session_engine_factory: Callable[[Settings], Engine]
) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(CLIMATE_TRAIN.read_text().splitlines()[:12]) + "\n")
    engine = session_engine_factory(Settings(store=str(tmp_path / "eval.db")))
    try:
        report = evaluate(engine, climate_fever(sample))
    finally:
        engine.close()
    assert report.claims == 12 and report.corpus_passages > 12
    assert report.recall["@1"] <= report.recall["@5"] <= report.recall["@10"]
    assert report.recall["@10"] > 0.5  # each claim's own evidence is in a small pool
    assert sum(sum(row.values()) for row in report.confusion.values()) == 12
    assert "| evidence recall@10 |" in table(report)


def test_seed_set_loader() -> None:
    data = seed_set(Path(__file__).parent / "data" / "seed_claims.jsonl", str(SEEDS))
    assert len(data.corpus) == 5
    assert any(c.as_of for c in data.claims)


def test_editor_feedback_becomes_an_evaluation(
    client: TestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    text = "The port of Rotterdam was closed on Tuesday after a storm damaged two cranes."
    client.post("/v1/documents", json={"id": "port", "title": "Port", "text": text})
    statement = "A storm damaged cranes in Rotterdam"
    evidence = client.post("/v1/check", json={"statement": statement}).json()["evidence"][0]
    for editor, judgement in (("a", "accept"), ("b", "accept"), ("c", "reject")):
        response = client.post(
            "/v1/feedback",
            json={
                "statement": statement,
                "claim_id": evidence["claim_id"],
                "judgement": judgement,
                "editor_id": editor,
                "stance": evidence["stance"],
            },
        )
        assert response.status_code == 201, response.text
    engine: Engine = client.app.state.engine
    report = evaluate_feedback(engine)
    assert (report.pairs, report.accepted, report.rejected) == (1, 1, 0)
    assert report.accepted_recall_at_10 == 1.0
    assert report.stance_agreement == 1.0  # same model, same pair: same stance
