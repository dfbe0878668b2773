"""Prediction serving: the FastAPI app, model binding and loading, variant assignment, capture, metrics.

    from liveml.serving import ModelBinding, create_app, load_models
    models = load_models(ModelBinding.from_dir("model/"))
    app = create_app(models)                # FastAPI; Mangum(app, lifespan="off") on Lambda

Importing this package never imports scikit-learn, scipy, optuna or pandas (a unit test checks).
"""

from __future__ import annotations

from liveml.serving.app import create_app
from liveml.serving.assignment import assign_variant, bucket
from liveml.serving.binding import BoundVariant, Experiment, ModelBinding
from liveml.serving.capture import CaptureSink, PredictionCapture, S3CaptureSink
from liveml.serving.errors import (
    BindingError,
    IntegrityError,
    PredictionFailedError,
    ServingError,
)
from liveml.serving.http import error_response
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServedModel, ServingModels, load_models
from liveml.serving.runtime import Runtime, build_runtime
from liveml.serving.settings import ServingSettings

__all__ = [
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
    "ServingError",
    "ServingMetrics",
    "ServingModels",
    "ServingSettings",
    "assign_variant",
    "bucket",
    "build_runtime",
    "create_app",
    "error_response",
    "load_models",
]
