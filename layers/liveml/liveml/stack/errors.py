"""Stack errors: each says what failed and the command that fixes it."""

from __future__ import annotations

from liveml.errors import LiveMLError


class StackError(LiveMLError):
    """Validating, building or deploying the stack failed."""
