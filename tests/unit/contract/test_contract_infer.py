"""Drafting a contract from data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from liveml.contract import ColumnType, ContractError, Task, infer
from liveml.data import generate_players, validate


def test_infer_players_binary() -> None:
    df = generate_players(1000, 3)
    c = infer(df, target="churned", name="players")
    assert c.task is Task.BINARY
    assert c.classes == ["0", "1"]
    assert c.entity_id == "player_id"
    assert c.event_time == "event_time"
    assert c.column("signup_date").type is ColumnType.DATETIME
    assert c.column("level").type is ColumnType.INTEGER
    assert c.column("friends").type is ColumnType.INTEGER  # floats only because of NaN
    assert c.column("spend_30d").type is ColumnType.NUMERIC
    assert c.column("spend_30d").min == 0
    assert c.column("device").categories == ["android", "console", "ios", "pc"]
    assert c.column("feedback").type is ColumnType.TEXT
    # the draft accepts the data it came from
    report = validate(df, c)
    assert report.passed, report.issues


def test_infer_guesses_target_and_multiclass() -> None:
    df = generate_players(600, 4, "multiclass")
    c = infer(df)
    assert c.target == "segment"
    assert c.task is Task.MULTICLASS
    assert c.classes is not None and set(c.classes) == {
        "ChurnRisk",
        "ReadyForChallenge",
        "NeedsHelp",
        "Engaged",
    }


def test_infer_regression_and_small_data_gate() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    c = infer(df, target="y")
    assert c.task is Task.REGRESSION
    assert c.gates.min_rows == 50


def test_infer_errors() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(ContractError, match="pass --target"):
        infer(df)
    with pytest.raises(ContractError, match="not a column"):
        infer(df, target="zzz")
    with pytest.raises(ContractError, match="empty"):
        infer(pd.DataFrame())


# --- what the draft must accept in its own file, and still catch in the next one ----------------------


def _players_with(**columns: Any) -> pd.DataFrame:
    df = generate_players(400, 11)
    return df.assign(**columns)


def test_a_column_constant_in_the_file_is_expected_constant() -> None:
    df = _players_with(region="EU", version=3)
    c = infer(df, target="churned")
    assert c.column("region").expected_constant and c.column("version").expected_constant
    assert c.column("level").expected_constant is None
    assert validate(df, c).passed
    # A column that was not constant and becomes so is still a broken export.
    broken = generate_players(400, 12).assign(region="EU", version=3, device="pc")
    report = validate(broken, c)
    assert report.has("constant_column", column="device") and not report.passed
    assert not report.has("constant_column", column="region")


def test_a_sparse_column_is_held_to_its_own_rate() -> None:
    df = generate_players(400, 13)
    rng = np.random.default_rng(0)
    df["referrer"] = rng.choice(["ad", "friend"], len(df)).astype(object)
    df.loc[rng.random(len(df)) < 0.6, "referrer"] = None
    c = infer(df, target="churned")
    expected = c.column("referrer").expected_null_fraction
    assert expected is not None and expected >= df["referrer"].isna().mean()
    assert validate(df, c).passed
    # Ten points more missing than the draft saw: a null-rate jump, not a pass.
    df.loc[df["referrer"].notna() & (rng.random(len(df)) < 0.3), "referrer"] = None
    report = validate(df, c)
    assert report.has("null_rate_jump", column="referrer") and not report.passed


def test_more_values_than_a_category_may_have_is_text() -> None:
    df = generate_players(1_500, 14).assign(coupon=[f"C{i:05d}" for i in range(1_500)])
    c = infer(df, target="churned")
    assert c.column("coupon").type is ColumnType.TEXT and "1500 distinct" in c.column("coupon").description
    assert validate(df, c).passed


def test_dates_are_judged_on_every_value() -> None:
    dates = [f"2025-01-{1 + i % 28:02d}" for i in range(400)]
    dates[350] = "soon"
    c = infer(_players_with(renewal=dates), target="churned")
    assert c.column("renewal").type is not ColumnType.DATETIME


def test_an_event_time_with_gaps_stays_a_feature() -> None:
    df = generate_players(400, 15).drop(columns=["event_time"])
    df["ts"] = pd.Series([f"2025-02-{1 + i % 28:02d}T10:00:00Z" for i in range(400)], dtype=object)
    df.loc[:9, "ts"] = None
    c = infer(df, target="churned")
    assert c.event_time is None and c.column("ts").type is ColumnType.DATETIME
    assert validate(df, c).passed


def test_booleans_with_gaps_are_booleans_and_labels_match() -> None:
    rng = np.random.default_rng(2)
    flags = pd.Series((rng.random(400) < 0.5).tolist(), dtype=object)
    flags[:5] = None
    df = generate_players(400, 16).assign(vip=flags, churned=flags.fillna(False).tolist())
    df["churned"] = df["churned"].astype(object)
    df.loc[10:14, "churned"] = None
    c = infer(df, target="churned")
    assert c.column("vip").type is ColumnType.BOOLEAN
    assert c.classes == ["false", "true"]
    report = validate(df.drop(columns=["vip"]).assign(vip=flags), c)
    assert not report.has("unseen_categories") and not report.has("min_rows_per_class")


def test_a_rare_class_lowers_the_per_class_gate_and_one_class_is_refused() -> None:
    df = generate_players(400, 17)
    df["churned"] = 0
    df.loc[[5, 50, 150], "churned"] = 1
    c = infer(df, target="churned")
    assert c.gates.min_rows_per_class == 3
    assert validate(df, c).passed
    df["churned"] = 0
    with pytest.raises(ContractError, match=r"single value .*nothing to learn"):
        infer(df, target="churned")
    df["churned"] = None
    with pytest.raises(ContractError, match="no values"):
        infer(df, target="churned")


def test_bounds_near_the_float_limit_are_left_open() -> None:
    from liveml.contract.infer import plausible_range

    assert plausible_range(0.0, 1.7e308) == (0.0, None)
    assert plausible_range(-1.7e308, -1.0) == (None, 0.0)
    assert plausible_range(1e-320, 1e-300) == (0.0, 10.0)  # a margin of at least 10


def test_a_file_with_no_feature_is_refused_with_a_contract_error() -> None:
    df = pd.DataFrame({"player_id": ["a", "b", "c"], "churned": [0, 1, 0]})
    with pytest.raises(ContractError, match="no feature columns"):
        infer(df, target="churned")
