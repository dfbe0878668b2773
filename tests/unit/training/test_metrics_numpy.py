"""The numpy metrics the evaluate function gates on, held to scikit-learn's values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from liveml.training import metrics as m


def _probs(rng: np.random.Generator, n: int, k: int, y: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    # Rounded so that ties occur, which is where AUC implementations differ.
    p = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 2)
    p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    p = _probs(rng, 400, 2, y)
    ours = m.holdout_metrics("binary", y, p)
    assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]), abs=1e-12)
    assert ours["pr_auc"] == pytest.approx(skm.average_precision_score(y, p[:, 1]), abs=1e-12)
    assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(1)))
    assert ours["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p.argmax(1)))
    assert ours["f1"] == pytest.approx(skm.f1_score(y, p.argmax(1)))
    assert ours["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=[0, 1]), rel=1e-9)
    assert ours["brier"] == pytest.approx(skm.brier_score_loss(y, p[:, 1]))
    assert ours["confusion_matrix"] == skm.confusion_matrix(y, p.argmax(1)).tolist()
    fpr, tpr, _ = skm.roc_curve(y, p[:, 1], drop_intermediate=False)
    our_fpr, our_tpr = m.roc_curve(y, p[:, 1])
    np.testing.assert_allclose(our_fpr, fpr, atol=1e-12)
    np.testing.assert_allclose(our_tpr, tpr, atol=1e-12)
    precision, recall, _ = skm.precision_recall_curve(y, p[:, 1])
    ours_pr = m.precision_recall_curve(y, p[:, 1])
    np.testing.assert_allclose(ours_pr[0], precision, atol=1e-12)
    np.testing.assert_allclose(ours_pr[1], recall, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 4
    y = rng.integers(0, k, 500)
    p = _probs(rng, 500, k, y)
    p = p / p.sum(axis=1, keepdims=True)
    ours = m.holdout_metrics("multiclass", y, p)
    labels = list(range(k))
    assert ours["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=labels), abs=1e-12
    )
    assert ours["pr_auc"] == pytest.approx(skm.average_precision_score(np.eye(k)[y], p, average="macro"))
    assert ours["f1"] == pytest.approx(skm.f1_score(y, p.argmax(1), average="macro", labels=labels))
    assert ours["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p.argmax(1)))
    assert ours["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=labels), rel=1e-9)
    assert m.score("multiclass", y, p) == ours["roc_auc"]


def test_a_class_missing_from_the_holdout_gives_none_not_a_crash() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.full((4, 3), 1 / 3)
    ours = m.holdout_metrics("multiclass", y, p)
    assert ours["roc_auc"] is None and ours["pr_auc"] is None
    with pytest.raises(ValueError):
        m.roc_auc_binary([1, 1], [0.2, 0.4])


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=300) * 10
    pred = y + rng.normal(size=300)
    ours = m.holdout_metrics("regression", y, pred)
    assert ours["r2"] == pytest.approx(skm.r2_score(y, pred), abs=1e-12)
    assert ours["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert ours["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert m.r2([2.0, 2.0], [2.0, 2.0]) == skm.r2_score([2.0, 2.0], [2.0, 2.0])
