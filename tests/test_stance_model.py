"""The shipped NLI stance model: loads offline, labels a few never-seen pairs, maps labels."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from service.onnx_backend import Runtime
from service.stance import (
    DEFAULT_STANCE_MODEL,
    NLI_TO_STANCE,
    STANCES,
    StanceModel,
    stance_columns,
)

MODEL_DIR = Path(DEFAULT_STANCE_MODEL)

# Hand-written for this test; none of these sentences is in the training data.
# (premise = corpus passage, hypothesis = statement, expected stance)
PAIRS = [
    ("Xi Jinping refused to visit Moscow.", "Xi Jinping visited Moscow.", "contradicts"),
    ("The visit was cancelled.", "The visit took place.", "contradicts"),
    (
        "The company reported a profit of 3 million dollars last year.",
        "The company reported a loss last year.",
        "contradicts",
    ),
    (
        "The foreign minister visited Moscow in March 2022 and met the Russian president.",
        "The foreign minister visited Moscow.",
        "supports",
    ),
    ("A man is playing a guitar on the stage.", "A man is playing an instrument.", "supports"),
    (
        "The president spoke to reporters in Paris on Monday.",
        "The president will run for a second term.",
        "neutral",
    ),
]


@pytest.fixture(scope="module", params=["torch", "torch-bf16"])
def model(request: pytest.FixtureRequest) -> StanceModel:
    """The shipped model computing in fp32 and in bf16 (the service's choice on bf16 CPUs)."""
    return StanceModel(DEFAULT_STANCE_MODEL, runtime=Runtime(backend=request.param))


def test_shipped_model_files() -> None:
    assert (MODEL_DIR / "model.safetensors").is_file()
    config = json.loads((MODEL_DIR / "config.json").read_text())
    assert config["id2label"] == {"0": "entailment", "1": "neutral", "2": "contradiction"}
    assert config["label2id"] == {"entailment": 0, "neutral": 1, "contradiction": 2}


def test_loads_offline(model: StanceModel) -> None:
    assert model.name == DEFAULT_STANCE_MODEL
    assert model.labels == ("entailment", "neutral", "contradiction")
    assert model.label_to_stance == {
        "entailment": "supports",
        "neutral": "neutral",
        "contradiction": "contradicts",
    }


@pytest.mark.parametrize(("premise", "hypothesis", "expected"), PAIRS)
def test_never_seen_pairs(model: StanceModel, premise: str, hypothesis: str, expected: str) -> None:
    probs = model.predict([(premise, hypothesis)])
    assert STANCES[int(np.argmax(probs[0]))] == expected, dict(zip(STANCES, probs[0], strict=True))


def test_predict_shapes(model: StanceModel) -> None:
    empty = model.predict([])
    assert empty.shape == (0, 3)
    assert empty.dtype == np.float32
    probs = model.predict([(p, h) for p, h, _ in PAIRS], batch_size=4)
    assert probs.shape == (len(PAIRS), 3)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_label_mapping_round_trips() -> None:
    config = json.loads((MODEL_DIR / "config.json").read_text())
    id2label = {int(k): v for k, v in config["id2label"].items()}
    columns = stance_columns(id2label)
    stance_to_label = {STANCES[c]: id2label[i] for i, c in enumerate(columns)}
    assert sorted(stance_to_label) == sorted(STANCES)  # every stance has exactly one label
    for stance, label in stance_to_label.items():
        assert NLI_TO_STANCE[label] == stance
        assert config["label2id"][label] == columns.index(STANCES.index(stance))


def test_case_insensitive_and_two_way() -> None:
    assert stance_columns({0: "ENTAILMENT", 1: "Neutral", 2: "contradiction"}) == [0, 1, 2]
    assert stance_columns({0: "entailment", 1: "not_entailment"}) == [0, 1]


def test_custom_label_map_for_other_names() -> None:
    id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    label_map = {"label_0": "contradicts", "LABEL_1": "supports", "LABEL_2": "neutral"}
    assert stance_columns(id2label, label_map) == [2, 0, 1]


def test_unmappable_label_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"cannot map the model's label 'LABEL_0'"):
        stance_columns({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ValueError, match="not a stance"):
        stance_columns({0: "yes", 1: "no"}, {"yes": "supports", "no": "refutes"})
    with pytest.raises(ValueError, match="2 or more labels"):
        stance_columns({0: "score"}, {"score": "supports"})


def test_other_model_with_own_labels(model: StanceModel, tmp_path: Path) -> None:
    """A differently-labelled copy of the model: loads with a label map, same probabilities."""
    other = tmp_path / "renamed-nli"
    shutil.copytree(MODEL_DIR, other, ignore=shutil.ignore_patterns("*.md", "*.txt", "*.json.bak"))
    config = json.loads((other / "config.json").read_text())
    config["id2label"] = {"0": "ENT", "1": "NEU", "2": "CON"}
    config["label2id"] = {"ENT": 0, "NEU": 1, "CON": 2}
    (other / "config.json").write_text(json.dumps(config))

    with pytest.raises(ValueError, match="cannot map the model's label 'ENT'"):
        StanceModel(str(other))
    renamed = StanceModel(
        str(other),
        label_map={"ent": "supports", "neu": "neutral", "con": "contradicts"},
        runtime=Runtime(backend=model.runtime.backend),
    )
    pairs = [(p, h) for p, h, _ in PAIRS]
    np.testing.assert_allclose(renamed.predict(pairs), model.predict(pairs), atol=1e-5)
