"""`liveml train` / `liveml predict`: exit codes, no directory on failure, predictions through ONNX."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from liveml.cli import app
from liveml.contract import Contract

runner = CliRunner()


def _files(tmp_path: Path, players: tuple[pd.DataFrame, Contract], rows: int) -> tuple[Path, Path]:
    df, contract = players
    data = tmp_path / "players.csv"
    df.head(rows).to_csv(data, index=False)
    spec = tmp_path / "contract.yaml"
    contract.save(spec)
    return data, spec


def test_train_then_predict(tmp_path: Path, players: tuple[pd.DataFrame, Contract]) -> None:
    data, spec = _files(tmp_path, players, 600)
    out = tmp_path / "model"
    res = runner.invoke(
        app,
        [
            "train",
            str(data),
            "--contract",
            str(spec),
            "--out",
            str(out),
            "--trials",
            "1",
            "--time-budget",
            "30",
            "--seed",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").exists() and "roc_auc" in res.output
    preds = tmp_path / "preds.csv"
    res = runner.invoke(app, ["predict", str(out), str(data), "--out", str(preds)])
    assert res.exit_code == 0, res.output
    with preds.open() as fh:
        got = list(csv.DictReader(fh))
    assert len(got) == 600 and set(got[0]) == {"label", "confidence", "p_0", "p_1"}


def test_bad_data_exits_1_and_writes_nothing(tmp_path: Path, players: tuple[pd.DataFrame, Contract]) -> None:
    data, spec = _files(tmp_path, players, 30)  # below the contract's min_rows
    out = tmp_path / "model"
    res = runner.invoke(
        app, ["train", str(data), "--contract", str(spec), "--out", str(out), "--trials", "1"]
    )
    assert res.exit_code == 1
    assert "data quality gate failed" in res.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model")] == []


def test_predict_on_missing_model_exits_1(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    res = runner.invoke(app, ["predict", str(tmp_path / "nope"), str(rows)])
    assert res.exit_code == 1
