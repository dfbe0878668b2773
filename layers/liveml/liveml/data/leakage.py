"""The data gate's leakage check: a feature that alone predicts the target is computed from it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from liveml.contract.model import Contract, IssueCode, Task
from liveml.data.convert import label_texts
from liveml.data.findings import Findings
from liveml.scoring import r2, roc_auc_binary

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: rows sampled for the leakage check; enough for a stable estimate, cheap at any size
LEAKAGE_SAMPLE = 20_000
#: quantile bins a numeric feature is cut into for the leakage check
LEAKAGE_BINS = 32
#: rows a class needs (in and out of it, with a value) before a feature separating it can count as a
#: leak: with one row of a class, some feature of a wide file holds its largest value by chance (a rank
#: AUC of 1.0), and with a handful the odds are not much better. The default gates ask 20 per class.
LEAKAGE_MIN_CLASS_ROWS = 10


def check_leakage(found: Findings, contract: Contract, y_raw: pd.Series[Any]) -> None:
    """Flag a feature that alone predicts the target (out-of-fold score >= ``leakage_auc``).

    Each feature is cut into bins (quantiles for numbers, categories as they are); the bins'
    target means or class shares, learned on one half of a sample and scored on the other,
    give an AUC (R^2 for regression). Cheap, and it catches non-monotone leaks a rank AUC misses.
    """
    c = contract
    y_mask = y_raw.notna().to_numpy()
    idx = np.flatnonzero(y_mask)
    if len(idx) < 20:
        return
    rng = np.random.default_rng(0)
    if len(idx) > LEAKAGE_SAMPLE:
        idx = np.sort(rng.choice(idx, LEAKAGE_SAMPLE, replace=False))
    fold = rng.permutation(len(idx)) % 2 == 0
    if c.task is Task.REGRESSION:
        target = pd.to_numeric(y_raw.iloc[idx], errors="coerce").to_numpy(dtype="float64")
        if not np.isfinite(target).all():
            return
        y_matrix = target[:, None]
    else:
        labels = label_texts(y_raw.iloc[idx])
        classes = c.classes if c.classes is not None else sorted(labels.unique().tolist())
        y_codes = pd.Categorical(labels, categories=classes).codes
        keep = y_codes >= 0
        if not keep.all():
            idx, fold, y_codes = idx[keep], fold[keep], y_codes[keep]
        n_cls = len(classes)
        onehot = np.zeros((len(idx), n_cls))
        onehot[np.arange(len(idx)), y_codes] = 1.0
        # binary: the positive class only; multiclass: one column per class (macro OvR AUC)
        y_matrix = onehot[:, 1:2] if n_cls == 2 else onehot
    # The binned score learns on one half and scores the other: each half needs the evidence.
    in_class = y_matrix.sum(axis=0)
    need = 2 * LEAKAGE_MIN_CLASS_ROWS
    evidence = (in_class >= need) & (len(idx) - in_class >= need)
    binned_y = y_matrix if c.task is Task.REGRESSION else y_matrix[:, evidence]
    for col in c.features:
        if col.name in found.broken:
            continue
        codes = _bin_codes(found, col.name, idx)
        if codes is None:
            continue
        score = 0.0
        if binned_y.shape[1]:
            score = _oof_score(codes, fold, binned_y, regression=c.task is Task.REGRESSION)
        if c.task is Task.BINARY and col.name in found.numeric:
            # A monotone leak shows in the plain rank AUC at any sample size, bins or not, once each
            # class has the rows to show it.
            values = found.numeric[col.name][idx]
            ok = np.isfinite(values)
            positives = y_matrix[ok, 0].sum()
            if min(positives, ok.sum() - positives) >= LEAKAGE_MIN_CLASS_ROWS:
                auc = roc_auc_binary(y_matrix[ok, 0], values[ok])
                score = max(score, auc, 1.0 - auc)
        if score >= contract.gates.leakage_auc:
            metric = "R^2" if c.task is Task.REGRESSION else "ROC AUC"
            found.add(
                IssueCode.TARGET_LEAKAGE,
                f"this feature alone predicts {c.target!r} with {metric} {score:.3f} "
                f"(gate {contract.gates.leakage_auc}): is it computed from the outcome?",
                column=col.name,
                examples=[f"{metric.lower()}={score:.4f}"],
            )


def _bin_codes(found: Findings, name: str, idx: NDArray[np.intp]) -> NDArray[np.int64] | None:
    if name in found.codes:
        return found.codes[name][idx] + 1  # NaN (-1) becomes its own bin 0
    if name not in found.numeric:
        return None  # text columns are not checked
    values = found.numeric[name][idx]
    finite = np.isfinite(values)
    if not finite.any():
        return None
    # ~40 rows per bin on small samples, so each half of the sample sees every bin
    n_bins = int(np.clip(len(values) // 40, 4, LEAKAGE_BINS))
    edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, n_bins + 1)[1:-1]))
    binned = np.searchsorted(edges, values, side="right") + 1
    return np.where(finite, binned, 0).astype(np.int64)


def _oof_score(
    codes: NDArray[np.int64], fold: NDArray[np.bool_], y: NDArray[np.float64], *, regression: bool
) -> float:
    n_bins = int(codes.max()) + 1
    preds = np.empty_like(y)
    for train in (fold, ~fold):
        test = ~train
        counts = np.bincount(codes[train], minlength=n_bins).astype("float64")
        prior = y[train].mean(axis=0)
        for k in range(y.shape[1]):
            sums = np.bincount(codes[train], weights=y[train, k], minlength=n_bins)
            # unseen bins fall back to the prior: no credit for memorising single rows
            means = np.where(counts > 0, sums / np.maximum(counts, 1), prior[k])
            preds[test, k] = means[codes[test]]
    if regression:
        # A constant target has nothing to leak (r2 would call its perfect "prediction" 1.0).
        return 0.0 if np.ptp(y[:, 0]) == 0 else r2(y[:, 0], preds[:, 0])
    aucs = [roc_auc_binary(y[:, k], preds[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    return float(np.mean(aucs)) if aucs else 0.5
