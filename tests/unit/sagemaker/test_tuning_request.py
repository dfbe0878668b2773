"""The tuning job request our code builds, checked against SageMaker's service model.

SageMaker cannot run here, so botocore's Stubber answers the call; the request itself is validated
by botocore against the service model (required members, types), and the shape walk below checks
what botocore leaves to the service (string lengths and patterns, enums, number ranges).
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from liveml.errors import catch_reason
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.sagemaker import image_uri, sized, tuning_job_name, tuning_request
from liveml.pipeline.settings import PipelineSettings
from liveml.training.container import METRIC_DEFINITIONS, OBJECTIVE, metric_line
from liveml.training.families import FAMILIES
from liveml.training.hyperparameters import parameter_ranges, search_space, trial_from_hyperparameters
from tests.unit.fresh import ROOT, loaded_after

ROLE = "arn:aws:iam::123456789012:role/liveml-SageMakerExecutionRole-ABC"


def _request(settings: PipelineSettings, *, warm: str | None = None, rows: int = 20_000) -> dict[str, Any]:
    run_id = "liveml-data-datasets-churn-players-csv-3HL4kqtlJ-Zvuk1Ql0I7wQq0Z0"
    return tuning_request(
        name=tuning_job_name("churn-prediction-for-live-game", run_id),
        settings=settings,
        resources=sized(settings, rows=rows, columns=20, data_bytes=4_000_000),
        role_arn=ROLE,
        region="eu-west-1",
        train_uri="s3://liveml-artifacts/runs/churn/r1/sagemaker/input/",
        output_uri="s3://liveml-artifacts/runs/churn/r1/sagemaker/output/",
        checkpoint_uri="s3://liveml-artifacts/runs/churn/r1/sagemaker/checkpoints/",
        source_uri="s3://liveml-artifacts/sagemaker/sourcedir.tar.gz",
        dataset="players.csv",
        data_sha256="ab" * 32,
        warm_start_from=warm,
    )


def _violations(shape: Any, value: Any, path: str = "") -> list[str]:
    """What the service would reject that botocore's client-side validation does not check."""
    found: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        for name, member in value.items():
            found += _violations(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{path}: {len(value)} items > {meta['max']}")
        for i, item in enumerate(value):
            found += _violations(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{path}: {len(value)} entries > {meta['max']}")
        for key, item in value.items():
            found += _violations(shape.key, key, f"{path}<{key}>")
            found += _violations(shape.value, item, f"{path}[{key}]")
    elif kind == "string":
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{path}: {len(value)} chars > {meta['max']}")
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} not in {shape.enum}")
        pattern = meta.get("pattern")
        # Java-style classes the service uses; Python's re has no \p{...}: only check the others.
        if pattern and r"\p" not in pattern and not re.fullmatch(pattern, value):
            found.append(f"{path}: {value!r} does not match {pattern}")
    elif kind in ("integer", "long") and not meta.get("min", value) <= value <= meta.get("max", value):
        found.append(f"{path}: {value} outside [{meta.get('min')}, {meta.get('max')}]")
    return found


@pytest.fixture()
def sagemaker() -> Any:
    return boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.mark.parametrize("warm", [None, "churn-prediction-0a1b2c3d4e5f"])
def test_the_request_is_what_the_service_model_accepts(sagemaker: Any, warm: str | None) -> None:
    request = _request(PipelineSettings(trials=30), warm=warm)
    operation = sagemaker.meta.service_model.operation_model("CreateHyperParameterTuningJob")
    assert _violations(operation.input_shape, request) == []
    job = request["HyperParameterTuningJobName"]
    arn = f"arn:aws:sagemaker:eu-west-1:123456789012:hyper-parameter-tuning-job/{job}"
    with Stubber(sagemaker) as stub:
        stub.add_response("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": arn}, request)
        # botocore validates the parameters against the service model before the stub answers.
        assert sagemaker.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"] == arn
        stub.assert_no_pending_responses()
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 30, "MaxParallelTrainingJobs": 4}
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": OBJECTIVE}
    definition = request["TrainingJobDefinition"]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    assert definition["EnableManagedSpotTraining"] is True
    assert definition["CheckpointConfig"]["S3Uri"].endswith("/sagemaker/checkpoints/")
    assert ("WarmStartConfig" in request) is (warm is not None)


def test_a_bad_request_is_caught_by_the_same_checks(sagemaker: Any) -> None:
    """The checks can fail: a name over 32 characters and a wrong enum are reported."""
    request = _request(PipelineSettings())
    request["HyperParameterTuningJobName"] = "x" * 40
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Genetic"
    operation = sagemaker.meta.service_model.operation_model("CreateHyperParameterTuningJob")
    problems = _violations(operation.input_shape, request)
    assert any("HyperParameterTuningJobName: 40 chars > 32" in p for p in problems), problems
    assert any("Strategy: 'Genetic' not in" in p for p in problems), problems


def test_the_ranges_are_the_optuna_search_space() -> None:
    ranges = parameter_ranges()
    names = {r["Name"] for group in ranges.values() for r in group}
    space = search_space()
    assert names == {"family"} | {d.name for dists in space.values() for d in dists}
    family = next(r for r in ranges["CategoricalParameterRanges"] if r["Name"] == "family")
    assert family["Values"] == list(FAMILIES)
    lr = next(r for r in ranges["ContinuousParameterRanges"] if r["Name"] == "hgb.learning_rate")
    assert lr == {
        "Name": "hgb.learning_rate",
        "MinValue": "0.01",
        "MaxValue": "0.3",
        "ScalingType": "Logarithmic",
    }
    trees = next(r for r in ranges["CategoricalParameterRanges"] if r["Name"] == "rf.n_estimators")
    assert trees["Values"] == ["50", "100", "150", "200", "250", "300"]  # stepped ints: SageMaker has no step
    # Any value SageMaker may choose parses back into the family's space.
    chosen = {r["Name"]: r["Values"][-1] for r in ranges["CategoricalParameterRanges"]}
    chosen |= {r["Name"]: r["MaxValue"] for r in ranges.get("IntegerParameterRanges", [])}
    chosen |= {r["Name"]: r["MinValue"] for r in ranges["ContinuousParameterRanges"]}
    for name in FAMILIES:
        trial = trial_from_hyperparameters({**chosen, "family": name})
        assert trial["family"] == name and len(trial) == 1 + len(space[name])


def test_the_metric_regexes_parse_the_entry_points_own_lines() -> None:
    log = "\n".join(
        ["INFO starting", metric_line("cv_score", 0.912345678), metric_line("holdout_score", -1.5e-7)]
    )
    by_name = {m["Name"]: m["Regex"] for m in METRIC_DEFINITIONS}
    assert float(re.findall(by_name["cv_score"], log)[0]) == pytest.approx(0.912346)
    assert float(re.findall(by_name["holdout_score"], log)[0]) == pytest.approx(0.0)
    assert re.findall(by_name["fit_seconds"], log) == []


def test_resources_are_sized_from_the_data_and_explicit_settings_win() -> None:
    small = sized(PipelineSettings(), rows=20_000, columns=20, data_bytes=3_000_000)
    big = sized(PipelineSettings(), rows=10_000_000, columns=20, data_bytes=20_000_000_000)
    assert (small.instance_type, small.max_jobs, small.parallel_jobs, small.volume_size_gb) == (
        "ml.m5.large",
        20,
        4,
        30,
    )
    assert big.instance_type == "ml.m5.4xlarge" and big.volume_size_gb == 90
    assert big.max_runtime_s > small.max_runtime_s
    assert small.timeout_s == 5 * small.max_wait_s + 3600
    fixed = PipelineSettings.model_validate(
        {"sagemaker": {"instance_type": "ml.c5.2xlarge", "max_jobs": 8, "parallel_jobs": 2, "spot": False}}
    )
    chosen = sized(fixed, rows=10_000_000, columns=20, data_bytes=1)
    assert (chosen.instance_type, chosen.max_jobs, chosen.parallel_jobs, chosen.max_wait_s) == (
        "ml.c5.2xlarge",
        8,
        2,
        chosen.max_runtime_s,
    )


@pytest.mark.parametrize(
    ("yaml", "field"),
    [
        ("sagemaker: {instance: ml.m5.large}", "sagemaker.instance"),
        ("sagemaker: {instance_type: m5.large}", "sagemaker.instance_type"),
        ("sagemaker: {max_runtime_s: 10}", "sagemaker.max_runtime_s"),
        ("sagemaker: {instance_count: 2}", "sagemaker.instance_count"),
    ],
)
def test_a_bad_sagemaker_section_names_the_field(yaml: str, field: str) -> None:
    with pytest.raises(PipelineError, match=re.escape(field)):
        PipelineSettings.from_yaml(yaml)


def test_parallel_jobs_beyond_max_jobs_is_refused() -> None:
    settings = PipelineSettings.model_validate({"sagemaker": {"max_jobs": 2, "parallel_jobs": 3}})
    with pytest.raises(PipelineError, match=r"parallel_jobs \(3\) exceeds sagemaker.max_jobs \(2\)"):
        sized(settings, rows=1, columns=1, data_bytes=1)


def test_names_fit_sagemakers_limit_and_unknown_regions_say_what_to_set() -> None:
    name = tuning_job_name("Churn prediction (live) for game 42", "x" * 80)
    assert len(name) <= 32 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", name)
    assert name != tuning_job_name("Churn prediction (live) for game 42", "y" * 80)
    with pytest.raises(PipelineError, match=r"set sagemaker\.image_uri"):
        image_uri("ap-south-2")
    assert image_uri("ap-south-2", "1.dkr.ecr/x:1") == "1.dkr.ecr/x:1"


def test_a_failed_tuning_job_reads_as_its_name_and_reason() -> None:
    cause = json.dumps(
        {
            "HyperParameterTuningJobName": "churn-0123456789ab",
            "HyperParameterTuningJobStatus": "Failed",
            "FailureReason": "All training jobs failed. ClientError: hyperparameter family='x'",
        }
    )
    assert catch_reason({"Error": "States.TaskFailed", "Cause": cause}) == (
        "States.TaskFailed: SageMaker job churn-0123456789ab failed: All training jobs failed. "
        "ClientError: hyperparameter family='x'"
    )


def test_the_sagemaker_function_imports_no_training_stack() -> None:
    """It carries only the liveml layer: building the request must not load the training stack."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT / "functions" / "sagemaker")!r})
import app, liveml.pipeline.sagemaker, liveml.training.hyperparameters
from liveml.pipeline.sagemaker import tuning_request
"""
    heavy = ["sklearn", "scipy", "pandas", "optuna", "skl2onnx", "onnxruntime", "numpy", "sagemaker"]
    assert loaded_after(code, heavy) == []
