"""Holdout metrics and curves with numpy alone.

The evaluate step runs beside ONNX Runtime without scikit-learn or scipy (Lambda's 250 MB), so the
metrics it gates on are computed here; a unit test holds each one to scikit-learn's value. The
search scores its folds with the same functions, so "the score" means one thing everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.scoring import FloatArray, binary_inputs
from liveml.scoring import r2 as r2  # re-exported beside the other metrics
from liveml.scoring import roc_auc_binary as roc_auc_binary

#: the metric the search optimises and the champion/challenger gate compares (higher is better)
PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "roc_auc", "regression": "r2"}


def roc_auc(task: str, y: npt.ArrayLike, outputs: npt.ArrayLike) -> float:
    """Binary: AUC of the positive class. Multiclass: one-vs-rest, macro average over the columns
    (every class must occur in ``y``), as scikit-learn's ``multi_class='ovr', average='macro'``."""
    probs = np.asarray(outputs, dtype=np.float64)
    labels = np.asarray(y).reshape(-1)
    if task == "binary":
        return roc_auc_binary(labels, probs[:, 1])
    k = probs.shape[1]
    if len(np.unique(labels)) != k:
        raise ValueError(f"{len(np.unique(labels))} classes in y_true but {k} probability columns")
    return float(np.mean([roc_auc_binary(labels == c, probs[:, c]) for c in range(k)]))


def average_precision_binary(y: npt.ArrayLike, s: npt.ArrayLike) -> float:
    """Sum over thresholds of (recall step) x precision, as ``average_precision_score``."""
    truth, scores = binary_inputs(y, s)
    n_pos = int(truth.sum())
    if n_pos == 0:
        return 0.0
    precision, recall, _ = precision_recall_curve(truth, scores)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def score(task: str, y: npt.ArrayLike, outputs: npt.ArrayLike) -> float:
    """The primary metric (``PRIMARY_METRIC``) for one fold or the holdout."""
    if task == "regression":
        return r2(y, outputs)
    return roc_auc(task, y, outputs)


def confusion_matrix(y: npt.ArrayLike, pred: npt.ArrayLike, k: int) -> npt.NDArray[np.int64]:
    """Rows: actual class, columns: predicted class."""
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def _f1_per_class(cm: npt.NDArray[np.int64]) -> FloatArray:
    tp = np.diag(cm).astype(np.float64)
    denom = cm.sum(axis=0) + cm.sum(axis=1)  # 2tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)  # zero_division=0


def holdout_metrics(task: str, y: npt.ArrayLike, outputs: npt.ArrayLike) -> dict[str, Any]:
    """Every holdout metric of the model card; NaN-free (a metric that cannot be computed is ``None``).

    Classification: accuracy, balanced_accuracy, f1 (binary: positive class; multiclass: macro),
    log_loss, brier (multiclass: halved summed squared error, binary's scale), confusion_matrix,
    roc_auc, pr_auc (multiclass: macro over one-vs-rest); regression: rmse, mae, r2. Plus ``n``.
    """
    out_arr = np.asarray(outputs, dtype=np.float64)
    if task == "regression":
        truth = np.asarray(y, dtype=np.float64).reshape(-1)
        pred = out_arr.reshape(-1)
        return {
            "rmse": float(math.sqrt(np.mean((truth - pred) ** 2))),
            "mae": float(np.mean(np.abs(truth - pred))),
            "r2": r2(truth, pred),
            "n": int(truth.size),
        }
    labels = np.asarray(y, dtype=np.int64).reshape(-1)
    k = out_arr.shape[1]
    pred_cls = out_arr.argmax(axis=1)
    onehot = np.eye(k)[labels]
    cm = confusion_matrix(labels, pred_cls, k)
    support = cm.sum(axis=1)
    recall = np.diag(cm)[support > 0] / support[support > 0]
    f1 = _f1_per_class(cm)
    eps = np.finfo(np.float64).eps
    clipped = np.clip(out_arr, eps, 1 - eps)
    result: dict[str, Any] = {
        "accuracy": float(np.mean(pred_cls == labels)),
        "balanced_accuracy": float(np.mean(recall)),
        "f1": float(f1[1]) if k == 2 else float(np.mean(f1)),
        "log_loss": float(-np.mean(np.log(clipped[np.arange(labels.size), labels]))),
        "brier": float(np.mean((labels - out_arr[:, 1]) ** 2))
        if k == 2
        else float(np.mean(np.sum((out_arr - onehot) ** 2, axis=1)) / 2.0),
        "confusion_matrix": cm.tolist(),
        "n": int(labels.size),
    }
    try:
        result["roc_auc"] = roc_auc(task, labels, out_arr)
        result["pr_auc"] = (
            average_precision_binary(labels, out_arr[:, 1])
            if k == 2
            else float(np.mean([average_precision_binary(onehot[:, c], out_arr[:, c]) for c in range(k)]))
        )
    except ValueError:  # a class absent from the holdout
        result["roc_auc"] = result["pr_auc"] = None
    return result


# --- curves for the report ----------------------------------------------------------------------


def _thresholds(
    truth: npt.NDArray[np.bool_], scores: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cumulative true and false positives at each distinct score, highest score first."""
    order = np.argsort(-scores, kind="mergesort")
    s, t = scores[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each distinct score
    tps = np.cumsum(t)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    return fps, tps, s[last]


def roc_curve(y: npt.ArrayLike, s: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(false positive rate, true positive rate), starting at (0, 0)."""
    truth, scores = binary_inputs(y, s)
    fps, tps, _ = _thresholds(truth, scores)
    fpr = np.r_[0.0, fps / max(fps[-1], 1.0)] if fps.size else np.array([0.0])
    tpr = np.r_[0.0, tps / max(tps[-1], 1.0)] if tps.size else np.array([0.0])
    return fpr, tpr


def precision_recall_curve(y: npt.ArrayLike, s: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(precision, recall, thresholds) in scikit-learn's order: recall decreasing, ending at (1, 0)."""
    truth, scores = binary_inputs(y, s)
    fps, tps, thresholds = _thresholds(truth, scores)
    n_pos = max(float(truth.sum()), 1.0)
    precision = tps / np.maximum(tps + fps, 1.0)
    recall = tps / n_pos
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def calibration_curve(
    y: npt.ArrayLike, s: npt.ArrayLike, *, n_bins: int = 10
) -> tuple[FloatArray, FloatArray]:
    """(observed frequency, mean predicted probability) per quantile bin (empty bins dropped)."""
    truth, scores = binary_inputs(y, s)
    edges = np.quantile(scores, np.linspace(0.0, 1.0, n_bins + 1))
    bins = np.clip(np.searchsorted(edges[1:-1], scores, side="right"), 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    nonzero = counts > 0
    frac = np.bincount(bins, weights=truth.astype(np.float64), minlength=n_bins)[nonzero] / counts[nonzero]
    mean = np.bincount(bins, weights=scores, minlength=n_bins)[nonzero] / counts[nonzero]
    return frac, mean
