"""Errors of the training concern."""

from __future__ import annotations

from typing import Any

from liveml.errors import LiveMLError


class TrainingError(LiveMLError):
    """Training could not produce a model (bad arguments, no trial finished in the budget, ...)."""

    http_status = 422


class ModelPerformanceError(TrainingError):
    """The trained model failed a quality gate or lost to the champion. Carries the numbers."""

    def __init__(self, message: str, *, failures: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
        super().__init__(message)
        #: one entry per failed gate: {"gate", "metric", "threshold", "value"}
        self.failures = failures
        self.metrics = metrics


class ExportError(TrainingError):
    """The ONNX or compact export failed or does not reproduce scikit-learn within tolerance."""

    http_status = 500


class OnnxParityError(ExportError):
    """ONNX Runtime does not reproduce scikit-learn for this configuration: the pipeline trains again
    without it (its name is what the state machine catches)."""
