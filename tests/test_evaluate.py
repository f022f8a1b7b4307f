"""The quality harness: real models on small real data, plus pure-logic units."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from service.engine import Engine
from service.evaluate import (
    Dataset,
    LabelledClaim,
    climate_fever,
    evaluate,
    evaluate_feedback,
    expected_calibration_error,
    news_suite,
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
        report, judged = evaluate(engine, climate_fever(sample))
    finally:
        engine.close()
    assert report.claims == 12 and report.corpus_passages > 12
    # what fit-verdict learns from: each claim's passages, read back from its evidence
    assert len(judged) == 12 and all(judged)
    assert report.recall["@1"] <= report.recall["@5"] <= report.recall["@10"]
    assert report.recall["@10"] > 0.5  # each claim's own evidence is in a small pool
    assert sum(sum(row.values()) for row in report.confusion.values()) == 12
    assert "| evidence recall@10 |" in table(report)


def test_news_suite_loader_keeps_the_whole_corpus_for_each_half() -> None:
    folder = Path(__file__).parent / "data" / "news_suite"
    whole, train, test = (news_suite(folder, split) for split in ("all", "train", "test"))
    assert len(train.corpus) == len(test.corpus) == len(whole.corpus) >= 40
    assert len(train.claims) + len(test.claims) == len(whole.claims) >= 240
    assert {c.id for c in train.claims}.isdisjoint(c.id for c in test.claims)
    assert all(c.kind for c in whole.claims)
    docs = {d.id for d in whole.corpus}
    assert all(g.document in docs for c in whole.claims for g in c.gold)
    assert all(d.published_at for d in whole.corpus)


def test_per_kind_report_and_false_supported_list() -> None:
    from service.evaluate import _score

    claims = [
        LabelledClaim(id="a", statement="x", verdict="refuted", gold=[], kind="number"),
        LabelledClaim(id="b", statement="y", verdict="supported", gold=[], kind="number"),
    ]
    preds = [
        {
            "id": "a",
            "gold": "refuted",
            "predicted": "supported",
            "confidence": 0.8,
            "kind": "number",
        },
        {
            "id": "b",
            "gold": "supported",
            "predicted": "supported",
            "confidence": 0.8,
            "kind": "number",
        },
    ]
    report = _score(Dataset("d", claims, []), preds, {1: 0, 5: 0, 10: 0}, 0, 5, 1.0, 0)
    assert report.per_kind["number"]["accuracy"] == 0.5
    assert report.false_supported == ["a"]
    assert "| number | 2 | 0.500 |" in table(report)


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
