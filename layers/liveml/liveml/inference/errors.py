"""Errors of the light inference runtime."""

from __future__ import annotations

from liveml.errors import LiveMLError
from liveml.modeldir.errors import ArtifactError  # the model directory's own; one name everywhere


class InferenceError(LiveMLError):
    """A request or a model artifact that the runtime cannot use."""

    http_status = 400


class InputError(InferenceError):
    """A row that does not fit the model's inputs: a wrong type or an unparseable value."""

    http_status = 422


__all__ = ["ArtifactError", "InferenceError", "InputError"]
