"""The Lambda fast path: a well-formed one-row prediction answered without the ASGI stack.

Through Mangum and FastAPI a warm prediction spends about twice as long in HTTP plumbing as in the
model. On Lambda the request that matters — a POST of one valid row to a served model's ``/predict`` —
is answered here: the same request model validates the body, :func:`~liveml.serving.routes.predict_one`
scores, shapes, counts and captures it, and the answer is the one Mangum would give (a unit test
compares them byte for byte). Anything else — another route, a header or body that the request guard
would refuse, a body that fails validation, a row the model cannot score, a rollback drill — gets None
and goes through the full app, so every error keeps its one mapping and its exact message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from liveml.serving.headers import CORRELATION_HEADER, is_json
from liveml.serving.scoring import ServingContext, predict_one

#: Headers whose value the guard reads; an event carrying several values of one goes the full way.
_GUARDED = ("content-type", "content-length", "x-correlation-id", "x-request-id")


def _headers(event: Mapping[str, Any]) -> dict[str, str] | None:
    """The request headers, lower-cased; None when the full app must decide (repeated guarded headers,
    or both correlation headers, whose order decides which one counts)."""
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if name.lower() in _GUARDED and isinstance(values, list) and len(values) > 1:
            return None
    given = event.get("headers") or {}
    headers = {str(k).lower(): str(v) for k, v in given.items()}
    if len(headers) != len(given) or ("x-correlation-id" in headers and "x-request-id" in headers):
        return None
    return headers


def _correlation_id(headers: Mapping[str, str], event: Mapping[str, Any]) -> str | None:
    """As :func:`liveml.serving.http.correlation_id_of` finds it; None when only a random one would do
    (the full app makes that)."""
    given = headers.get("x-correlation-id", headers.get("x-request-id"))
    if given is not None:
        text = given[:128]
        return text if text and given.isascii() and text.isprintable() else None
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id) if request_id else None


def answer(ctx: ServingContext, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The API Gateway (REST, v1) response to ``event`` if it is a valid one-row prediction, else None."""
    t0 = time.perf_counter()
    route = ctx.predict_routes.get(event.get("path") or "")
    if route is None or event.get("httpMethod") != "POST" or event.get("isBase64Encoded"):
        return None
    if ctx.settings.drill_latency_ms or event.get("queryStringParameters"):
        return None
    headers = _headers(event)
    if headers is None or not is_json(headers.get("content-type", "").encode("latin-1", "replace")):
        return None
    cid = _correlation_id(headers, event)
    declared = headers.get("content-length")
    body = event.get("body")
    if cid is None or not isinstance(body, str) or (declared is not None and not declared.isdigit()):
        return None
    size = len(body.encode())
    if size > ctx.settings.max_body_bytes or int(declared or 0) > ctx.settings.max_body_bytes:
        return None
    model, request_model = route
    try:
        request = request_model.model_validate(json.loads(body))
        served = ctx.models.get(model).for_player(request.player_id)
        out = predict_one(ctx, served, request, t0)
        # What Starlette's JSONResponse renders.
        text = json.dumps(out, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    except Exception:  # the full app answers it, with the one error mapping
        return None
    return {
        "statusCode": 200,
        "headers": {
            "content-length": str(len(text.encode())),
            "content-type": "application/json",
            CORRELATION_HEADER: cid,
        },
        "multiValueHeaders": {},
        "body": text,
        "isBase64Encoded": False,
    }
