"""HTTP plumbing: the one function that turns any error into an answer, and the request middleware."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveml.errors import LiveMLError, error_kind
from liveml.serving.errors import NotJsonError
from liveml.serving.headers import CORRELATION_HEADER, is_json

log = logging.getLogger(__name__)


# S3 URIs and absolute paths, as a load failure's message names them (a path starts a word).
_LOCATIONS = re.compile(r"s3://[^\s'\"]*|(?<![\w.~/-])/[^\s'\":,;]+")


def redact(message: str) -> str:
    """``message`` without S3 keys and local paths: what a server-side failure may tell a caller."""
    return _LOCATIONS.sub("<hidden>", message)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "json_invalid":
        ctx = err.get("ctx") or {}
        return f"invalid JSON ({ctx.get('error', 'cannot parse')})"
    if kind == "missing" and tuple(err.get("loc", ())) == ("body",):
        return "empty body: expected a JSON object"
    if kind == "too_long" and tuple(err.get("loc", ()))[-1:] == ("rows",):
        ctx = err.get("ctx") or {}
        return f"at most {ctx.get('max_length')} rows per batch, got {ctx.get('actual_length')}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "model_attributes_type" or kind == "dict_type":
        return "expected a JSON object"
    return str(err.get("msg", "invalid value"))


def validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            # FastAPI puts the character offset where a field path would go.
            position = loc[1] if len(loc) > 1 else "?"
            out.append({"field": "body", "message": f"{_message(err)} at character {position}"})
        else:
            out.append({"field": _field(loc), "message": _message(err)})
    return out


def error_response(exc: Exception, correlation_id: str | None = None) -> JSONResponse:
    """THE mapping from an exception to an HTTP answer; every handler of the app goes through it."""
    fields: list[dict[str, str]] = []
    extra_headers: dict[str, str] = {}
    if isinstance(exc, RequestValidationError):
        fields = validation_fields(exc)
        # Unparseable JSON is a malformed request (400); a parsed body with bad fields is a 422.
        status = 400 if all(e.get("type") == "json_invalid" for e in exc.errors()) else 422
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:10]) or "invalid request"
        if len(fields) > 10:
            message += f"; and {len(fields) - 10} more"
    elif isinstance(exc, LiveMLError):
        status = exc.http_status
        message = str(exc)
        fields = list(getattr(exc, "fields", []))
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        message = str(exc.detail)
        extra_headers = dict(exc.headers or {})  # e.g. Allow on a 405 (RFC 9110)
    else:
        # Never a stack trace to the caller; the log has it, keyed by the correlation id.
        log.error("unhandled error", exc_info=exc, extra={"correlation_id": correlation_id})
        status, message = 500, "internal error"
    if isinstance(exc, LiveMLError) and status >= 500:
        log.error("server-side error: %s", exc, extra={"correlation_id": correlation_id})
        message = redact(message)  # the log has the keys and paths; the caller gets the kind
    kind = error_kind(status)
    body = {"error": kind, "message": message, "fields": fields, "correlation_id": correlation_id}
    headers = {**extra_headers, **({CORRELATION_HEADER: correlation_id} if correlation_id else {})}
    return JSONResponse(body, status_code=status, headers=headers or None)


def correlation_id_of(scope: Scope) -> str:
    """From the caller's header, else API Gateway's request id (Mangum puts the event in the scope)."""
    for name, value in scope.get("headers", ()):
        if name in (b"x-correlation-id", b"x-request-id"):
            text: str = value.decode("latin-1")[:128]
            if text.isascii() and text.isprintable():  # it is echoed in a header and logged: nothing odd
                return text
    event = scope.get("aws.event")
    if isinstance(event, dict):
        request_id = (event.get("requestContext") or {}).get("requestId")
        if request_id:
            return str(request_id)
    return uuid.uuid4().hex


class RequestGuard:
    """Pure ASGI middleware (BaseHTTPMiddleware costs far more per call): sets the correlation id in the
    scope and on the response, answers 413 for a body over ``max_body_bytes`` — by its
    Content-Length, or while reading when there is none (chunked uploads) — and 415 for a POST whose
    body is not declared JSON (else FastAPI would read it as JSON anyway, or fail on it later), on
    ``json_paths``."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, json_paths: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        #: Paths whose POST body must be JSON (None: all); elsewhere a POST gets the router's 405 or 404.
        self.json_paths = json_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = correlation_id_of(scope)
        scope.setdefault("state", {})["correlation_id"] = cid
        too_large = HTTPException(413, f"request body exceeds the limit of {self.max_body_bytes} bytes")
        needs_json = scope["method"] == "POST" and (
            self.json_paths is None or self.json_paths.match(scope["path"]) is not None
        )
        json_body = False
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                json_body = is_json(value)
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body_bytes:
                    await error_response(too_large, cid)(scope, receive, send)
                    return
        if needs_json and not json_body:
            await error_response(NotJsonError(), cid)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise too_large  # FastAPI re-raises HTTPException from body reading as is
            return message

        header = (CORRELATION_HEADER.encode(), cid.encode("latin-1", "replace"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        await self.app(scope, limited_receive, send_with_id)
