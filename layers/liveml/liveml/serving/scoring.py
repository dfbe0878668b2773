"""What a prediction needs beside HTTP: the serving context every route reads, and scoring one request
(score, shape, count, capture). Free of FastAPI, so the Lambda fast path answers without loading it."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from liveml.errors import LiveMLError
from liveml.serving.capture import PredictionCapture, S3CaptureSink
from liveml.serving.errors import PredictionFailedError, UnscorableInputError
from liveml.serving.metrics import ServingMetrics
from liveml.serving.models import Artifact, PredictionLike, ServedVariant, ServingModels
from liveml.serving.schema import ApiModels, build_api_models
from liveml.serving.settings import ServingSettings

log = logging.getLogger(__name__)

NO_VARIANT = "none"
_OUTPUT_KEYS = ("prediction", "probabilities", "value", "confidence")


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
    #: Each model's request and response models, built from its contract.
    api: dict[str, ApiModels] = field(default_factory=dict)

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


def default_capture(models: ServingModels, cfg: ServingSettings) -> PredictionCapture:
    wanted = cfg.capture_bucket and cfg.capture_sample_rate > 0
    sink = S3CaptureSink(cfg.capture_bucket) if wanted and cfg.capture_bucket else None
    return PredictionCapture(
        sink,
        model=models.default or models.names[0],
        sample_rate=cfg.capture_sample_rate,
        prefix=cfg.capture_prefix,
        max_age_s=cfg.capture_max_age_s,
        max_records=cfg.capture_max_records,
    )


def build_context(
    models: ServingModels,
    settings: ServingSettings | None = None,
    *,
    capture: PredictionCapture | None = None,
    metrics: ServingMetrics | None = None,
    s3: Any | None = None,
) -> ServingContext:
    """The context of ``models``, with each model's request and response models built from its contract.
    ``capture``/``metrics`` default to ones built from ``settings``."""
    cfg = settings or ServingSettings()
    ctx = ServingContext(
        models,
        cfg,
        capture or default_capture(models, cfg),
        metrics or ServingMetrics(models.default or models.names[0]),
        s3,
    )
    for model in models:
        api = build_api_models(
            model.contract,
            classes=model.primary.classes,
            max_batch_rows=cfg.max_batch_rows,
            model=model.model,
        )
        ctx.api[model.model] = api
        ctx.predict_routes[f"/models/{model.model}/predict"] = (model.model, api.predict_request)
        if model.model == models.default:
            ctx.predict_routes["/predict"] = (None, api.predict_request)
    return ctx


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
                "contract_sha256": served.manifest.get(
                    "contract_sha256"
                ),  # the monitor compares like with like
                "player_id": output["player_id"],
                "features": features,
                "output": {k: output.get(k) for k in _OUTPUT_KEYS},
                "latency_ms": round(latency_ms, 3),
            }
            ctx.capture.add(record, version=served.version, model=served.model)


def predict_one(ctx: ServingContext, served: ServedVariant, body: Any, started_at: float) -> dict[str, Any]:
    """The answer to one validated prediction request by ``served`` (metrics and capture included)."""
    row = body.features.model_dump(by_alias=True)
    out = _shape(served, body.player_id, _score(served, [row], ("features",))[0])
    _finish(ctx, served, started_at, [(row, out)])
    return out
