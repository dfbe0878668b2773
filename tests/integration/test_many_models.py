"""Two models behind one API on LocalStack, each rolled out on its own: both trained by the pipeline
from their own uploads and answering through API Gateway; a canary of one never changes an answer of
the other; a rollout of the other started meanwhile waits for the alias and then completes; versions
approved while their model is mid-rollout go out after it (the newest wins, the older is superseded);
a rollback of one leaves the other's version as it is."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

from liveml.cli import app as cli
from liveml.registry import ModelVersion, Registry, Stage
from liveml.rollout import PredictFunction, RolloutStore
from liveml.rollout.control import Controller
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import csv_bytes, unique_model, upload, upload_settings
from tests.integration.test_rollout import copy_version, finished, predict_body, rollout_execution

ROWS = 1200
#: What these tests check is isolation and ordering, not health: a few probe rows make class shares coarse,
#: and the shared 2-core machine makes latency noisy.
LENIENT = {"probe_requests": 4, "max_p99_ms": 15_000, "max_class_shift": 1.0}
#: The canary the first models would run if something already served them (it must not: see below).
ROLLOUT = {"strategy": "canary", "percent": 10, "bake_s": 6, "check_every_s": 3, **LENIENT}
SETTINGS = {"trials": 2, "time_budget_s": 15, "cv_folds": 3, "seed": 0, "rollout": ROLLOUT}


def answer(
    stack: StackOutputs, model: ModelVersion | str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    name = model if isinstance(model, str) else model.model
    status, out = call_api(stack, "POST", f"/models/{name}/predict", body)
    return status, out


@pytest.fixture(scope="module")
def controller(stack: StackOutputs) -> Controller:
    return Controller(
        stack.raw["RolloutStateMachineArn"],
        PredictFunction(stack.predict_function),
        Registry(),
        RolloutStore(),
    )


@pytest.fixture(scope="module")
def two(stack: StackOutputs) -> tuple[ModelVersion, ModelVersion]:
    """Two uploads at once: two pipeline runs, two ModelApproved events, two first rollouts (one waits
    for the other's)."""
    from liveml.data.synth import generate_players, player_contract

    models = [unique_model("mma"), unique_model("mmb")]
    for model in models:
        upload_settings(stack, model, player_contract(), SETTINGS)
    for i, model in enumerate(models):
        upload(stack, f"datasets/{model}/players.csv", csv_bytes(generate_players(ROWS, 40 + i)))
    arns = [rollout_execution(stack, model, 1, timeout_s=900) for model in models]
    for arn in arns:
        ended = finished(arn, timeout_s=600)
        assert ended["status"] == "SUCCEEDED", ended.get("cause")
    a, b = (Registry().get(model, 1) for model in models)
    return a, b


def test_both_models_answer_and_each_first_rollout_went_to_100_after_its_smoke_test(
    stack: StackOutputs, two: tuple[ModelVersion, ModelVersion]
) -> None:
    for version in two:
        record = RolloutStore().history(version.model)[0]
        events = [e["event"] for e in record["events"]]
        assert record["status"] == "promoted" and record["schedule"] == [100], events
        assert any("smoke test passed" in e for e in events) and not any("10%" in e for e in events), events
        assert version.stage is Stage.PRODUCTION
        status, body = answer(stack, version, predict_body(version, "p-1"))
        assert status == 200 and body["model"] == version.model and body["model_version"] == "1", body
    status, served = call_api(stack, "GET", "/models")
    assert status == 200
    assert {two[0].model, two[1].model} <= {m["model"] for m in served["models"]}
    status, missing = answer(stack, "no-such-model", predict_body(two[0], "p-1"))
    assert status == 404 and two[0].model in missing["message"], missing
    status, latest = call_api(stack, "GET", f"/models/{two[1].model}/latest")
    assert status == 200 and latest["golden"]["url"] and "local_path" not in latest
    assert "s3://" not in json.dumps(latest)


def test_a_canary_of_one_never_changes_the_others_answers_and_the_others_rollout_waits(
    stack: StackOutputs, controller: Controller, two: tuple[ModelVersion, ModelVersion]
) -> None:
    a1, b1 = two
    a2 = copy_version(a1.model, a1)
    b2 = copy_version(b1.model, b1)
    baseline = [answer(stack, b1, predict_body(b1, f"b-{i}"))[1] for i in range(5)]
    canary = {"strategy": "canary", "percent": 10, "bake_s": 60, "check_every_s": 5, **LENIENT}

    seen: list[tuple[int, dict[str, Any]]] = []
    a_seen: Counter[str] = Counter()
    stop = threading.Event()

    def b_players(offset: int) -> None:
        i = offset
        while not stop.is_set():
            seen.append(answer(stack, b1, predict_body(b1, f"b-{i % 5}")))
            i += 1

    def a_players() -> None:
        i = 0
        while not stop.is_set():
            a_seen[answer(stack, a1, predict_body(a1, f"a-{i}"))[1].get("model_version", "?")] += 1
            i += 1

    arn_a = controller.start(a1.model, a2.version, canary)
    deadline = time.monotonic() + 120
    while (controller.current(a1.model) or {}).get("status") != "baking":
        assert time.monotonic() < deadline, controller.current(a1.model)
        time.sleep(1)
    traffic = [threading.Thread(target=b_players, args=(k,)) for k in range(3)]
    traffic.append(threading.Thread(target=a_players))
    for thread in traffic:
        thread.start()
    try:
        arn_b = controller.start(b1.model, b2.version, {"strategy": "all-at-once", **LENIENT})
        deadline = time.monotonic() + 60
        while not controller.status(b1.model)["queued"]:
            assert time.monotonic() < deadline, "the second model's rollout never showed as queued"
            time.sleep(1)
        shown = CliRunner().invoke(cli, ["rollout", "status", b1.model])
        assert shown.exit_code == 0 and "queued" in shown.output and a1.model in shown.output, shown.output
        ended_a = finished(arn_a, timeout_s=300)
    finally:
        stop.set()
        for thread in traffic:
            thread.join()
    assert ended_a["status"] == "SUCCEEDED", RolloutStore().history(a1.model)[0].get("reason")
    ended_b = finished(arn_b, timeout_s=300)
    assert ended_b["status"] == "SUCCEEDED", ended_b.get("cause")

    # Every answer of the other model during the canary: the same version, the same numbers.
    assert len(seen) >= 200, len(seen)
    for status, body in seen:
        assert status == 200, body
        expected = baseline[int(body["player_id"].split("-")[1])]
        assert (body["model_version"], body["probabilities"]) == ("1", expected["probabilities"]), body
    assert a_seen["2"] > 0 and a_seen["1"] > 0, a_seen  # the canary itself was split
    assert answer(stack, a1, predict_body(a1, "x"))[1]["model_version"] == str(a2.version)
    assert answer(stack, b1, predict_body(b1, "x"))[1]["model_version"] == str(b2.version)
    assert RolloutStore().queued(b1.model) == []


def test_versions_approved_mid_rollout_go_out_after_it_and_the_newest_wins(
    stack: StackOutputs, controller: Controller, two: tuple[ModelVersion, ModelVersion]
) -> None:
    a1 = two[0]
    a3 = copy_version(a1.model, a1)
    canary = {"strategy": "canary", "percent": 10, "bake_s": 15, **LENIENT}
    arn = controller.start(a1.model, a3.version, canary)
    deadline = time.monotonic() + 120
    while (controller.current(a1.model) or {}).get("status") != "baking":
        assert time.monotonic() < deadline
        time.sleep(1)
    older = copy_version(a1.model, a1, auto_rollout=True, settings=LENIENT)
    newest = copy_version(a1.model, a1, auto_rollout=True, settings=LENIENT)
    waiting = [rollout_execution(stack, a1.model, v.version) for v in (older, newest)]
    assert finished(arn, timeout_s=300)["status"] == "SUCCEEDED", RolloutStore().history(a1.model)[0]
    for execution in waiting:
        assert finished(execution, timeout_s=300)["status"] == "SUCCEEDED", RolloutStore().history(a1.model)[
            0
        ]

    superseded = Registry().get(a1.model, older.version)
    assert superseded.stage is Stage.ARCHIVED
    assert "superseded by" in superseded.history[-1].reason, superseded.history[-1]
    assert Registry().production(a1.model).version == newest.version  # type: ignore[union-attr]
    assert answer(stack, a1, predict_body(a1, "x"))[1]["model_version"] == str(newest.version)


def test_a_rollback_of_one_model_leaves_the_other_as_it_is(
    stack: StackOutputs, controller: Controller, two: tuple[ModelVersion, ModelVersion]
) -> None:
    a1, b1 = two
    a_before = answer(stack, a1, predict_body(a1, "r"))[1]
    b_before = answer(stack, b1, predict_body(b1, "r"))[1]
    assert b_before["model_version"] != "1"  # b was rolled forward by the test above

    controller.rollback(b1.model, by="qa", reason="rollback of one model")

    assert answer(stack, b1, predict_body(b1, "r"))[1]["model_version"] == "1"
    a_after = answer(stack, a1, predict_body(a1, "r"))[1]
    assert (a_after["model_version"], a_after["probabilities"]) == (
        a_before["model_version"],
        a_before["probabilities"],
    )
    assert Registry().production(b1.model).version == 1  # type: ignore[union-attr]
