"""The retrain policy on records written here: drift and accuracy loss must persist; an estimated
loss counts only when drift corroborates it."""

from __future__ import annotations

from typing import Any

from liveml.monitoring.policy import MonitorSettings, decide
from liveml.pipeline.start import Trigger
from tests.unit.fresh import ROOT, run_fresh, unimportable

SETTINGS = MonitorSettings(windows=3, accuracy_drop=0.05, min_labelled=100)


def drift(end: str, drifted: bool, status: str = "ok") -> dict[str, Any]:
    feature = {"feature": "sessions", "drifted": drifted, "reasons": ["PSI 0.9 > 0.1"] if drifted else []}
    return {
        "version": "3",
        "window_end": end,
        "status": status,
        "drifted": drifted,
        "score": 2.0 if drifted else 0.2,
        "features": [feature],
    }


def accuracy(end: str, roc_auc: float, *, estimate: bool = False, labelled: int = 500) -> dict[str, Any]:
    return {
        "model": "churn",
        "version": "3",
        "variant": "live",
        "window_end": end,
        "n": 800,
        "labelled": labelled,
        "roc_auc": roc_auc,
        "roc_auc_ci": [roc_auc - 0.02, roc_auc + 0.02],
        "accuracy": 0.8,
        "holdout_roc_auc": 0.86,
        "estimate": estimate,
    }


ENDS = ["t1", "t2", "t3"]


def test_drift_must_persist_for_n_windows() -> None:
    assert decide(SETTINGS, [drift(e, True) for e in ENDS]).trigger is Trigger.DRIFT
    assert decide(SETTINGS, [drift("t1", True), drift("t2", False), drift("t3", True)]).trigger is None
    assert decide(SETTINGS, [drift(e, True) for e in ENDS[:2]]).trigger is None
    assert (
        decide(SETTINGS, [drift("t1", True), drift("t2", True, "not_enough_data"), drift("t3", True)]).trigger
        is None
    )


def test_a_measured_accuracy_loss_starts_a_retrain() -> None:
    decision = decide(SETTINGS, [drift(e, False) for e in ENDS], [accuracy(e, 0.74) for e in ENDS])
    assert decision.trigger is Trigger.ACCURACY
    assert "measured ROC AUC 0.740 vs 0.860" in decision.reason


def test_a_small_drop_or_too_few_labels_do_not() -> None:
    assert decide(SETTINGS, [], [accuracy(e, 0.83) for e in ENDS]).trigger is None
    assert decide(SETTINGS, [], [accuracy(e, 0.6, labelled=20) for e in ENDS]).trigger is None


def test_an_estimated_loss_needs_drift_to_corroborate_it() -> None:
    estimated = [accuracy(e, 0.7, estimate=True) for e in ENDS]
    assert decide(SETTINGS, [drift(e, False) for e in ENDS], estimated).trigger is None
    only_accuracy = MonitorSettings(windows=3, retrain_on=[Trigger.ACCURACY])
    decision = decide(only_accuracy, [drift(e, True) for e in ENDS], estimated)
    assert decision.trigger is Trigger.ACCURACY and "estimated" in decision.reason


def test_retrain_on_limits_the_triggers() -> None:
    never = MonitorSettings(retrain_on=[])
    assert decide(never, [drift(e, True) for e in ENDS] * 2).trigger is None


def test_checking_monitor_settings_needs_no_scipy() -> None:
    """The validate step checks `monitor:` and has no scipy: the settings must not import the statistics."""
    code = "from liveml.pipeline import PipelineSettings\nPipelineSettings.from_yaml('monitor: {windows: 2}')"
    run_fresh(unimportable("scipy") + code)


def test_the_monitor_function_imports_what_its_package_carries() -> None:
    """Its package has numpy and scipy beside the layer: no FastAPI, ONNX Runtime, pandas, scikit-learn."""
    blocked = unimportable("fastapi", "onnxruntime", "pandas", "sklearn", "matplotlib", "mangum")
    run_fresh(
        blocked + f"import sys; sys.path.insert(0, {str(ROOT / 'functions' / 'monitor')!r})\nimport app"
    )
