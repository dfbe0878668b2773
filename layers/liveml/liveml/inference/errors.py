"""Errors of the light inference runtime."""

from __future__ import annotations

from liveml.errors import LiveMLError


class InferenceError(LiveMLError):
    """A request or a model artifact that the runtime cannot use."""

    http_status = 400


class InputError(InferenceError):
    """A row that does not fit the model's inputs: a wrong type or an unparseable value."""

    http_status = 422


class ArtifactError(InferenceError):
    """A model artifact that is missing, tampered with (sha256 mismatch) or of an unknown format."""

    http_status = 500
