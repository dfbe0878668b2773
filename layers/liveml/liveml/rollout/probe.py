"""Talking to one function version directly, the way API Gateway would: the smoke test and the probe.

Invoking the version (not the alias) tests it before any player reaches it, and keeps working when
the alias moves. The event is API Gateway's REST proxy shape, so the request goes through the very
path players' requests take (Mangum, FastAPI validation, the model).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from liveml.rollout.aliases import PredictFunction
from liveml.rollout.errors import RolloutError, SmokeTestError

#: Answers within this of the expected probabilities pass (the API rounds nothing; ONNX is float32).
MIN_TOLERANCE = 1e-4


def api_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway (REST, v1) Lambda proxy event."""
    request_id = uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "x-correlation-id": f"rollout-{request_id[:12]}"}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "rollout",
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "liveml-rollout"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def _decoded(answer: dict[str, Any]) -> tuple[int, Any]:
    status = int(answer.get("statusCode", 0))
    try:
        return status, json.loads(answer.get("body") or "null")
    except ValueError:
        return status, answer.get("body")


def _mismatch(expected: dict[str, Any], got: dict[str, Any], tolerance: float) -> str | None:
    if "value" in expected and expected["value"] is not None:
        if not math.isclose(float(got.get("value", math.nan)), float(expected["value"]), abs_tol=tolerance):
            return f"value {got.get('value')} != {expected['value']}"
        return None
    if str(got.get("prediction")) != str(expected.get("label")):
        return f"label {got.get('prediction')!r} != {expected.get('label')!r}"
    want = expected.get("probabilities") or {}
    have = got.get("probabilities") or {}
    for label, p in want.items():
        if abs(float(have.get(label, math.nan)) - float(p)) > tolerance or label not in have:
            return f"P({label}) {have.get(label)} != {p}"
    return None


def predict_path(model: str | None) -> str:
    """The route of ``model``'s predictions (None: the default model's)."""
    return f"/models/{model}/predict" if model else "/predict"


def smoke_test(
    function: PredictFunction, version: str, golden: dict[str, Any], model: str | None = None
) -> dict[str, Any]:
    """Replay the golden requests of ``model`` against ``version``; raise ``SmokeTestError`` at the first
    difference."""
    requests = golden.get("requests") or []
    if not requests:
        raise SmokeTestError("the model has no golden requests: nothing to smoke-test it with")
    tolerance = max(float(golden.get("tolerance", 0)), MIN_TOLERANCE)
    for i, request in enumerate(requests):
        body = {"player_id": f"smoke-{i}", "features": request["features"]}
        status, answer = _decoded(function.invoke(version, api_event("POST", predict_path(model), body)))
        if status != 200:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise SmokeTestError(f"golden request {i}: HTTP {status} ({message})")
        problem = _mismatch(request["expected"], answer, tolerance)
        if problem:
            raise SmokeTestError(f"golden request {i}: {problem} (tolerance {tolerance:g})")
    return {"golden_requests": len(requests), "tolerance": tolerance, "passed": True}


@dataclass
class ProbeResult:
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    classes: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def p99_ms(self) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 4),
            "p99_ms": round(self.p99_ms, 1),
            "classes": self.classes,
        }


def probe(
    function: PredictFunction, version: str, rows: list[dict[str, Any]], model: str | None = None
) -> ProbeResult:
    """Send ``rows`` (raw feature dicts) of ``model`` to ``version`` one request each: errors, latency,
    classes."""
    result = ProbeResult()
    path = predict_path(model)
    for i, row in enumerate(rows):
        started = time.perf_counter()
        try:
            event = api_event("POST", path, {"player_id": f"probe-{i}", "features": row})
            status, answer = _decoded(function.invoke(version, event))
        except RolloutError:
            status, answer = 500, None
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.requests += 1
        if status >= 500 or status == 0:
            result.errors += 1
        elif status == 200 and isinstance(answer, dict) and answer.get("prediction") is not None:
            label = str(answer["prediction"])
            result.classes[label] = result.classes.get(label, 0) + 1
    return result
