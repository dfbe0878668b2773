"""Request and response models generated from the model's contract.

The request schema is built with ``pydantic.create_model`` from the contract's feature columns, so
the OpenAPI document names every feature with its type, range and categories, and FastAPI rejects a
bad field before the model sees it. Python field names are ``f<i>`` with the column name as alias:
a column may be called anything (``class``, ``days-active``, ``model_x``) without clashing with
Python or pydantic names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from liveml.binding.players import PLAYER_ID_MAX, PLAYER_ID_PATTERN, check_player_id
from liveml.contract import Column, ColumnType, Contract, Task

_FORBID = ConfigDict(extra="forbid", populate_by_name=False, serialize_by_alias=True)
#: For the models no one-row prediction needs (batch, responses, errors, health, model info): their
#: validators are built on first use, not during every cold start (the fast path validates only the
#: predict request and its features; the full app builds the rest when it is first asked for).
_LATER = ConfigDict(defer_build=True)
_FORBID_LATER = ConfigDict(**_FORBID, defer_build=True)

#: The largest float32: every number reaches the model as float32, and a bigger one becomes inf there
#: (an int beyond it, e.g. 10**400, cannot even be converted). Bounds of the contract only narrow it.
FLOAT32_MAX = 3.4028234663852886e38


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _iso_text(value: Any) -> Any:
    # pydantic alone would also take epoch numbers ("0" too) and naive times; the schema promises an
    # RFC 3339 date-time with its offset, and the age features need the offset to be right.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("expected an RFC 3339 datetime with offset, e.g. 2026-01-31T12:00:00Z")


_ISO = BeforeValidator(_iso_text)
IsoDatetime = Annotated[datetime, _ISO]


def _whole(value: Any) -> Any:
    # 4.0 is 4 (data frames and game clients often send whole floats, and JSON Schema agrees);
    # strings and booleans are wrong types, 4.5 is not a whole number.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_WHOLE = BeforeValidator(_whole)


PlayerId = Annotated[
    str,
    Field(min_length=1, max_length=PLAYER_ID_MAX, json_schema_extra={"pattern": PLAYER_ID_PATTERN}),
    AfterValidator(check_player_id),  # one rule with events and /models/latest
]


def _bounds(col: Column, *, whole: bool = False) -> dict[str, float]:
    """The column's range clipped to what float32 holds: no number the model cannot take gets through.
    ``whole``: as integers (pydantic's int bounds must be whole; they may be as big as needed)."""
    lo = -FLOAT32_MAX if col.min is None else max(col.min, -FLOAT32_MAX)
    hi = FLOAT32_MAX if col.max is None else min(col.max, FLOAT32_MAX)
    return {"ge": math.ceil(lo), "le": math.floor(hi)} if whole else {"ge": lo, "le": hi}


def _describe(col: Column) -> str:
    parts = [col.type.value]
    if col.min is not None or col.max is not None:
        lo = "-inf" if col.min is None else f"{col.min:g}"
        hi = "inf" if col.max is None else f"{col.max:g}"
        parts.append(f"in [{lo}, {hi}]")
    if col.categories:
        parts.append("one of " + ", ".join(col.categories))
    parts.append("nullable" if col.nullable else "required")
    text = ", ".join(parts)
    return f"{col.description} ({text})" if col.description else text


def _feature_field(col: Column) -> tuple[Any, Any]:
    """(annotation, FieldInfo) for one feature column."""
    constraints: dict[str, Any] = {}
    validators: list[Any] = []  # run before the constrained type (listed after it: pydantic's order)
    annotation: Any
    match col.type:
        case ColumnType.NUMERIC:
            # strict: "12" is a wrong type, not a number; ints are fine for floats even in strict mode.
            annotation = float
            constraints = {"strict": True, "allow_inf_nan": False, **_bounds(col)}
        case ColumnType.INTEGER:
            annotation = int
            validators = [_WHOLE]
            constraints = {"strict": True, **_bounds(col, whole=True)}
        case ColumnType.BOOLEAN:
            annotation = bool
            constraints = {"strict": True}
        case ColumnType.CATEGORICAL:
            # Unknown categories are rejected here, with the allowed ones named in the message.
            annotation = Literal[tuple(col.categories)] if col.categories else str
            if not col.categories:
                constraints = {"max_length": 256}
        case ColumnType.TEXT:
            annotation = str
            constraints = {"max_length": 10_000}
        case ColumnType.DATETIME:
            annotation = datetime
            validators = [_ISO]
    constraints = {k: v for k, v in constraints.items() if v is not None}
    # Constraints go on the inner type, so that for a nullable column they land inside the
    # anyOf branch as minimum/maximum (on the union pydantic would emit them as unknown keywords).
    metadata = [Field(**constraints)] if constraints else []
    inner: Any = Annotated[(annotation, *metadata, *validators)] if metadata or validators else annotation
    if col.nullable:
        return inner | None, Field(None, alias=col.name, description=_describe(col))
    return inner, Field(..., alias=col.name, description=_describe(col))


@dataclass(frozen=True)
class ApiModels:
    """The generated pydantic models of one contract."""

    features: type[BaseModel]
    predict_request: type[BaseModel]
    batch_request: type[BaseModel]
    predict_response: type[BaseModel]
    batch_response: type[BaseModel]


class ErrorField(BaseModel):
    model_config = _LATER

    field: str = Field(description="dotted path of the offending field, e.g. features.level")
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API."""

    model_config = _LATER

    error: str = Field(description="machine-readable kind, e.g. validation_error, payload_too_large")
    message: str = Field(description="what was wrong, naming the field")
    fields: list[ErrorField] = Field(default_factory=list)
    correlation_id: str | None = None


class HealthResponse(BaseModel):
    model_config = _LATER

    status: Literal["ok"]
    model: str = Field(description="the default model (else the first served)")
    model_loaded: bool
    version: str
    versions: dict[str, str] = Field(description="variant -> model version")
    experiment: str | None
    uptime_s: float
    models: dict[str, dict[str, str]] = Field(description="every served model: variant -> model version")


class ArtifactLink(BaseModel):
    model_config = _LATER

    name: str
    sha256: str
    size_bytes: int | None = None
    url: str | None = Field(None, description="presigned S3 GET URL; null when served from a local directory")
    expires_in_s: int | None = None


class LatestModelResponse(BaseModel):
    model_config = _LATER

    model: str
    version: str
    variant: str
    sha256: str = Field(description="sha256 of the ONNX file")
    manifest_sha256: str | None
    source: Literal["s3", "local"]
    feature_order: list[str]
    task: str
    classes: list[str] | None
    compact: ArtifactLink | None
    onnx: ArtifactLink
    golden: ArtifactLink | None = Field(
        None, description="golden requests and their answers: a device runs them before activating the model"
    )


class ServedModelInfo(BaseModel):
    model_config = _LATER

    model: str
    version: str = Field(description="the primary variant's model version")
    versions: dict[str, str] = Field(description="variant -> model version")
    variants: list[str]
    experiment: str | None
    on_device: bool = Field(description="a compact model exists for on-device inference")
    default: bool = Field(description="served by the model-less routes (/predict, /models/latest)")


class ModelsResponse(BaseModel):
    model_config = _LATER

    models: list[ServedModelInfo]
    default_model: str | None


def build_api_models(
    contract: Contract, *, classes: Sequence[str] | None, max_batch_rows: int, model: str = ""
) -> ApiModels:
    """The API's models of ``model``; ``classes`` are its class labels in output order (None: regression).
    Names carry the model's, so several models' schemas sit side by side in one OpenAPI document."""
    prefix = _pascal(model) if model else ""
    fields: dict[str, Any] = {f"f{i}": _feature_field(col) for i, col in enumerate(contract.features)}
    if contract.event_time:
        # Optional: age features are measured to it when given (golden requests replay exactly),
        # else to the time of the request.
        fields["event_time_"] = (
            IsoDatetime | None,
            Field(None, alias=contract.event_time, description="event time (datetime); default: now"),
        )
    features = create_model(
        f"{prefix}{_pascal(contract.name)}Features",
        __config__=_FORBID,
        __doc__=f"The features of contract {contract.name!r} v{contract.version}, in contract order.",
        **fields,
    )
    player_id: Any = (
        PlayerId,
        Field(..., description="the player's id (1-128 characters; no control, format or bidi characters)"),
    )
    predict_request = create_model(
        f"{prefix}PredictRequest", __config__=_FORBID, player_id=player_id, features=(features, ...)
    )
    batch_request = create_model(
        f"{prefix}BatchPredictRequest",
        __config__=_FORBID_LATER,
        rows=(list[predict_request], Field(..., min_length=1, max_length=max_batch_rows)),
    )
    if contract.task is Task.REGRESSION:
        out: dict[str, Any] = {
            "prediction": (float, Field(..., description="the predicted value")),
            "value": (float, ...),
        }
    else:
        labels = tuple(classes or contract.classes or [])
        label: Any = Literal[labels] if labels else str
        out = {
            "prediction": (label, Field(..., description="the most probable class")),
            "probabilities": (dict[str, float], Field(..., description="class -> probability")),
            "confidence": (float, Field(..., description="probability of the predicted class")),
        }
    predict_response = create_model(
        f"{prefix}PredictResponse",
        __config__=_LATER,
        player_id=(str, ...),
        model=(str, Field(..., description="the model that answered")),
        model_version=(str, ...),
        variant=(str, ...),
        **out,
    )
    batch_response = create_model(
        f"{prefix}BatchPredictResponse",
        __config__=_LATER,
        predictions=(list[predict_response], ...),
        count=(int, ...),
    )
    return ApiModels(features, predict_request, batch_request, predict_response, batch_response)


def _pascal(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in name)
    return "".join(part.capitalize() for part in cleaned.split()) or "Model"
