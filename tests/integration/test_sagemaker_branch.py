"""The SageMaker branch of the training pipeline on LocalStack, with Step Functions' mocked
service integrations standing in for the tuning job (SageMaker does not run on LocalStack's free
edition); every other state runs for real: Validate, PrepareTuning, CollectModel, Evaluate,
Register, Notify.

The mock configuration (``LocalCloudConfig().sfn_mock_config``, LocalStack's ``SFN_MOCK_CONFIG``)
holds one test case per path; an execution picks one by starting ``<state machine ARN>#<case>``.
For the success path the model the mocked best training job "produced" is made by the real entry
point (``liveml.training.container``) and packed as SageMaker packs ``SM_MODEL_DIR``.

LocalStack refuses ``States.*`` error names in a mocked ``Throw``, so the failure and the timeout are
thrown as ``TuningJobFailed`` / ``TuningJobTimedOut``, with the Cause AWS gives a failed job (its
Describe answer); on AWS they arrive as ``States.TaskFailed`` / ``States.Timeout``. Catch and Notify
read the Cause, not the name.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liveml.aws import client
from liveml.aws.s3 import get_bytes, put_bytes
from liveml.data.synth import generate_players, player_contract
from liveml.localcloud import LocalCloudConfig
from liveml.pipeline import state_timings, wait_for_execution
from liveml.pipeline.sagemaker import model_artifact_uri, tuning_job_name
from liveml.pipeline.start import RunRequest
from liveml.registry import Registry, Stage
from liveml.stack import StackOutputs
from liveml.training.container import Layout, main
from tests.integration.cloud import Alerts, csv_bytes, subscribe_alerts, unique_model, upload, upload_settings

BEST_JOB_SUFFIX = "-002-5f1e2d3c"
FAILURE_REASON = "AlgorithmError: hyperparameter family='xgboost' is not one of ['linear', ...]"


def _describe(job: str, status: str, **extra: Any) -> dict[str, Any]:
    """The DescribeHyperParameterTuningJob answer that ``.sync`` returns (or fails with)."""
    return {"HyperParameterTuningJobName": job, "HyperParameterTuningJobStatus": status, **extra}


def _mock_config(state_machine: str, job: str) -> dict[str, Any]:
    success = _describe(
        job,
        "Completed",
        BestTrainingJob={
            "TrainingJobName": job + BEST_JOB_SUFFIX,
            "TrainingJobStatus": "Completed",
            "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "cv_score", "Value": 0.91},
        },
        TrainingJobStatusCounters={
            "Completed": 3,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        },
    )
    failed = json.dumps(_describe(job, "Failed", FailureReason=FAILURE_REASON))
    responses = {
        "TuningCompleted": {"0": {"Return": success}},
        "TuningFailed": {"0": {"Throw": {"Error": "TuningJobFailed", "Cause": failed}}},
        "TuningTimedOut": {
            "0": {"Throw": {"Error": "TuningJobTimedOut", "Cause": "the tuning job ran past its timeout"}}
        },
    }
    cases = {
        name: {"Tune": response, "TuneFromChampion": response}
        for name, response in {
            "Succeeds": "TuningCompleted",
            "Fails": "TuningFailed",
            "TimesOut": "TuningTimedOut",
        }.items()
    }
    return {"StateMachines": {state_machine: {"TestCases": cases}}, "MockedResponses": responses}


@pytest.fixture(scope="module")
def alerts(stack: StackOutputs) -> Iterator[Alerts]:
    yield from subscribe_alerts(stack)


class Branch:
    """One model folder set to ``backend: sagemaker``; each ``run`` is a fresh execution."""

    def __init__(self, stack: StackOutputs, tmp: Path) -> None:
        self.stack, self.tmp = stack, tmp
        self.model = unique_model("sagemaker")
        self.contract = player_contract()
        settings = {"backend": "sagemaker", "trials": 6, "cv_folds": 3, "rollout": {"auto": False}}
        upload_settings(stack, self.model, self.contract, settings)
        # The upload starts a run of its own too; unmocked, it stops at Tune (LocalStack has no
        # SageMaker). The tests start theirs, each with a mocked test case.
        self.key = f"datasets/{self.model}/players.csv"
        self.data = generate_players(1500, seed=21)
        self.version_id = upload(stack, self.key, csv_bytes(self.data))

    def write_mock_config(self, run_id: str) -> None:
        name = self.stack.training_state_machine_arn.rsplit(":", 1)[1]
        job = tuning_job_name(self.model, run_id)
        LocalCloudConfig().sfn_mock_config.write_text(json.dumps(_mock_config(name, job), indent=1))

    def stage_best_model(self, run_id: str) -> None:
        """What the best training job leaves in S3: the entry point's model directory, tarred."""
        opt_ml = self.tmp / run_id
        layout = Layout.from_env(opt_ml, environ={})
        layout.train.mkdir(parents=True)
        layout.checkpoints.mkdir(parents=True)
        self.data.to_csv(layout.train / "players.csv", index=False)
        (layout.train / "contract.yaml").write_text(self.contract.to_yaml())
        layout.hyperparameters.parent.mkdir(parents=True)
        trial = {
            "family": "linear",
            "linear.C": "1.0",
            "linear.select_percentile": "100",
            "linear.interactions": "False",
        }
        layout.hyperparameters.write_text(json.dumps({"dataset": "players.csv", "cv_folds": "3", **trial}))
        assert main(layout) == 0
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted(layout.model.iterdir()):
                tar.add(path, arcname=path.name)
        output_uri = f"s3://{self.stack.artifacts_bucket}/runs/{self.model}/{run_id}/sagemaker/output/"
        best = tuning_job_name(self.model, run_id) + BEST_JOB_SUFFIX
        put_bytes(model_artifact_uri(output_uri, best), archive.getvalue())

    def run(self, case: str, *, stage: bool = False) -> tuple[str, dict[str, Any]]:
        run_id = f"sm-{case.lower()}-{uuid.uuid4().hex[:10]}"
        self.write_mock_config(run_id)
        if stage:
            self.stage_best_model(run_id)
        answer = client("stepfunctions").start_execution(
            stateMachineArn=f"{self.stack.training_state_machine_arn}#{case}",
            name=run_id,
            # The input StartPipeline would send for this upload (trigger included).
            input=RunRequest(
                bucket=self.stack.data_bucket, key=self.key, version_id=self.version_id, model=self.model
            ).model_dump_json(),
        )
        summary = wait_for_execution(answer["executionArn"], timeout_s=600)
        return run_id, {"arn": answer["executionArn"], "status": summary.status, "cause": summary.cause}


@pytest.fixture()
def branch(stack: StackOutputs, tmp_path: Path) -> Branch:
    return Branch(stack, tmp_path)


def _alert(alerts: Alerts, model: str, run_id: str, *, timeout_s: float = 60) -> dict[str, Any]:
    """This run's notification (the upload's own unmocked run notifies too: it stops at Tune)."""
    deadline = time.monotonic() + timeout_s
    while True:
        mine = [m for m in alerts.for_model(model, timeout_s=5) if run_id in m["Message"]]
        if mine or time.monotonic() > deadline:
            assert len(mine) == 1, mine
            return mine[0]


def _states(arn: str) -> dict[str, str]:
    return {t.name: t.status for t in state_timings(arn)}


def test_a_completed_tuning_job_becomes_a_registered_version(branch: Branch, stack: StackOutputs) -> None:
    run_id, run = branch.run("Succeeds", stage=True)
    assert run["status"] == "SUCCEEDED", run["cause"]
    states = _states(run["arn"])
    for name in ("Validate", "PrepareTuning", "Tune", "CollectModel", "Evaluate", "Register"):
        assert states.get(name) == "succeeded", states
    assert "Train" not in states and "TuneFromChampion" not in states

    version = Registry().get(branch.model, 1)
    assert version.family == "linear"
    assert version.lineage.dataset_version_id == branch.version_id
    assert version.artifacts["model.onnx"].uri.startswith(
        f"s3://{stack.artifacts_bucket}/runs/{branch.model}/{run_id}/model/"
    )
    record = json.loads(
        get_bytes(f"s3://{stack.artifacts_bucket}/runs/{branch.model}/{run_id}/sagemaker.json")
    )
    assert record["tuning_job"] == tuning_job_name(branch.model, run_id)
    # PrepareTuning pinned the validated object version and the contract under the run.
    pinned = get_bytes(
        f"s3://{stack.artifacts_bucket}/runs/{branch.model}/{run_id}/sagemaker/input/players.csv"
    )
    assert pinned == get_bytes(f"s3://{stack.data_bucket}/{branch.key}", version_id=branch.version_id)


def test_the_next_run_warm_starts_from_the_champions_tuning_job(branch: Branch) -> None:
    first, run = branch.run("Succeeds", stage=True)
    assert run["status"] == "SUCCEEDED", run["cause"]
    Registry().set_stage(branch.model, 1, Stage.PRODUCTION, expected=Stage.CANDIDATE, by="test")
    _, second = branch.run("Succeeds", stage=True)
    assert second["status"] == "SUCCEEDED", second["cause"]
    states = _states(second["arn"])
    assert states.get("TuneFromChampion") == "succeeded" and "Tune" not in states, states
    tune = next(
        json.loads(e["taskScheduledEventDetails"]["parameters"])
        for e in client("stepfunctions").get_execution_history(executionArn=second["arn"])["events"]
        if e["type"] == "TaskScheduled" and "sagemaker" in e["taskScheduledEventDetails"]["resourceType"]
    )
    parents = tune["WarmStartConfig"]["ParentHyperParameterTuningJobs"]
    assert parents == [{"HyperParameterTuningJobName": tuning_job_name(branch.model, first)}]


def test_a_failed_tuning_job_is_notified_with_the_job_and_its_reason(branch: Branch, alerts: Alerts) -> None:
    run_id, run = branch.run("Fails")
    assert run["status"] == "FAILED"
    assert _states(run["arn"]).get("Tune") == "failed"
    message = _alert(alerts, branch.model, run_id)
    assert "failed at Tune" in message["Subject"]
    assert tuning_job_name(branch.model, run_id) in message["Message"]
    assert FAILURE_REASON in message["Message"]
    assert Registry().versions(branch.model) == []


def test_a_tuning_job_past_its_timeout_takes_the_catch_path(branch: Branch, alerts: Alerts) -> None:
    run_id, run = branch.run("TimesOut")
    assert run["status"] == "FAILED"
    history = client("stepfunctions").get_execution_history(executionArn=run["arn"], maxResults=1000)[
        "events"
    ]
    prepared = next(
        json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
        for e in history
        if e["type"] == "LambdaFunctionSucceeded"
        and "timeout_s" in e["lambdaFunctionSucceededEventDetails"]["output"]
    )
    [tune] = [
        e["taskScheduledEventDetails"]
        for e in history
        if e["type"] == "TaskScheduled" and "sagemaker" in e["taskScheduledEventDetails"]["resourceType"]
    ]
    # The Tune state's timeout is the one PrepareTuning sized from the data and settings.
    assert tune["timeoutInSeconds"] == prepared["timeout_s"]
    states = _states(run["arn"])
    assert states.get("NotifyFailure") == "succeeded", states
    message = _alert(alerts, branch.model, run_id)
    assert "failed at Tune" in message["Subject"] and "TuningJobTimedOut" in message["Message"]
    assert Registry().versions(branch.model) == []


def test_the_source_bundle_is_uploaded_where_the_jobs_find_it(stack: StackOutputs) -> None:
    from typer.testing import CliRunner

    from liveml.cli import app as cli

    answer = CliRunner().invoke(cli, ["sagemaker", "upload-source"])
    assert answer.exit_code == 0, answer.output
    bundle = get_bytes(f"s3://{stack.artifacts_bucket}/sagemaker/sourcedir.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        names = tar.getnames()
    assert {"train.py", "requirements.txt", "liveml/training/container.py"} <= set(names)
