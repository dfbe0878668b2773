"""Rollout errors. Their class names are the ``Error`` a Step Functions ``Catch`` sees."""

from __future__ import annotations

from liveml.errors import LiveMLError


class RolloutError(LiveMLError):
    """A rollout step was refused or failed."""


class RolloutLockedError(RolloutError):
    """Another rollout (of any model) is moving the alias: this one waits; the state machine retries it."""

    http_status = 409


class SmokeTestError(RolloutError):
    """The new version's answers to the golden requests differ from the expected ones."""


class AliasUpdateError(RolloutError):
    """The alias could not be moved."""
