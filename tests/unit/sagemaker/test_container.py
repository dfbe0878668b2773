"""The training entry point exactly as SageMaker's scikit-learn container runs it.

A temporary ``/opt/ml``-shaped tree (the train channel, ``hyperparameters.json`` with string values,
the model and output folders), the source bundle ``package_source`` builds, extracted and run as
``python train.py`` with SageMaker's environment variables; then the produced model directory goes,
as ``model.tar.gz``, through the real Collect and Evaluate step code. S3 is moto's (unit tests, no
network); SageMaker itself cannot run here.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from liveml.data.synth import generate_players, player_contract
from liveml.pipeline.sagemaker import model_artifact_uri, package_source
from liveml.pipeline.steps.evaluate import evaluate_step
from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.sagemaker import RECORD, collect_model_step
from liveml.training.container import METRIC_DEFINITIONS

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = "liveml-artifacts"
TRIAL = {
    "family": "hist_gradient_boosting",
    "hgb.max_iter": "100",
    "hgb.max_depth": "4",
    "hgb.learning_rate": "0.1",
    "hgb.max_features": "0.9",
    "hgb.l2_regularization": "0.001",
    "hgb.max_leaf_nodes": "31",
    "hgb.min_samples_leaf": "20",
}


def _opt_ml(root: Path, hyperparameters: dict[str, str], rows: int = 1200) -> dict[str, str]:
    """The tree SageMaker mounts, and the environment its toolkit sets."""
    train = root / "input/data/train"
    config = root / "input/config"
    for folder in (train, config, root / "model", root / "output/data", root / "checkpoints"):
        folder.mkdir(parents=True, exist_ok=True)
    generate_players(rows, seed=3).to_csv(train / "players.csv", index=False)
    (train / "contract.yaml").write_text(player_contract("binary").to_yaml())
    static = {"dataset": "players.csv", "contract": "contract.yaml", "seed": "0", "cv_folds": "3"}
    (config / "hyperparameters.json").write_text(json.dumps({**static, **hyperparameters}))
    return {
        "SM_CHANNEL_TRAIN": str(train),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output/data"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_OUTPUT_DIR": str(root / "output"),
        "LIVEML_CHECKPOINT_DIR": str(root / "checkpoints"),
    }


def _run_container(
    tmp: Path, hyperparameters: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    bundle = tmp / "code"
    bundle.mkdir()
    requirements = (ROOT / "functions/train/requirements.txt").read_text()
    with tarfile.open(fileobj=io.BytesIO(package_source(requirements)), mode="r:gz") as tar:
        tar.extractall(bundle, filter="data")
    env = {**os.environ, **_opt_ml(tmp / "opt/ml", hyperparameters), "PYTHONPATH": str(bundle)}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=bundle, env=env, capture_output=True, text=True, timeout=300
    )
    return done, tmp / "opt/ml"


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    return _run_container(tmp_path_factory.mktemp("job"), TRIAL)


def test_the_bundle_runs_one_trial_and_logs_what_the_metric_definitions_parse(
    container: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, opt_ml = container
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = {}
    for metric in METRIC_DEFINITIONS:
        found = re.findall(metric["Regex"], done.stdout)
        assert len(found) == 1, (metric, done.stdout)
        parsed[metric["Name"]] = float(found[0])
    trial = json.loads((opt_ml / "output/data/trial.json").read_text())
    assert parsed["cv_score"] == pytest.approx(trial["cv_score"], abs=1e-6)
    assert 0.5 < parsed["cv_score"] <= 1.0
    assert trial["family"] == "hist_gradient_boosting"
    manifest = json.loads((opt_ml / "model/manifest.json").read_text())
    # Exactly the job's values, through the same search-space code the optuna search uses.
    assert manifest["params"] == {
        "max_iter": 100,
        "max_depth": 4,
        "learning_rate": 0.1,
        "max_features": 0.9,
        "l2_regularization": 0.001,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
    }
    assert (opt_ml / "checkpoints/model/manifest.json").is_file()  # a spot restart resumes from it
    assert not (opt_ml / "output/failure").exists()


@pytest.fixture()
def s3(moto: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=ARTIFACTS)
    return client


def test_the_best_jobs_model_goes_through_collect_and_the_real_evaluate_step(
    container: tuple[subprocess.CompletedProcess[str], Path], s3: Any, tmp_path: Path
) -> None:
    done, opt_ml = container
    assert done.returncode == 0, done.stderr[-3000:]
    state = RunState(
        bucket="liveml-data", key="datasets/churn/p.csv", version_id="v1", model="churn", run_id="r1"
    )
    output_uri = state.run_uri("sagemaker/output/", artifacts_bucket=ARTIFACTS)
    best = "churn-0123456789ab-003-1a2b3c4d"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:  # as SageMaker packs SM_MODEL_DIR
        for path in sorted((opt_ml / "model").iterdir()):
            tar.add(path, arcname=path.name)
    bucket, key = model_artifact_uri(output_uri, best)[len("s3://") :].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
    prepared = {"tuning_job": "churn-0123456789ab", "output_uri": output_uri, "resources": {"spot": True}}
    tuning = {
        "name": "churn-0123456789ab",
        "best_training_job": best,
        "objective": 0.9,
        "counters": {"Completed": 7},
    }

    training = collect_model_step(state, prepared, tuning, artifacts_bucket=ARTIFACTS, s3=s3)
    assert training["model_uri"] == f"s3://{ARTIFACTS}/runs/churn/r1/model/"
    assert training["family"] == "hist_gradient_boosting" and training["trials"] == 7
    record = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=f"runs/churn/r1/{RECORD}")["Body"].read())
    assert record["tuning_job"] == "churn-0123456789ab" and record["best_training_job"] == best

    evaluation = evaluate_step(state, training, champion_uri=None, artifacts_bucket=ARTIFACTS, s3=s3)
    assert evaluation["passed"] is True, evaluation
    assert evaluation["parity"]["onnx_max_abs_diff"] < 1e-4


def test_a_missing_model_artifact_fails_naming_the_job_and_the_uri(s3: Any) -> None:
    from liveml.pipeline.errors import PipelineError

    state = RunState(bucket="d", key="datasets/churn/p.csv", version_id="v1", model="churn", run_id="r2")
    prepared = {
        "tuning_job": "t",
        "output_uri": state.run_uri("sagemaker/output/", artifacts_bucket=ARTIFACTS),
    }
    with pytest.raises(
        PipelineError, match=r"best training job t-001-x's model s3://.*/t-001-x/output/model.tar.gz"
    ):
        collect_model_step(
            state, prepared, {"best_training_job": "t-001-x"}, artifacts_bucket=ARTIFACTS, s3=s3
        )
    with pytest.raises(PipelineError, match="reports no best training job"):
        collect_model_step(state, prepared, {"name": "t"}, artifacts_bucket=ARTIFACTS, s3=s3)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"family": "xgboost"}, r"hyperparameter family='xgboost' is not one of"),
        ({"hgb.max_depth": "40"}, r"hyperparameter hgb.max_depth='40' is outside \[2, 10\]"),
        ({"hgb.learning_rate": "fast"}, r"hyperparameter hgb.learning_rate='fast'"),
        ({"hgb.max_features": None}, r"hyperparameter 'hgb.max_features' is missing for family"),
    ],
)
def test_bad_hyperparameters_fail_the_job_with_a_reason_naming_the_field(
    tmp_path: Path, change: dict[str, str | None], reason: str
) -> None:
    hyperparameters = {k: v for k, v in {**TRIAL, **change}.items() if v is not None}
    done, opt_ml = _run_container(tmp_path, hyperparameters)  # fails before any fit: fast
    assert done.returncode == 1
    failure = (opt_ml / "output/failure").read_text()
    assert re.search(reason, failure), failure
    assert "Traceback" not in done.stderr
    assert not any((opt_ml / "model").iterdir())
