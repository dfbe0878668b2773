"""Errors of A/B experiment design and analysis."""

from __future__ import annotations

from liveml.errors import LiveMLError


class ExperimentError(LiveMLError):
    """An experiment definition, its assignments or its outcomes are unusable; the message says which."""

    http_status = 422
