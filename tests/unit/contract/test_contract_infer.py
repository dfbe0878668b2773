"""Drafting a contract from data."""

from __future__ import annotations

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
