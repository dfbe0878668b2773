"""Registry changes as events on the stack's EventBridge bus."""

from __future__ import annotations

import json
from typing import Any, Protocol

from liveml.aws import client
from liveml.config import Settings

SOURCE = "liveml.registry"


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class EventBridgePublisher:
    """Publishes to the stack's bus (``LIVEML_EVENT_BUS``)."""

    def __init__(self, bus: str | None = None, events: Any = None) -> None:
        self.bus = bus or Settings().require("event_bus")
        self._events = events or client("events")

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": self.bus,
        }
        failed = self._events.put_events(Entries=[entry]).get("FailedEntryCount", 0)
        if failed:
            from liveml.registry.errors import RegistryError

            raise RegistryError(f"EventBridge refused the {detail_type} event for {detail.get('model')}")


class RecordingPublisher:
    """Keeps events in memory: for unit tests and dry runs."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, detail))
