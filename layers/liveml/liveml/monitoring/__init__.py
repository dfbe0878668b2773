"""Monitoring: player events in, labels and live accuracy, dataset export, drift of live captures
against the training data, and the retrain policy.

    from liveml.monitoring import create_events_app
    app = create_events_app(folder="events/")   # POST /events under uvicorn, stored in a folder

Light on import: the web framework is imported only by ``create_events_app``.
"""

from __future__ import annotations

from liveml.monitoring.events import Event, EventLimits, EventStore, read_events
from liveml.monitoring.ingest import (
    DynamoEventIds,
    EventIngestor,
    FolderEventStore,
    MemoryEventIds,
    S3EventStore,
    create_events_app,
)

__all__ = [
    "DynamoEventIds",
    "Event",
    "EventIngestor",
    "EventLimits",
    "EventStore",
    "FolderEventStore",
    "MemoryEventIds",
    "S3EventStore",
    "create_events_app",
    "read_events",
]
