"""The pre-graph step and the compact evaluator, with no scikit-learn involved."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from liveml.inference import MISSING, OTHER, CompactModel, InputError, PreGraph
from liveml.inference.errors import ArtifactError
from liveml.inference.pregraph import ColumnSpec, datetime_features


def _pregraph() -> PreGraph:
    pg = PreGraph(
        [
            ColumnSpec("n", "numeric"),
            ColumnSpec("flag", "boolean"),
            ColumnSpec("c", "categorical"),
            ColumnSpec("d", "datetime"),
            ColumnSpec("txt", "text"),
        ],
        event_time="at",
        min_frequency=2,
    )
    return pg.fit(
        {
            "c": ["a", "a", "b", "b", "z", None],
            "d": ["2024-01-01T00:00:00Z"] * 6,
            "at": ["2024-01-11T00:00:00Z"] * 6,
        }
    )


def test_fit_keeps_frequent_categories_and_reference_time() -> None:
    pg = _pregraph()
    assert pg.columns[2].categories == ["a", "b"]
    assert pg.reference_time == datetime(2024, 1, 11, tzinfo=UTC).timestamp()
    again = PreGraph.from_dict(pg.to_dict())
    assert again.to_dict() == pg.to_dict()


def test_rows_become_graph_inputs() -> None:
    pg = _pregraph()
    rows: list[dict[str, Any]] = [
        {
            "n": "1.5",
            "flag": "yes",
            "c": "a",
            "d": "2024-01-01T06:00:00+00:00",
            "txt": "hi",
            "at": "2024-01-03",
        },
        {"n": None, "flag": False, "c": "unseen", "d": None, "txt": None},
        {"c": None},
    ]
    x = pg.transform_rows(rows, as_of=datetime(2024, 1, 5, tzinfo=UTC))
    assert x["n"].dtype == np.float32 and x["n"].shape == (3, 1)
    assert x["n"][0, 0] == 1.5 and math.isnan(x["n"][1, 0])
    assert list(x["flag"].ravel()[:2]) == [1.0, 0.0]
    assert list(x["c"].ravel()) == ["a", OTHER, MISSING]
    assert list(x["txt"].ravel()) == ["hi", "", ""]
    assert x["d__hour_sin"][0, 0] == pytest.approx(1.0)  # 06:00 is a quarter of the day
    assert x["d__dow_cos"][0, 0] == pytest.approx(1.0)  # 2024-01-01 was a Monday
    assert x["d__age_days"][0, 0] == pytest.approx(1.75)  # to the row's event time, 2024-01-03
    assert math.isnan(x["d__age_days"][1, 0])


def test_age_uses_as_of_without_event_time() -> None:
    secs = np.array([0.0])
    feats = datetime_features(secs, np.array([86400.0 * 3]))
    assert feats["age_days"][0] == 3.0


def test_bad_values_name_the_column() -> None:
    pg = _pregraph()
    with pytest.raises(InputError, match="'n'"):
        pg.transform_rows([{"n": "lots"}])
    with pytest.raises(InputError, match="'d'"):
        pg.transform_rows([{"d": "yesterday"}])


def test_compact_rejects_unknown_format() -> None:
    with pytest.raises(ArtifactError):
        CompactModel({"format": "other", "version": 1})


def test_compact_linear_by_hand() -> None:
    pg = PreGraph([ColumnSpec("n", "numeric"), ColumnSpec("c", "categorical", ["a"])])
    doc = {
        "format": "liveml.compact",
        "version": 1,
        "task": "binary",
        "classes": ["no", "yes"],
        "preprocessing": pg.to_dict(),
        "features": [{"input": "n", "impute": 2.0, "mean": 1.0, "scale": 2.0}, {"input": "c", "equals": "a"}],
        "model": {"type": "linear", "coef": [[1.0, 2.0]], "intercept": [-1.0], "link": "logistic"},
    }
    (p,) = CompactModel(doc).predict([{"n": None, "c": "a"}])
    z = (2.0 - 1.0) / 2.0 + 2.0 - 1.0
    assert p.label == "yes" and p.probabilities is not None
    assert p.probabilities["yes"] == pytest.approx(1 / (1 + math.exp(-z)))
