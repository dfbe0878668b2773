"""The loop on LocalStack: real captures through API Gateway, the real monitor function invoked as its
schedule would, its records and metrics, the drift alarm, and one retraining run whose registered
version's lineage says ``trigger: drift``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liveml.aws import client
from liveml.aws.s3 import get_bytes
from liveml.data.synth import generate_players, player_contract
from liveml.modeldir import HOLDOUT_ROWS
from liveml.monitoring.monitor import Window, drift_key, invoke_monitor
from liveml.pipeline import find_execution, wait_for_execution
from liveml.registry import ModelVersion, Registry
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import Alerts, captured_live, subscribe_alerts, train_by_pipeline


@pytest.fixture(scope="module")
def watched(stack: StackOutputs) -> Iterator[ModelVersion]:
    """A model trained by the pipeline (with its reference sketch), bound to `live` with every request
    captured; the alias is put back afterwards."""
    settings = {
        "trials": 3,
        "time_budget_s": 20,
        "cv_folds": 3,
        "rollout": {"auto": False},
        "monitor": {"windows": 2, "cooldown_minutes": 60, "min_rows": 100},
    }
    version = train_by_pipeline(stack, "watch", player_contract(), settings, generate_players(1500, 31))
    assert version.lineage.trigger == "upload"
    assert "reference_sketch.json" in version.artifacts
    with captured_live(stack, version, "monitoring test"):
        yield version


@pytest.fixture(scope="module")
def alerts(stack: StackOutputs) -> Iterator[Alerts]:
    yield from subscribe_alerts(stack)


def players(version: ModelVersion, *, shift: bool) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(get_bytes(version.artifacts[HOLDOUT_ROWS].uri).decode().splitlines()):
        features = json.loads(line)
        player = str(features.pop("player_id", f"p-{i}"))
        if shift:
            features["sessions_last_7d"] = min(int(features["sessions_last_7d"]) * 3 + 5, 500)
        rows.append({"player_id": player, "features": features})
    return rows


def send(stack: StackOutputs, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 100):
        status, body = call_api(stack, "POST", "/predict/batch", {"rows": rows[start : start + 100]})
        assert status == 200, body


def next_minute() -> datetime:
    now = datetime.now(UTC)
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    time.sleep((boundary - now).total_seconds() + 3)  # + the capture's 1 s flush
    return boundary


def monitor(stack: StackOutputs, at: datetime) -> dict[str, Any]:
    return invoke_monitor(stack.raw["MonitorFunctionName"], at)


def record(stack: StackOutputs, model: str, version: str, at: datetime) -> dict[str, Any]:
    key = drift_key(model, version, Window.ending(at).stamp)
    found: dict[str, Any] = json.loads(get_bytes(f"s3://{stack.data_bucket}/{key}"))
    return found


def executions_of(stack: StackOutputs, model: str) -> list[str]:
    sfn = client("stepfunctions")
    names = [
        e["name"] for e in sfn.list_executions(stateMachineArn=stack.training_state_machine_arn)["executions"]
    ]
    return [n for n in names if n.startswith(model[:40])]


def test_the_loop_flags_drift_and_retrains_once(
    stack: StackOutputs, watched: ModelVersion, alerts: Alerts
) -> None:
    model = watched.model
    send(stack, players(watched, shift=False))
    calm_at = next_minute()
    calm = monitor(stack, calm_at)["models"][model]
    assert calm["versions"][0]["status"] == "ok", calm
    assert not calm["versions"][0]["drifted"] and calm["retrain"]["started"] is False
    assert record(stack, model, "1", calm_at)["score"] < 1

    drifted = players(watched, shift=True)
    send(stack, drifted + drifted)
    runs: list[dict[str, Any]] = []
    for _ in range(3):  # windows: 2 -> the second drifted window retrains; the third is in the cool-down
        at = next_minute()
        runs.append(monitor(stack, at)["models"][model])
        seen = runs[-1]["versions"][0]
        assert seen["status"] == "ok" and seen["drifted"], seen
        assert seen["top_feature"] == "sessions_last_7d"
    # The stack's own schedule may run between these invocations, and may be the one that retrains:
    # what must hold is that exactly one retraining starts, and every later run is in its cool-down.
    started = [r["retrain"]["started"] for r in runs]
    assert sum(started) <= 1, [r["retrain"] for r in runs]
    assert runs[-1]["retrain"]["reason"].startswith("cooling down"), runs[-1]["retrain"]
    copies = client("s3").list_objects_v2(Bucket=stack.data_bucket, Prefix=f"datasets/{model}/retrain/")
    assert [c["Key"].rsplit("/", 2)[-2][-5:] for c in copies["Contents"]] == ["drift"]

    cloudwatch = client("cloudwatch")
    metrics = cloudwatch.list_metrics(Namespace="LiveML", MetricName="DriftScore")["Metrics"]
    assert any({"Name": "feature", "Value": "sessions_last_7d"} in m.get("Dimensions", []) for m in metrics)
    alarm = stack.raw["DriftAlarmName"]
    state = "?"
    for _ in range(45):
        state = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
        if state == "ALARM":
            break
        time.sleep(2)
    assert state == "ALARM"
    notes = alerts.for_model(model)
    assert any("retraining" in n["Subject"] and "sessions_last_7d" in n["Message"] for n in notes), notes

    bucket, key = stack.data_bucket, copies["Contents"][0]["Key"]
    head = client("s3").head_object(Bucket=bucket, Key=key)
    assert head["Metadata"]["liveml-trigger"] == "drift"
    execution = find_execution(
        stack.training_state_machine_arn, bucket, key, head.get("VersionId"), timeout_s=60
    )
    assert len(executions_of(stack, model)) == 2  # the upload's and exactly one retraining
    ended = wait_for_execution(execution.arn, timeout_s=600)
    assert ended.status == "SUCCEEDED", ended.cause
    retrained = Registry().get(model, 2)
    assert retrained.lineage.trigger == "drift"
    assert "sessions_last_7d" in retrained.lineage.trigger_reason
    assert len(executions_of(stack, model)) == 2


def test_windows_without_a_verdict_record_why_and_do_not_score(
    stack: StackOutputs, watched: ModelVersion
) -> None:
    model = watched.model
    s3 = client("s3")
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)

    def capture(version: str, at: datetime, features: dict[str, Any], n: int) -> None:
        line = {"ts": at.isoformat(), "model": model, "version": version, "variant": "live", "player_id": "p"}
        body = "".join(json.dumps({**line, "features": features, "output": {}}) + "\n" for _ in range(n))
        key = f"captures/model={model}/version={version}/dt={at:%Y-%m-%d}/hour={at:%H}/test-{version}.jsonl"
        s3.put_object(Bucket=stack.data_bucket, Key=key, Body=body.encode())

    golden = json.loads(get_bytes(watched.artifacts["golden_requests.json"].uri))["requests"][0]["features"]
    renamed = {("friend_count" if k == "friends" else k): v for k, v in golden.items()}
    capture("1", base - timedelta(minutes=5), renamed, 150)  # captures of another contract
    capture("99", base - timedelta(minutes=5), golden, 150)  # a version the registry does not know

    summary = monitor(stack, base)["models"][model]
    statuses = {v["version"]: v for v in summary["versions"]}
    assert statuses["1"]["status"] == "contract_changed" and "friends" in statuses["1"]["reason"]
    assert statuses["99"]["status"] == "no_reference"
    empty = monitor(stack, base - timedelta(hours=2))["models"][model]["versions"]
    assert {v["version"]: v["status"] for v in empty}["1"] == "not_enough_data"
    for v in [*summary["versions"], *empty]:
        assert not v["drifted"] and v["score"] is None
    assert summary["retrain"]["started"] is False
