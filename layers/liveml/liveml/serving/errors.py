"""Errors of the serving path. Each carries the HTTP status the API answers with (see ``http.py``)."""

from __future__ import annotations

from liveml.binding.errors import BindingError
from liveml.errors import LiveMLError
from liveml.modeldir import IntegrityError as IntegrityError  # one name for a sha256 mismatch


class ServingError(LiveMLError):
    """Base of the serving errors."""

    http_status = 400


class PredictionFailedError(ServingError):
    """The model could not score rows that passed validation: our fault, not the caller's."""

    http_status = 500


class UnscorableInputError(ServingError):
    """Valid-looking features the model turns into NaN or inf (values far outside what it was trained
    on): the caller's to fix, and a 500 here would count against a canary's health."""

    http_status = 422

    def __init__(self, field: str) -> None:
        why = "the model's output for these values is not a finite number; are they far out of range?"
        super().__init__(f"{field}: {why}")
        self.fields = [{"field": field, "message": why}]


class NotJsonError(ServingError):
    """A prediction body not declared ``application/json`` (FastAPI would otherwise guess)."""

    http_status = 415

    def __init__(self) -> None:
        super().__init__("send the body as JSON with the header Content-Type: application/json")
        self.fields = [{"field": "Content-Type", "message": "expected application/json"}]


class UnknownModelError(ServingError):
    """A route names a model this version does not serve (the message names those it does)."""

    http_status = 404

    def __init__(self, model: str | None, served: list[str]) -> None:
        listed = ", ".join(served) or "none"
        if model is None:
            why = f"this route needs a default model, and none is named; use /models/{{model}}/…: {listed}"
            super().__init__(f"no default model; served models: {listed}")
            self.fields = [{"field": "model", "message": why}]
            return
        super().__init__(f"model {model!r} is not served here; served models: {listed}")
        self.fields = [{"field": "model", "message": f"unknown model {model!r}; served: {listed}"}]


__all__ = [
    "BindingError",
    "IntegrityError",
    "NotJsonError",
    "PredictionFailedError",
    "ServingError",
    "UnknownModelError",
    "UnscorableInputError",
]
