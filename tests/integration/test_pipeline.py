"""The training pipeline on LocalStack, with real executions: uploads become registered versions,
or a notification says why not. Small data and budgets keep each run near a minute."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liveml.aws import client
from liveml.aws.s3 import sha256_of
from liveml.cli import app as cli
from liveml.data.synth import generate_players, player_contract
from liveml.pipeline import execution_name, state_timings
from liveml.registry import Approval, ModelVersion, Registry, Stage
from liveml.stack import StackOutputs
from tests.integration.cloud import (
    Alerts,
    csv_bytes,
    run_for,
    subscribe_alerts,
    unique_model,
    upload,
    upload_settings,
)

ROWS = 1500
# Rollouts have their own tests: an approved version here must not start one on the shared function.
SETTINGS = {"trials": 3, "time_budget_s": 20, "cv_folds": 3, "seed": 0, "rollout": {"auto": False}}
EVENT = Path(__file__).parents[1] / "events" / "s3_object_created.json"


@pytest.fixture(scope="module")
def alerts(stack: StackOutputs) -> Iterator[Alerts]:
    yield from subscribe_alerts(stack)


def prepare_model(
    stack: StackOutputs, prefix: str, *, gates: dict[str, Any] | None = None, **settings: Any
) -> str:
    """A fresh model folder with its contract and settings uploaded (they do not start runs)."""
    model = unique_model(prefix)
    contract = player_contract()
    if gates:
        contract = contract.model_copy(update={"gates": contract.gates.model_copy(update=gates)})
    upload_settings(stack, model, contract, {**SETTINGS, **settings})
    return model


def upload_players(
    stack: StackOutputs, model: str, *, seed: int, name: str = "players.csv"
) -> tuple[str, str, bytes]:
    key = f"datasets/{model}/{name}"
    body = csv_bytes(generate_players(ROWS, seed))
    return key, upload(stack, key, body), body


def failed_state(arn: str) -> str:
    return next(t.name for t in state_timings(arn) if t.status == "failed")


def versions(model: str) -> list[ModelVersion]:
    return Registry().versions(model)


@pytest.fixture(scope="module")
def first_version(stack: StackOutputs) -> tuple[ModelVersion, str, bytes]:
    model = prepare_model(stack, "churn")
    key, version_id, body = upload_players(stack, model, seed=1)
    run = run_for(stack, key, version_id)
    assert run.status == "SUCCEEDED", run.cause
    return Registry().get(model, 1), version_id, body


def test_an_upload_becomes_version_1_with_verified_artifacts_and_lineage(
    first_version: tuple[ModelVersion, str, bytes],
) -> None:
    version, version_id, body = first_version
    assert version.approval is Approval.APPROVED  # the default policy is auto
    assert version.stage is Stage.CANDIDATE
    assert {"model.onnx", "manifest.json", "contract.yaml", "golden_requests.json"} <= set(version.artifacts)
    for artifact in version.artifacts.values():
        assert sha256_of(artifact.uri) == (artifact.sha256, artifact.size_bytes)
    assert version.lineage.dataset_version_id == version_id
    assert version.lineage.dataset_sha256 == hashlib.sha256(body).hexdigest()
    assert version.lineage.dataset_uri.endswith("/players.csv")
    assert version.lineage.execution_arn
    assert version.metrics["roc_auc"] > 0.7


def test_a_second_upload_is_version_2_judged_against_the_production_model(
    stack: StackOutputs, first_version: tuple[ModelVersion, str, bytes]
) -> None:
    champion = first_version[0]
    Registry().set_stage(champion.model, 1, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    # A challenger margin of -1 makes the decision certain (any challenger wins), so the test can
    # assert the winning path instead of accepting whichever way a close comparison went.
    contract = player_contract()
    gates = contract.gates.model_copy(update={"challenger_margin": -1.0})
    contract = contract.model_copy(update={"gates": gates})
    upload(stack, f"datasets/{champion.model}/contract.yaml", contract.to_yaml().encode())
    key, version_id, _ = upload_players(stack, champion.model, seed=2, name="players-2.csv")

    run = run_for(stack, key, version_id)

    assert run.status == "SUCCEEDED", run.cause
    second = Registry().get(champion.model, 2)
    comparison = second.evaluation["champion"]
    assert comparison["version"] == "1" and comparison["passed"] is True
    assert comparison["margin"] == -1.0
    assert {"champion_score", "challenger_score"} <= set(comparison)
    assert [v.version for v in versions(champion.model)] == [1, 2]
    # Registering is not promoting: production stays where a person (or a rollout) put it.
    assert Registry().production(champion.model).version == 1  # type: ignore[union-attr]


def test_a_broken_dataset_fails_at_validate_and_says_why(stack: StackOutputs, alerts: Alerts) -> None:
    model = prepare_model(stack, "broken")
    frame = generate_players(ROWS, 3).drop(columns=["level"])
    key = f"datasets/{model}/players.csv"
    version_id = upload(stack, key, csv_bytes(frame))

    run = run_for(stack, key, version_id)

    assert run.status == "FAILED"
    assert failed_state(run.arn) == "Validate"
    [message] = alerts.for_model(model)
    assert "failed at Validate" in message["Subject"]
    assert "missing_columns" in message["Message"]
    assert "validation.json" in message["Message"]
    assert versions(model) == []
    assert Registry().production(model) is None
    # The run stopped before Train: its report is written, no model directory is.
    written = [
        obj["Key"]
        for page in client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=stack.artifacts_bucket, Prefix=f"runs/{model}/")
        for obj in page.get("Contents", [])
    ]
    assert any(k.endswith("/validation.json") for k in written), written
    assert not [k for k in written if "/model/" in k], written


def test_a_model_that_misses_its_gate_is_not_registered(stack: StackOutputs, alerts: Alerts) -> None:
    model = prepare_model(stack, "gated", gates={"min_roc_auc": 0.99})
    key, version_id, _ = upload_players(stack, model, seed=4)

    run = run_for(stack, key, version_id)

    assert run.status == "FAILED"
    assert failed_state(run.arn) == "Evaluate"
    [message] = alerts.for_model(model)
    assert "roc_auc" in message["Message"] and "0.99" in message["Message"]
    assert versions(model) == []


def test_the_same_event_delivered_twice_starts_one_run(stack: StackOutputs) -> None:
    model = prepare_model(stack, "dupe")
    key, version_id, _ = upload_players(stack, model, seed=5)
    event = json.loads(EVENT.read_text())
    event["detail"]["bucket"]["name"] = stack.data_bucket
    event["detail"]["object"].update({"key": key, "version-id": version_id})
    function = stack.raw["StartPipelineFunctionName"]
    lam = client("lambda")

    answers = [
        json.loads(lam.invoke(FunctionName=function, Payload=json.dumps(event))["Payload"].read())
        for _ in "ab"
    ]

    # The upload itself delivered the event once already. A redelivery is refused by name, or, while
    # that run is going, answered with it (StartExecution is idempotent): never a second run.
    assert {a["name"] for a in answers} == {execution_name(stack.data_bucket, key, version_id)}
    assert all("errorMessage" not in a for a in answers)
    executions = client("stepfunctions").list_executions(stateMachineArn=stack.training_state_machine_arn)
    assert sum(e["name"] == answers[0]["name"] for e in executions["executions"]) == 1
    run_for(stack, key, version_id)  # let it finish before the session ends


def test_a_training_function_that_times_out_is_caught_and_reported(
    stack: StackOutputs, alerts: Alerts
) -> None:
    lam = client("lambda")
    function = stack.raw["TrainFunctionName"]
    original = lam.get_function_configuration(FunctionName=function)["Timeout"]
    lam.update_function_configuration(FunctionName=function, Timeout=3)
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    try:
        model = prepare_model(stack, "timeout")
        key, version_id, _ = upload_players(stack, model, seed=6)
        run = run_for(stack, key, version_id)
    finally:
        lam.update_function_configuration(FunctionName=function, Timeout=original)
        lam.get_waiter("function_updated_v2").wait(FunctionName=function)

    assert run.status == "FAILED"
    assert failed_state(run.arn) == "Train"
    [message] = alerts.for_model(model)
    assert "failed at Train" in message["Subject"]
    assert "timed out" in message["Message"].lower()
    assert versions(model) == []


def test_manual_policy_waits_for_approval(stack: StackOutputs) -> None:
    model = prepare_model(stack, "manual", approval="manual")
    key, version_id, _ = upload_players(stack, model, seed=7)
    run = run_for(stack, key, version_id)
    assert run.status == "SUCCEEDED", run.cause
    assert Registry().get(model, 1).approval is Approval.PENDING

    result = CliRunner().invoke(
        cli, ["models", "approve", model, "1", "--by", "qa", "--reason", "report reviewed"]
    )

    assert result.exit_code == 0, result.output
    approved = Registry().get(model, 1)
    assert approved.approval is Approval.APPROVED
    assert approved.history[-1].by == "qa"
