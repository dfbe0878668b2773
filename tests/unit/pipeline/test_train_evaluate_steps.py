"""Train and Evaluate steps end to end against S3.

moto stands in for S3 because these are unit tests (no network); the real pipeline runs on
LocalStack in the integration suite. Budgets are small (3 trials, 30 s: on a quiet machine the trial
cap ends the search first; on a busy one the budget still leaves room for two configurations) and
each dataset is trained once per module, so the whole file stays well under a minute on two cores.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3
import pytest

from liveml.aws.s3 import get_bytes
from liveml.contract import Contract
from liveml.data.synth import generate_players, player_contract
from liveml.inference import ArtifactError
from liveml.pipeline.settings import PipelineSettings
from liveml.pipeline.steps.evaluate import evaluate_step
from liveml.pipeline.steps.register import verified_artifacts
from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.train import train_step
from liveml.registry import Artifact, Registry
from liveml.training import ModelPerformanceError

DATA, ARTIFACTS, MODEL = "liveml-data", "liveml-artifacts", "churn"


@dataclass
class Run:
    state: RunState
    validation: dict[str, Any]
    training: dict[str, Any]


@pytest.fixture(scope="module")
def s3(moto_module: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in (DATA, ARTIFACTS):
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return client


def _train(s3: Any, run_id: str, contract: Contract) -> Run:
    """What Validate would have recorded, then the Train step itself."""
    buf = io.StringIO()
    generate_players(1500, seed=5).to_csv(buf, index=False)
    key = f"datasets/{MODEL}/players-{run_id}.csv"
    version = s3.put_object(Bucket=DATA, Key=key, Body=buf.getvalue().encode())["VersionId"]
    contract_key = f"datasets/{MODEL}/contract-{run_id}.yaml"
    s3.put_object(Bucket=DATA, Key=contract_key, Body=contract.to_yaml().encode())
    state = RunState(bucket=DATA, key=key, version_id=version, model=MODEL, run_id=run_id)
    settings = PipelineSettings(trials=3, time_budget_s=30, cv_folds=3, seed=0)
    validation = {
        "dataset": {"s3_uri": state.dataset_uri, "version_id": version, "sha256": "0" * 64},
        "settings": settings.model_dump(mode="json"),
        "contract_uri": f"s3://{DATA}/{contract_key}",
        "contract_sha256": contract.sha256,
    }
    training = train_step(state, validation, artifacts_bucket=ARTIFACTS, s3=s3)
    return Run(state, validation, training)


@pytest.fixture(scope="module")
def run(s3: Any) -> Run:
    return _train(s3, "run-ok", player_contract("binary"))


def _evaluate(run: Run, s3: Any, **kwargs: Any) -> dict[str, Any]:
    return evaluate_step(run.state, run.training, artifacts_bucket=ARTIFACTS, s3=s3, **kwargs)


def test_train_returns_a_small_summary_and_an_unevaluated_model_dir(run: Run, s3: Any) -> None:
    t = run.training
    assert t["model_uri"] == f"s3://{ARTIFACTS}/runs/{MODEL}/run-ok/model/"
    assert set(t) == {
        "model_uri",
        "family",
        "cv_score",
        "trials",
        "seconds",
        "metrics",
        "excluded",
        "timings",
    }
    assert t["excluded"] == []
    # Where the step's time went: the phases add up to the whole step, which the budget covers.
    timings = t["timings"]
    assert timings["budget_s"] == 30.0
    phases = timings["read_s"] + timings["fit_s"] + timings["upload_s"]
    assert phases == pytest.approx(timings["step_s"], abs=0.05)
    assert 1 <= t["trials"] <= 3 and 0.5 < t["metrics"]["roc_auc"] <= 1.0
    assert len(json.dumps(t)) < 2000  # a state summary, not data
    manifest = json.loads(
        s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-ok/model/manifest.json")["Body"].read()
    )
    assert "holdout_rows.jsonl" in manifest["artifacts"] and "report.html" not in manifest["artifacts"]


def test_evaluate_passes_writes_report_and_keeps_the_manifest_true(run: Run, s3: Any) -> None:
    ev = _evaluate(run, s3, champion_uri=None)
    assert ev["passed"] is True and ev["champion"] is None
    assert ev["parity"]["onnx_max_abs_diff"] <= ev["parity"]["tolerance"]
    assert ev["parity"]["golden_requests"] == 5
    # The ONNX-scored metric agrees with scikit-learn's from the Train step (parity ~1e-7).
    assert abs(ev["metrics"]["roc_auc"] - run.training["metrics"]["roc_auc"]) < 1e-4
    # What Register will do: every artifact, report included, re-hashed from S3 against the manifest.
    manifest, artifacts = verified_artifacts(run.training["model_uri"])
    assert "report.html" in artifacts and manifest["evaluation"]["evaluated_at"]
    report = s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-ok/model/report.html")["Body"].read()
    for title in (
        b"ROC curve",
        b"Precision-recall curve",
        b"Calibration",
        b"Confusion matrix",
        b"Optimisation history",
        b"Feature importances",
    ):
        assert title in report
    stored = json.loads(
        s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-ok/evaluation.json")["Body"].read()
    )
    assert stored["passed"] is True and stored["report_uri"] == ev["report_uri"]
    phases = ["download_s", "load_s", "parity_s", "metrics_s", "importance_s", "report_s", "upload_s"]
    assert list(ev["timings"]) == phases and all(v >= 0 for v in ev["timings"].values())


def test_champion_is_scored_on_this_runs_holdout(run: Run, s3: Any) -> None:
    # The champion: a copy of this very model under another run; same model, so same score.
    src = f"runs/{MODEL}/run-ok/model/"
    for obj in s3.list_objects_v2(Bucket=ARTIFACTS, Prefix=src)["Contents"]:
        key = obj["Key"].replace("run-ok", "run-champ")
        s3.copy_object(Bucket=ARTIFACTS, Key=key, CopySource={"Bucket": ARTIFACTS, "Key": obj["Key"]})
    champion_uri = f"s3://{ARTIFACTS}/runs/{MODEL}/run-champ/model/"
    ev = _evaluate(run, s3, champion_uri=champion_uri)
    champ = ev["champion"]
    assert champ["model_dir"] == champion_uri and champ["passed"] is True and champ["margin"] == 0.0
    assert champ["champion_score"] == pytest.approx(champ["challenger_score"], abs=1e-12)
    assert [g["gate"] for g in ev["gates"]][-1] == "champion"

    # The same through the registry's port: the production version's manifest URI and sha256.
    manifest_uri = champion_uri + "manifest.json"
    manifest_key = f"runs/{MODEL}/run-champ/model/manifest.json"
    sha = hashlib.sha256(s3.get_object(Bucket=ARTIFACTS, Key=manifest_key)["Body"].read()).hexdigest()

    class FakeRegistry:
        def production(self, model: str) -> Any:
            assert model == MODEL
            art = Artifact(uri=manifest_uri, sha256=sha, size_bytes=1)
            return type("Version", (), {"version": 7, "artifacts": {"manifest.json": art}})()

    ev = _evaluate(run, s3, registry=cast(Registry, FakeRegistry()))
    assert ev["champion"]["version"] == "7" and ev["champion"]["passed"] is True


def test_tampered_artifact_is_refused(run: Run, s3: Any) -> None:
    key = f"runs/{MODEL}/run-ok/model/model.onnx"
    original = s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read()
    s3.put_object(Bucket=ARTIFACTS, Key=key, Body=original + b"\0")
    try:
        with pytest.raises(ArtifactError, match="sha256"):
            _evaluate(run, s3, champion_uri=None)
    finally:
        s3.put_object(Bucket=ARTIFACTS, Key=key, Body=original)


def test_gate_failure_raises_with_the_numbers(s3: Any) -> None:
    base = player_contract("binary")
    strict = base.model_copy(update={"gates": base.gates.model_copy(update={"min_roc_auc": 0.99})})
    run = _train(s3, "run-strict", strict)
    with pytest.raises(
        ModelPerformanceError, match=r"roc_auc 0\.\d{4} fails min_roc_auc \(>= 0\.99\)"
    ) as info:
        _evaluate(run, s3, champion_uri=None)
    failure = info.value.failures[0]
    assert failure["metric"] == "roc_auc" and failure["threshold"] == 0.99 and failure["value"] < 0.99
    # The report and evaluation.json are written anyway: the failure notification links them.
    stored = json.loads(
        s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-strict/evaluation.json")["Body"].read()
    )
    assert stored["passed"] is False
    s3.head_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-strict/model/report.html")


def test_changed_contract_is_refused(run: Run, s3: Any, tmp_path: Path) -> None:
    from liveml.pipeline.errors import PipelineError

    validation = {**run.validation, "contract_sha256": "f" * 64}
    with pytest.raises(PipelineError, match="changed since"):
        train_step(run.state, validation, artifacts_bucket=ARTIFACTS, s3=s3, workdir=tmp_path)


def test_a_failed_parity_check_sends_the_run_back_to_serve_another_configuration(
    run: Run, s3: Any, tmp_path: Path
) -> None:
    """What the state machine does when Evaluate raises OnnxParityError: Train again, without the
    configuration that failed, and the run fails only when a second one fails too."""
    from liveml.pipeline.errors import PipelineError
    from liveml.pipeline.steps.train import excluded_configurations

    failed = json.loads(
        s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{MODEL}/run-ok/model/manifest.json")["Body"].read()
    )
    cause = json.dumps({"errorType": "OnnxParityError", "errorMessage": "max difference 0.02 > 1e-05"})
    error = {"Error": "OnnxParityError", "Cause": cause}
    retry = run.state.model_copy(update={"run_id": "run-retry"})  # the shared run's model stays as it is
    again = train_step(
        retry, run.validation, previous=run.training, error=error, artifacts_bucket=ARTIFACTS, s3=s3
    )
    [excluded] = again["excluded"]
    assert (excluded["family"], excluded["params"]) == (failed["family"], failed["params"])
    assert "failed ONNX parity in Evaluate" in excluded["reason"] and "0.02" in excluded["reason"]
    served = json.loads(get_bytes(again["model_uri"] + "manifest.json", s3=s3))
    assert (served["family"], served["params"]) != (failed["family"], failed["params"])

    other = {"Error": "ModelPerformanceError", "Cause": "{}"}  # not a parity failure: nothing excluded
    assert excluded_configurations(run.training, other, s3=s3) == []
    with pytest.raises(PipelineError, match="2 configurations failed ONNX parity"):
        excluded_configurations(again, error, s3=s3)


def test_the_budget_clock_starts_with_the_step_not_with_the_training_call(
    run: Run, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings' budget covers the whole Train step: time already spent when the training call
    starts (the handler's imports, reading the contract and the data) comes out of the search's."""
    import time

    import liveml.training
    from liveml.pipeline.steps.train import MIN_SEARCH_S, UPLOAD_RESERVE_S

    given: list[float] = []

    class StopBeforeTrainingError(Exception):
        pass

    def fit_and_export(*args: Any, time_budget_s: float, **kwargs: Any) -> Any:
        given.append(time_budget_s)
        raise StopBeforeTrainingError

    monkeypatch.setattr(liveml.training, "fit_and_export", fit_and_export)
    budget = 30.0  # the run's settings
    for spent in (0.0, 6.0, 30.0):
        before = time.monotonic()
        with pytest.raises(StopBeforeTrainingError):
            train_step(run.state, run.validation, started=before - spent, artifacts_bucket=ARTIFACTS, s3=s3)
        read = time.monotonic() - before  # reading the contract and the data here, at most
        expected = budget - spent - UPLOAD_RESERVE_S
        assert max(MIN_SEARCH_S, expected - read) <= given[-1] <= max(MIN_SEARCH_S, expected)
    assert given[0] > given[1] and given[2] == MIN_SEARCH_S


def test_search_budget_counts_what_the_step_spent_and_what_the_invocation_has_left() -> None:
    from liveml.pipeline.steps.train import MIN_SEARCH_S, RESERVE_S, UPLOAD_RESERVE_S, search_budget

    settings = PipelineSettings(time_budget_s=40)
    assert search_budget(settings, None) == 40 - UPLOAD_RESERVE_S
    assert search_budget(settings, None, spent_s=8.0) == 32 - UPLOAD_RESERVE_S
    # A short invocation caps it: what is left after the step's spending, minus the reserve.
    assert search_budget(settings, RESERVE_S + 30, spent_s=8.0) == 22
    assert search_budget(settings, None, spent_s=45.0) == MIN_SEARCH_S
