"""HTTP header names and checks shared by the app's middleware and the Lambda fast path (no FastAPI)."""

from __future__ import annotations

CORRELATION_HEADER = "x-correlation-id"


def is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
