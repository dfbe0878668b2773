"""Settings read from ``LIVEML_*`` environment variables, in one place.

An explicit argument always wins over the environment; the environment wins over the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PREFIX = "LIVEML_"


def env(name: str, default: str | None = None) -> str | None:
    """The value of ``LIVEML_<name>``, or ``default``."""
    return os.environ.get(PREFIX + name, default)


@dataclass(frozen=True)
class Settings:
    """What the functions and the CLI need to find the stack's resources."""

    region: str = field(default_factory=lambda: env("REGION") or os.environ.get("AWS_REGION") or "us-east-1")
    #: ``None`` means real AWS; LocalStack sets ``AWS_ENDPOINT_URL`` inside its functions.
    endpoint_url: str | None = field(
        default_factory=lambda: env("ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    )
    data_bucket: str | None = field(default_factory=lambda: env("DATA_BUCKET"))
    artifacts_bucket: str | None = field(default_factory=lambda: env("ARTIFACTS_BUCKET"))
    registry_table: str | None = field(default_factory=lambda: env("REGISTRY_TABLE"))
    event_bus: str | None = field(default_factory=lambda: env("EVENT_BUS"))
    alerts_topic: str | None = field(default_factory=lambda: env("ALERTS_TOPIC"))

    def require(self, name: str) -> str:
        """The setting ``name``, or a clear error naming the variable that is missing."""
        value = getattr(self, name)
        if not value:
            from liveml.errors import LiveMLError

            raise LiveMLError(f"{PREFIX}{name.upper()} is not set")
        return str(value)
