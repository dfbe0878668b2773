"""Rollouts of several models through one alias, without a cloud: what each published version binds,
the lock on the alias (queued, not refused), the newest approved version winning, first rollouts.

moto stands in for DynamoDB (the lock and the queue) and S3 (the binding documents); the registry and
the Lambda client are small in-memory fakes, because these are unit tests. The same journeys run on
LocalStack in tests/integration/test_many_models.py.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from liveml.binding import Binding
from liveml.registry import Approval, Artifact, Lineage, ModelVersion, Stage
from liveml.rollout import PredictFunction, RolloutLockedError, RolloutSteps, RolloutStore, Routing
from tests.unit.aws import create_registry_table

SHA = "b" * 64
TABLE, BUCKET = "registry", "artifacts"


def registered(model: str, n: int, approval: Approval = Approval.APPROVED) -> ModelVersion:
    uri = f"s3://{BUCKET}/models/{model}/{n}/manifest.json"
    return ModelVersion(
        model=model, version=n, approval=approval, stage=Stage.CANDIDATE,
        artifacts={"manifest.json": Artifact(uri=uri, sha256=SHA, size_bytes=10)},
        lineage=Lineage(dataset_uri="s3://d/x", dataset_version_id="v", dataset_sha256=SHA,
                        contract_sha256=SHA, code_version="0"),
        created_at="now", updated_at="now",
    )  # fmt: skip


class FakeRegistry:
    def __init__(self, *versions: ModelVersion) -> None:
        self.docs = {(v.model, v.version): v for v in versions}
        self.reasons: dict[tuple[str, int], str] = {}

    def get(self, model: str, version: int) -> ModelVersion:
        return self.docs[(model, version)]

    def versions(self, model: str) -> list[ModelVersion]:
        return [v for (m, _), v in sorted(self.docs.items()) if m == model]

    def revoke(self, model: str, version: int, **kw: Any) -> ModelVersion:
        self.docs[(model, version)] = self.docs[(model, version)].model_copy(
            update={"approval": Approval.REJECTED}
        )
        return self.docs[(model, version)]

    def set_stage(self, model: str, version: int, stage: Stage, **kw: Any) -> ModelVersion:
        self.docs[(model, version)] = self.docs[(model, version)].model_copy(update={"stage": stage})
        self.reasons[(model, version)] = kw.get("reason", "")
        return self.docs[(model, version)]


class FakeLambda:
    """$LATEST's environment, published versions with theirs, and the alias."""

    def __init__(self) -> None:
        self.latest: dict[str, str] = {
            "LIVEML_CAPTURE_SAMPLE_RATE": "0.05",
            "LIVEML_SHADOW_QUEUE": "https://queue",
            "LIVEML_SHADOW": '{"candidate": "9"}',
            "LIVEML_DRILL_LATENCY_MS": "1500",
        }
        self.versions: dict[str, dict[str, str]] = {"1": {}}
        self.alias: dict[str, Any] = {"FunctionVersion": "1", "RevisionId": "r0"}

    @classmethod
    def split(cls, stable: str, candidate: str, weight: float) -> FakeLambda:
        """A function whose alias sends ``weight`` of the traffic to ``candidate``, the rest to ``stable``."""
        lam = cls()
        lam.alias = {
            "FunctionVersion": stable,
            "RoutingConfig": {"AdditionalVersionWeights": {candidate: weight}},
            "RevisionId": "r0",
        }
        return lam

    def get_function_configuration(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:  # noqa: N803
        env = self.latest if Qualifier is None else self.versions[Qualifier]
        return {"Environment": {"Variables": dict(env)}, "RevisionId": "x"}

    def update_function_configuration(self, **kw: Any) -> None:
        self.latest = dict(kw["Environment"]["Variables"])

    def get_waiter(self, name: str) -> Any:
        return type("Waiter", (), {"wait": lambda self, **kw: None})()

    def publish_version(self, **kw: Any) -> dict[str, Any]:
        number = str(len(self.versions) + 1)
        self.versions[number] = dict(self.latest)
        return {"Version": number}

    def get_alias(self, **kw: Any) -> dict[str, Any]:
        return self.alias

    def update_alias(self, **kw: Any) -> dict[str, Any]:
        self.alias = {
            "FunctionVersion": kw["FunctionVersion"],
            "RoutingConfig": kw["RoutingConfig"],
            "RevisionId": f"r{int(self.alias['RevisionId'][1:]) + 1}",
        }
        return dict(self.alias)


@pytest.fixture
def aws(moto: None, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("LIVEML_ALERTS_TOPIC", "arn:aws:sns:us-east-1:000000000000:alerts")
    db, s3 = boto3.client("dynamodb"), boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    create_registry_table(db, TABLE)
    return db, s3


class FakeSns:
    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.messages: list[str] = []

    def publish(self, **kw: Any) -> dict[str, Any]:
        self.subjects.append(kw["Subject"])
        self.messages.append(kw["Message"])
        return {"MessageId": str(len(self.subjects))}


def steps(
    aws: tuple[Any, Any], *versions: ModelVersion, lam: FakeLambda | None = None
) -> tuple[RolloutSteps, FakeRegistry, FakeLambda]:
    """The rollout's steps over a registry holding ``versions`` and a predict function (``lam``)."""
    db, s3 = aws
    lam = lam or FakeLambda()
    registry = FakeRegistry(*versions)
    function = PredictFunction("predict", lam=lam, bucket=BUCKET, s3=s3)
    fake: Any = registry
    run = RolloutSteps(
        registry=fake, store=RolloutStore(TABLE, dynamodb=db), function=function, sns=FakeSns()
    )
    return run, registry, lam


def canary(model: str, version: int) -> dict[str, Any]:
    return {
        "model": model,
        "version": version,
        "settings": {"strategy": "canary", "percent": 10, "bake_s": 5},
    }


def bound(steps: RolloutSteps, version: str) -> Binding:
    binding = steps.function.binding_of(version)
    assert binding is not None
    return binding


def test_a_rollout_binds_its_model_beside_the_others_and_a_first_one_goes_straight_to_100(
    aws: tuple[Any, Any],
) -> None:
    run, registry, lam = steps(
        aws, registered("churn", 1), registered("ltv", 1), registered("ltv", 2, Approval.PENDING)
    )

    first = run.prepare(canary("churn", 1))
    assert first["schedule"] == [100] and first["first"]  # nothing served churn: no canary against a 404
    assert lam.versions[first["candidate"]]["LIVEML_MODEL_BINDING"].startswith(f"s3://{BUCKET}/bindings/")
    published = lam.versions[first["candidate"]]
    # The deploy's settings stay; a shadow tee or a drill belongs to the version it was published with.
    assert (
        published["LIVEML_CAPTURE_SAMPLE_RATE"] == "0.05"
        and published["LIVEML_SHADOW_QUEUE"] == "https://queue"
    )
    assert "LIVEML_SHADOW" not in published and "LIVEML_DRILL_LATENCY_MS" not in published
    run.promote(first)

    ltv = run.prepare(canary("ltv", 1))
    assert ltv["schedule"] == [100]
    run.promote(ltv)
    churn_entry = bound(run, ltv["candidate"]).get("churn")

    registry.docs[("ltv", 2)] = registered("ltv", 2)  # approved later
    second = run.prepare(canary("ltv", 2))
    assert second["schedule"] == [10] and not second["first"]  # ltv serves: this one is a canary
    after = bound(run, second["candidate"])
    assert after.get("churn") == churn_entry  # the other model's binding is carried unchanged
    assert after.get("ltv") is not None and after.get("ltv").versions == ["2"]  # type: ignore[union-attr]
    run.shift(second)
    assert run.function.routing() == Routing(ltv["candidate"], second["candidate"], 0.1)
    back = run.rollback({**second, "reason": "test"})
    assert back["status"] == "rolled_back" and run.function.routing() == Routing(ltv["candidate"])
    assert registry.get("ltv", 2).approval is Approval.REJECTED
    assert registry.get("churn", 1).stage is Stage.PRODUCTION  # the other model is untouched


def test_a_second_models_rollout_waits_for_the_alias_and_then_runs(aws: tuple[Any, Any]) -> None:
    run, _, _ = steps(aws, registered("churn", 1), registered("ltv", 1))
    churn = run.prepare(canary("churn", 1), execution="exec-churn")
    with pytest.raises(RolloutLockedError, match="churn v1"):
        run.prepare(canary("ltv", 1), execution="exec-ltv")
    [waiting] = run.store.queued("ltv")
    assert waiting["version"] == 1 and waiting["behind"]["model"] == "churn"
    assert waiting["execution"] == "exec-ltv"
    run.promote(churn)  # releases the alias
    ltv = run.prepare(canary("ltv", 1), execution="exec-ltv")
    assert ltv["candidate"] and run.store.queued("ltv") == []
    assert bound(run, ltv["candidate"]).names == ["churn", "ltv"]


def test_the_newest_approved_version_wins_and_the_older_waiting_one_is_superseded(
    aws: tuple[Any, Any],
) -> None:
    run, registry, _ = steps(
        aws, registered("churn", 1), registered("churn", 2), registered("churn", 3, Approval.PENDING)
    )
    skipped = run.prepare(canary("churn", 1))
    assert skipped["skipped"] and skipped["superseded_by"] == 2
    assert registry.get("churn", 1).stage is Stage.ARCHIVED
    assert "superseded by v2" in registry.reasons[("churn", 1)]
    assert run.store.holder(run.scope) is None  # the lock is free again
    assert run.prepare(canary("churn", 2))["version"] == 2  # v3 is not approved: it does not count


def test_a_split_alias_with_no_rollout_holding_it_is_refused_with_the_fix(aws: tuple[Any, Any]) -> None:
    run, _, _ = steps(aws, registered("churn", 1), lam=FakeLambda.split("1", "2", 0.5))
    with pytest.raises(Exception, match="liveml rollout rollback"):
        run.prepare(canary("churn", 1))
    assert run.store.holder(run.scope) is None


def test_a_failed_rollback_is_said_with_lives_weights_as_they_stand(aws: tuple[Any, Any]) -> None:
    run, _, _ = steps(aws, lam=FakeLambda.split("3", "4", 0.1))
    state = {
        "model": "churn",
        "version": 2,
        "stable": "3",
        "candidate": "4",
        "function": "predict",
        "alias": "live",
    }
    error = {
        "Error": "AliasUpdateError",
        "Cause": '{"errorMessage": "throttled", "errorType": "AliasUpdateError"}',
    }
    run.rollback_failed(state, error)
    sns: Any = run._sns
    assert "FAILED" in sns.subjects[-1]
    assert "version 3 90%, version 4 10%" in sns.messages[-1] and "throttled" in sns.messages[-1]


def test_shadows_and_experiments_take_the_rollout_lock_while_they_move_live(
    aws: tuple[Any, Any],
) -> None:
    """Both publish and move `live` too: they take the rollout's lock for as long as they move it, so a
    rollout never starts from an alias that is changing under it, nor they from one a rollout moves."""
    from liveml.rollout.live_experiments import ExperimentRegistry
    from liveml.rollout.shadow import Shadow
    from tests.unit.experiments.conftest import experiment

    db, s3 = aws
    pending = Approval.PENDING
    run, registry, _ = steps(
        aws, registered("churn", 1), registered("churn", 2, pending), registered("churn", 3, pending)
    )
    run.promote(run.prepare(canary("churn", 1)))  # live serves churn v1
    registry.docs[("churn", 2)] = registered("churn", 2)
    fake: Any = registry
    shadow = Shadow(run.function, registry=fake, table=TABLE, dynamodb=db)
    experiments = ExperimentRegistry(run.function, registry=fake, bucket=BUCKET, s3=s3, store=run.store)
    design = experiment(name="ab", variants={"A": "1", "B": "2"})

    rollout = run.prepare(canary("churn", 2), execution="exec-2")  # holds the lock while it runs
    before = run.function.routing()
    with pytest.raises(RolloutLockedError, match="churn v2"):
        shadow.start("churn", 3, 0.5)
    with pytest.raises(RolloutLockedError, match="churn v2"):
        experiments.create(design, "name: ab\n")
    assert run.function.routing() == before  # neither touched live
    run.promote(rollout)

    started = shadow.start("churn", 3, 0.5)
    assert run.function.routing().version == started["primary"]
    assert run.store.holder(run.scope) is None  # held only while it moved live
    registry.docs[("churn", 3)] = registered("churn", 3)
    with (
        run.store.holding(run.scope, "churn", 3, "shadow"),  # while a shadow moves live, a rollout waits
        pytest.raises(RolloutLockedError, match="churn v3"),
    ):
        run.prepare(canary("churn", 3), execution="exec-3")
    run.store.dequeue("churn", 3)
    shadow.stop("churn")
    state = experiments.create(design, "name: ab\n")
    assert run.function.routing().version == state["serving_versions"][0]
    assert run.store.holder(run.scope) is None


def test_a_repeated_model_approved_event_finds_its_version_rolled_out_and_does_nothing(
    aws: tuple[Any, Any],
) -> None:
    run, _, lam = steps(aws, registered("churn", 1))
    event = {
        "detail-type": "ModelApproved",
        "source": "liveml.registry",
        "detail": {"model": "churn", "version": 1},
    }
    run.promote(run.prepare(event))
    published = len(lam.versions)
    again = run.prepare(event)  # EventBridge delivers at least once
    assert again["skipped"] and "production" in again["reason"]
    assert len(lam.versions) == published and run.store.holder(run.scope) is None


def test_a_rollout_that_stopped_waiting_leaves_the_queue(aws: tuple[Any, Any]) -> None:
    import time

    from liveml.rollout.store import QUEUE_STALE_S

    run, _, _ = steps(aws, registered("churn", 1))
    run.store.enqueue("churn", 1, "exec-stopped", {"model": "ltv"})
    assert [q["execution"] for q in run.store.queued("churn")] == ["exec-stopped"]
    # No retry refreshed it since: its execution was stopped or gave up.
    assert run.store.queued("churn", now=time.time() + QUEUE_STALE_S + 1) == []
