"""Rollout errors. Their class names are the ``Error`` a Step Functions ``Catch`` sees."""

from __future__ import annotations

from liveml.errors import LiveMLError


class RolloutError(LiveMLError):
    """A rollout step was refused or failed."""


class RolloutLockedError(RolloutError):
    """Another rollout of the same model (or of the same alias) is in progress: this one is refused."""

    http_status = 409


class SmokeTestError(RolloutError):
    """The new version's answers to the golden requests differ from the expected ones."""


class AliasUpdateError(RolloutError):
    """The alias could not be moved."""
