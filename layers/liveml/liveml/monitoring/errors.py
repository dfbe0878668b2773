"""Monitoring errors: a whole batch refused, an export or an accuracy run that cannot proceed."""

from __future__ import annotations

from liveml.errors import LiveMLError


class MonitoringError(LiveMLError):
    """An expected failure of ingestion, export or live accuracy."""


class BatchError(MonitoringError):
    """A batch of events refused as a whole: ``http_status`` and the fields that are wrong."""

    def __init__(self, status: int, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.fields = fields or []


class StorageError(MonitoringError):
    """Accepted events could not be stored: the client resends the same batch (same event ids)."""

    http_status = 503


class ExportError(MonitoringError):
    """A dataset export that cannot produce a complete, valid dataset (nothing is written)."""
