"""The prediction API: one FastAPI app for Lambda (through Mangum) and for EKS (under uvicorn).

Endpoints are ``async def``: a plain ``def`` endpoint goes through a thread pool, ~6x slower per call
through Mangum. Manifests and contracts are read before the app is built (module scope on Lambda); a
model's ONNX session opens on its first request, never per request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from liveml.errors import LiveMLError
from liveml.serving.capture import PredictionCapture
from liveml.serving.http import RequestGuard, error_response, redact
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import ServedVariant, ServingModels
from liveml.serving.routes import (
    NO_VARIANT,
    ServingContext,
    add_info_routes,
    add_model_routes,
    context,
    livez,
    unknown_model,
)
from liveml.serving.scoring import build_context
from liveml.serving.settings import ServingSettings

_PREDICT_PATH = re.compile(r"^(?:/models/(?P<model>[^/]+))?/predict(?:/batch)?/?$")


async def _handle_error(request: Request, exc: Exception) -> Response:
    """Every error of the app, through the one mapping; a prediction route's error is also counted
    against the model (and variant, once one was chosen) it concerned."""
    response = error_response(exc, getattr(request.state, "correlation_id", None))
    match = _PREDICT_PATH.match(request.url.path)
    if match:
        ctx = context(request)
        served: ServedVariant | None = getattr(request.state, "served", None)
        name = served.model if served else match["model"] or ctx.models.default
        if served is None and name in ctx.models.models:
            served_model = ctx.models.models[name]
            ctx.metrics.error(served_model.primary.version, NO_VARIANT, response.status_code, model=name)
        elif served is not None:
            ctx.metrics.error(served.version, served.variant, response.status_code, model=served.model)
    return response


def _describe(models: ServingModels) -> str:
    lines = [
        f"- `{m.model}` (contract {m.contract.name!r} v{m.contract.version}): "
        + ", ".join(m.contract.feature_names)
        for m in models
    ]
    default = f" `/predict` serves `{models.default}`." if models.default else ""
    return (
        "Predictions of the served models, at `/models/{model}/predict`."
        + default
        + "\n\n"
        + "\n".join(lines)
    )


def create_app(
    models: ServingModels,
    settings: ServingSettings | None = None,
    *,
    capture: PredictionCapture | None = None,
    metrics: ServingMetrics | None = None,
    s3: Any | None = None,
    context: ServingContext | None = None,
) -> FastAPI:
    """The API for ``models``. ``capture``/``metrics`` default to ones built from ``settings``;
    ``s3`` (a boto3 client, created on first use otherwise) presigns download URLs. ``context`` (from
    :func:`~liveml.serving.scoring.build_context`) is used as it is, when the caller already has one."""
    ctx = context or build_context(models, settings, capture=capture, metrics=metrics, s3=s3)
    cfg = ctx.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Runs under uvicorn only (Mangum uses lifespan="off"; the Lambda handler flushes instead).
        yield
        ctx.capture.close()
        ctx.metrics.flush()

    title = ", ".join(models.names)
    # The OpenAPI JSON stays; the interactive pages are off unless asked for (they load scripts from
    # a CDN and invite anyone with the URL to poke at the API).
    app = FastAPI(
        title=f"LiveML predict: {title}",
        version="2",
        description=_describe(models),
        lifespan=lifespan,
        docs_url="/docs" if cfg.api_docs else None,
        redoc_url="/redoc" if cfg.api_docs else None,
    )
    app.state.context = ctx
    for exc_type in (RequestValidationError, HTTPException, LiveMLError, Exception):
        app.add_exception_handler(exc_type, _handle_error)

    add_info_routes(app)
    for model in models:
        api = ctx.api[model.model]
        add_model_routes(app, f"/models/{model.model}", model, api, cfg.max_batch_rows)
        if model.model == models.default:
            add_model_routes(app, "", None, api, cfg.max_batch_rows)
    for path in ("/models/{model}/predict", "/models/{model}/predict/batch"):
        app.add_api_route(path, unknown_model, methods=["POST"], include_in_schema=False)
    if models.default is None:
        for path in ("/predict", "/predict/batch"):
            app.add_api_route(path, _no_default, methods=["POST"], include_in_schema=False)

    # Outermost, so even a 413 or an unknown route carries the correlation id.
    app.add_middleware(RequestGuard, max_body_bytes=cfg.max_body_bytes, json_paths=_PREDICT_PATH)
    return app


async def _no_default(request: Request) -> Response:
    context(request).models.get(None)  # raises: several models, none named the default
    raise AssertionError("unreachable")  # pragma: no cover


def create_unavailable_app(reason: str) -> FastAPI:
    """What a process serves when its binding could not be read or loaded: every route answers 503 with
    the reason (and ``/health`` too, so a Kubernetes readiness probe keeps the pod out of the Service)
    instead of the opaque 502 of a Lambda whose init crashed. ``/livez`` still answers: the process is
    fine, so Kubernetes keeps the pod unready rather than restarting it in a loop."""
    app = FastAPI(title="LiveML predict (no model)", docs_url=None, redoc_url=None)
    app.get("/livez", include_in_schema=False)(livez)
    # The log has the whole reason; callers get it without bucket keys and local paths.
    answer = HTTPException(503, f"no model is being served: {redact(reason)}")

    async def unavailable(request: Request, path: str = "") -> Response:
        return error_response(answer, getattr(request.state, "correlation_id", None))

    app.add_api_route("/{path:path}", unavailable, methods=["GET", "POST"], include_in_schema=False)
    app.add_middleware(RequestGuard, max_body_bytes=1_048_576)
    return app
