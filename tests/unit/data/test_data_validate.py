"""The data gate on frames: clean data passes, each check fires on its own, the report renders."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from liveml.contract import Column, ColumnType, Contract, Gates, Task
from liveml.data import (
    DataQualityError,
    Severity,
    ValidationReport,
    check,
    conform,
    generate_players,
    player_contract,
    validate,
)


def test_clean_players_pass(players: pd.DataFrame) -> None:
    report = validate(players, player_contract())
    assert report.passed and report.issues == []
    assert report.rows == 1000 and report.columns == 16
    assert report.contract == "players-churn" and report.contract_sha256 == player_contract().sha256
    assert check(players, player_contract()).passed


def test_fifty_thousand_rows_are_fast() -> None:
    df = generate_players(50_000, 1)
    start = time.perf_counter()
    report = validate(df, player_contract())
    elapsed = time.perf_counter() - start
    print(f"validate 50k rows x 16 columns: {elapsed:.3f} s")  # figures live in the report, not asserts
    assert report.passed


def test_report_json_and_table(players: pd.DataFrame) -> None:
    df = players.copy()
    df.loc[df.index[:3], "level"] = 500
    report = validate(df, player_contract())
    data = json.loads(report.to_json())
    (issue,) = data["issues"]
    assert issue["code"] == "out_of_range" and issue["severity"] == "error"
    assert issue["column"] == "level" and issue["rows_affected"] == 3 and issue["examples"] == ["500"]
    assert ValidationReport.model_validate_json(report.to_json()) == report
    console = Console(record=True, width=160)
    console.print(report.render())
    assert "out_of_range" in console.export_text()


def test_check_raises_with_the_report(players: pd.DataFrame) -> None:
    with pytest.raises(DataQualityError) as info:
        check(players.drop(columns=["churned"]), player_contract())
    assert info.value.report.has("target_missing")
    assert info.value.http_status == 422


def test_small_target_nulls_are_a_warning(players: pd.DataFrame) -> None:
    df = players.copy()
    df["churned"] = df["churned"].astype("float64")
    df.loc[df.index[:5], "churned"] = np.nan
    report = validate(df, player_contract())
    assert report.passed
    (issue,) = report.issues
    assert issue.code == "target_missing" and issue.severity is Severity.WARNING and issue.rows_affected == 5


def test_a_few_duplicate_rows_are_a_warning(players: pd.DataFrame) -> None:
    df = pd.concat([players, players.iloc[:2]], ignore_index=True)
    contract = player_contract().model_copy(update={"entity_id": None})
    report = validate(df, contract)
    assert report.passed and report.has("duplicate_rows")


def test_booleans_and_unknown_class() -> None:
    contract = Contract(
        name="b",
        task=Task.BINARY,
        target="y",
        classes=["no", "yes"],
        gates=Gates(min_rows=1, min_rows_per_class=1),
        columns=[Column(name="flag", type=ColumnType.BOOLEAN), Column(name="y", type=ColumnType.CATEGORICAL)],
    )
    df = pd.DataFrame({"flag": ["true", "no", "maybe", "1"], "y": ["yes", "no", "perhaps", "no"]})
    report = validate(df, contract)
    mismatch = next(i for i in report.issues if i.code == "type_mismatch")
    assert mismatch.column == "flag" and mismatch.examples == ["maybe"]
    unseen = next(i for i in report.issues if i.code == "unseen_categories")
    assert unseen.column == "y" and unseen.examples == ["perhaps"]


def test_regression_leakage() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=3000)
    df = pd.DataFrame(
        {"x": x, "copy": np.sin(3 * x) * 10, "y": np.sin(3 * x) * 10 + rng.normal(0, 0.01, 3000)}
    )
    contract = Contract(
        name="r",
        task=Task.REGRESSION,
        target="y",
        gates=Gates(leakage_auc=0.9),
        columns=[
            Column(name="x", type=ColumnType.NUMERIC),
            Column(name="copy", type=ColumnType.NUMERIC),
            Column(name="y", type=ColumnType.NUMERIC),
        ],
    )
    report = validate(df, contract)
    assert report.has("target_leakage", column="copy")
    # x predicts y through a non-monotone curve: 32 bins resolve it to R^2 ~0.95, not to 0.99
    assert report.has("target_leakage", column="x")


def test_conform_types_for_training(players: pd.DataFrame) -> None:
    contract = player_contract()
    df = conform(players[list(reversed(players.columns))], contract)
    assert list(df.columns) == contract.column_names
    assert str(df["level"].dtype) == "float64"
    assert str(df["signup_date"].dtype).startswith("datetime64")
    assert set(df["churned"].unique()) == {"0", "1"}
