"""Holdout metrics, the contract's gates and the champion/challenger gate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn import metrics as skm

from liveml.training.errors import ModelPerformanceError

#: the metric the search optimises and the champion/challenger gate compares (higher is better)
PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "roc_auc", "regression": "r2"}

#: gate field on the contract → (metric, direction)
GATES: dict[str, tuple[str, str]] = {
    "min_accuracy": ("accuracy", "min"),
    "min_balanced_accuracy": ("balanced_accuracy", "min"),
    "min_roc_auc": ("roc_auc", "min"),
    "max_rmse": ("rmse", "max"),
    "min_r2": ("r2", "min"),
}


def score(task: str, y: npt.NDArray[Any], outputs: npt.NDArray[np.float64]) -> float:
    """The primary metric for one fold or the holdout (y: class indices or values)."""
    if task == "regression":
        return float(skm.r2_score(y, outputs))
    if task == "binary":
        return float(skm.roc_auc_score(y, outputs[:, 1]))
    return float(
        skm.roc_auc_score(y, outputs, multi_class="ovr", average="macro", labels=range(outputs.shape[1]))
    )


def holdout_metrics(task: str, y: npt.NDArray[Any], outputs: npt.NDArray[np.float64]) -> dict[str, Any]:
    """All holdout metrics of the issue; NaN-free (a metric that cannot be computed is ``None``)."""
    if task == "regression":
        return {
            "rmse": float(math.sqrt(skm.mean_squared_error(y, outputs))),
            "mae": float(skm.mean_absolute_error(y, outputs)),
            "r2": float(skm.r2_score(y, outputs)),
            "n": len(y),
        }
    k = outputs.shape[1]
    labels = list(range(k))
    pred = outputs.argmax(axis=1)
    onehot = np.eye(k)[y]
    out: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
        "f1": float(
            skm.f1_score(y, pred, average="binary" if k == 2 else "macro", labels=labels, zero_division=0)
        ),
        "log_loss": float(skm.log_loss(y, outputs, labels=labels)),
        # Multiclass Brier: mean over rows of the summed squared error, halved to match binary's scale.
        "brier": float(skm.brier_score_loss(y, outputs[:, 1]))
        if k == 2
        else float(np.mean(np.sum((outputs - onehot) ** 2, axis=1)) / 2.0),
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=labels).tolist(),
        "n": len(y),
    }
    try:
        out["roc_auc"] = score(task, y, outputs)
        out["pr_auc"] = (
            float(skm.average_precision_score(y, outputs[:, 1]))
            if k == 2
            else float(skm.average_precision_score(onehot, outputs, average="macro"))
        )
    except ValueError:  # a class absent from the holdout
        out["roc_auc"] = out["pr_auc"] = None
    return out


def check_gates(gates: Any, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Every gate the contract sets, with its value and verdict."""
    results = []
    for field, (metric, direction) in GATES.items():
        threshold = getattr(gates, field, None)
        if threshold is None or metric not in metrics:
            continue
        value = metrics[metric]
        passed = value is not None and (value >= threshold if direction == "min" else value <= threshold)
        results.append(
            {
                "gate": field,
                "metric": metric,
                "threshold": float(threshold),
                "value": value,
                "passed": bool(passed),
            }
        )
    return results


def champion_gate(task: str, candidate: float, champion: float, margin: float) -> dict[str, Any]:
    metric = PRIMARY_METRIC[task]
    return {
        "gate": "champion",
        "metric": metric,
        "threshold": champion + margin,
        "value": candidate,
        "champion": champion,
        "margin": margin,
        "passed": bool(candidate >= champion + margin),
    }


def raise_on_failures(gates: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
    failed = [g for g in gates if not g["passed"]]
    if not failed:
        return
    parts = []
    for g in failed:
        value = "n/a" if g["value"] is None else f"{g['value']:.4f}"
        if g["gate"] == "champion":
            parts.append(
                f"{g['metric']} {value} does not beat the champion's {g['champion']:.4f} by {g['margin']:g}"
            )
        else:
            op = ">=" if g["gate"].startswith("min") else "<="
            parts.append(f"{g['metric']} {value} fails {g['gate']} ({op} {g['threshold']:g})")
    raise ModelPerformanceError("model rejected: " + "; ".join(parts), failures=failed, metrics=metrics)
