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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from liveml import apigw
from liveml.binding import Binding, ModelBinding, binding_from_env
from liveml.errors import LiveMLError
from liveml.serving import fastpath
from liveml.serving.capture import PredictionCapture, S3CaptureSink
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServingModels, load_models
from liveml.serving.scoring import ServingContext, build_context
from liveml.serving.settings import ServingSettings
from liveml.serving.shadow import ShadowTee

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    models: ServingModels | None
    capture: PredictionCapture
    metrics: ServingMetrics
    #: What the routes (and the Lambda fast path) read; None when no model could be loaded.
    context: ServingContext | None = None
    #: Sampled requests for a candidate to score in the shadows (off unless LIVEML_SHADOW is set).
    shadow: ShadowTee = field(default_factory=ShadowTee.from_env)
    #: Builds the FastAPI app on first use: on Lambda a valid prediction never needs it, so a cold
    #: start that only predicts never imports FastAPI.
    make_app: Callable[[], FastAPI] | None = None
    _app: FastAPI | None = None
    _asgi: Any = None

    @property
    def app(self) -> FastAPI:
        if self._app is None:
            assert self.make_app is not None, "a Runtime needs make_app"
            self._app = self.make_app()
        return self._app

    def after_invocation(self) -> None:
        """End of a Lambda invocation: the sandbox may be frozen (or reclaimed) right after we return,
        so write the metrics and the capture buffer when they are old enough (or hold an error)."""
        self.metrics.flush_if_due()
        self.capture.after_invocation()

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One Lambda invocation (an API Gateway proxy event): the fast path or the app through Mangum,
        then the shadow tee and the flushes."""
        try:
            try:
                event = apigw.with_text_body(event)  # Mangum would raise on a body it cannot decode
            except apigw.BodyEncodingError as exc:
                return apigw.error_response(exc, apigw.correlation_id(event))
            # A valid one-row prediction skips the ASGI stack; everything else goes through it.
            response = fastpath.answer(self.context, event) if self.context is not None else None
            if response is None:
                if self._asgi is None:
                    from mangum import Mangum

                    # Mangum's lifespan would run per invocation; models are loaded once, at init.
                    self._asgi = Mangum(self.app, lifespan="off")
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
        if self.context is not None:
            self.context.s3 = None
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
        reason = str(exc)

        def unavailable() -> FastAPI:
            from liveml.serving.app import create_unavailable_app

            return create_unavailable_app(reason)

        return Runtime(None, no_capture, idle, make_app=unavailable)
    metrics = ServingMetrics(models.default or models.names[0], interval_s=metrics_interval_s)
    ctx = build_context(models, settings, s3=s3, metrics=metrics)

    def make_app() -> FastAPI:
        from liveml.serving.app import create_app

        return create_app(models, ctx.settings, context=ctx)

    runtime = Runtime(models, ctx.capture, metrics, ctx, ShadowTee.from_env(models.default), make_app)
    if eager:
        _ = runtime.app  # everything at init: a pod before it is ready, SnapStart's snapshot
    return runtime
