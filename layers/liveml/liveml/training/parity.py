"""How close the exported model must be to scikit-learn (numpy only: the evaluate step checks it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.training.errors import ExportError

#: probabilities must match scikit-learn within this, absolutely.
PARITY_TOLERANCE = 1e-5
#: regression values within this times max(1, |value|): ONNX computes in float32 (~7 significant
#: digits), and a linear model's dot product over scaled features loses about one more digit, so an
#: absolute bound would depend on the target's unit.
REGRESSION_RTOL = 1e-4


def tolerance(task: str) -> float:
    return REGRESSION_RTOL if task == "regression" else PARITY_TOLERANCE


def row_diffs(a: npt.NDArray[Any], b: npt.NDArray[Any], task: str) -> npt.NDArray[np.float64]:
    """Per-row parity figure: absolute for probabilities, relative to max(1, |b|) for values."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ExportError(f"output shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a - b)
    if task == "regression":
        diff = diff / np.maximum(1.0, np.abs(b))
    return diff.reshape(len(diff), -1).max(axis=1) if diff.size else np.zeros(len(diff))


def max_abs_diff(a: npt.NDArray[Any], b: npt.NDArray[Any], task: str) -> float:
    """The parity figure over all rows."""
    rows = row_diffs(a, b, task)
    return float(np.max(rows)) if rows.size else 0.0
