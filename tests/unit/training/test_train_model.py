"""train_model end to end: the model directory, gates, champion/challenger, atomic writes, seeds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from liveml.contract import Contract
from liveml.data import DataQualityError
from liveml.inference import load_model_dir, onnx_parity, read_manifest
from liveml.modeldir import sha256_hex
from liveml.training import ModelPerformanceError, TrainResult, search, train_model
from liveml.training.errors import TrainingError

FILES = {
    "manifest.json",
    "model.onnx",
    "contract.yaml",
    "model_card.md",
    "model_card.json",
    "report.html",
    "trials.json",
    "reference_sample.csv",
    "reference_sketch.json",
    "holdout_reference.npz",
    "golden_requests.json",
}


def test_model_directory_is_complete_and_verifiable(trained: TrainResult, model_dir: Path) -> None:
    assert {p.name for p in model_dir.iterdir()} >= FILES
    manifest = read_manifest(model_dir)
    assert manifest["task"] == "binary" and manifest["classes"] == ["0", "1"]
    assert manifest["feature_order"][0] == "signup_date"
    for name, entry in manifest["artifacts"].items():
        data = (model_dir / entry["path"]).read_bytes()
        assert sha256_hex(data) == entry["sha256"] and len(data) == entry["bytes"], name
    assert 0.5 < manifest["metrics"]["roc_auc"] <= 1.0
    for key in ("accuracy", "balanced_accuracy", "pr_auc", "f1", "log_loss", "brier", "confusion_matrix"):
        assert key in manifest["metrics"]
    assert trained.onnx_parity <= 1e-5
    assert len(json.loads((model_dir / "trials.json").read_text())) == 3
    html = (model_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5
    assert "# Model card" in (model_dir / "model_card.md").read_text()
    assert len(pd.read_csv(model_dir / "reference_sample.csv")) <= 2000


def test_the_reference_sketch_sees_no_drift_in_the_holdout(model_dir: Path) -> None:
    from liveml.monitoring.drift import compare
    from liveml.monitoring.sketches import ReferenceSketch

    sketch = ReferenceSketch.from_json((model_dir / "reference_sketch.json").read_text())
    rows = [json.loads(line) for line in (model_dir / "holdout_rows.jsonl").read_text().splitlines()]
    columns = {name: [r.get(name) for r in rows] for name in sketch.features}
    result = compare(sketch, columns)
    assert set(sketch.features) >= {"sessions_last_7d", "device", "country"}
    assert sketch.prediction is not None and sketch.prediction.kind == "numeric"
    assert not result.drifted, result.drifted_features


def test_runtime_replays_golden_requests_and_parity(model_dir: Path) -> None:
    bundle = load_model_dir(model_dir)
    assert onnx_parity(bundle) <= 1e-5
    golden = json.loads((model_dir / "golden_requests.json").read_text())
    preds = bundle.onnx.predict([r["features"] for r in golden["requests"]], as_of=golden["as_of"])
    for pred, req in zip(preds, golden["requests"], strict=True):
        assert pred.label == req["expected"]["label"]
        for cls, p in req["expected"]["probabilities"].items():
            assert pred.probabilities is not None
            assert abs(pred.probabilities[cls] - p) <= golden["tolerance"]


def test_tampered_artifact_is_refused(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    (copy / "model.onnx").write_bytes((copy / "model.onnx").read_bytes() + b"\0")
    with pytest.raises(Exception, match="sha256"):
        load_model_dir(copy)


def test_gate_failure_raises_with_numbers_and_leaves_nothing(
    players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    df, contract = players
    strict = contract.model_copy(update={"gates": contract.gates.model_copy(update={"min_accuracy": 0.999})})
    out = tmp_path / "model"
    with pytest.raises(ModelPerformanceError, match="min_accuracy") as info:
        train_model(df, strict, out, trials=1, time_budget_s=30, seed=0, folds=2, families=["linear"])
    assert info.value.failures[0]["threshold"] == 0.999
    assert "accuracy" in info.value.metrics
    assert list(tmp_path.iterdir()) == []


def test_challenger_must_beat_champion_by_margin(
    players: tuple[pd.DataFrame, Contract], model_dir: Path, tmp_path: Path
) -> None:
    df, contract = players
    margin = contract.model_copy(
        update={"gates": contract.gates.model_copy(update={"challenger_margin": 0.2})}
    )
    with pytest.raises(ModelPerformanceError, match="champion") as info:
        train_model(
            df,
            margin,
            tmp_path / "m",
            trials=1,
            time_budget_s=30,
            seed=0,
            folds=2,
            families=["linear"],
            champion_dir=model_dir,
        )
    gate = info.value.failures[0]
    assert gate["gate"] == "champion" and gate["margin"] == 0.2
    assert not (tmp_path / "m").exists()


def test_data_quality_failure_writes_nothing(players: tuple[pd.DataFrame, Contract], tmp_path: Path) -> None:
    df, contract = players
    with pytest.raises(DataQualityError):
        train_model(df.head(50), contract, tmp_path / "m", trials=1, time_budget_s=30)
    assert not (tmp_path / "m").exists()


def test_refuses_to_overwrite(model_dir: Path, players: tuple[pd.DataFrame, Contract]) -> None:
    df, contract = players
    with pytest.raises(TrainingError, match="not empty"):
        train_model(df, contract, model_dir, trials=1)


def _breast_cancer() -> tuple[pd.DataFrame, Contract]:
    data = load_breast_cancer(as_frame=True)
    df = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    cols = [{"name": c, "type": "numeric"} for c in df.columns if c != "target"]
    cols.append({"name": "target", "type": "integer"})
    return df, Contract.from_dict(
        {"name": "bc", "task": "binary", "target": "target", "classes": ["0", "1"], "columns": cols}
    )


def test_seed_makes_search_reproducible() -> None:
    df, contract = _breast_cancer()
    from liveml.features import pregraph_spec

    y = df["target"].to_numpy()
    spec = pregraph_spec(contract)
    runs = [
        search(
            df,
            y,
            spec,
            "binary",
            trials=4,
            time_budget_s=120,
            seed=5,
            folds=3,
            families=["linear", "extra_trees"],
        )
        for _ in range(2)
    ]
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]
    assert [t.value for t in runs[0].trials] == [t.value for t in runs[1].trials]


def test_regression_on_diabetes(tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    df = data.frame
    cols = [{"name": c, "type": "numeric"} for c in df.columns]
    contract = Contract.from_dict(
        {"name": "diabetes", "task": "regression", "target": "target", "columns": cols}
    )
    result = train_model(
        df,
        contract,
        tmp_path / "m",
        trials=2,
        time_budget_s=60,
        seed=0,
        folds=3,
        families=["linear", "gradient_boosting"],
        validate=False,
    )
    assert {"rmse", "mae", "r2"} <= set(result.metrics)
    assert result.compact_parity is not None and result.compact_parity <= 1e-4
    bundle = load_model_dir(result.out_dir)
    assert bundle.compact is not None
    row = {c: float(df[c].iloc[0]) for c in contract.feature_names}
    onnx_value = bundle.onnx.predict([row])[0].value
    compact_value = bundle.compact.predict([row])[0].value
    assert onnx_value is not None and compact_value is not None
    assert np.isclose(onnx_value, compact_value, rtol=1e-4)


def test_raw_rows_are_json_ready_whatever_the_column_type() -> None:
    """The holdout rows and golden requests: one dict per row, NaN as null, datetimes as ISO text,
    numpy scalars as Python numbers, and a name the frame lacks left out."""
    import json

    import pandas as pd

    from liveml.training.train import _raw_rows

    df = pd.DataFrame(
        {
            "n": [1.5, float("nan")],
            "i": pd.array([3, 4], dtype="int64"),
            "s": pd.array(["a", None], dtype="string"),
            "t": pd.to_datetime(pd.Series(["2024-01-02T03:04:05Z", None]), utc=True),
        }
    )
    rows = _raw_rows(df, ["n", "i", "s", "t", "absent"])
    assert rows == [
        {"n": 1.5, "i": 3, "s": "a", "t": "2024-01-02T03:04:05+00:00"},
        {"n": None, "i": 4, "s": None, "t": None},
    ]
    assert json.loads(json.dumps(rows)) == rows
