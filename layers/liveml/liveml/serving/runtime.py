"""Building the serving app from the environment, once per process, for Lambda and for uvicorn; and
what happens around each Lambda invocation (the shadow tee, flushing metrics and captures)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from liveml.binding import Binding, ModelBinding, binding_from_env
from liveml.errors import LiveMLError
from liveml.serving.app import create_app, create_unavailable_app
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
    _asgi: Any = None

    def after_invocation(self) -> None:
        """End of a Lambda invocation: the sandbox may be frozen (or reclaimed) right after we return,
        so write the metrics of this invocation and the capture buffer if it is old enough."""
        self.metrics.flush()
        self.capture.after_invocation()

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One Lambda invocation (an API Gateway proxy event) through Mangum, then the shadow tee and
        the flushes."""
        if self._asgi is None:
            from mangum import Mangum

            # Mangum's lifespan would run per invocation; models are loaded once, at init.
            self._asgi = Mangum(self.app, lifespan="off")
        try:
            response: dict[str, Any] = self._asgi(event, context)
            self.shadow.after(event, response)
            return response
        finally:
            self.after_invocation()


def build_runtime(
    binding: Binding | ModelBinding | None = None,
    settings: ServingSettings | None = None,
    *,
    s3: Any | None = None,
    metrics_interval_s: float = 60.0,
    strict: bool = False,
    eager: bool = False,
) -> Runtime:
    """Read the binding (``LIVEML_MODEL_BINDING`` / ``LIVEML_MODEL_DIR`` unless given) and build the app.

    ``metrics_interval_s=0`` leaves flushing to the caller (the Lambda handler flushes per invocation).
    A binding or artifact that cannot be read gives an app answering 503 with the reason, unless
    ``strict`` (then the error propagates). ``eager`` opens every ONNX session now, not on first use.
    """
    try:
        models = load_models(binding or binding_from_env(s3=s3), s3=s3, eager=eager)
    except LiveMLError as exc:
        if strict:
            raise
        log.error("serving no model: %s", exc)
        idle = ServingMetrics("none", interval_s=metrics_interval_s)
        no_capture = PredictionCapture(None, model="none", sample_rate=0)
        return Runtime(create_unavailable_app(str(exc)), None, no_capture, idle)
    metrics = ServingMetrics(models.default or models.names[0], interval_s=metrics_interval_s)
    app = create_app(models, settings, s3=s3, metrics=metrics)
    ctx = app.state.context
    return Runtime(app, models, ctx.capture, metrics, ShadowTee.from_env(models.default))
