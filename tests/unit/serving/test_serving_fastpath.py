"""The Lambda fast path answers a valid one-row prediction exactly as the full app (Mangum + FastAPI)
would, and hands everything else to the full app."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mangum import Mangum

from liveml.binding import ModelBinding
from liveml.serving import ServingSettings, build_runtime
from liveml.serving.fastpath import answer
from liveml.serving.runtime import Runtime


def _runtime(model_dir: Path, **settings: Any) -> Runtime:
    runtime = build_runtime(
        ModelBinding.from_dir(model_dir, model="churn", version="3"),
        ServingSettings(**settings),
        metrics_interval_s=0,
    )
    runtime._asgi = Mangum(runtime.app, lifespan="off")  # what the first invocation builds
    return runtime


def _predict_event(base: dict[str, Any], path: str, body: Any, **headers: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(base))
    event["path"] = event["resource"] = path
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["headers"] = {**event["headers"], **headers}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


def _without_ids(response: dict[str, Any]) -> dict[str, Any]:
    """A response without its correlation id (a random one where the caller's could not be used)."""
    out = {**response, "headers": {k: v for k, v in response["headers"].items() if k != "x-correlation-id"}}
    try:
        body = json.loads(response["body"])
    except ValueError:
        return out
    if isinstance(body, dict):
        body.pop("correlation_id", None)
        out["body"] = body
        out["headers"].pop("content-length", None)
    return out


@pytest.fixture
def runtime(model_dir: Path) -> Runtime:
    return _runtime(model_dir)


@pytest.mark.parametrize("path", ["/predict", "/models/churn/predict"])
def test_fast_answers_are_the_full_apps(
    runtime: Runtime, event: Callable[[str], dict[str, Any]], golden: dict[str, Any], path: str
) -> None:
    ctx = runtime.app.state.context
    cases = [({}, "player-1"), ({"X-Correlation-Id": "trace-7"}, "joueur-é"), ({"x-request-id": "r-9"}, "p")]
    for request in golden["requests"][:5]:
        for headers, player in cases:
            body = {"player_id": player, "features": request["features"]}
            e = _predict_event(event("apigw_predict.json"), path, body, **headers)
            fast = answer(ctx, e)
            assert fast is not None, e["body"]
            assert fast == runtime._asgi(e, None)
            assert json.loads(fast["body"])["player_id"] == player


def test_the_handler_takes_the_fast_path_and_still_counts_and_captures(
    model_dir: Path, event: Callable[[str], dict[str, Any]], golden: dict[str, Any]
) -> None:
    runtime = _runtime(model_dir)
    records: list[dict[str, Any]] = []
    runtime.capture.sample_rate = 1.0
    runtime.capture.add = lambda record, **_: records.append(record)  # type: ignore[method-assign]

    def no_asgi(*_: Any) -> Any:
        raise AssertionError("a valid one-row prediction went through Mangum")

    runtime._asgi = no_asgi
    body = {"player_id": "p-1", "features": golden["requests"][0]["features"]}
    response = runtime.invoke(_predict_event(event("apigw_predict.json"), "/predict", body), None)
    assert response["statusCode"] == 200
    assert [r["player_id"] for r in records] == ["p-1"]
    series = runtime.metrics._series
    assert sum(s.requests for s in series.values()) in (0, 1)  # flushed at once or still pending


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda e: e.update(body="{not json"), "invalid JSON"),
        (lambda e: e.update(body=json.dumps({"player_id": "p"})), "missing features"),
        (lambda e: e.update(body=json.dumps({"player_id": "p", "features": {"level": 10**9}})), "range"),
        (lambda e: e.update(body=""), "empty body"),
        (lambda e: e["headers"].update({"Content-Type": "text/plain"}), "not JSON"),
        (lambda e: e["headers"].update({"Content-Length": "99999999"}), "declared too large"),
        (lambda e: e["headers"].update({"Content-Length": "12x"}), "odd length"),
        (lambda e: e.update(httpMethod="GET"), "method"),
        (lambda e: e.update(path="/predict/"), "trailing slash"),
        (lambda e: e.update(path="/predict/batch"), "batch"),
        (lambda e: e.update(path="/models/nope/predict"), "unknown model"),
        (lambda e: e.update(isBase64Encoded=True, body=b64encode(e["body"].encode()).decode()), "base64"),
        (lambda e: e.update(queryStringParameters={"a": "b"}), "query string"),
        (lambda e: e["headers"].update({"X-Correlation-Id": "a\u0007b"}), "odd correlation id"),
        (lambda e: e["headers"].update({"X-Correlation-Id": "a", "X-Request-Id": "b"}), "two ids"),
        (lambda e: e["multiValueHeaders"].update({"Content-Type": ["a", "b"]}), "repeated header"),
    ],
)
def test_anything_else_goes_through_the_full_app(
    runtime: Runtime,
    event: Callable[[str], dict[str, Any]],
    golden: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    why: str,
) -> None:
    body = {"player_id": "p", "features": golden["requests"][0]["features"]}
    e = _predict_event(event("apigw_predict.json"), "/predict", body)
    change(e)
    assert answer(runtime.app.state.context, e) is None, why
    # ... whose answer is what it always was (a 4xx naming the problem, or a 200 on another route).
    assert _without_ids(runtime.invoke(e, None)) == _without_ids(runtime._asgi(e, None))


def test_a_rollback_drill_is_never_short_cut(
    model_dir: Path, event: Callable[[str], dict[str, Any]], golden: dict[str, Any]
) -> None:
    runtime = _runtime(model_dir, drill_latency_ms=1.0)
    body = {"player_id": "p", "features": golden["requests"][0]["features"]}
    e = _predict_event(event("apigw_predict.json"), "/predict", body)
    assert answer(runtime.app.state.context, e) is None
    assert runtime.invoke(e, None)["statusCode"] == 200
