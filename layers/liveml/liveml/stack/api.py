"""Calling the deployed prediction API (stdlib only, so the CLI needs no HTTP library)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from liveml.stack.outputs import StackOutputs


def call_api(
    outputs: StackOutputs,
    method: str,
    path: str,
    body: Any = None,
    *,
    with_key: bool = True,
    timeout_s: float = 60,
) -> tuple[int, Any]:
    """``(status, decoded JSON or text)`` of one request to the stack's API; ``body`` as JSON, or as it
    is when it is bytes."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(outputs.api_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if with_key:
        request.add_header("x-api-key", outputs.api_key)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
