"""Errors of ``liveml.localcloud``: each one line that says what went wrong and what to do."""

from __future__ import annotations

from liveml.errors import LiveMLError


class LocalCloudError(LiveMLError):
    """LocalStack on the host could not be started, reached or stopped."""

    http_status = 503
