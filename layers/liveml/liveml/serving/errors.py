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


__all__ = ["BindingError", "IntegrityError", "PredictionFailedError", "ServingError", "UnknownModelError"]
