"""A small mixed-type frame (numeric with NaN, integer, boolean, categorical with a rare level and
missing values, datetime, text) and its contract, for the feature and export tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract


def mixed_frame(n: int, seed: int, task: str = "binary") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.integers(0, 50, n).astype(float),
            "c": rng.choice(["x", "y", "z", "w", "rare"], n, p=[0.4, 0.3, 0.2, 0.099, 0.001]),
            "t": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
            "flag": rng.choice([True, False], n),
            "txt": rng.choice(["great game", "too hard boss", "love it", "boss too easy"], n),
            "when": pd.Timestamp("2024-06-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**5, n), unit="s"),
        }
    )
    df.loc[rng.random(n) < 0.1, "a"] = np.nan
    df.loc[rng.random(n) < 0.1, "c"] = None
    signal = df["a"].fillna(0) + (df["c"] == "x") + 0.02 * df["b"] + rng.normal(size=n) * 0.5
    df["y"] = target(signal, task)
    return df


def target(signal: pd.Series, task: str) -> pd.Series | np.ndarray:
    """The label column for ``task`` from a numeric signal: yes/no, three bands, or a scaled value."""
    if task == "binary":
        return np.where(signal > 0.8, "yes", "no")
    if task == "multiclass":
        return pd.cut(signal, [-np.inf, 0.3, 1.2, np.inf], labels=["lo", "mid", "hi"]).astype(str)
    return signal * 100.0


def mixed_contract(task: str = "binary", text: bool = False) -> Contract:
    cols: list[dict[str, Any]] = [
        {"name": "a", "type": "numeric"},
        {"name": "b", "type": "integer"},
        {"name": "c", "type": "categorical"},
        {"name": "t", "type": "datetime"},
        {"name": "flag", "type": "boolean"},
        {"name": "when", "type": "datetime"},
        {"name": "y", "type": "numeric" if task == "regression" else "categorical"},
    ]
    if text:
        cols.insert(5, {"name": "txt", "type": "text"})
    classes = {"binary": ["no", "yes"], "multiclass": ["lo", "mid", "hi"], "regression": None}[task]
    return Contract.from_dict(
        {
            "name": "mixed",
            "task": task,
            "target": "y",
            "classes": classes,
            "event_time": "when",
            "columns": cols,
        }
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    return mixed_frame(1200, seed=0)


@pytest.fixture
def make_frame() -> Callable[..., pd.DataFrame]:
    return mixed_frame


@pytest.fixture
def make_contract() -> Callable[..., Contract]:
    return mixed_contract
