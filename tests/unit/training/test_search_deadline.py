"""What the search leaves time for: the report that ``train_model`` draws after it is measured on this
machine before the search starts and counted in its deadline; ``fit_and_export`` draws none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.training import fit_and_export, train_model
from liveml.training import report as reporting
from liveml.training import train as training

FIGURE_S = 0.75  # what the probe reports: the search must keep FIGURES of them


@pytest.fixture
def overheads(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []
    search = training.search  # type: ignore[attr-defined]

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(float(kwargs["finish_overhead_s"]))
        return search(*args, **kwargs)

    monkeypatch.setattr(training, "search", recording)
    monkeypatch.setattr(reporting, "figure_seconds", lambda: FIGURE_S)
    return seen


def test_train_model_keeps_the_reports_measured_time(
    overheads: list[float], players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    df, contract = players
    train_model(df, contract, tmp_path / "m", trials=1, time_budget_s=60, folds=3, families=["linear"])
    assert overheads == [pytest.approx(training.FINISH_OVERHEAD_S + reporting.FIGURES * FIGURE_S)]


def test_fit_and_export_keeps_no_time_for_a_report(
    overheads: list[float], players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    df, contract = players
    fit_and_export(df, contract, tmp_path / "m", trials=1, time_budget_s=60, folds=3, families=["linear"])
    assert overheads == [pytest.approx(training.FINISH_OVERHEAD_S)]


def test_the_probe_draws_a_real_figure() -> None:
    assert 0.0 < reporting.figure_seconds() < 60.0
