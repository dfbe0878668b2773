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
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from liveml.errors import LiveMLError
from liveml.serving.capture import PredictionCapture
from liveml.serving.errors import PredictionFailedError, UnscorableInputError
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import Artifact, PredictionLike, ServedModel, ServedVariant, ServingModels
from liveml.serving.schema import (
    PLAYER_ID_MAX,
    ApiModels,
    ErrorBody,
    HealthResponse,
    LatestModelResponse,
    ModelsResponse,
)
from liveml.serving.settings import ServingSettings

log = logging.getLogger(__name__)

NO_VARIANT = "none"
_OUTPUT_KEYS = ("prediction", "probabilities", "value", "confidence")

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


@dataclass
class ServingContext:
    """What every route reads: the models, settings, capture and metrics of this process."""

    models: ServingModels
    settings: ServingSettings
    capture: PredictionCapture
    metrics: ServingMetrics
    s3: Any | None = None
    started: float = field(default_factory=time.time)
    #: Each one-row prediction path (``/predict``, ``/models/{name}/predict``): the model it serves
    #: (None: the default) and its request model; what the Lambda fast path answers.
    predict_routes: dict[str, tuple[str | None, type[Any]]] = field(default_factory=dict)

    def s3_client(self) -> Any:
        if self.s3 is None:
            from liveml.aws.clients import client

            self.s3 = client("s3")
        return self.s3

    def link(self, artifact: Artifact | None) -> dict[str, Any] | None:
        """An artifact's download link: a presigned GET for S3 models (``url`` None for local ones)."""
        if artifact is None:
            return None
        out: dict[str, Any] = {
            "name": artifact.name,
            "sha256": artifact.sha256,
            "size_bytes": artifact.size_bytes,
            "url": None,
            "expires_in_s": None,
        }
        if artifact.uri is not None:
            bucket, _, key = artifact.uri.removeprefix("s3://").partition("/")
            expiry = self.settings.presign_expiry_s
            out["url"] = self.s3_client().generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiry
            )
            out["expires_in_s"] = expiry
        return out


def context(request: Request) -> ServingContext:
    ctx: ServingContext = request.app.state.context
    return ctx


# ---------------------------------------------------------------- prediction


def _shape(served: ServedVariant, player_id: str, pred: PredictionLike) -> dict[str, Any]:
    out: dict[str, Any] = {
        "player_id": player_id,
        "model": served.model,
        "model_version": served.version,
        "variant": served.variant,
    }
    if served.task == "regression":
        out["prediction"] = out["value"] = pred.value
    else:
        out["prediction"] = pred.label
        out["probabilities"] = pred.probabilities
        out["confidence"] = pred.confidence
    return out


def _finite(pred: PredictionLike) -> bool:
    if pred.value is not None:
        return math.isfinite(pred.value)
    return math.isfinite(pred.confidence or 0.0) and all(
        math.isfinite(p) for p in (pred.probabilities or {}).values()
    )


def _score(
    served: ServedVariant, rows: Sequence[Mapping[str, Any]], fields: Sequence[str]
) -> Sequence[PredictionLike]:
    """The model's predictions of ``rows`` (``fields``: where each row sits in the request, for errors)."""
    try:
        preds = served.predictor.predict(rows)
    except LiveMLError as exc:
        if exc.http_status < 500:
            raise  # the runtime's InputError is a 422 naming the column
        # A load failure names S3 keys or paths: those go to the log, not to the caller.
        log.error("model %s v%s cannot be loaded: %s", served.model, served.version, exc)
        raise PredictionFailedError(f"model {served.model} v{served.version} cannot be loaded") from exc
    except Exception as exc:
        raise PredictionFailedError(
            f"model {served.model} v{served.version} failed to score the request"
        ) from exc
    for field_name, pred in zip(fields, preds, strict=True):
        if not _finite(pred):
            raise UnscorableInputError(field_name)  # else JSON encoding fails: a 500
    return preds


def _finish(
    ctx: ServingContext,
    served: ServedVariant,
    started_at: float,
    items: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    latency_ms = (time.perf_counter() - started_at) * 1000
    labels = [None if served.task == "regression" else o.get("prediction") for _, o in items]
    ctx.metrics.record(served.version, served.variant, latency_ms, labels, model=served.model)
    if ctx.capture.sampled():
        for features, output in items:
            record = {
                "variant": served.variant,
                "player_id": output["player_id"],
                "features": features,
                "output": {k: output.get(k) for k in _OUTPUT_KEYS},
                "latency_ms": round(latency_ms, 3),
            }
            ctx.capture.add(record, version=served.version, model=served.model)


async def _drill(ctx: ServingContext) -> None:
    if ctx.settings.drill_latency_ms:  # a rollback drill: this version is slow on purpose
        await asyncio.sleep(ctx.settings.drill_latency_ms / 1000)


def predict_one(ctx: ServingContext, served: ServedVariant, body: Any, started_at: float) -> dict[str, Any]:
    """The answer to one validated prediction request by ``served`` (metrics and capture included)."""
    row = body.features.model_dump(by_alias=True)
    out = _shape(served, body.player_id, _score(served, [row], ("features",))[0])
    _finish(ctx, served, started_at, [(row, out)])
    return out


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
    app.state.context.predict_routes[f"{prefix}/predict"] = (name, api.predict_request)
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


_PLAYER = Query(
    None,
    min_length=1,
    max_length=PLAYER_ID_MAX,
    description="with an A/B experiment, answer with this player's variant",
)


async def latest(request: Request, model: str, player_id: str | None = _PLAYER) -> Response:
    return _latest(context(request), model, player_id)


async def latest_default(request: Request, player_id: str | None = _PLAYER) -> Response:
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
