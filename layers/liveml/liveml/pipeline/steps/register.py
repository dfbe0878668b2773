"""Register: verify every artifact against the manifest's sha256 and record the version with lineage."""

from __future__ import annotations

import json
from typing import Any

from liveml.aws.s3 import get_bytes
from liveml.modeldir import MANIFEST, fetch_verified, sha256_hex
from liveml.pipeline.settings import ApprovalPolicy, PipelineSettings
from liveml.pipeline.steps.runs import RunState
from liveml.registry import Artifact, Lineage, Registry


def verified_artifacts(model_uri: str) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """The manifest and its artifacts, each re-hashed from S3: what is registered is what was trained."""
    manifest_uri = model_uri + MANIFEST
    raw = get_bytes(manifest_uri)
    manifest: dict[str, Any] = json.loads(raw)
    artifacts: dict[str, Artifact] = {}
    for name, entry in manifest["artifacts"].items():
        uri = model_uri + entry["path"]
        data = fetch_verified(uri, entry["sha256"])
        artifacts[name] = Artifact(uri=uri, sha256=entry["sha256"], size_bytes=len(data))
    artifacts[MANIFEST] = Artifact(uri=manifest_uri, sha256=sha256_hex(raw), size_bytes=len(raw))
    return manifest, artifacts


def register_step(
    state: RunState,
    validation: dict[str, Any],
    training: dict[str, Any],
    evaluation: dict[str, Any],
    execution_arn: str,
    *,
    registry: Registry | None = None,
) -> dict[str, Any]:
    manifest, artifacts = verified_artifacts(training["model_uri"])
    settings = PipelineSettings.model_validate(validation["settings"])
    dataset = validation["dataset"]
    lineage = Lineage(
        dataset_uri=dataset["s3_uri"],
        dataset_version_id=dataset["version_id"],
        dataset_sha256=dataset["sha256"],
        contract_sha256=validation["contract_sha256"],
        code_version=str(manifest.get("code_version", "")),
        settings=settings.model_dump(mode="json"),
        parameters=manifest.get("params", {}),
        execution_arn=execution_arn,
        trigger=validation.get("trigger", {}).get("trigger", "upload"),
        trigger_reason=validation.get("trigger", {}).get("reason", ""),
    )
    metrics = {k: float(v) for k, v in manifest.get("metrics", {}).items() if isinstance(v, int | float)}
    version = (registry or Registry()).register(
        state.model,
        lineage=lineage,
        artifacts=artifacts,
        metrics=metrics,
        family=str(manifest.get("family", "")),
        evaluation=evaluation,
        auto_approve=settings.approval is ApprovalPolicy.AUTO,
        run_id=state.run_id,
    )
    return {"version": version.version, "approval": version.approval.value, "stage": version.stage.value}
