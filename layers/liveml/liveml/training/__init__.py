"""Training: model search (optuna), evaluation and gates, ONNX + compact export with parity checks,
the model card and report — all behind one call::

    from liveml.training import train_model
    result = train_model(df, contract, "model/", trials=30, time_budget_s=300, seed=0,
                         champion_dir=None, progress=callback)   # -> TrainResult

or in two phases, as the pipeline runs it (Lambda's 250 MB: the Train function carries
scikit-learn, optuna and skl2onnx but no ONNX Runtime or matplotlib; Evaluate the reverse)::

    fit = fit_and_export(df, contract, "model/", ...)      # -> FitResult; scikit-learn side
    ev = evaluate_model_dir("model/", champion_dir=None)   # -> Evaluation; ONNX Runtime side
    ev.raise_on_failures()                                 # ModelPerformanceError

``fit_and_export`` writes a complete but *unevaluated* directory (``"evaluation": null`` in the
manifest, no ``report.html``); ``evaluate_model_dir`` verifies every sha256, checks ONNX parity and
the golden requests with ONNX Runtime, computes the holdout metrics from the ONNX outputs (numpy),
applies the gates and the champion, writes ``report.html`` and the final model card, and re-seals
the manifest. Importing this package is cheap: each name loads its module on first use, so the
evaluate function can import ``liveml.training.evaluate`` without scikit-learn being installed.

``df`` is the raw frame (as ``liveml.data.read_dataset`` returns it); with ``validate=True`` (the
default) it goes through ``liveml.data.check`` (``DataQualityError``) and ``conform`` first.
Failures: ``DataQualityError``, ``ModelPerformanceError`` (a gate or the champion; ``.failures`` and
``.metrics`` carry the numbers), ``ExportError`` (parity), ``TrainingError``. On any failure no model
directory exists afterwards: everything is written to a temporary sibling and renamed at the end.

The model directory — the contract between training and the rest of the system
===============================================================================

``manifest.json`` (read it with ``liveml.inference.read_manifest`` / ``load_model_dir``)::

    {
      "format_version": 1,
      "name": "<contract name>", "task": "binary" | "multiclass" | "regression",
      "target": "<column>", "classes": ["0", "1"] | null,      # probability order = this order
      "entity_id": "<column>" | null, "event_time": "<column>" | null,
      "feature_order": [...],          # raw features a client sends (the contract's order)
      "graph_inputs": [{"name", "type": "float" | "string", "source"}],   # the ONNX graph's inputs
      "preprocessing": {...},          # the pre-graph step (liveml.inference.PreGraph.to_dict())
      "family": "hist_gradient_boosting", "params": {...},
      "primary_metric": "roc_auc" | "r2", "cv_score": 0.91,
      "metrics": {...},                # holdout: accuracy, balanced_accuracy, roc_auc, pr_auc, f1,
                                       # log_loss, brier, confusion_matrix, n | rmse, mae, r2, n
      "gates": [{"gate", "metric", "threshold", "value", "passed"}],
      "parity": {"onnx_max_abs_diff", "compact_max_abs_diff" | null, "tolerance"},
      "evaluation": null | {"evaluated_at", "champion": null | {"model_dir", "name", "created_at",
                                                               "champion_score", "challenger_score",
                                                               "margin", "passed"}},
      "artifacts": {"model.onnx": {"path", "sha256", "bytes"}, ...},   # every file but the manifest
      "created_at": "ISO 8601 UTC", "code_version": "0.1.0",
      "contract_sha256": "...", "data_sha256": "..." | null, "seed": 0
    }

Files beside it:

* ``model.onnx`` — the pipeline after the pre-graph step; one [N, 1] input per graph input,
  outputs ``label`` + ``probabilities`` [N, K] (classifiers, no ZipMap) or ``variable`` (regressors).
  Feed it through ``liveml.inference.OnnxModel``, which runs the pre-graph step first.
* ``model.compact.json`` — the on-device format (``liveml.inference.compact`` documents it); absent
  when the model cannot be expressed in it (text features).
* ``contract.yaml``; ``model_card.md`` and ``model_card.json``; ``report.html`` (plots embedded);
* ``trials.json`` — every optuna trial: number, state, value, family, params, fold scores, seconds;
* ``reference_sample.csv`` — up to 2,000 training rows (contract columns) for drift monitoring;
* ``reference_sketch.json`` — the training rows binned per feature, and the holdout's predictions
  (``liveml.monitoring.sketches``): what the drift monitor compares each window with;
* ``holdout_rows.jsonl`` — the holdout's raw rows (every contract column but the target; JSON
  types, datetimes as ISO 8601): any model's pre-graph step can consume them, so a champion trained
  on another contract version is scored on exactly this run's holdout;
* ``holdout_reference.npz`` — the holdout's graph inputs (``input:<name>``), scikit-learn's outputs
  (``expected``) and the truth (``y_true``, class indices or values): ``liveml.inference.onnx_parity``
  re-checks the ONNX file with onnxruntime alone;
* ``golden_requests.json`` — ``{"version": 1, "as_of": epoch seconds, "tolerance": 1e-5,
  "requests": [{"features": {raw feature dict incl. the event-time column}, "expected":
  {"label", "probabilities", "confidence"} | {"value"}}]}``; replay with ``predict(rows, as_of=as_of)``.

Age features (``<datetime column>__age_days``) are measured to the row's event-time column when the
row carries it, else to ``as_of`` (``OnnxModel.predict`` defaults it to now).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from liveml.training.errors import ExportError, ModelPerformanceError, TrainingError

if TYPE_CHECKING:
    from liveml.training.evaluate import Evaluation, evaluate_model_dir
    from liveml.training.families import FAMILIES
    from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics
    from liveml.training.search import SearchResult, TrialEvent, TrialRecord, search
    from liveml.training.train import FitResult, TrainResult, fit_and_export, train_model

#: public name → the module that defines it; loaded on first access (PEP 562)
_LAZY = {
    "Evaluation": "evaluate",
    "evaluate_model_dir": "evaluate",
    "FAMILIES": "families",
    "PRIMARY_METRIC": "metrics",
    "holdout_metrics": "metrics",
    "SearchResult": "search",
    "TrialEvent": "search",
    "TrialRecord": "search",
    "search": "search",
    "FitResult": "train",
    "TrainResult": "train",
    "fit_and_export": "train",
    "train_model": "train",
}


class _Package(ModuleType):
    """Importing the submodule ``search`` sets the package attribute ``search``; keep the public
    function there instead (as the eager ``from .search import search`` used to)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _LAZY.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FAMILIES",
    "PRIMARY_METRIC",
    "Evaluation",
    "ExportError",
    "FitResult",
    "ModelPerformanceError",
    "SearchResult",
    "TrainResult",
    "TrainingError",
    "TrialEvent",
    "TrialRecord",
    "evaluate_model_dir",
    "fit_and_export",
    "holdout_metrics",
    "search",
    "train_model",
]
