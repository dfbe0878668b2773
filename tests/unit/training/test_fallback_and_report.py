"""A configuration ONNX does not reproduce is passed over for the next best; the report shows
content in every section it has, and leaves out the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from liveml.contract import Contract
from liveml.training import ExportError, export
from liveml.training import train as training
from liveml.training.report import report_html
from liveml.training.train import ranked_candidates
from liveml.training.tuning import SearchResult, TrialRecord
from tests.unit.training.conftest import Trainer


def _failing_parity(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[str]:
    """The training-side parity check fails for the first ``failures`` candidates (this is only a
    unit test: a model that mispredicts in ONNX is rare once trees are float32-exact). The Evaluate
    step's own parity check with ONNX Runtime is left alone, so the served model is really checked."""
    checked: list[str] = []
    real = export.check_onnx_parity

    def check(onnx_bytes: bytes, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(type(pipeline.steps[-1][1]).__name__)
        if len(checked) <= failures:
            raise ExportError(
                f"ONNX does not reproduce scikit-learn: max difference 0.00637 > 1e-05 (#{len(checked)})"
            )
        return real(onnx_bytes, pipeline, *args, **kwargs)

    monkeypatch.setattr(training, "check_onnx_parity", check)
    return checked


def test_the_runner_up_serves_when_the_best_fails_parity(
    train_players: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = _failing_parity(monkeypatch, failures=1)
    result = train_players(trials=3, time_budget_s=60, families=["linear", "hist_gradient_boosting"])
    out = result.out_dir
    trials = [t for t in json.loads((out / "trials.json").read_text()) if t["state"] == "COMPLETE"]
    ranked = sorted(trials, key=lambda t: (-t["value"], t["number"]))
    assert len(checked) == 2
    assert (result.family, result.params) == (ranked[1]["family"], ranked[1]["params"])
    card = json.loads((out / "model_card.json").read_text())
    assert card["selection"]["rank"] == 2
    (rejected,) = card["selection"]["rejected"]
    assert rejected["rank"] == 1 and rejected["family"] == ranked[0]["family"]
    assert "0.00637" in rejected["reason"]
    assert card["search"]["cv_score"] == pytest.approx(ranked[1]["value"])
    assert card["parity"]["onnx_max_abs_diff"] <= 1e-5  # Evaluate checked the runner-up for real
    html = (out / "report.html").read_text()
    assert "was not served" in html and "0.00637" in html


def test_no_candidate_that_exports_is_a_clear_error(
    train_players: Trainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_parity(monkeypatch, failures=99)
    with pytest.raises(
        ExportError, match=r"none of the search's 2 best configurations exports faithfully: #1"
    ):
        train_players(trials=2, time_budget_s=60)
    assert not (tmp_path / "m").exists()


def test_candidates_are_ranked_by_cv_score_once_each() -> None:
    def rec(n: int, value: float | None, family: str, c: float, state: str = "COMPLETE") -> TrialRecord:
        return TrialRecord(n, state, value, family, {"C": c}, [], 0.1)

    trials = [
        rec(0, 0.80, "linear", 1.0),
        rec(1, 0.85, "hgb", 2.0),
        rec(2, 0.85, "linear", 1.0),  # the same configuration as trial 0
        rec(3, None, "linear", 3.0, "PRUNED"),
        rec(4, 0.83, "linear", 4.0),
    ]
    result = SearchResult("hgb", {"C": 2.0}, 0.85, trials)
    got = [(c.rank, c.family, c.params["C"]) for c in ranked_candidates(result)]
    assert got == [(1, "hgb", 2.0), (2, "linear", 1.0), (3, "linear", 4.0)]


# --- the report -----------------------------------------------------------------------------


def _sections(html: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", html)


def test_the_report_of_a_training_run_has_content_in_every_section(model_dir: Path) -> None:
    html = (model_dir / "report.html").read_text()
    sections = _sections(html)
    assert "Gates" not in sections  # the contract sets none: left out, not an empty table
    for title in ("Holdout metrics", "Search", "Parameters", "Parity", "Plots", "Top features"):
        assert title in sections
    for chunk in re.split(r"<h2>", html)[1:]:
        body = chunk.split("</h2>", 1)[1]
        assert re.sub(r"<[^>]+>|\s", "", body), f"empty section {chunk[:30]}"
    card = json.loads((model_dir / "model_card.json").read_text())
    top = card["permutation_importance"]
    raw_columns = {c.name for c in Contract.from_yaml((model_dir / "contract.yaml").read_text()).columns}
    assert top and {r["feature"] for r in top} <= raw_columns
    assert top[0]["importance"] > 0  # the strongest column matters on the holdout
    assert html.count("<td>") > 10 and top[0]["feature"] in html.split("Top features")[1]
    assert "Optimisation history (by family)" in html or "alt='Optimisation history'" in html


def _card(**changes: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": "churn",
        "task": "binary",
        "family": "hist_gradient_boosting",
        "params": {"max_iter": 100},
        "primary_metric": "roc_auc",
        "metrics": {"roc_auc": 0.9},
        "gates": [],
        "created_at": "2026-01-01T00:00:00+00:00",
        "contract": {"name": "churn", "version": 1, "sha256": "ab" * 32},
        "data": {"sha256": None, "rows": 100, "train_rows": 80, "holdout_rows": 20, "served_model_rows": 100},
        "refit": {"done": True, "rows": 100, "reason": training.refit_note(0.2)},
        "selection": {"rank": 1, "rejected": []},
        "search": {
            "trials": 3,
            "seconds": 1.0,
            "seed": 0,
            "folds": 3,
            "cv_score": 0.9,
            "families": ["linear"],
        },
        "parity": {"onnx_max_abs_diff": 1e-7, "tolerance": 1e-5, "golden_requests": 5},
    }
    card.update(changes)
    return card


def test_the_report_says_when_the_winner_is_within_noise() -> None:
    search = {**_card()["search"], "within_noise": True, "noise_margin": 0.0031, "lead": 0.0012}
    html = report_html(_card(search=search), {}, [])
    assert "within noise" in html and "0.0031" in html and "0.0012" in html
    assert "within noise" not in report_html(_card(), {}, [])


def test_the_report_leaves_out_sections_without_content() -> None:
    html = report_html(_card(), {}, [])
    assert {"Plots", "Top features", "Gates"}.isdisjoint(_sections(html))
    gate = {"gate": "min_roc_auc", "metric": "roc_auc", "threshold": 0.8, "value": 0.9, "passed": True}
    importance = [{"feature": "sessions_7d", "importance": 0.12, "std": 0.01}]
    html = report_html(_card(gates=[gate]), {"ROC curve": "AAAA"}, importance)
    assert {"Plots", "Top features", "Gates"} <= set(_sections(html))
    assert "min_roc_auc" in html and "sessions_7d" in html
