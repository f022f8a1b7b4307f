"""Confidence calibration: map the verdict rule's raw score to P(verdict is right).

A logistic model on the raw score's logit plus one offset per verdict (Platt scaling with
a per-class intercept): the four verdicts' raw scores mean different things, so each gets
its own intercept, while one slope keeps the fit stable on a few hundred claims. It is
fitted on a labelled *training* set (``factcheck eval TRAIN --fit-calibration FILE``) and
never on the set it is reported on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import msgspec
import numpy as np

VERDICTS = ("supported", "refuted", "conflicting", "not_enough_info")
_EPS = 1e-4


class Calibration(msgspec.Struct, frozen=True, kw_only=True):
    """Fitted parameters and where they came from."""

    slope: float
    intercepts: dict[str, float]
    fitted_on: str
    samples: int

    def apply(self, verdict: str, raw: float) -> float:
        """The calibrated confidence of ``verdict`` given its raw score."""
        z = self.slope * _logit(raw) + self.intercepts.get(verdict, 0.0)
        return 1.0 / (1.0 + math.exp(-z))


def _logit(p: float) -> float:
    p = min(1 - _EPS, max(_EPS, p))
    return math.log(p / (1 - p))


def fit(
    verdicts: Sequence[str],
    raw: Sequence[float],
    correct: Sequence[bool],
    *,
    fitted_on: str,
    l2: float = 1e-2,
) -> Calibration:
    """Fit by Newton's method on the L2-regularised logistic loss."""
    x = np.array(
        [
            [_logit(r)] + [1.0 if v == name else 0.0 for name in VERDICTS]
            for v, r in zip(verdicts, raw, strict=True)
        ]
    )
    y = np.array(correct, dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x.T * (p * (1 - p))) @ x + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibration(
        slope=float(w[0]),
        intercepts={name: float(w[i + 1]) for i, name in enumerate(VERDICTS)},
        fitted_on=fitted_on,
        samples=len(y),
    )


def load(path: str | Path) -> Calibration | None:
    """The calibration stored at ``path``, or None when there is none (raw scores are used)."""
    path = Path(path)
    if not path.is_file():
        return None
    return msgspec.json.decode(path.read_bytes(), type=Calibration)


def save(calibration: Calibration, path: str | Path) -> None:
    """Write the calibration as JSON."""
    Path(path).write_bytes(msgspec.json.format(msgspec.json.encode(calibration), indent=2) + b"\n")
