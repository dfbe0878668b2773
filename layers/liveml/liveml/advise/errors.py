"""Errors of the ops assistant."""

from __future__ import annotations

from liveml.errors import LiveMLError


class AdviseError(LiveMLError):
    """A bad SLA spec, a model the assistant cannot compare, or an output its validator refused."""


class SlaError(AdviseError):
    """The SLA spec is invalid: the message names each field and why."""
