"""The root of every error LiveML raises on purpose.

Each concern subclasses it in its own ``errors.py``; the API and the Step Functions ``Catch``
map them to answers in one place each, so a caller never sees a stack trace for bad input.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


class LiveMLError(Exception):
    """An expected failure with a message meant for a person."""

    #: HTTP status the API answers with when this error reaches it.
    http_status: int = 400


#: The ``error`` field of every JSON error answer (predictions and events alike), by HTTP status.
_STATUS_KIND = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    503: "unavailable",
}


def error_kind(status: int) -> str:
    """What went wrong, in one stable word, for an error answer with ``status``."""
    return _STATUS_KIND.get(status, "client_error" if status < 500 else "server_error")


def field_problems(exc: ValidationError, *, top: str = "(top level)") -> str:
    """pydantic's errors as one line: ``field.path: why; other: why`` — for messages meant for people."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or top}: {err['msg']}" for err in exc.errors())


def validated[Model: BaseModel](
    model: type[Model], data: Any, error: type[LiveMLError], where: str, *, top: str = "(top level)"
) -> Model:
    """``model.model_validate(data)``; a failure is ``error`` saying ``where`` and each field and why."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{where} is invalid: {field_problems(exc, top=top)}") from None


def catch_reason(error: dict[str, Any] | None) -> str:
    """One line from a Step Functions Catch's ``{"Error", "Cause"}``: a Lambda error's type and message
    (its JSON cause, without the stack trace) or the plain cause."""
    if not error:
        return ""
    kind, cause = error.get("Error", "Error"), error.get("Cause", "")
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        return f"{kind}: {cause}".strip()
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return f"{parsed.get('errorType', kind)}: {parsed['errorMessage']}"
    if isinstance(parsed, dict) and "FailureReason" in parsed:
        # A SageMaker job's .sync failure: its Describe* answer, which names the job and why.
        job = parsed.get("HyperParameterTuningJobName") or parsed.get("TrainingJobName") or "?"
        status = parsed.get("HyperParameterTuningJobStatus") or parsed.get("TrainingJobStatus") or "Failed"
        return f"{kind}: SageMaker job {job} {status.lower()}: {parsed['FailureReason']}"
    return f"{kind}: {cause}"
