"""Serving through API Gateway on LocalStack: a registered model bound to a published version of the
predict function answers players with the API key, refuses bad features with a 4xx naming them, and
captures what it served to S3."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from liveml.aws import client
from liveml.aws.s3 import get_bytes
from liveml.data.synth import generate_players, player_contract
from liveml.registry import ModelVersion
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import captured_live, train_by_pipeline


@pytest.fixture(scope="module")
def served(stack: StackOutputs) -> Iterator[tuple[ModelVersion, dict[str, Any]]]:
    """A fresh model, trained by the pipeline and bound to `live` (capturing every request), then the
    alias put back where it was."""
    settings = {"trials": 3, "time_budget_s": 20, "cv_folds": 3, "rollout": {"auto": False}}
    version = train_by_pipeline(stack, "serve", player_contract(), settings, generate_players(1500, 21))
    golden = json.loads(get_bytes(version.artifacts["golden_requests.json"].uri))["requests"][0]
    with captured_live(stack, version, "serving test"):
        yield version, golden


def test_the_bound_model_answers_with_the_key(
    stack: StackOutputs, served: tuple[ModelVersion, dict[str, Any]]
) -> None:
    version, golden = served
    status, body = call_api(stack, "POST", "/predict", {"player_id": "p-1", "features": golden["features"]})
    assert status == 200, body
    assert body["model_version"] == "1"
    assert body["prediction"] == golden["expected"]["label"]
    assert body["probabilities"] == pytest.approx(golden["expected"]["probabilities"], abs=1e-5)

    status, health = call_api(stack, "GET", "/health")
    assert status == 200 and health["status"] == "ok"
    status, latest = call_api(stack, "GET", "/models/latest")
    assert status == 200
    assert latest["feature_order"] == player_contract().feature_names
    assert latest["manifest_sha256"] == version.artifacts["manifest.json"].sha256
    assert latest["sha256"] == version.artifacts["model.onnx"].sha256
    assert latest["onnx"]  # a presigned download link for on-device inference


def test_a_batch_is_answered_row_by_row(
    stack: StackOutputs, served: tuple[ModelVersion, dict[str, Any]]
) -> None:
    _, golden = served
    rows = [{"player_id": f"p-{i}", "features": golden["features"]} for i in range(5)]
    status, body = call_api(stack, "POST", "/predict/batch", {"rows": rows})
    assert status == 200, body
    assert len(body["predictions"]) == 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "high"}, "features.level"),
        ({"device": "toaster"}, "features.device"),
        ({"sessions_last_7d": -3}, "features.sessions_last_7d"),
        ({"unknown_feature": 1}, "features.unknown_feature"),
    ],
)
def test_bad_features_get_a_4xx_naming_the_field(
    stack: StackOutputs, served: tuple[ModelVersion, dict[str, Any]], change: dict[str, Any], field: str
) -> None:
    _, golden = served
    status, body = call_api(
        stack, "POST", "/predict", {"player_id": "p-2", "features": {**golden["features"], **change}}
    )
    assert 400 <= status < 500
    assert field in json.dumps(body)


def test_requests_without_the_key_are_refused(
    stack: StackOutputs, served: tuple[ModelVersion, dict[str, Any]]
) -> None:
    _, golden = served
    status, _ = call_api(
        stack, "POST", "/predict", {"player_id": "p-3", "features": golden["features"]}, with_key=False
    )
    assert status == 403


def test_served_requests_are_captured_to_s3(
    stack: StackOutputs, served: tuple[ModelVersion, dict[str, Any]]
) -> None:
    version, golden = served
    for i in range(3):
        assert (
            call_api(stack, "POST", "/predict", {"player_id": f"cap-{i}", "features": golden["features"]})[0]
            == 200
        )
        time.sleep(1.2)  # past the buffer's max age, so the next invocation flushes it
    prefix = f"captures/model={version.model}/version=1/"
    deadline = time.monotonic() + 60
    keys: list[str] = []
    while not keys and time.monotonic() < deadline:
        listing = client("s3").list_objects_v2(Bucket=stack.data_bucket, Prefix=prefix)
        keys = [obj["Key"] for obj in listing.get("Contents", [])]
        time.sleep(1)
    assert keys, f"nothing captured under s3://{stack.data_bucket}/{prefix}"
    records = [
        json.loads(line) for key in keys for line in get_bytes(f"s3://{stack.data_bucket}/{key}").splitlines()
    ]
    assert any(str(record.get("player_id", "")).startswith("cap-") for record in records)


@pytest.mark.parametrize("path", ["/predict", "/predict/batch", "/models/churn/predict"])
def test_a_body_that_is_not_utf8_is_a_400_naming_the_byte(stack: StackOutputs, path: str) -> None:
    """API Gateway hands bytes that are not UTF-8 to the function base64-encoded (LocalStack does so for
    any such body): the function decodes them at the edge and names the first bad byte."""
    status, body = call_api(stack, "POST", path, b'{"player_id": "p-\xff", "features": {}}')
    assert status == 400, body
    assert body["message"] == "body: the base64-decoded body is not UTF-8 (byte 0xff at offset 17)"
    assert body["fields"] == [{"field": "body", "message": body["message"].removeprefix("body: ")}]
