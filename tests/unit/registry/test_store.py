"""Model versions, approvals and stages, with conditional writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from liveml.registry import (
    Approval,
    Artifact,
    Lineage,
    ModelVersion,
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


def test_concurrent_registrations_never_collide(
    registry: tuple[Registry, RecordingPublisher], aws: FakeAws
) -> None:
    store, _ = registry
    # DynamoDB applies a transaction atomically; moto checks conditions and writes without a lock, so
    # the lock gives it DynamoDB's semantics and the test checks our retry on a lost race.
    lock = threading.Lock()

    def atomic(call: Any) -> Any:
        def locked(**kwargs: Any) -> Any:
            with lock:
                return call(**kwargs)

        return locked

    # Reads too: moto can show an item half-way through a transaction, which DynamoDB never does.
    aws.dynamodb.transact_write_items = atomic(aws.dynamodb.transact_write_items)
    aws.dynamodb.get_item = atomic(aws.dynamodb.get_item)
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
        store._transact([store._conditional_put(stale, stale.revision)], "churn", [])


def test_unknown_versions_say_so(registry: tuple[Registry, RecordingPublisher]) -> None:
    store, _ = registry
    with pytest.raises(VersionNotFoundError, match="no version 7"):
        store.get("churn", 7)
    assert store.production("churn") is None


def _register_run(store: Registry, run_id: str) -> ModelVersion:
    return store.register(
        "churn",
        lineage=LINEAGE,
        artifacts=ARTIFACTS,
        metrics={},
        family="hgb",
        auto_approve=True,
        run_id=run_id,
    )


def test_a_retried_register_returns_the_version_it_made(
    registry: tuple[Registry, RecordingPublisher],
) -> None:
    store, publisher = registry
    first = _register_run(store, "r1")
    again = _register_run(store, "r1")
    assert again == first and [v.version for v in store.versions("churn")] == [1]
    assert store.registered_by("churn", "r1") == first and store.registered_by("churn", "r2") is None
    # One ModelRegistered and one ModelApproved: the retry published nothing new.
    assert [kind for kind, _ in publisher.events] == ["ModelRegistered", "ModelApproved"]
    other = _register_run(store, "r2")
    assert other.version == 2


class _FlakyBus:
    """Refuses every event while ``down``; records the ones it accepts."""

    def __init__(self) -> None:
        self.down = True
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.down:
            raise RuntimeError("EventBridge unavailable")
        self.events.append((detail_type, detail))


def test_a_failed_publish_keeps_the_event_and_a_retry_delivers_it(aws: FakeAws) -> None:
    from liveml.registry.errors import EventDeliveryError

    bus = _FlakyBus()
    store = Registry(aws.table, dynamodb=aws.dynamodb, publisher=bus)
    with pytest.raises(EventDeliveryError, match="stays in the outbox"):
        _register_run(store, "r1")
    # The write is committed and approved; its events wait, none was lost or sent.
    assert store.get("churn", 1).approval is Approval.APPROVED and bus.events == []
    bus.down = False
    made = _register_run(store, "r1")
    assert made.version == 1 and len(store.versions("churn")) == 1
    assert [kind for kind, _ in bus.events] == ["ModelRegistered", "ModelApproved"]
    ids = [detail["event_id"] for _, detail in bus.events]
    assert len(set(ids)) == 2 and all(detail["version"] == 1 for _, detail in bus.events)
    assert store.deliver_pending() == 0  # delivered once, then gone from the outbox


def test_stage_changes_commit_with_their_event(aws: FakeAws) -> None:
    bus = _FlakyBus()
    bus.down = False
    store = Registry(aws.table, dynamodb=aws.dynamodb, publisher=bus)
    number = _register(store, auto=False)
    bus.down = True
    with pytest.raises(RegistryError):
        store.approve("churn", number)
    assert store.get("churn", number).approval is Approval.APPROVED
    bus.down = False
    assert store.deliver_pending() == 1 and bus.events[-1][0] == "ModelApproved"
