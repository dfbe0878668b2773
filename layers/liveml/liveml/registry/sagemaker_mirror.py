"""The optional SageMaker Model Registry mirror: each registered version of a model whose settings
say ``sagemaker: {mirror_registry: true}`` is also a model package in a Model Package Group named
after the model, and its approval is kept in step both ways.

* Registry events (``ModelRegistered``, ``ModelApproved``, ``ModelRejected`` on the stack's bus) create
  the package or update its ``ModelApprovalStatus`` (the registry's approvals are SageMaker's states).
* SageMaker's ``SageMaker Model Package State Change`` events (someone approved it in Studio) approve
  or reject the registry's version. Each side changes only what differs, so an update that echoes
  back stops there instead of looping.

The package carries no inference image: it records the ONNX artifact, its sha256 and the metrics;
serving stays with the registry's binding. ``UpdateModelPackage`` clears customer metadata it is not
given, so every update re-sends it.
"""

from __future__ import annotations

import re
from typing import Any

from liveml.aws import client
from liveml.registry.model import Approval, ModelVersion
from liveml.registry.store import Registry

#: who the registry's history names when the decision came from SageMaker
SAGEMAKER_ACTOR = "sagemaker-model-registry"
#: registry events that concern the mirror
REGISTRY_EVENTS = ("ModelRegistered", "ModelApproved", "ModelRejected")


def group_name(model: str) -> str:
    """SageMaker's group names: letters, digits and single hyphens, at most 63 characters."""
    return re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]", "-", model)).strip("-")[:63] or "model"


def mirrored(version: ModelVersion) -> bool:
    """Whether this version's settings (recorded in its lineage) ask for the mirror."""
    sagemaker = version.lineage.settings.get("sagemaker") or {}
    return bool(sagemaker.get("mirror_registry"))


def _metadata(version: ModelVersion) -> dict[str, str]:
    onnx = version.artifacts.get("model.onnx")
    manifest = version.artifacts.get("manifest.json")
    found = {
        "liveml_model": version.model,
        "liveml_version": str(version.version),
        "family": version.family,
        "model_onnx": onnx.uri if onnx else "",
        "model_onnx_sha256": onnx.sha256 if onnx else "",
        "manifest": manifest.uri if manifest else "",
    }
    found |= {f"metric_{k}": f"{v:.6g}" for k, v in sorted(version.metrics.items())[:10]}
    return {k: v for k, v in found.items() if v}


class SageMakerMirror:
    def __init__(self, registry: Registry | None = None, *, sagemaker: Any = None) -> None:
        self.registry = registry or Registry()
        self._sm = sagemaker or client("sagemaker")

    # ------------------------------------------------------------------ registry → SageMaker
    def package_arn(self, model: str, version: int) -> str | None:
        """The package that mirrors ``model`` v``version`` (found by its metadata), if any."""
        pages = self._sm.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=group_name(model)
        )
        for page in pages:
            for summary in page["ModelPackageSummaryList"]:
                arn = str(summary["ModelPackageArn"])
                meta = self._sm.describe_model_package(ModelPackageName=arn).get(
                    "CustomerMetadataProperties", {}
                )
                if meta.get("liveml_version") == str(version):
                    return arn
        return None

    def _ensure_group(self, model: str) -> None:
        try:
            self._sm.describe_model_package_group(ModelPackageGroupName=group_name(model))
        except self._sm.exceptions.ClientError:
            self._sm.create_model_package_group(
                ModelPackageGroupName=group_name(model),
                ModelPackageGroupDescription=f"LiveML model {model} (mirrored from the LiveML registry)",
            )

    def sync_to_sagemaker(self, model: str, version: int) -> dict[str, Any]:
        """Create the version's package, or bring its approval in line with the registry's."""
        current = self.registry.get(model, version)
        if not mirrored(current):
            return {"mirrored": False, "reason": "sagemaker.mirror_registry is off for this version"}
        arn = self.package_arn(model, version)
        if arn is None:
            self._ensure_group(model)
            arn = self._sm.create_model_package(
                ModelPackageGroupName=group_name(model),
                ModelPackageDescription=f"{model} v{version}: {current.family}",
                ModelApprovalStatus=current.approval.value,
                CustomerMetadataProperties=_metadata(current),
            )["ModelPackageArn"]
            return {"mirrored": True, "created": arn, "approval": current.approval.value}
        described = self._sm.describe_model_package(ModelPackageName=arn)
        if described.get("ModelApprovalStatus") == current.approval.value:
            return {"mirrored": True, "unchanged": arn, "approval": current.approval.value}
        last = current.history[-1] if current.history else None
        self._sm.update_model_package(
            ModelPackageArn=arn,
            ModelApprovalStatus=current.approval.value,
            ApprovalDescription=(f"{last.by}: {last.reason}" if last else "liveml")[:1024],
            CustomerMetadataProperties=_metadata(current),  # cleared otherwise
        )
        return {"mirrored": True, "updated": arn, "approval": current.approval.value}

    # ------------------------------------------------------------------ SageMaker → registry
    def sync_to_registry(self, package_arn: str) -> dict[str, Any]:
        """Apply a decision taken in SageMaker (Studio, the API) to the registry's version."""
        described = self._sm.describe_model_package(ModelPackageName=package_arn)
        meta = described.get("CustomerMetadataProperties", {})
        if "liveml_model" not in meta or "liveml_version" not in meta:
            return {"synced": False, "reason": f"{package_arn} is not a LiveML mirror"}
        model, version = meta["liveml_model"], int(meta["liveml_version"])
        wanted = Approval(described["ModelApprovalStatus"])
        current = self.registry.get(model, version)
        if current.approval is wanted:
            return {"synced": False, "reason": "already in step", "approval": wanted.value}
        reason = str(described.get("ApprovalDescription") or "decided in SageMaker Model Registry")
        if wanted is Approval.APPROVED and current.approval is Approval.PENDING:
            self.registry.approve(model, version, by=SAGEMAKER_ACTOR, reason=reason)
        elif wanted is Approval.REJECTED and current.approval is Approval.APPROVED:
            self.registry.revoke(model, version, by=SAGEMAKER_ACTOR, reason=reason)
        elif wanted is Approval.REJECTED:
            self.registry.reject(model, version, by=SAGEMAKER_ACTOR, reason=reason)
        else:
            # Back to pending, or a rejected version approved: the registry has no such transition
            # (a rejected version is retrained, not revived), so SageMaker is put back in step.
            answer = self.sync_to_sagemaker(model, version)
            return {
                **answer,
                "synced": False,
                "reason": f"the registry cannot go {current.approval} -> {wanted}",
            }
        return {"synced": True, "model": model, "version": version, "approval": wanted.value}

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One EventBridge event from either side."""
        detail = event.get("detail") or {}
        if event.get("source") == "aws.sagemaker":
            return self.sync_to_registry(str(detail["ModelPackageArn"]))
        if event.get("detail-type") in REGISTRY_EVENTS:
            return self.sync_to_sagemaker(str(detail["model"]), int(detail["version"]))
        return {"mirrored": False, "reason": f"not a mirror event: {event.get('detail-type')}"}
