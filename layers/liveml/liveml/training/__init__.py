"""Training: model search (optuna), evaluation and gates, ONNX + compact export with parity checks,
the model card and report — all behind one call::

    from liveml.training import train_model
    result = train_model(df, contract, "model/", trials=30, time_budget_s=300, seed=0,
                         champion_dir=None, progress=callback)   # -> TrainResult

(``callback`` gets a ``TrialEvent`` after each trial and a ``PhaseEvent`` as each phase begins.)

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

The model directory these write and read is described, with its names and its sha256 checks, in
``liveml.modeldir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveml.lazy import lazy_exports
from liveml.training.errors import ExportError, ModelPerformanceError, TrainingError

if TYPE_CHECKING:
    from liveml.training.evaluate import Evaluation, evaluate_model_dir
    from liveml.training.families import FAMILIES
    from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics
    from liveml.training.progress import PhaseEvent
    from liveml.training.train import FitResult, TrainResult, fit_and_export, train_model
    from liveml.training.tuning import SearchResult, TrialEvent, TrialRecord, search

__getattr__ = lazy_exports(
    globals(),
    {
        "Evaluation": ".evaluate",
        "evaluate_model_dir": ".evaluate",
        "FAMILIES": ".families",
        "PRIMARY_METRIC": ".metrics",
        "holdout_metrics": ".metrics",
        "PhaseEvent": ".progress",
        "SearchResult": ".tuning",
        "TrialEvent": ".tuning",
        "TrialRecord": ".tuning",
        "search": ".tuning",
        "FitResult": ".train",
        "TrainResult": ".train",
        "fit_and_export": ".train",
        "train_model": ".train",
    },
)


__all__ = [
    "FAMILIES",
    "PRIMARY_METRIC",
    "Evaluation",
    "ExportError",
    "FitResult",
    "ModelPerformanceError",
    "PhaseEvent",
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
