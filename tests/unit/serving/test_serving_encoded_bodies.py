"""Bodies API Gateway hands over base64-encoded (``isBase64Encoded: true``): one that is not valid base64,
or whose bytes are not UTF-8 JSON, is a 4xx naming the problem on every route that takes a body, never
an exception (Mangum raised on bad base64, and a 5xx counts against a canary's health)."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveml.apigw import BodyEncodingError, correlation_id, with_text_body
from liveml.binding import ModelBinding
from liveml.serving import build_runtime
from liveml.serving.runtime import Runtime

ROUTES = ["/predict", "/predict/batch", "/models/churn/predict", "/models/churn/predict/batch"]
REQUEST_ID = "c0ffee00-0000-4000-8000-000000000001"  # apigw_predict.json's


def b64(data: bytes) -> str:
    return b64encode(data).decode()


@pytest.fixture(scope="module")
def runtime(model_dir: Path) -> Runtime:
    """What functions/predict/app.py builds at init; its handler is ``runtime.invoke`` under powertools."""
    return build_runtime(ModelBinding.from_dir(model_dir, model="churn", version="3"), metrics_interval_s=0)


@pytest.fixture
def valid_body(features: dict[str, Any]) -> Callable[[str], bytes]:
    """The valid JSON body of ``route``: one row, or a batch of two."""

    def body(route: str) -> bytes:
        row = {"player_id": "p-1", "features": features}
        return json.dumps({"rows": [row, row]} if route.endswith("/batch") else row).encode()

    return body


def encoded_event(event: Callable[[str], dict[str, Any]], route: str, body: str) -> dict[str, Any]:
    e = event("apigw_predict.json")
    e["path"] = e["resource"] = route
    e["body"], e["isBase64Encoded"] = body, True
    return e


def refusal(response: dict[str, Any], status: int) -> dict[str, Any]:
    """The API's error body of a ``status`` answer, checked for its shape."""
    assert response["statusCode"] == status, response
    body: dict[str, Any] = json.loads(response["body"])
    assert set(body) == {"error", "message", "fields", "correlation_id"}, body
    assert body["correlation_id"] == REQUEST_ID
    return body


HOSTILE_BASE64 = {
    "not base64 at all": "!!!not base64***",
    "bad padding": "eyJhIjo",
    "a stray character": b64(b'{"a": 1}')[:4] + "*" + b64(b'{"a": 1}')[4:],
    "a newline inside": b64(b'{"player_id": "p"}')[:8] + "\n" + b64(b'{"player_id": "p"}')[8:],
    "non-ASCII text": "eyJh\u00e9Ijo=",
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("why", HOSTILE_BASE64)
def test_a_body_that_is_not_base64_is_a_400_naming_it(
    runtime: Runtime, event: Callable[[str], dict[str, Any]], route: str, why: str
) -> None:
    body = refusal(runtime.invoke(encoded_event(event, route, HOSTILE_BASE64[why]), None), 400)
    assert body["error"] == "bad_request"
    assert "isBase64Encoded is true but the body is not valid base64" in body["message"], why
    assert [f["field"] for f in body["fields"]] == ["body"]


GARBAGE = bytes(range(256)) * 3  # binary: invalid UTF-8 from byte 0x80 on


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("data", "where"),
    [
        (GARBAGE, "byte 0x80 at offset 128"),
        (b'{"player_id": "p-\xff", "features": {}}', "byte 0xff at offset 17"),
        (b'{"player_id": "p", "features": {"country": "\xc3("}}', "byte 0xc3 at offset 44"),
        ("{}".encode("utf-16"), "byte 0xff at offset 0"),
    ],
)
def test_decoded_bytes_that_are_not_utf8_are_a_400_naming_the_byte(
    runtime: Runtime, event: Callable[[str], dict[str, Any]], route: str, data: bytes, where: str
) -> None:
    body = refusal(runtime.invoke(encoded_event(event, route, b64(data)), None), 400)
    assert body["message"] == f"body: the base64-decoded body is not UTF-8 ({where})"


#: Decoded bodies that are UTF-8 but not a JSON object: the app refuses each, naming the body.
NOT_AN_OBJECT = [b"[1, 2, 3]", b'"a string"', b"42", b"null", b'{"player_id": ', b""]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("data", NOT_AN_OBJECT)
def test_decoded_json_that_is_not_an_object_is_refused_as_the_plain_body_would_be(
    runtime: Runtime, event: Callable[[str], dict[str, Any]], route: str, data: bytes
) -> None:
    response = runtime.invoke(encoded_event(event, route, b64(data)), None)
    encoded = refusal(response, 400 if data.startswith(b"{") else 422)
    assert encoded["message"].startswith("body: "), encoded
    plain = encoded_event(event, route, data.decode())
    plain["isBase64Encoded"] = False
    assert json.loads(runtime.invoke(plain, None)["body"]) == encoded


@pytest.mark.parametrize("route", ROUTES)
def test_a_valid_encoded_body_is_answered_as_the_plain_one(
    runtime: Runtime, event: Callable[[str], dict[str, Any]], valid_body: Callable[[str], bytes], route: str
) -> None:
    encoded = runtime.invoke(encoded_event(event, route, b64(valid_body(route))), None)
    plain = encoded_event(event, route, valid_body(route).decode())
    plain["isBase64Encoded"] = False
    assert encoded["statusCode"] == 200, encoded
    assert json.loads(encoded["body"]) == json.loads(runtime.invoke(plain, None)["body"])


def test_a_plain_body_with_a_lone_surrogate_is_a_400(
    runtime: Runtime, event: Callable[[str], dict[str, Any]]
) -> None:
    """A ``\\ud800`` escape in the event's JSON gives a str that has no UTF-8 form."""
    e = encoded_event(event, "/predict", '{"player_id": "p\ud800"}')
    e["isBase64Encoded"] = False
    body = refusal(runtime.invoke(e, None), 400)
    assert body["message"] == "body: not valid Unicode text at character 16"


def test_a_body_that_is_not_text_is_a_400(runtime: Runtime, event: Callable[[str], dict[str, Any]]) -> None:
    e = encoded_event(event, "/predict", "")
    e["body"] = {"player_id": "p"}
    body = refusal(runtime.invoke(e, None), 400)
    assert body["message"] == "body: expected text from API Gateway, got dict"


def test_the_edge_leaves_a_plain_event_alone_and_reads_the_callers_correlation_id() -> None:
    plain = {"body": '{"a": 1}', "isBase64Encoded": False}
    assert with_text_body(plain) is plain
    assert with_text_body({"body": b64(b'{"a": 1}'), "isBase64Encoded": True})["body"] == '{"a": 1}'
    with pytest.raises(BodyEncodingError, match="not valid base64"):
        with_text_body({"body": "@", "isBase64Encoded": True})
    assert (
        correlation_id({"headers": {"X-Correlation-Id": "mine"}, "requestContext": {"requestId": "r"}})
        == "mine"
    )
    assert (
        correlation_id({"headers": {"x-request-id": "a\u0007"}, "requestContext": {"requestId": "r"}}) == "r"
    )
    assert len(correlation_id({})) == 32
