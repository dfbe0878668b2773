"""Prediction serving: the FastAPI app, model loading, prediction capture, metrics.

    from liveml.binding import ModelBinding
    from liveml.serving import create_app, load_models
    models = load_models(ModelBinding.from_dir("model/"))
    app = create_app(models)                # FastAPI; Runtime.invoke runs it through Mangum on Lambda

Importing this package never imports scikit-learn, scipy, optuna or pandas, and imports FastAPI only
when the app is asked for (``create_app``, ``build_runtime``, ``Runtime``, ``error_response``), so
modules that need the served models' types stay light (unit tests check both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liveml.binding import (
    Binding,
    BindingError,
    BoundVariant,
    Experiment,
    ModelBinding,
    assign_variant,
    bucket,
)
from liveml.serving.capture import CaptureSink, PredictionCapture, S3CaptureSink
from liveml.serving.errors import IntegrityError, PredictionFailedError, ServingError, UnknownModelError
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServedModel, ServedVariant, ServingModels, load_models
from liveml.serving.settings import ServingSettings

if TYPE_CHECKING:
    from liveml.serving.app import create_app
    from liveml.serving.http import error_response
    from liveml.serving.runtime import Runtime, build_runtime

_LAZY = {
    "create_app": "liveml.serving.app",
    "error_response": "liveml.serving.http",
    "Runtime": "liveml.serving.runtime",
    "build_runtime": "liveml.serving.runtime",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'liveml.serving' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "Binding",
    "BindingError",
    "BoundVariant",
    "CaptureSink",
    "Experiment",
    "IntegrityError",
    "ModelBinding",
    "PredictionCapture",
    "PredictionFailedError",
    "Runtime",
    "S3CaptureSink",
    "ServedModel",
    "ServedVariant",
    "ServingError",
    "ServingMetrics",
    "ServingModels",
    "ServingSettings",
    "UnknownModelError",
    "assign_variant",
    "bucket",
    "build_runtime",
    "create_app",
    "error_response",
    "load_models",
]
