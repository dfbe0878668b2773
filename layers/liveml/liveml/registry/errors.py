"""Registry errors."""

from __future__ import annotations

from liveml.errors import LiveMLError


class RegistryError(LiveMLError):
    """A registry operation was refused (bad key, stale state, missing item)."""
