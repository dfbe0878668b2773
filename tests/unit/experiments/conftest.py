"""Experiments used across the statistics tests: a retention rate test and a session-length mean test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liveml.experiments import Experiment


def experiment(**overrides: Any) -> Experiment:
    data: dict[str, Any] = {
        "name": "onboarding-v2",
        "model": "churn",
        "variants": {"A": "3", "B": "4"},
        "split": {"A": 0.5, "B": 0.5},
        "salt": "exp-2026-01",
        "metric": {"name": "d1_retention", "kind": "rate", "baseline": 0.30, "mde": 0.02},
    }
    data.update(overrides)
    return Experiment.parse(data)


MakeExperiment = Callable[..., Experiment]


@pytest.fixture
def make_exp() -> MakeExperiment:
    """A factory: the retention experiment with some fields replaced."""
    return experiment


@pytest.fixture
def rate_exp() -> Experiment:
    return experiment()


@pytest.fixture
def mean_exp() -> Experiment:
    return experiment(
        name="session-length",
        metric={"name": "session_minutes", "kind": "mean", "baseline": 12.0, "std": 8.0, "mde": 0.5},
    )
