"""ROC AUC and R² with numpy alone: the data gate's leakage check and the training metrics share them.

Top-level and numpy-only, so both the data gate (with pandas) and the evaluate function (without
pandas or scikit-learn) import the same functions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def binary_inputs(y: npt.ArrayLike, s: npt.ArrayLike) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    truth = np.asarray(y).reshape(-1).astype(bool)
    scores = np.asarray(s, dtype=np.float64).reshape(-1)
    if truth.shape != scores.shape:
        raise ValueError(f"{truth.size} labels but {scores.size} scores")
    return truth, scores


def rank_average(x: FloatArray) -> FloatArray:
    """1-based ranks, ties sharing their mean rank (what the Mann-Whitney statistic needs)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # Start of each run of equal values, and the mean rank of the run.
    starts = np.r_[0, np.flatnonzero(np.diff(xs)) + 1]
    ends = np.r_[starts[1:], xs.size]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc_binary(y: npt.ArrayLike, s: npt.ArrayLike) -> float:
    """Area under the ROC curve (ties count half), as ``sklearn.metrics.roc_auc_score``."""
    truth, scores = binary_inputs(y, s)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("only one class present in y_true: ROC AUC is not defined")
    ranks = rank_average(scores)
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def r2(y: npt.ArrayLike, pred: npt.ArrayLike) -> float:
    truth = np.asarray(y, dtype=np.float64).reshape(-1)
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    ss_res = float(np.sum((truth - p) ** 2))
    ss_tot = float(np.sum((truth - truth.mean()) ** 2))
    if ss_tot == 0.0:  # scikit-learn's force_finite: a constant target
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot
