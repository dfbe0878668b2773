"""Per-model settings and starting runs. moto stands in for Step Functions: these are unit tests."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from liveml.errors import catch_reason
from liveml.pipeline import (
    ApprovalPolicy,
    PipelineError,
    PipelineSettings,
    execution_name,
    is_dataset_key,
    start_run,
)
from liveml.pipeline.start import metadata_text


def test_missing_settings_mean_defaults() -> None:
    assert PipelineSettings.from_yaml(None) == PipelineSettings()
    assert PipelineSettings.from_yaml("") == PipelineSettings()


def test_settings_are_read_strictly() -> None:
    parsed = PipelineSettings.from_yaml("trials: 5\napproval: manual\n")
    assert parsed.trials == 5 and parsed.approval is ApprovalPolicy.MANUAL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("trails: 5\n", "trails: Extra inputs are not permitted"),
        ("trials: 0\n", "trials: Input should be greater than or equal to 1"),
        ("approval: sometimes\n", "approval: Input should be 'auto' or 'manual'"),
        ("time_budget_s: 5000\n", "time_budget_s: Input should be less than or equal to 780"),
        ("- a\n- b\n", "must be a mapping of settings, not list"),
        ("trials: [\n", "is not valid YAML"),
    ],
)
def test_bad_settings_name_the_field_and_why(text: str, message: str) -> None:
    with pytest.raises(PipelineError, match=r"liveml\.yaml") as caught:
        PipelineSettings.from_yaml(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("key", "is_data"),
    [
        ("datasets/churn/players.csv", True),
        ("datasets/churn/players.parquet", True),
        ("datasets/churn/contract.yaml", False),
        ("datasets/churn/liveml.yaml", False),
        ("datasets/churn/", False),
    ],
)
def test_only_data_files_start_runs(key: str, is_data: bool) -> None:
    assert is_dataset_key(key) is is_data


def test_execution_names_are_valid_stable_and_distinct() -> None:
    name = execution_name("bucket", "datasets/churn.v2 (eu)/p.csv", "v1")
    assert name == execution_name("bucket", "datasets/churn.v2 (eu)/p.csv", "v1")
    assert name != execution_name("bucket", "datasets/churn.v2 (eu)/p.csv", "v2")
    assert len(name) <= 80 and all(c.isalnum() or c in "-_" for c in name)


@pytest.fixture
def state_machine(moto: None) -> tuple[Any, str]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = sfn.create_state_machine(
        name="training", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket")
    s3.put_bucket_versioning(Bucket="bucket", VersioningConfiguration={"Status": "Enabled"})
    return sfn, arn


def test_a_config_upload_starts_nothing(state_machine: tuple[Any, str]) -> None:
    sfn, arn = state_machine
    answer = start_run(arn, "bucket", "datasets/churn/contract.yaml", "v1", sfn=sfn)
    assert answer["started"] is False
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_one_object_version_gets_one_run(state_machine: tuple[Any, str]) -> None:
    sfn, arn = state_machine
    s3 = boto3.client("s3", region_name="us-east-1")
    v1, v2 = (
        s3.put_object(Bucket="bucket", Key="datasets/churn/p.csv", Body=body)["VersionId"]
        for body in (b"a\n1\n", b"a\n2\n")
    )
    first = start_run(arn, "bucket", "datasets/churn/p.csv", v1, sfn=sfn)
    again = start_run(arn, "bucket", "datasets/churn/p.csv", v1, sfn=sfn)
    other = start_run(arn, "bucket", "datasets/churn/p.csv", v2, sfn=sfn)
    assert first["started"] and other["started"]
    assert again["name"] == first["name"]
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    assert sorted(names) == sorted({first["name"], other["name"]})
    started = json.loads(sfn.describe_execution(executionArn=first["executionArn"])["input"])
    assert started == {
        "bucket": "bucket",
        "key": "datasets/churn/p.csv",
        "version_id": v1,
        "model": "churn",
        "trigger": "upload",  # no liveml-trigger metadata: a person uploaded it
        "trigger_reason": "",
    }


def test_a_run_records_the_trigger_the_object_carries(state_machine: tuple[Any, str]) -> None:
    sfn, arn = state_machine
    s3 = boto3.client("s3", region_name="us-east-1")
    reason = "drift in 3 consecutive window(s): sessions_last_7d (PSI 1.2 > 0.1) — “quoted”"
    s3.put_object(
        Bucket="bucket",
        Key="datasets/churn/retrain/x-drift/p.csv",
        Body=b"a,b\n1,2\n",
        Metadata={"liveml-trigger": "drift", "liveml-trigger-reason": metadata_text(reason)},
    )
    answer = start_run(arn, "bucket", "datasets/churn/retrain/x-drift/p.csv", None, sfn=sfn)
    assert answer["started"] and answer["trigger"] == "drift"
    started = json.loads(sfn.describe_execution(executionArn=answer["executionArn"])["input"])
    assert started["trigger"] == "drift"
    assert started["trigger_reason"].startswith("drift in 3 consecutive window(s): sessions_last_7d")
    assert started["trigger_reason"].isascii()


def test_a_catch_becomes_a_one_line_reason_without_the_trace() -> None:
    cause = json.dumps(
        {"errorType": "DataQualityError", "errorMessage": "data gate failed", "stackTrace": ["x"]}
    )
    assert catch_reason({"Error": "DataQualityError", "Cause": cause}) == "DataQualityError: data gate failed"
    timeout = {"Error": "States.Timeout", "Cause": "took too long"}
    assert catch_reason(timeout) == "States.Timeout: took too long"
