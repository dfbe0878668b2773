"""API Gateway (REST, v1) proxy events at the edge: the request body as the client sent it.

API Gateway hands a body over as text, or base64-encoded with ``isBase64Encoded: true``. A flagged
body that is not valid base64, or whose bytes are not UTF-8, would make Mangum (or a plain
``b64decode``) raise, and the caller would get a 5xx; these functions turn it into a 400 that names
the problem, before any framework sees the event. Standard library only: this runs on every request
of the predict function's hot path.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from typing import Any

from liveml.errors import LiveMLError, error_kind


class BodyEncodingError(LiveMLError):
    """A request body that cannot be read as the event declares it (base64, UTF-8)."""

    http_status = 400

    def __init__(self, problem: str) -> None:
        super().__init__(f"body: {problem}")
        self.fields = [{"field": "body", "message": problem}]


def request_bytes(event: Mapping[str, Any]) -> bytes:
    """The body's bytes: base64-decoded when the event says so. ``BodyEncodingError`` otherwise."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise BodyEncodingError(f"expected text from API Gateway, got {type(body).__name__}")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:  # ValueError: a non-ASCII character in the text
            raise BodyEncodingError(
                f"isBase64Encoded is true but the body is not valid base64 ({exc})"
            ) from None
    try:
        return body.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate, from a \\ud800 escape in the event
        raise BodyEncodingError(f"not valid Unicode text at character {exc.start}") from None


def with_text_body(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with its body as UTF-8 text, decoded from base64 when flagged (the event itself when
    there was nothing to decode): what Mangum and the fast path read. ``BodyEncodingError`` when the
    body is not valid base64 or not UTF-8 — JSON, the only body this API takes, is UTF-8."""
    data = request_bytes(event)
    if not event.get("isBase64Encoded"):
        return event
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise BodyEncodingError(
            f"the base64-decoded body is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    return {**event, "body": text, "isBase64Encoded": False}


def correlation_id(event: Mapping[str, Any]) -> str:
    """As the serving app finds it: the caller's ``x-correlation-id`` or ``x-request-id`` (printable
    ASCII, at most 128 characters), else API Gateway's request id, else a new one."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    for name in ("x-correlation-id", "x-request-id"):
        text = headers.get(name, "")[:128]
        if text and text.isascii() and text.isprintable():
            return text
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id) if request_id else uuid.uuid4().hex


def error_response(exc: LiveMLError, cid: str) -> dict[str, Any]:
    """A proxy response with the API's error body (``{error, message, fields, correlation_id}``)."""
    status = exc.http_status
    body = {
        "error": error_kind(status),
        "message": str(exc),
        "fields": list(getattr(exc, "fields", [])),
        "correlation_id": cid,
    }
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "x-correlation-id": cid},
        "multiValueHeaders": {},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
