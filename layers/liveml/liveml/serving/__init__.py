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

from typing import TYPE_CHECKING

from liveml.binding import (
    Binding,
    BindingError,
    BoundVariant,
    Experiment,
    ModelBinding,
    assign_variant,
    bucket,
)
from liveml.lazy import lazy_exports
from liveml.serving.capture import CaptureSink, PredictionCapture, S3CaptureSink
from liveml.serving.errors import IntegrityError, PredictionFailedError, ServingError, UnknownModelError
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServedModel, ServedVariant, ServingModels, load_models
from liveml.serving.settings import ServingSettings

if TYPE_CHECKING:
    from liveml.serving.app import create_app
    from liveml.serving.http import error_response
    from liveml.serving.runtime import Runtime, build_runtime

__getattr__ = lazy_exports(
    globals(),
    {
        "create_app": ".app",
        "error_response": ".http",
        "Runtime": ".runtime",
        "build_runtime": ".runtime",
    },
)


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
