"""Building the serving app from the environment, once per process, for Lambda and for uvicorn; and
what happens around each Lambda invocation (the shadow tee, flushing metrics and captures).

With Lambda SnapStart the init phase runs once per published version and every sandbox resumes from
its snapshot: the app is built with every ONNX session open (so the snapshot holds them), and after a
restore what must not be shared between sandboxes is renewed (:meth:`Runtime.after_restore`).
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from liveml.binding import Binding, ModelBinding, binding_from_env
from liveml.errors import LiveMLError
from liveml.serving import fastpath
from liveml.serving.app import create_app, create_unavailable_app
from liveml.serving.capture import PredictionCapture, S3CaptureSink
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServingModels, load_models
from liveml.serving.routes import ServingContext
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

    @property
    def _context(self) -> ServingContext | None:
        context: ServingContext | None = getattr(self.app.state, "context", None)
        return context

    def after_invocation(self) -> None:
        """End of a Lambda invocation: the sandbox may be frozen (or reclaimed) right after we return,
        so write the metrics and the capture buffer when they are old enough (or hold an error)."""
        self.metrics.flush_if_due()
        self.capture.after_invocation()

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One Lambda invocation (an API Gateway proxy event) through Mangum, then the shadow tee and
        the flushes."""
        if self._asgi is None:
            from mangum import Mangum

            # Mangum's lifespan would run per invocation; models are loaded once, at init.
            self._asgi = Mangum(self.app, lifespan="off")
        try:
            # A valid one-row prediction skips the ASGI stack; everything else goes through it.
            response = fastpath.answer(self._context, event) if self._context is not None else None
            if response is None:
                response = self._asgi(event, context)
            self.shadow.after(event, response)
            return response
        finally:
            self.after_invocation()

    def install_sigterm_handler(self) -> None:
        """On SIGTERM (Lambda sends it before reclaiming a sandbox when an extension is registered),
        write the metrics not yet due and every pending capture."""
        self.capture.install_sigterm_handler(before=self.metrics.flush)

    def after_restore(self) -> None:
        """After a SnapStart restore: every sandbox resumed from one snapshot shares its random state (so
        they would all sample the same requests for capture and shadowing) and its AWS clients, whose
        pooled connections are dead. Reseed, and drop the clients; each is created again on first use."""
        random.seed()
        sink = self.capture.sink
        if isinstance(sink, S3CaptureSink):
            sink.reset_client()
        if self._context is not None:
            self._context.s3 = None
        self.shadow.reset_client()

    def register_snapstart_hooks(self) -> bool:
        """Run :meth:`after_restore` after each SnapStart restore; False where the runtime's hook module
        does not exist (anywhere but Lambda's Python runtime)."""
        try:
            from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
        except ImportError:
            return False
        register_after_restore(self.after_restore)
        return True


def snapstart_init() -> bool:
    """Whether this init phase is SnapStart's (the one whose memory becomes the snapshot)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


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

    ``metrics_interval_s=0`` leaves flushing to the caller (the Lambda handler, after each invocation,
    when due).
    A binding or artifact that cannot be read gives an app answering 503 with the reason, unless
    ``strict`` (then the error propagates). ``eager`` opens every ONNX session now, not on first use
    (always under SnapStart, so that the snapshot holds them).
    """
    eager = eager or snapstart_init()
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
