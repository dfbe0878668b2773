"""Building the serving app from the environment, once per process, for Lambda and for uvicorn."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from liveml.errors import LiveMLError
from liveml.serving.app import create_app, create_unavailable_app
from liveml.serving.binding import ModelBinding
from liveml.serving.capture import PredictionCapture
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServingModels, load_models
from liveml.serving.settings import ServingSettings
from liveml.serving.shadow import ShadowTee

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    app: FastAPI
    models: ServingModels | None
    capture: PredictionCapture
    metrics: ServingMetrics
    #: Sampled requests for a candidate to score in the shadows (off unless LIVEML_SHADOW is set).
    shadow: ShadowTee = field(default_factory=ShadowTee.from_env)

    def after_invocation(self) -> None:
        """End of a Lambda invocation: the sandbox may be frozen (or reclaimed) right after we return,
        so write the metrics of this invocation and the capture buffer if it is old enough."""
        self.metrics.flush()
        self.capture.after_invocation()


def build_runtime(
    binding: ModelBinding | None = None,
    settings: ServingSettings | None = None,
    *,
    s3: Any | None = None,
    metrics_interval_s: float = 60.0,
    strict: bool = False,
) -> Runtime:
    """Load the bound models (``LIVEML_MODEL_BINDING`` / ``LIVEML_MODEL_DIR`` unless given) and build the app.

    ``metrics_interval_s=0`` leaves flushing to the caller (the Lambda handler flushes per invocation).
    A binding or artifact that cannot be loaded gives an app answering 503 with the reason, unless
    ``strict`` (then the error propagates).
    """
    try:
        models = load_models(binding or ModelBinding.from_env(), s3=s3)
    except LiveMLError as exc:
        if strict:
            raise
        log.error("serving no model: %s", exc)
        idle = ServingMetrics("none", interval_s=metrics_interval_s)
        no_capture = PredictionCapture(None, model="none", sample_rate=0)
        return Runtime(create_unavailable_app(str(exc)), None, no_capture, idle)
    metrics = ServingMetrics(models.model, interval_s=metrics_interval_s)
    app = create_app(models, settings, s3=s3, metrics=metrics)
    return Runtime(app, models, app.state.capture, metrics)
