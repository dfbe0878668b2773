"""The SageMaker Model Registry mirror, both ways, against moto's SageMaker (model package groups
run there; SageMaker itself cannot run here) and moto's DynamoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from liveml.registry import Approval, Artifact, Lineage, RecordingPublisher, Registry
from liveml.registry.sagemaker_mirror import SAGEMAKER_ACTOR, SageMakerMirror, group_name

if TYPE_CHECKING:
    from tests.unit.registry.conftest import FakeAws

MODEL = "churn_v2 (live)"
ARTIFACTS = {
    "model.onnx": Artifact(uri="s3://a/runs/churn/r/model/model.onnx", sha256="ef" * 32, size_bytes=10),
    "manifest.json": Artifact(uri="s3://a/runs/churn/r/model/manifest.json", sha256="01" * 32, size_bytes=5),
}


def _lineage(mirror: bool) -> Lineage:
    return Lineage(
        dataset_uri="s3://d/datasets/churn/p.csv",
        dataset_version_id="v1",
        dataset_sha256="ab" * 32,
        contract_sha256="cd" * 32,
        code_version="0.1.0",
        settings={"backend": "sagemaker", "sagemaker": {"mirror_registry": mirror}},
    )


@pytest.fixture
def mirror(aws: FakeAws) -> tuple[SageMakerMirror, Registry, RecordingPublisher, Any]:
    publisher = RecordingPublisher()
    registry = Registry(aws.table, dynamodb=aws.dynamodb, publisher=publisher)
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    return SageMakerMirror(registry, sagemaker=sagemaker), registry, publisher, sagemaker


def _register(registry: Registry, *, mirror: bool = True, auto: bool = False) -> int:
    version = registry.register(
        MODEL,
        lineage=_lineage(mirror),
        artifacts=ARTIFACTS,
        metrics={"roc_auc": 0.87},
        family="hgb",
        auto_approve=auto,
    )
    return version.version


def _replay(mirror: SageMakerMirror, publisher: RecordingPublisher) -> list[dict[str, Any]]:
    """Deliver the registry's events to the mirror, as the EventBridge rule does."""
    answers = [
        mirror.handle({"source": "liveml.registry", "detail-type": t, "detail": d})
        for t, d in publisher.events
    ]
    publisher.events.clear()
    return answers


def test_a_registered_version_becomes_a_package_and_its_approval_follows(mirror: Any) -> None:
    sync, registry, publisher, sagemaker = mirror
    version = _register(registry)
    [created] = _replay(sync, publisher)
    arn = created["created"]
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelPackageGroupName"] == group_name(MODEL) == "churn-v2-live"
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    meta = described["CustomerMetadataProperties"]
    assert meta["liveml_version"] == str(version) and meta["model_onnx_sha256"] == "ef" * 32

    registry.approve(MODEL, version, by="alice", reason="report reviewed")
    [updated] = _replay(sync, publisher)
    assert updated["updated"] == arn
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    # moto (like the service) clears what an update does not send: the metadata was re-sent.
    assert described["CustomerMetadataProperties"]["liveml_model"] == MODEL


def test_a_decision_taken_in_sagemaker_reaches_the_registry_and_does_not_echo(mirror: Any) -> None:
    sync, registry, publisher, sagemaker = mirror
    version = _register(registry)
    [created] = _replay(sync, publisher)
    arn = created["created"]
    meta = sagemaker.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription="approved in Studio by bob",
        CustomerMetadataProperties=meta,
    )
    event = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"ModelPackageArn": arn, "ModelApprovalStatus": "Approved"},
    }
    assert sync.handle(event)["synced"] is True
    current = registry.get(MODEL, version)
    assert current.approval is Approval.APPROVED
    assert (current.history[-1].by, current.history[-1].reason) == (
        SAGEMAKER_ACTOR,
        "approved in Studio by bob",
    )
    # The registry's ModelApproved comes back to the mirror: already in step, nothing changes.
    [echo] = _replay(sync, publisher)
    assert echo == {"mirrored": True, "unchanged": arn, "approval": "Approved"}
    assert sync.handle(event)["reason"] == "already in step"

    # Rejected later in SageMaker: the approval is revoked in the registry.
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Rejected", CustomerMetadataProperties=meta
    )
    assert sync.handle(event)["approval"] == "Rejected"
    assert registry.get(MODEL, version).approval is Approval.REJECTED


def test_a_transition_the_registry_does_not_have_puts_sagemaker_back(mirror: Any) -> None:
    sync, registry, publisher, sagemaker = mirror
    version = _register(registry)
    [created] = _replay(sync, publisher)
    registry.reject(MODEL, version, by="alice", reason="drifts")
    _replay(sync, publisher)
    arn = created["created"]
    meta = sagemaker.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", CustomerMetadataProperties=meta
    )
    answer = sync.handle({"source": "aws.sagemaker", "detail": {"ModelPackageArn": arn}})
    assert answer["synced"] is False and "Rejected -> Approved" in answer["reason"]
    assert registry.get(MODEL, version).approval is Approval.REJECTED
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Rejected"


def test_models_without_the_setting_and_foreign_packages_are_left_alone(mirror: Any) -> None:
    sync, registry, publisher, sagemaker = mirror
    _register(registry, mirror=False, auto=True)
    answers = _replay(sync, publisher)
    assert [a["mirrored"] for a in answers] == [False, False]
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    sagemaker.create_model_package_group(ModelPackageGroupName="someone-else")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="someone-else", ModelApprovalStatus="Approved"
    )["ModelPackageArn"]
    assert sync.handle({"source": "aws.sagemaker", "detail": {"ModelPackageArn": arn}})["synced"] is False
