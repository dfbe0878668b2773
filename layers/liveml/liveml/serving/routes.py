"""The API's routes: prediction (one row, a batch), the served models, downloads, health.

Handlers are module-level ``async def`` functions that find what they serve in the app's
:class:`ServingContext`; ``model`` is the name a route was registered for (None: the default model).
Prediction routes are registered once per model, each with that model's request schema, so the
OpenAPI document describes every model's features (``add_model_routes``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from liveml.binding.players import PLAYER_ID_MAX, PLAYER_ID_PATTERN, check_player_id
from liveml.serving.models import ServedModel
from liveml.serving.schema import (
    ApiModels,
    ErrorBody,
    HealthResponse,
    LatestModelResponse,
    ModelsResponse,
)
from liveml.serving.scoring import NO_VARIANT, ServingContext, _finish, _score, _shape, predict_one

__all__ = ["NO_VARIANT", "ServingContext", "predict_one"]  # re-exported: the app's names for them

log = logging.getLogger(__name__)


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed request"},
    404: {"model": ErrorBody, "description": "no such model is served (the message names the served ones)"},
    413: {"model": ErrorBody, "description": "body over the size limit"},
    415: {"model": ErrorBody, "description": "the body is not sent as application/json"},
    422: {
        "model": ErrorBody,
        "description": "a field is missing, of the wrong type or out of range, or the model cannot score it",
    },
    500: {"model": ErrorBody, "description": "server-side failure"},
}


def context(request: Request) -> ServingContext:
    ctx: ServingContext = request.app.state.context
    return ctx


# ---------------------------------------------------------------- prediction


async def _drill(ctx: ServingContext) -> None:
    if ctx.settings.drill_latency_ms:  # a rollback drill: this version is slow on purpose
        await asyncio.sleep(ctx.settings.drill_latency_ms / 1000)


async def predict(request: Request, model: str | None, body: Any) -> Response:
    t0 = time.perf_counter()
    ctx = context(request)
    await _drill(ctx)
    served = ctx.models.get(model).for_player(body.player_id)
    request.state.served = served
    return JSONResponse(predict_one(ctx, served, body, t0))


async def predict_batch(request: Request, model: str | None, body: Any) -> Response:
    t0 = time.perf_counter()
    ctx = context(request)
    await _drill(ctx)
    target = ctx.models.get(model)
    groups: dict[str, list[int]] = {}
    rows = []
    for i, item in enumerate(body.rows):
        groups.setdefault(target.for_player(item.player_id).variant, []).append(i)
        rows.append(item.features.model_dump(by_alias=True))
    outputs: list[dict[str, Any]] = [{} for _ in rows]
    for variant, idx in groups.items():
        served = target.variant(variant)
        request.state.served = served
        chunk = [rows[i] for i in idx]
        # Big batches are scored off the event loop (ONNX Runtime releases the GIL).
        big = len(chunk) > ctx.settings.offload_rows
        where = [f"rows.{i}.features" for i in idx]
        preds = await run_in_threadpool(_score, served, chunk, where) if big else _score(served, chunk, where)
        for i, pred in zip(idx, preds, strict=True):
            outputs[i] = _shape(served, body.rows[i].player_id, pred)
    for variant, idx in groups.items():
        _finish(ctx, target.variant(variant), t0, [(rows[i], outputs[i]) for i in idx])
    return JSONResponse({"predictions": outputs, "count": len(outputs)})


async def unknown_model(request: Request, model: str) -> Response:
    """Any prediction route of a model not served here: 404 naming the served ones."""
    context(request).models.get(model)  # raises UnknownModelError
    raise AssertionError("unreachable: a served model has its own route")  # pragma: no cover


Handler = Callable[[Request, str | None, Any], Awaitable[Response]]


def _endpoint(handler: Handler, model: str | None, body_type: type[Any]) -> Callable[..., Any]:
    """``handler`` bound to ``model``, with a real annotation for the generated body model (FastAPI reads
    ``__signature__``, and the body model exists only at run time)."""

    async def endpoint(request: Request, body: Any) -> Response:
        return await handler(request, model, body)

    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body_type),
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = f"{handler.__name__}_{model or 'default'}"
    return endpoint


def add_model_routes(
    app: FastAPI, prefix: str, model: ServedModel | None, api: ApiModels, max_rows: int
) -> None:
    """``{prefix}/predict`` and ``{prefix}/predict/batch`` of one model (None: the default model)."""
    name = model.model if model else None
    tag: list[str | Enum] = [name or "default model"]
    app.post(
        f"{prefix}/predict", response_model=api.predict_response, responses=ERRORS, tags=tag,
        summary=f"Predict for one player ({name or 'default model'})",
    )(_endpoint(predict, name, api.predict_request))  # fmt: skip
    app.post(
        f"{prefix}/predict/batch", response_model=api.batch_response, responses=ERRORS, tags=tag,
        summary=f"Predict for up to {max_rows} players ({name or 'default model'})",
    )(_endpoint(predict_batch, name, api.batch_request))  # fmt: skip


# ---------------------------------------------------------------- what is served


def _latest(ctx: ServingContext, model: str | None, player_id: str | None) -> Response:
    target = ctx.models.get(model)
    served = target.for_player(player_id) if player_id else target.primary
    # No S3 keys or local paths: the links carry what a device needs, for as long as they are valid.
    return JSONResponse(
        {
            "model": served.model,
            "version": served.version,
            "variant": served.variant,
            "sha256": served.onnx.sha256,
            "manifest_sha256": served.manifest_sha256,
            "source": served.source,
            "feature_order": served.contract.feature_names,
            "task": served.task,
            "classes": served.classes,
            "compact": ctx.link(served.compact),
            "onnx": ctx.link(served.onnx),
            "golden": ctx.link(served.golden),
        }
    )


def _optional_player_id(value: str | None) -> str | None:
    return None if value is None else check_player_id(value)


#: The same rule as a prediction's player id: a bad one is a 422 naming ``player_id``.
PlayerQuery = Annotated[
    str | None,
    Query(
        description="with an A/B experiment, answer with this player's variant",
        max_length=PLAYER_ID_MAX,
        json_schema_extra={"pattern": PLAYER_ID_PATTERN},
    ),
    AfterValidator(_optional_player_id),
]


async def latest(request: Request, model: str, player_id: PlayerQuery = None) -> Response:
    return _latest(context(request), model, player_id)


async def latest_default(request: Request, player_id: PlayerQuery = None) -> Response:
    return _latest(context(request), None, player_id)


async def list_models(request: Request) -> Response:
    models = context(request).models
    return JSONResponse(
        {
            "models": [
                {
                    "model": m.model,
                    "version": m.primary.version,
                    "versions": {v.variant: v.version for v in m.variants},
                    "variants": [v.variant for v in m.variants],
                    "experiment": m.experiment.name if m.experiment else None,
                    "on_device": all(v.compact is not None for v in m.variants),
                    "default": m.model == models.default,
                }
                for m in models
            ],
            "default_model": models.default,
        }
    )


async def livez() -> dict[str, str]:
    """Liveness: the process runs and answers. Readiness (``/health``) also needs a served model, so a
    pod without one is taken out of the Service instead of being restarted in a loop."""
    return {"status": "alive"}


async def health(request: Request) -> Response:
    ctx = context(request)
    models = ctx.models
    main = models.get(models.default) if models.default else next(iter(models))
    return JSONResponse(
        {
            "status": "ok",
            "model": main.model,
            "model_loaded": True,  # the app only exists once every model's manifest and contract are read
            "version": main.primary.version,
            "versions": {v.variant: v.version for v in main.variants},
            "experiment": main.experiment.name if main.experiment else None,
            "uptime_s": round(time.time() - ctx.started, 3),
            "models": {m.model: {v.variant: v.version for v in m.variants} for m in models},
        }
    )


def add_info_routes(app: FastAPI) -> None:
    """``/livez``, ``/health``, ``/models``, ``/models/latest`` and ``/models/{model}/latest``."""
    errors: dict[int | str, dict[str, Any]] = {
        404: ERRORS[404],
        422: {"model": ErrorBody},
        500: {"model": ErrorBody},
    }
    app.get("/livez", summary="Liveness: the process answers (readiness is /health)")(livez)
    app.get("/health", response_model=HealthResponse, responses={500: {"model": ErrorBody}})(health)
    app.get("/models", response_model=ModelsResponse, summary="The served models")(list_models)
    app.get(
        "/models/latest", response_model=LatestModelResponse, responses=errors,
        summary="The default model, for on-device inference",
    )(latest_default)  # fmt: skip
    app.get(
        "/models/{model}/latest", response_model=LatestModelResponse, responses=errors,
        summary="A model's serving version, for on-device inference",
    )(latest)  # fmt: skip
