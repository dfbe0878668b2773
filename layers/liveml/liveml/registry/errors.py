"""Registry errors."""

from __future__ import annotations

from liveml.errors import LiveMLError


class RegistryError(LiveMLError):
    """A registry operation was refused (bad key, missing item, not allowed)."""


class VersionNotFoundError(RegistryError):
    http_status = 404


class StaleStateError(RegistryError):
    """The item changed since it was read: the change was computed from a stale state."""

    http_status = 409


class EventDeliveryError(RegistryError):
    """A change is committed but its event is not delivered yet: it waits in the outbox for a retry."""
