"""The served model is refit on all rows; the holdout figures stay the 80% model's estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.inference import load_holdout_reference, load_model_dir
from liveml.training import TrainResult, tuning
from liveml.training import train as training
from liveml.training.metrics import holdout_metrics, score
from liveml.training.train import refit_note
from tests.unit.training.conftest import Trainer


def _npz(model_dir: Path) -> dict[str, Any]:
    with np.load(model_dir / "holdout_reference.npz", allow_pickle=False) as npz:
        return {k: npz[k] for k in ("expected", "estimate", "y_true")}


def test_the_card_says_the_served_model_is_refit_on_every_row(trained: TrainResult, model_dir: Path) -> None:
    card = json.loads((model_dir / "model_card.json").read_text())
    data = card["data"]
    assert data["rows"] == 800 and data["train_rows"] == 640 and data["holdout_rows"] == 160
    assert data["served_model_rows"] == 800
    assert card["refit"] == {"done": True, "rows": 800, "reason": refit_note(0.2)}
    assert (
        card["refit"]["reason"] == "metrics are from a model fitted on 80%, the served model is refit on 100%"
    )
    assert "refit on all 800 rows" in (model_dir / "model_card.md").read_text()
    assert "refit on all 800 rows" in (model_dir / "report.html").read_text()


def test_evaluate_scores_the_80_percent_model_not_the_refit_one(model_dir: Path) -> None:
    ref = _npz(model_dir)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    from_estimate = holdout_metrics("binary", ref["y_true"], ref["estimate"])
    assert manifest["metrics"]["roc_auc"] == pytest.approx(from_estimate["roc_auc"], abs=1e-12)
    # The refit model saw the holdout: its outputs there are not the estimate, and ONNX serves them.
    assert not np.allclose(ref["expected"], ref["estimate"], atol=1e-3)
    bundle = load_model_dir(model_dir)
    inputs, expected = load_holdout_reference(model_dir)
    assert np.abs(bundle.onnx.run_inputs(inputs) - expected).max() <= 1e-5
    in_sample = score("binary", ref["y_true"], ref["expected"])
    assert in_sample != pytest.approx(from_estimate["roc_auc"], abs=1e-9)


def _spy_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Row counts of every pipeline the final fit makes (the search's own fits are not counted)."""
    rows: list[int] = []
    real = tuning.make_pipeline

    def make(*args: Any, **kwargs: Any) -> Any:
        pipe = real(*args, **kwargs)
        fit = pipe.fit

        def counted(X: pd.DataFrame, y: Any) -> Any:  # noqa: N803
            rows.append(len(X))
            return fit(X, y)

        pipe.fit = counted
        return pipe

    monkeypatch.setattr(training, "make_pipeline", make)
    return rows


def test_refit_fits_the_served_model_on_all_rows(
    train_players: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _spy_fits(monkeypatch)
    result = train_players()
    assert rows == [640, 800]  # scored on the holdout, then refit on every labelled row
    assert result.manifest["family"] == "linear"


def test_no_refit_serves_the_holdout_scored_model(
    train_players: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _spy_fits(monkeypatch)
    out = train_players(refit=False).out_dir
    assert rows == [640]
    card = json.loads((out / "model_card.json").read_text())
    assert card["data"]["served_model_rows"] == 640 and card["refit"]["done"] is False
    ref = _npz(out)
    np.testing.assert_array_equal(ref["expected"], ref["estimate"])


def test_no_refit_when_the_gates_already_fail(
    players: tuple[pd.DataFrame, Contract],
    train_players: Trainer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from liveml.training import ModelPerformanceError

    _, contract = players
    strict = contract.model_copy(update={"gates": contract.gates.model_copy(update={"min_roc_auc": 0.999})})
    rows = _spy_fits(monkeypatch)
    with pytest.raises(ModelPerformanceError, match="min_roc_auc"):
        train_players(strict)
    assert rows == [640]  # the refit would have been wasted on a model the gate rejects
    assert not (tmp_path / "m").exists()


def test_the_holdout_estimate_is_read_only_where_a_refit_happened(model_dir: Path, tmp_path: Path) -> None:
    from liveml.training.evaluate import holdout_estimate

    ref = _npz(model_dir)
    np.testing.assert_array_equal(holdout_estimate(model_dir), ref["estimate"])
    # Without a refit the served model is the scored one: its ONNX outputs are the estimate.
    np.savez_compressed(
        tmp_path / "holdout_reference.npz", expected=ref["estimate"], estimate=ref["estimate"]
    )
    assert holdout_estimate(tmp_path) is None
    np.savez_compressed(tmp_path / "holdout_reference.npz", expected=ref["expected"], y_true=ref["y_true"])
    assert holdout_estimate(tmp_path) is None  # written before the refit existed
