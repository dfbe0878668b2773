"""The prediction API: one FastAPI app for Lambda (through Mangum) and for EKS (under uvicorn).

Endpoints are ``async def``: a plain ``def`` endpoint goes through a thread pool, ~6x slower per call
through Mangum. Models are loaded before the app is built (module scope on Lambda), never per request.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from liveml.errors import LiveMLError
from liveml.serving.capture import PredictionCapture, S3CaptureSink
from liveml.serving.errors import PredictionFailedError
from liveml.serving.http import RequestGuard, error_response
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import Artifact, PredictionLike, ServedModel, ServingModels
from liveml.serving.schema import (
    PLAYER_ID_MAX,
    ErrorBody,
    HealthResponse,
    LatestModelResponse,
    build_api_models,
)
from liveml.serving.settings import ServingSettings

log = logging.getLogger(__name__)

NO_VARIANT = "none"
_OUTPUT_KEYS = ("prediction", "probabilities", "value", "confidence")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed request"},
    413: {"model": ErrorBody, "description": "body over the size limit"},
    422: {"model": ErrorBody, "description": "a field is missing, of the wrong type or out of range"},
    500: {"model": ErrorBody, "description": "server-side failure"},
}


def _with_body(func: Callable[..., Any], body_type: type[Any]) -> Callable[..., Any]:
    """Give ``func(request, body)`` a real (not stringified) annotation for the generated body model:
    FastAPI reads ``__signature__``, and the model exists only at run time."""
    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body_type),
    ]
    func.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return func


def _shape(served: ServedModel, player_id: str, pred: PredictionLike) -> dict[str, Any]:
    out: dict[str, Any] = {"player_id": player_id, "model_version": served.version, "variant": served.variant}
    if served.task == "regression":
        out["prediction"] = out["value"] = pred.value
    else:
        out["prediction"] = pred.label
        out["probabilities"] = pred.probabilities
        out["confidence"] = pred.confidence
    return out


def _score(served: ServedModel, rows: Sequence[Mapping[str, Any]]) -> Sequence[PredictionLike]:
    try:
        return served.predictor.predict(rows)
    except LiveMLError:
        raise  # the runtime's InputError is a 422 naming the column
    except Exception as exc:
        raise PredictionFailedError(
            f"model {served.model} v{served.version} failed to score the request"
        ) from exc


def create_app(
    models: ServingModels,
    settings: ServingSettings | None = None,
    *,
    capture: PredictionCapture | None = None,
    metrics: ServingMetrics | None = None,
    s3: Any | None = None,
) -> FastAPI:
    """The API for ``models``. ``capture``/``metrics`` default to ones built from ``settings``;
    ``s3`` (a boto3 client, created on first use otherwise) presigns download URLs."""
    cfg = settings or ServingSettings()
    if capture is None:
        wanted = cfg.capture_bucket and cfg.capture_sample_rate > 0
        sink = S3CaptureSink(cfg.capture_bucket) if wanted and cfg.capture_bucket else None
        capture = PredictionCapture(
            sink,
            model=models.model,
            sample_rate=cfg.capture_sample_rate,
            prefix=cfg.capture_prefix,
            max_age_s=cfg.capture_max_age_s,
            max_records=cfg.capture_max_records,
        )
    metrics = metrics or ServingMetrics(models.model)
    primary = models.primary
    api = build_api_models(models.contract, classes=primary.classes, max_batch_rows=cfg.max_batch_rows)
    started = time.time()
    s3_client: list[Any] = [s3]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Runs under uvicorn only (Mangum uses lifespan="off"; the Lambda handler flushes instead).
        yield
        capture.close()
        metrics.flush()

    app = FastAPI(
        title=f"LiveML predict: {models.model}",
        version=primary.version,
        description=(
            f"Predictions of model {models.model!r} (contract {models.contract.name!r} "
            f"v{models.contract.version}). Features in contract order: "
            + ", ".join(models.contract.feature_names)
        ),
        lifespan=lifespan,
    )
    app.state.models = models
    app.state.capture = capture
    app.state.metrics = metrics
    app.state.settings = cfg

    async def handle(request: Request, exc: Exception) -> Response:
        cid = getattr(request.state, "correlation_id", None)
        response = error_response(exc, cid)
        if request.url.path.startswith("/predict"):
            served: ServedModel | None = getattr(request.state, "served", None)
            metrics.error(
                served.version if served else primary.version,
                served.variant if served else NO_VARIANT,
                response.status_code,
            )
        return response

    for exc_type in (RequestValidationError, HTTPException, LiveMLError, Exception):
        app.add_exception_handler(exc_type, handle)

    def finish(
        served: ServedModel, started_at: float, items: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> None:
        latency_ms = (time.perf_counter() - started_at) * 1000
        labels = [None if served.task == "regression" else o.get("prediction") for _, o in items]
        metrics.record(served.version, served.variant, latency_ms, labels)
        if capture.sampled():
            for features, output in items:
                capture.add(
                    {
                        "variant": served.variant,
                        "player_id": output["player_id"],
                        "features": features,
                        "output": {k: output.get(k) for k in _OUTPUT_KEYS},
                        "latency_ms": round(latency_ms, 3),
                    },
                    version=served.version,
                )

    async def predict(request: Request, body: Any) -> Response:
        t0 = time.perf_counter()
        if cfg.drill_latency_ms:  # a rollback drill: this version is slow on purpose
            await asyncio.sleep(cfg.drill_latency_ms / 1000)
        served = models.for_player(body.player_id)
        request.state.served = served
        row = body.features.model_dump(by_alias=True)
        out = _shape(served, body.player_id, _score(served, [row])[0])
        finish(served, t0, [(row, out)])
        return JSONResponse(out)

    async def predict_batch(request: Request, body: Any) -> Response:
        t0 = time.perf_counter()
        if cfg.drill_latency_ms:
            await asyncio.sleep(cfg.drill_latency_ms / 1000)
        groups: dict[str, list[int]] = {}
        served_of: list[ServedModel] = []
        rows = []
        for i, item in enumerate(body.rows):
            served = models.for_player(item.player_id)
            served_of.append(served)
            groups.setdefault(served.variant, []).append(i)
            rows.append(item.features.model_dump(by_alias=True))
        outputs: list[dict[str, Any]] = [{} for _ in rows]
        for variant, idx in groups.items():
            served = models.variant(variant)
            request.state.served = served
            chunk = [rows[i] for i in idx]
            # Big batches are scored off the event loop (ONNX Runtime releases the GIL).
            preds = (
                await run_in_threadpool(_score, served, chunk)
                if len(chunk) > cfg.offload_rows
                else _score(served, chunk)
            )
            for i, pred in zip(idx, preds, strict=True):
                outputs[i] = _shape(served, body.rows[i].player_id, pred)
        for variant, idx in groups.items():
            finish(models.variant(variant), t0, [(rows[i], outputs[i]) for i in idx])
        return JSONResponse({"predictions": outputs, "count": len(outputs)})

    app.post(
        "/predict",
        response_model=api.predict_response,
        responses=_ERRORS,
        summary="Predict for one player",
    )(_with_body(predict, api.predict_request))
    app.post(
        "/predict/batch",
        response_model=api.batch_response,
        responses=_ERRORS,
        summary=f"Predict for up to {cfg.max_batch_rows} players",
    )(_with_body(predict_batch, api.batch_request))

    @app.get("/health", response_model=HealthResponse, responses={500: {"model": ErrorBody}})
    async def health() -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "model": models.model,
                "model_loaded": True,  # the app only exists once every variant is loaded
                "version": primary.version,
                "versions": {v.variant: v.version for v in models.variants},
                "experiment": models.experiment.name if models.experiment else None,
                "uptime_s": round(time.time() - started, 3),
            }
        )

    def link(artifact: Artifact | None) -> dict[str, Any] | None:
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
            if s3_client[0] is None:
                from liveml.aws.clients import client

                s3_client[0] = client("s3")
            bucket, _, key = artifact.uri.removeprefix("s3://").partition("/")
            out["url"] = s3_client[0].generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=cfg.presign_expiry_s
            )
            out["expires_in_s"] = cfg.presign_expiry_s
        return out

    @app.get(
        "/models/latest",
        response_model=LatestModelResponse,
        responses={422: {"model": ErrorBody}, 500: {"model": ErrorBody}},
        summary="The serving model, for on-device inference",
    )
    async def latest(
        player_id: str | None = Query(
            None,
            min_length=1,
            max_length=PLAYER_ID_MAX,
            description="with an A/B experiment, answer with this player's variant",
        ),
    ) -> Response:
        served = models.for_player(player_id) if player_id else primary
        return JSONResponse(
            {
                "model": served.model,
                "version": served.version,
                "variant": served.variant,
                "sha256": served.onnx.sha256,
                "manifest_sha256": served.manifest_sha256,
                "source": served.source,
                "local_path": served.local_path,
                "feature_order": served.contract.feature_names,
                "task": served.task,
                "classes": served.classes,
                "compact": link(served.compact),
                "onnx": link(served.onnx),
            }
        )

    # Outermost, so even a 413 or an unknown route carries the correlation id.
    app.add_middleware(RequestGuard, max_body_bytes=cfg.max_body_bytes)
    return app


def create_unavailable_app(reason: str) -> FastAPI:
    """What a process serves when its model could not be bound or loaded: every route answers 503 with
    the reason (and ``/health`` too, so a Kubernetes readiness probe keeps the pod out of the Service)
    instead of the opaque 502 of a Lambda whose init crashed."""
    app = FastAPI(title="LiveML predict (no model)")

    async def unavailable(request: Request, path: str = "") -> Response:
        cid = getattr(request.state, "correlation_id", None)
        return error_response(HTTPException(503, f"no model is being served: {reason}"), cid)

    app.add_api_route("/{path:path}", unavailable, methods=["GET", "POST"], include_in_schema=False)
    app.add_middleware(RequestGuard, max_body_bytes=1_048_576)
    return app
