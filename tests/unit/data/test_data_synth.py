"""Synthetic players: seedable, realistic, learnable but not trivially."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from liveml.data import generate_players, player_contract, validate
from liveml.data.synth import COUNTRIES, DEVICES, SEGMENTS


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    pd.testing.assert_frame_equal(generate_players(500, 4), generate_players(500, 4))
    assert not generate_players(500, 4).equals(generate_players(500, 5))


def test_columns_nulls_and_values() -> None:
    df = generate_players(20_000, 1)
    assert list(df.columns) == player_contract().column_names
    nulls = df.isna().mean()
    for column in ("avg_session_minutes", "friends", "country"):
        assert 0.005 < nulls[column] < 0.06
    assert nulls.drop(["avg_session_minutes", "friends", "country", "feedback"]).max() == 0
    assert set(df["device"]) == set(DEVICES)
    assert set(df["country"].dropna()) == set(COUNTRIES)
    assert 0.12 < df["churned"].mean() < 0.35
    assert df["player_id"].is_unique


def test_multiclass_segments() -> None:
    df = generate_players(5000, 2, "multiclass")
    shares = df["segment"].value_counts(normalize=True)
    assert set(shares.index) == set(SEGMENTS)
    assert shares.min() > 0.08
    assert "churned" not in df.columns
    assert validate(df, player_contract("multiclass")).passed


def test_fifty_thousand_rows_quickly() -> None:
    start = time.perf_counter()
    df = generate_players(50_000, 3)
    print(f"generate 50k players: {time.perf_counter() - start:.3f} s")
    assert len(df) == 50_000


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rows"):
        generate_players(0, 1)
    with pytest.raises(ValueError, match="task"):
        generate_players(10, 1, "regression")  # type: ignore[arg-type]


@pytest.mark.slow
def test_labels_are_learnable_but_noisy() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    train, test = generate_players(8000, 10), generate_players(4000, 11)
    numeric = [c.name for c in player_contract().features if c.type.value in ("numeric", "integer")]

    def xy(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series[int]]:
        return df[numeric].fillna(df[numeric].median()), df["churned"]

    x_train, y_train = xy(train)
    x_test, y_test = xy(test)
    model = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    assert 0.78 < auc < 0.95
