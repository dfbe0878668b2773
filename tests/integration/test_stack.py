"""The deployed stack on LocalStack: an upload reaches the registry, the API needs its key."""

from __future__ import annotations

import hashlib

import pytest

from liveml.aws import client
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import run_for, unique_model, upload


def test_an_upload_starts_the_pipeline_which_records_the_exact_object_version(stack: StackOutputs) -> None:
    model = unique_model("record")
    key = f"datasets/{model}/players.csv"
    body = b"player_id,level\np1,3\np2,5\n"
    version_id = upload(stack, key, body)

    run = run_for(stack, key, version_id, timeout_s=120)

    # No contract was uploaded, so the run fails at Validate, after recording the dataset version.
    assert run.status == "FAILED"
    item = client("dynamodb").get_item(
        TableName=stack.registry_table,
        Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"DATASET#{version_id}"}},
        ConsistentRead=True,
    )["Item"]
    assert item["version_id"]["S"] == version_id
    assert item["sha256"]["S"] == hashlib.sha256(body).hexdigest()
    assert "no contract at" in (run.cause or "")


def test_the_api_answers_through_the_live_alias_with_the_key_and_refuses_without(stack: StackOutputs) -> None:
    status, body = call_api(stack, "GET", "/health")
    # Our app answered (its JSON error shape, or its health once a rollout has bound a model),
    # whatever model it serves at this point.
    assert status in (200, 503)
    assert "correlation_id" in body or body.get("status") == "ok"

    status, body = call_api(stack, "GET", "/health", with_key=False)
    assert status == 403


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_a_request_without_the_key_never_reaches_the_function(stack: StackOutputs, path: str) -> None:
    status, _ = call_api(stack, "POST", path, {"player_id": "p1"}, with_key=False)
    assert status == 403
