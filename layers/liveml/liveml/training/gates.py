"""The contract's gates and the champion/challenger gate (numpy only: the evaluate step runs it).

The metrics themselves live in ``liveml.training.metrics``; they are re-exported here.
"""

from __future__ import annotations

from typing import Any

from liveml.training.errors import ModelPerformanceError
from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics, score

__all__ = [
    "GATES",
    "PRIMARY_METRIC",
    "champion_gate",
    "check_gates",
    "holdout_metrics",
    "raise_on_failures",
    "score",
]

#: gate field on the contract → (metric, direction)
GATES: dict[str, tuple[str, str]] = {
    "min_accuracy": ("accuracy", "min"),
    "min_balanced_accuracy": ("balanced_accuracy", "min"),
    "min_roc_auc": ("roc_auc", "min"),
    "max_rmse": ("rmse", "max"),
    "min_r2": ("r2", "min"),
}


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
