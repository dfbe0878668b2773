"""Model versions, approvals and stages, with conditional writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from liveml.registry import (
    Approval,
    Artifact,
    Lineage,
    RecordingPublisher,
    Registry,
    RegistryError,
    Stage,
    StaleStateError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from tests.unit.registry.conftest import FakeAws

LINEAGE = Lineage(
    dataset_uri="s3://liveml-data/datasets/churn/p.csv",
    dataset_version_id="v1",
    dataset_sha256="ab" * 32,
    contract_sha256="cd" * 32,
    code_version="0.1.0",
    parameters={"max_depth": 3},
)
ARTIFACTS = {"onnx": Artifact(uri="s3://artifacts/churn/1/model.onnx", sha256="ef" * 32, size_bytes=1234)}


@pytest.fixture
def registry(aws: FakeAws) -> tuple[Registry, RecordingPublisher]:
    publisher = RecordingPublisher()
    return Registry(aws.table, dynamodb=aws.dynamodb, publisher=publisher), publisher


def _register(registry: Registry, *, auto: bool = True) -> int:
    version = registry.register(
        "churn",
        lineage=LINEAGE,
        artifacts=ARTIFACTS,
        metrics={"roc_auc": 0.87},
        family="hgb",
        auto_approve=auto,
    )
    return version.version


def test_versions_are_numbered_per_model_and_events_say_so(
    registry: tuple[Registry, RecordingPublisher],
) -> None:
    store, publisher = registry
    assert [_register(store), _register(store)] == [1, 2]
    assert store.get("churn", 2).lineage == LINEAGE
    assert store.get("churn", 1).artifacts == ARTIFACTS
    assert [kind for kind, _ in publisher.events] == ["ModelRegistered", "ModelApproved"] * 2
    assert store.models() == ["churn"]


def test_concurrent_registrations_never_collide(registry: tuple[Registry, RecordingPublisher]) -> None:
    store, _ = registry
    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: _register(store), range(8)))
    assert sorted(numbers) == list(range(1, 9))
    assert len(store.versions("churn")) == 8


def test_manual_policy_waits_for_approval(registry: tuple[Registry, RecordingPublisher]) -> None:
    store, publisher = registry
    number = _register(store, auto=False)
    assert store.get("churn", number).approval is Approval.PENDING
    with pytest.raises(RegistryError, match="only an approved version serves"):
        store.set_stage("churn", number, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    approved = store.approve("churn", number, by="alice", reason="looked at the report")
    assert approved.approval is Approval.APPROVED
    assert publisher.events[-1][0] == "ModelApproved"
    with pytest.raises(StaleStateError, match="already Approved"):
        store.reject("churn", number)


def test_promotion_archives_the_previous_production_version(
    registry: tuple[Registry, RecordingPublisher],
) -> None:
    store, _ = registry
    first, second = _register(store), _register(store)
    store.set_stage("churn", first, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    assert store.production("churn").version == first  # type: ignore[union-attr]
    store.set_stage("churn", second, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    assert store.production("churn").version == second  # type: ignore[union-attr]
    assert store.get("churn", first).stage is Stage.ARCHIVED
    assert [h.change for h in store.get("churn", first).history][-1].startswith(
        "stage production -> archived"
    )


def test_a_stage_change_from_a_stale_state_is_refused(registry: tuple[Registry, RecordingPublisher]) -> None:
    store, _ = registry
    number = _register(store)
    store.set_stage("churn", number, Stage.STAGING, expected=Stage.CANDIDATE)
    with pytest.raises(StaleStateError, match="is staging, not candidate"):
        store.set_stage("churn", number, Stage.PRODUCTION, expected=Stage.CANDIDATE)


def test_a_write_computed_from_an_old_revision_is_refused(
    registry: tuple[Registry, RecordingPublisher],
) -> None:
    store, _ = registry
    number = _register(store, auto=False)
    stale = store.get("churn", number)
    store.approve("churn", number)
    # Replay a change computed from the stale read: the revision condition must refuse it.
    with pytest.raises(StaleStateError):
        store._transact([store._conditional_put(stale, stale.revision)], "churn")


def test_unknown_versions_say_so(registry: tuple[Registry, RecordingPublisher]) -> None:
    store, _ = registry
    with pytest.raises(VersionNotFoundError, match="no version 7"):
        store.get("churn", 7)
    assert store.production("churn") is None
