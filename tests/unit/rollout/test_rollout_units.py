"""Rollout logic without a cloud: schedules, bindings, the alias fallback, health, smoke comparison."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from liveml.binding.build import experiment_binding, single_binding
from liveml.registry import Approval, Artifact, Lineage, ModelVersion, Stage
from liveml.rollout import AliasUpdateError, PredictFunction, RolloutError, RolloutSettings, Routing
from liveml.rollout.health import class_shift, holdout_class_shares, judge
from liveml.rollout.probe import ProbeResult, _mismatch, api_event

SHA = "a" * 64


def version(n: int, model: str = "churn") -> ModelVersion:
    uri = f"s3://art/runs/{model}/r{n}/model/manifest.json"
    return ModelVersion(
        model=model, version=n, approval=Approval.APPROVED, stage=Stage.CANDIDATE,
        artifacts={"manifest.json": Artifact(uri=uri, sha256=SHA, size_bytes=10)},
        lineage=Lineage(dataset_uri="s3://d/x", dataset_version_id="v", dataset_sha256=SHA,
                        contract_sha256=SHA, code_version="0"),
        created_at="now", updated_at="now",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "schedule"),
    [
        ({"strategy": "all-at-once"}, [100]),
        ({"strategy": "canary", "percent": 10}, [10]),
        ({"strategy": "linear", "step_percent": 25}, [25, 50, 75]),
        ({"strategy": "linear", "step_percent": 40}, [40, 80]),
    ],
)
def test_each_strategy_has_its_schedule(settings: dict[str, Any], schedule: list[int]) -> None:
    assert RolloutSettings.resolve(settings).schedule() == schedule


def test_settings_layers_win_field_by_field_and_typos_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIVEML_ROLLOUT_DEFAULTS", '{"percent": 5, "bake_s": 600}')
    merged = RolloutSettings.resolve({"bake_s": 6}, {"percent": 20, "strategy": None})
    assert (merged.percent, merged.bake_s, merged.check_every_s) == (20, 6, 6)
    with pytest.raises(RolloutError, match="bake: Extra inputs"):
        RolloutSettings.resolve({"bake": 5})


def test_bindings_built_from_registry_versions() -> None:
    single = single_binding(version(3))
    assert single.variants[0].uri == "s3://art/runs/churn/r3/model/" and single.variants[0].version == "3"
    ab = experiment_binding({"A": version(3), "B": version(4)}, {"A": 0.333, "B": 0.667}, name="e", salt="s")
    assert sum(v.split_bp for v in ab.variants) == 10_000
    assert ab.describe().startswith("churn A=v3:33.3% B=v4:66.7%")


class StaleRevisionError(ClientError):
    pass


class FakeLambda:
    """Just enough of a Lambda client for the alias; ``fail`` is what update_alias raises."""

    class exceptions:  # noqa: N801 - boto3's shape
        class ResourceNotFoundException(Exception):  # noqa: N818 - boto3's name
            pass

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[str] = []
        self.alias: dict[str, Any] = {"FunctionVersion": "1"}
        self.policy: list[dict[str, Any]] = [
            {"Sid": "api", "Action": "lambda:InvokeFunction",
             "Principal": {"Service": "apigateway.amazonaws.com"},
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:api/*"}}}
        ]  # fmt: skip
        self.added: list[dict[str, Any]] = []

    def update_alias(self, **kw: Any) -> dict[str, Any]:
        self.calls.append("update_alias")
        if self.fail and kw["RoutingConfig"]["AdditionalVersionWeights"]:
            raise self.fail
        if kw.get("RevisionId") not in (None, self.alias.get("RevisionId")):
            raise StaleRevisionError({"Error": {"Code": "PreconditionFailedException"}}, "UpdateAlias")
        revision = f"rev-{len(self.calls)}"
        self.alias = {"FunctionVersion": kw["FunctionVersion"], "RoutingConfig": kw["RoutingConfig"]}
        self.alias["RevisionId"] = revision
        return {**self.alias}

    def get_alias(self, **kw: Any) -> dict[str, Any]:
        return self.alias

    def get_policy(self, **kw: Any) -> dict[str, Any]:
        if not self.policy:
            raise self.exceptions.ResourceNotFoundException()
        return {"Policy": json.dumps({"Statement": self.policy})}

    def delete_alias(self, **kw: Any) -> None:
        self.calls.append("delete_alias")
        self.policy = []  # deleting an alias drops its resource policy

    def create_alias(self, **kw: Any) -> None:
        self.calls.append("create_alias")
        self.alias = {"FunctionVersion": kw["FunctionVersion"], "RoutingConfig": kw["RoutingConfig"]}

    def add_permission(self, **kw: Any) -> None:
        self.added.append(kw)


def test_on_aws_a_weight_change_is_one_update_alias_call() -> None:
    lam = FakeLambda()
    PredictFunction("fn", lam=lam).route("1", "2", 0.1)
    assert lam.calls == ["update_alias"]
    assert PredictFunction("fn", lam=lam).routing() == Routing("1", "2", 0.1)


def test_only_localstacks_routing_bug_recreates_the_alias_and_its_permission_is_restored() -> None:
    bug = TypeError(
        "_create_routing_config_model() missing 1 required positional argument: 'function_version'"
    )
    lam = FakeLambda(fail=bug)
    fn = PredictFunction("fn", lam=lam)
    fn.route("1", "2", 0.3)
    assert lam.calls == ["update_alias", "delete_alias", "create_alias"]
    assert fn.routing() == Routing("1", "2", 0.3)
    [added] = lam.added
    assert added["Qualifier"] == "live" and added["SourceArn"] == "arn:api/*"
    assert added["Principal"] == "apigateway.amazonaws.com"

    other = FakeLambda(fail=RuntimeError("AccessDenied"))
    with pytest.raises(AliasUpdateError, match="AccessDenied"):
        PredictFunction("fn", lam=other).route("1", "2", 0.3)
    assert other.calls == ["update_alias", "update_alias"]  # retried, never deleted, on any other error


def test_an_alias_update_with_this_rollouts_revision_never_overwrites_another_writer() -> None:
    lam = FakeLambda()
    fn = PredictFunction("fn", lam=lam)
    fn.route("1", "2", 0.1)
    mine = fn.revision
    assert mine and fn.route("1", "2", 0.5, revision=mine) == Routing("1", "2", 0.5)
    PredictFunction("fn", lam=lam).route("3")  # someone else moves live meanwhile
    with pytest.raises(AliasUpdateError, match="changed by someone else"):
        fn.route("2", revision=fn.revision)
    assert fn.routing() == Routing("3")


def test_rollback_and_full_promotion_send_no_weights() -> None:
    lam = FakeLambda(fail=TypeError("_create_routing_config_model() missing"))
    fn = PredictFunction("fn", lam=lam)
    assert fn.route("2") == Routing("2")
    assert fn.route("1", "2", 1.0) == Routing("2")
    assert lam.calls == ["update_alias", "update_alias"]


def test_health_fails_on_latency_errors_and_class_shift_with_every_reason() -> None:
    settings = RolloutSettings.resolve({"max_p99_ms": 500, "max_error_rate": 0.05, "max_class_shift": 0.2})
    slow = ProbeResult(requests=10, errors=2, latencies_ms=[100.0] * 9 + [900.0], classes={"1": 8})
    verdict = judge(
        settings, slow, {"0": 0.7, "1": 0.3}, {"requests": 50, "errors": 0, "error_rate": 0, "p99_ms": 10}
    )
    assert not verdict.healthy
    assert [r.split(" ")[1] for r in verdict.reasons] == ["error", "p99", "shares"]
    fine = ProbeResult(requests=10, latencies_ms=[20.0] * 10, classes={"0": 7, "1": 3})
    assert judge(settings, fine, {"0": 0.7, "1": 0.3}, {}).healthy


def test_holdout_shares_are_the_confusion_matrix_column_sums() -> None:
    shares = holdout_class_shares(
        {"classes": ["0", "1"], "metrics": {"confusion_matrix": [[60, 10], [20, 10]]}}
    )
    assert shares == {"0": 0.8, "1": 0.2}
    assert class_shift({"0": 8, "1": 2}, shares) == pytest.approx(0.0)
    assert holdout_class_shares({"classes": None, "metrics": {}}) is None


def test_smoke_comparison_names_the_difference() -> None:
    expected = {"label": "1", "probabilities": {"0": 0.2, "1": 0.8}, "confidence": 0.8}
    assert (
        _mismatch(expected, {"prediction": "1", "probabilities": {"0": 0.20001, "1": 0.79999}}, 1e-4) is None
    )
    assert "P(0)" in str(
        _mismatch(expected, {"prediction": "1", "probabilities": {"0": 0.3, "1": 0.7}}, 1e-4)
    )
    assert "label" in str(_mismatch(expected, {"prediction": "0", "probabilities": {}}, 1e-4))


def test_the_probe_event_is_what_the_serving_app_answers() -> None:
    from mangum import Mangum

    from liveml.serving.app import create_unavailable_app

    answer = Mangum(create_unavailable_app("test"), lifespan="off")(api_event("GET", "/health"), None)  # type: ignore[arg-type]
    assert answer["statusCode"] == 503 and "test" in json.loads(answer["body"])["message"]


class FakeSqs:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    def send_message(self, **kw: Any) -> None:
        if self.fail:
            raise ConnectionError("queue unreachable")
        self.sent.append(json.loads(kw["MessageBody"]))


def test_the_shadow_tee_samples_answered_predictions_and_never_fails_the_request() -> None:
    from liveml.serving.shadow import ShadowTee

    config = {"candidate": "7", "model": "churn", "model_version": "4", "sample_rate": 0.5}
    event = {"httpMethod": "POST", "path": "/predict", "body": '{"player_id": "p"}'}
    ok = {"statusCode": 200, "body": '{"prediction": "1"}'}
    sqs = FakeSqs()
    draws = iter([0.1, 0.9])
    tee = ShadowTee(config, "q", default_model="churn", sqs=sqs, rng=lambda: next(draws))
    assert tee.after(event, ok) is True and tee.after(event, ok) is False
    assert sqs.sent == [
        {"candidate": "7", "model": "churn", "model_version": "4", "path": "/predict",
         "request": {"player_id": "p"}, "primary": {"prediction": "1"}}
    ]  # fmt: skip
    # Only the shadowed model's routes: its own, and /predict only while it is the default model.
    always = ShadowTee(config, "q", sqs=FakeSqs(), rng=lambda: 0.0)
    assert always.after({**event, "path": "/models/churn/predict"}, ok) is True
    assert always.after({**event, "path": "/models/ltv/predict"}, ok) is False
    assert always.after(event, ok) is False
    assert tee.after(event, {"statusCode": 422, "body": "{}"}) is False
    assert tee.after({**event, "path": "/health"}, ok) is False
    assert ShadowTee(config, "q", sqs=FakeSqs(fail=True), rng=lambda: 0.0).after(event, ok) is False
    assert not ShadowTee(None, "q").enabled and not ShadowTee(config, None).enabled


def test_every_state_that_can_fail_after_locking_is_caught_into_rollback() -> None:
    from pathlib import Path

    asl = json.loads((Path(__file__).parents[3] / "statemachines" / "rollout.asl.json").read_text())
    states = asl["States"]
    for name, state in states.items():
        for target in [state.get("Next"), *(c["Next"] for c in state.get("Choices", []))]:
            assert target is None or target in states, (name, target)
        if state["Type"] == "Task" and name not in ("Rollback", "Refused", "RollbackFailed"):
            [catch] = state["Catch"]
            assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.error"
            assert catch["Next"] == ("Refused" if name == "Prepare" else "Rollback"), name
    assert states["Verdict"]["Default"] == "Unhealthy" and states["Unhealthy"]["Next"] == "Rollback"
    # A failed rollback is said out loud (live may still be split), and a locked alias means waiting.
    assert states["Rollback"]["Catch"][0]["Next"] == "RollbackFailed"
    assert states["Prepare"]["Retry"][0]["ErrorEquals"] == ["RolloutLockedError"]
