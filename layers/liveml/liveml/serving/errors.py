"""Errors of the serving path. Each carries the HTTP status the API answers with (see ``http.py``)."""

from __future__ import annotations

from liveml.errors import LiveMLError
from liveml.modeldir import IntegrityError as IntegrityError  # one name for a sha256 mismatch


class ServingError(LiveMLError):
    """Base of the serving errors."""

    http_status = 400


class BindingError(ServingError):
    """The model binding (``LIVEML_MODEL_BINDING`` or a model directory) is missing or malformed."""

    http_status = 500


class PredictionFailedError(ServingError):
    """The model could not score rows that passed validation: our fault, not the caller's."""

    http_status = 500
