"""The SageMaker branch's two small steps around the tuning job.

``prepare_tuning_step`` pins the inputs (the validated object version and the contract, copied
under the run's prefix, since a training job reads the newest version of an S3 key), sizes the
resources and builds the ``CreateHyperParameterTuningJob`` request the Tune state sends.
``collect_model_step`` unpacks the best training job's ``model.tar.gz`` into the run's ``model/``
prefix and answers what the Train state answers, so Evaluate and Register cannot tell the backends apart.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from liveml.aws import client
from liveml.aws.s3 import get_bytes, get_text_if_exists, put_bytes, split_uri, upload_dir
from liveml.config import Settings, env
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.sagemaker import (
    SOURCE_KEY,
    model_artifact_uri,
    sized,
    tuning_job_name,
    tuning_request,
)
from liveml.pipeline.settings import PipelineSettings
from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.train import SUMMARY_METRICS
from liveml.registry import Registry

#: beside the run's other files: which tuning job made it (a later run warm-starts from it)
RECORD = "sagemaker.json"


def champion_tuning_job(model: str, registry: Registry | None = None, *, s3: Any = None) -> str | None:
    """The tuning job of the version in production, when the SageMaker backend trained it."""
    version = (registry or Registry()).production(model)
    manifest = version.artifacts.get("manifest.json") if version else None
    if manifest is None or not manifest.uri.endswith("/model/manifest.json"):
        return None
    record = get_text_if_exists(manifest.uri[: -len("model/manifest.json")] + RECORD, s3=s3)
    return str(json.loads(record)["tuning_job"]) if record else None


def prepare_tuning_step(
    state: RunState,
    validation: dict[str, Any],
    *,
    role_arn: str | None = None,
    source_uri: str | None = None,
    region: str | None = None,
    artifacts_bucket: str | None = None,
    registry: Registry | None = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Returns ``{"request", "tuning_job", "output_uri", "timeout_s", "resources"}``."""
    s3 = s3 or client("s3")
    settings = PipelineSettings.model_validate(validation["settings"])
    role_arn = role_arn or env("SAGEMAKER_ROLE_ARN")
    if not role_arn:
        raise PipelineError("LIVEML_SAGEMAKER_ROLE_ARN is not set: the stack's SageMaker execution role")
    bucket = artifacts_bucket or Settings().require("artifacts_bucket")
    source_uri = source_uri or env("SAGEMAKER_SOURCE_URI") or f"s3://{bucket}/{SOURCE_KEY}"
    region = region or Settings().region

    dataset = validation["dataset"]
    train_uri = state.run_uri("sagemaker/input/", artifacts_bucket=bucket)
    name = Path(state.key).name
    target_bucket, prefix = split_uri(train_uri)
    copy = {"Bucket": state.bucket, "Key": state.key}
    if state.version_id and state.version_id != "null":
        copy["VersionId"] = state.version_id
    s3.copy_object(Bucket=target_bucket, Key=prefix + name, CopySource=copy)
    contract = get_bytes(validation["contract_uri"], s3=s3)
    put_bytes(train_uri + "contract.yaml", contract, content_type="application/yaml", s3=s3)

    resources = sized(
        settings,
        rows=int(validation.get("rows") or 0),
        columns=_columns(contract),
        data_bytes=int(dataset.get("size_bytes") or 0),
    )
    job = tuning_job_name(state.model, state.run_id)
    output_uri = state.run_uri("sagemaker/output/", artifacts_bucket=bucket)
    request = tuning_request(
        name=job,
        settings=settings,
        resources=resources,
        role_arn=role_arn,
        region=region,
        train_uri=train_uri,
        output_uri=output_uri,
        checkpoint_uri=state.run_uri("sagemaker/checkpoints/", artifacts_bucket=bucket),
        source_uri=source_uri,
        dataset=name,
        data_sha256=dataset.get("sha256"),
        warm_start_from=champion_tuning_job(state.model, registry, s3=s3),
    )
    return {
        "request": request,
        "warm_start": "WarmStartConfig" in request,
        "tuning_job": job,
        "output_uri": output_uri,
        "timeout_s": resources.timeout_s,
        "resources": {
            "instance_type": resources.instance_type,
            "max_jobs": resources.max_jobs,
            "parallel_jobs": resources.parallel_jobs,
            "max_runtime_s": resources.max_runtime_s,
            "spot": resources.spot,
        },
    }


def _columns(contract_yaml: bytes) -> int:
    from liveml.contract import Contract

    return len(Contract.from_yaml(contract_yaml.decode()).feature_names)


def _safe_extract(archive: bytes, folder: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")  # no absolute paths, links out or devices


def collect_model_step(
    state: RunState,
    prepared: dict[str, Any],
    tuning: dict[str, Any],
    *,
    artifacts_bucket: str | None = None,
    workdir: Path | None = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Unpack the best job's model into ``runs/<model>/<run>/model/``; answers like the Train step."""
    best = tuning.get("best_training_job")
    if not best:
        raise PipelineError(
            f"tuning job {tuning.get('name', prepared['tuning_job'])} reports no best training job"
        )
    artifact = model_artifact_uri(prepared["output_uri"], best)
    try:
        archive = get_bytes(artifact, s3=s3)
    except Exception as exc:
        raise PipelineError(
            f"the best training job {best}'s model {artifact} cannot be read: {exc}"
        ) from None
    model_uri = state.run_uri("model/", artifacts_bucket=artifacts_bucket)
    with tempfile.TemporaryDirectory(prefix="liveml-collect-", dir=workdir) as tmp:
        folder = Path(tmp) / "model"
        _safe_extract(archive, folder)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise PipelineError(f"{artifact} holds no manifest.json: not a liveml model directory")
        manifest = json.loads(manifest_path.read_text())
        upload_dir(folder, model_uri, s3=s3)
    counters = tuning.get("counters") or {}
    record = {
        "tuning_job": tuning.get("name", prepared["tuning_job"]),
        "best_training_job": best,
        "objective": tuning.get("objective"),
        "counters": counters,
        "artifact": artifact,
        "resources": prepared.get("resources"),
    }
    put_bytes(
        state.run_uri(RECORD, artifacts_bucket=artifacts_bucket),
        json.dumps(record, indent=2).encode(),
        content_type="application/json",
        s3=s3,
    )
    metrics = manifest.get("metrics", {})
    return {
        "model_uri": model_uri,
        "family": manifest.get("family"),
        "cv_score": manifest.get("cv_score"),
        "trials": int(counters.get("Completed", 0)) or None,
        "seconds": None,
        "metrics": {k: metrics[k] for k in SUMMARY_METRICS if k in metrics},
    }
