"""Errors of the model binding."""

from __future__ import annotations

from liveml.errors import LiveMLError


class BindingError(LiveMLError):
    """A model binding (a document, ``LIVEML_MODEL_BINDING`` or a model directory) is missing or malformed:
    the server's configuration, never the caller's request."""

    http_status = 500
