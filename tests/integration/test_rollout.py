"""Rollouts on LocalStack with real executions and invocations: a healthy canary promoted from the
ModelApproved event, observed traffic shares under weights, the smoke test stopping a model whose
golden outputs differ, a slow version rolled back within its bake while the API keeps answering, and
the operator's promote and one-call rollback."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from liveml.aws import client
from liveml.aws.s3 import split_uri
from liveml.registry import Approval, Artifact, ModelVersion, Registry, Stage
from liveml.rollout import PredictFunction, RolloutStore, Routing
from liveml.rollout.control import Controller
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import Alerts, csv_bytes, subscribe_alerts, unique_model, upload, upload_settings

ROWS = 1500
#: Short bakes so a canary takes seconds; a small probe keeps checks quick.
ROLLOUT = {"strategy": "canary", "percent": 10, "bake_s": 6, "check_every_s": 3, "probe_requests": 8}
SETTINGS = {"trials": 3, "time_budget_s": 20, "cv_folds": 3, "seed": 0, "rollout": ROLLOUT}


@pytest.fixture(scope="module")
def alerts(stack: StackOutputs) -> Iterator[Alerts]:
    yield from subscribe_alerts(stack)


@pytest.fixture(scope="module")
def function(stack: StackOutputs) -> PredictFunction:
    return PredictFunction(stack.predict_function)


@pytest.fixture(scope="module")
def controller(stack: StackOutputs, function: PredictFunction) -> Controller:
    return Controller(stack.raw["RolloutStateMachineArn"], function, Registry(), RolloutStore())


def rollout_execution(stack: StackOutputs, model: str, version: int, *, timeout_s: float = 120) -> str:
    """The execution that ModelApproved (or the CLI) started for ``model`` ``version``."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for item in sfn.list_executions(stateMachineArn=stack.raw["RolloutStateMachineArn"])["executions"]:
            payload = json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"])
            request = payload.get("detail", payload)
            if request.get("model") == model and int(request.get("version", 0)) == version:
                return str(item["executionArn"])
        time.sleep(1)
    raise AssertionError(f"no rollout execution for {model} v{version}")


def finished(arn: str, timeout_s: float = 300) -> dict[str, Any]:
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(1)
    raise AssertionError(f"{arn} still running")


def outcome(alerts: Alerts, model: str, wanted: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in alerts.for_model(model, timeout_s=2):
            if message.get("MessageAttributes", {}).get("outcome", {}).get("Value") == wanted:
                return message
    raise AssertionError(f"no {wanted!r} notification for {model}")


def copy_version(
    model: str,
    source: ModelVersion,
    *,
    tamper_golden: bool = False,
    auto_rollout: bool = False,
    settings: dict[str, Any] | None = None,
) -> ModelVersion:
    """Register and approve another version from ``source``'s artifacts (optionally with golden outputs
    that differ). Without ``auto_rollout`` its ModelApproved event starts nothing (``rollout.auto``
    false): the test starts the rollout itself."""
    s3 = client("s3")
    bucket, key = split_uri(source.artifacts["manifest.json"].uri)
    prefix = key.rsplit("/", 1)[0] + f"-copy-{time.time_ns()}/"
    files = {
        name: s3.get_object(Bucket=bucket, Key=split_uri(a.uri)[1])["Body"].read()
        for name, a in source.artifacts.items()
    }
    manifest = json.loads(files["manifest.json"])
    if tamper_golden:
        golden = json.loads(files["golden_requests.json"])
        for request in golden["requests"]:
            request["expected"]["probabilities"] = {
                k: round(1 - v, 6) for k, v in request["expected"]["probabilities"].items()
            }
        files["golden_requests.json"] = json.dumps(golden).encode()
        entry = manifest["artifacts"]["golden_requests.json"]
        entry["sha256"] = hashlib.sha256(files["golden_requests.json"]).hexdigest()
        entry["bytes"] = len(files["golden_requests.json"])
        files["manifest.json"] = json.dumps(manifest, indent=1).encode()
    artifacts = {}
    for name, data in files.items():
        path = name if name == "manifest.json" else manifest["artifacts"][name]["path"]
        s3.put_object(Bucket=bucket, Key=prefix + path, Body=data)
        artifacts[name] = Artifact(
            uri=f"s3://{bucket}/{prefix}{path}", sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data)
        )
    settings = {**source.lineage.settings, "rollout": {**ROLLOUT, **(settings or {}), "auto": auto_rollout}}
    return Registry().register(
        model, lineage=source.lineage.model_copy(update={"settings": settings}), artifacts=artifacts,
        metrics=source.metrics, family=source.family, evaluation=source.evaluation, auto_approve=True,
    )  # fmt: skip


def predict_path(model: str) -> str:
    """Several models share the stack (other tests bind theirs): each is asked on its own route."""
    return f"/models/{model}/predict"


def predict_body(version: ModelVersion, player: str) -> dict[str, Any]:
    golden = json.loads(client("s3").get_object(
        Bucket=split_uri(version.artifacts["golden_requests.json"].uri)[0],
        Key=split_uri(version.artifacts["golden_requests.json"].uri)[1],
    )["Body"].read())  # fmt: skip
    return {"player_id": player, "features": golden["requests"][0]["features"]}


@pytest.fixture(scope="module")
def promoted(stack: StackOutputs, alerts: Alerts) -> tuple[ModelVersion, str, float]:
    """Model v1 trained by the pipeline; its ModelApproved event starts the canary; wait for its end."""
    from liveml.data.synth import generate_players, player_contract

    model = unique_model("roll")
    upload_settings(stack, model, player_contract(), SETTINGS)
    upload(stack, f"datasets/{model}/players.csv", csv_bytes(generate_players(ROWS, 11)))
    arn = rollout_execution(stack, model, 1, timeout_s=600)
    started = time.monotonic()
    ended = finished(arn)
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    return Registry().get(model, 1), arn, time.monotonic() - started


def test_a_models_first_version_goes_to_100_percent_after_its_smoke_test_and_says_promoted(
    stack: StackOutputs, alerts: Alerts, function: PredictFunction, promoted: tuple[ModelVersion, str, float]
) -> None:
    # Nothing served the model before: a 10% canary would send nine requests in ten to "no such model".
    # (A canary of a model that serves, 10% then 100%: tests/integration/test_many_models.py.)
    version, _, _ = promoted
    record = RolloutStore().history(version.model)[0]
    events = [e["event"] for e in record["events"]]
    assert record["schedule"] == [100] and any("smoke test passed" in e for e in events), events
    assert not any("live: 10%" in e for e in events), events
    assert record["status"] == "promoted" and record["trigger"] == "ModelApproved"
    assert function.routing() == Routing(record["candidate"])  # 100%, no weights left
    assert version.stage is Stage.PRODUCTION and version.approval is Approval.APPROVED
    message = outcome(alerts, version.model, "promoted")
    assert "promoted" in message["Subject"]
    status, body = call_api(stack, "POST", predict_path(version.model), predict_body(version, "p-1"))
    assert status == 200 and body["model_version"] == "1", body


def test_observed_traffic_shares_follow_the_weights(
    stack: StackOutputs, function: PredictFunction, promoted: tuple[ModelVersion, str, float]
) -> None:
    from liveml.binding import Binding
    from liveml.binding.build import single_binding

    v1 = promoted[0]
    v2 = copy_version(v1.model, v1)
    stable = function.routing().version
    binding = Binding.one(single_binding(v2))
    candidate = function.publish(binding, description=f"{v1.model} v2 (traffic-share test)")
    function.route(stable, candidate, 0.3)
    try:
        seen = Counter(
            call_api(stack, "POST", predict_path(v1.model), predict_body(v1, f"p{i}"))[1].get("model_version")
            for i in range(300)
        )
    finally:
        function.route(stable)
    assert function.routing() == Routing(stable)
    assert seen["1"] + seen["2"] == 300, seen
    assert abs(seen["2"] / 300 - 0.3) < 0.08, seen


def test_the_smoke_test_stops_a_model_whose_golden_outputs_differ_before_traffic_moves(
    stack: StackOutputs, alerts: Alerts, function: PredictFunction, promoted: tuple[ModelVersion, str, float]
) -> None:
    v1 = promoted[0]
    before = function.routing()
    bad = copy_version(v1.model, v1, tamper_golden=True, auto_rollout=True)  # ModelApproved starts it

    ended = finished(rollout_execution(stack, v1.model, bad.version))

    assert ended["status"] == "FAILED"
    assert function.routing() == before
    rejected = Registry().get(v1.model, bad.version)
    assert rejected.approval is Approval.REJECTED and rejected.stage is Stage.ARCHIVED
    message = outcome(alerts, v1.model, "stopped")
    assert "golden request" in message["Message"] and "no traffic had moved" in message["Message"]


def test_a_slow_version_is_rolled_back_within_its_bake_and_players_keep_being_answered(
    stack: StackOutputs, alerts: Alerts, function: PredictFunction, controller: Controller,
    promoted: tuple[ModelVersion, str, float],
) -> None:  # fmt: skip
    v1 = promoted[0]
    stable = function.routing()
    slow = copy_version(v1.model, v1)
    settings: dict[str, Any] = {
        "percent": 50,
        "bake_s": 60,
        "check_every_s": 2,
        "max_p99_ms": 800,
        "drill": {"latency_ms": 1500},
    }
    statuses: list[int] = []
    stop = threading.Event()

    def players() -> None:
        i = 0
        while not stop.is_set():
            statuses.append(call_api(stack, "POST", predict_path(v1.model), predict_body(v1, f"live-{i}"))[0])
            i += 1

    traffic = threading.Thread(target=players)
    traffic.start()
    try:
        arn = controller.start(v1.model, slow.version, settings)
        ended = finished(arn)
        time.sleep(2)  # requests after the rollback
    finally:
        stop.set()
        traffic.join()

    assert ended["status"] == "FAILED" and ended.get("error") == "RolledBack"
    assert function.routing() == stable
    record = RolloutStore().history(v1.model)[0]
    shifted = next(e["at"] for e in record["events"] if "live: 50%" in e["event"])
    from datetime import datetime

    took = (datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(shifted)).total_seconds()
    assert took < settings["bake_s"], record["events"]
    rejected = Registry().get(v1.model, slow.version)
    assert rejected.approval is Approval.REJECTED
    message = outcome(alerts, v1.model, "rolled_back")
    assert "p99 latency" in message["Message"]
    assert statuses and set(statuses) == {200}, Counter(statuses)


def test_a_shadow_candidate_scores_live_requests_the_players_never_see(
    stack: StackOutputs, function: PredictFunction, promoted: tuple[ModelVersion, str, float]
) -> None:
    from liveml.rollout.shadow import Shadow

    v1 = promoted[0]
    before = function.routing()
    candidate = copy_version(v1.model, v1)
    shadow = Shadow(function)
    state = shadow.start(v1.model, candidate.version, 1.0)
    try:
        answers = [
            call_api(stack, "POST", predict_path(v1.model), predict_body(v1, f"s{i}")) for i in range(20)
        ]
        deadline = time.monotonic() + 90
        while True:
            report = shadow.report(v1.model)
            if (report and report[0]["requests"] >= 20) or time.monotonic() > deadline:
                break
            time.sleep(2)
    finally:
        shadow.stop(v1.model)
    assert {(s, b["model_version"]) for s, b in answers} == {(200, "1")}  # players got v1 only
    [row] = report
    assert row["candidate"] == state["candidate"] and row["model_version"] == str(candidate.version)
    assert row["requests"] == 20 and row["agreement"] == 1.0 and row["error_rate"] == 0.0
    assert function.routing() == before


def test_the_operator_promotes_then_rolls_back_in_one_call(
    stack: StackOutputs, function: PredictFunction, controller: Controller,
    promoted: tuple[ModelVersion, str, float],
) -> None:  # fmt: skip
    v1 = promoted[0]
    stable = function.routing()
    v_new = copy_version(v1.model, v1)
    arn = controller.start(v1.model, v_new.version, {"strategy": "all-at-once", "bake_s": 600})
    deadline = time.monotonic() + 120
    while True:  # wait until it has published and shifted
        record = controller.current(v1.model)
        if record and record.get("status") == "baking":
            break
        assert time.monotonic() < deadline, record
        time.sleep(1)

    done = controller.promote(v1.model, by="qa")
    assert function.routing() == Routing(done["candidate"])
    assert Registry().get(v1.model, v_new.version).stage is Stage.PRODUCTION
    assert client("stepfunctions").describe_execution(executionArn=arn)["status"] == "ABORTED"

    controller.rollback(v1.model, by="qa", reason="players report odd offers")

    assert function.routing() == stable
    assert Registry().production(v1.model).version == 1  # type: ignore[union-attr]
    assert Registry().get(v1.model, v_new.version).approval is Approval.REJECTED
    status, body = call_api(stack, "POST", predict_path(v1.model), predict_body(v1, "after"))
    assert status == 200 and body["model_version"] == "1"


def test_a_sticky_experiment_keeps_each_player_on_one_variant_and_concludes_through_a_rollout(
    stack: StackOutputs, function: PredictFunction, promoted: tuple[ModelVersion, str, float], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from liveml.binding import assign_variant
    from liveml.cli import app as cli

    v1 = promoted[0]
    b = copy_version(v1.model, v1)
    name = f"ab-{v1.model}"
    design = {
        "name": name, "model": v1.model, "variants": {"A": "1", "B": str(b.version)},
        "split": {"A": 0.5, "B": 0.5}, "salt": "salt-1",
        "metric": {"name": "d1_retention", "kind": "rate", "baseline": 0.3, "mde": 0.05},
    }  # fmt: skip
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(design))
    runner = CliRunner()

    created = runner.invoke(cli, ["experiment", "create", "-e", str(tmp_path / "exp.yaml")])
    assert created.exit_code == 0, created.output
    assert "players needed" in created.output and "running (sticky)" in created.output

    players = [f"player-{i}" for i in range(24)]
    path = predict_path(v1.model)
    rounds = [
        {p: call_api(stack, "POST", path, predict_body(v1, p))[1]["variant"] for p in players} for _ in "ab"
    ]
    assert rounds[0] == rounds[1]  # sticky
    split = [("A", 5000), ("B", 5000)]
    assert rounds[0] == {p: assign_variant("salt-1", p, split) for p in players}
    assert set(rounds[0].values()) == {"A", "B"}
    shown = runner.invoke(cli, ["experiment", "status", name])
    assert shown.exit_code == 0 and "running" in shown.output, shown.output

    concluded = runner.invoke(
        cli, ["experiment", "conclude", name, "--winner", "B", "--strategy", "all-at-once"]
    )
    assert concluded.exit_code == 0, concluded.output
    ended = finished(rollout_execution(stack, v1.model, b.version))
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    assert Registry().production(v1.model).version == b.version  # type: ignore[union-attr]
    assert call_api(stack, "POST", path, predict_body(v1, "p"))[1]["model_version"] == str(b.version)
    assert not function.routing().split
