"""Pipeline errors."""

from __future__ import annotations

from liveml.errors import LiveMLError


class PipelineError(LiveMLError):
    """An execution could not be found, or did not finish in time."""
