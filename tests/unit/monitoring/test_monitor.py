"""A monitor run over captures as the predict function writes them, against moto's S3, DynamoDB,
CloudWatch and SNS (unit tests; the integration test runs the real function on LocalStack)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from liveml.data.synth import generate_players
from liveml.monitoring.monitor import Monitor, Window, drift_key
from liveml.pipeline import PipelineError, PipelineSettings
from liveml.registry import Stage
from tests.unit.monitoring.conftest import CONTRACT, FakeStack

END = datetime(2025, 6, 2, 1, 15, tzinfo=UTC)  # in the past: files are written after their records


def _monitor(stack: FakeStack) -> Monitor:
    return Monitor(
        bucket=stack.bucket,
        registry=stack.registry,
        s3=stack.s3,
        cloudwatch=stack.cloudwatch,
        sns=stack.sns,
        dynamodb=stack.dynamodb,
        alerts_topic=stack.topic,
    )


def _record(stack: FakeStack, version: int, end: datetime = END) -> dict[str, Any]:
    key = drift_key("churn", str(version), Window.ending(end, 15).stamp)
    record: dict[str, Any] = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    return record


def _shifted(seed: int, rows: int = 600) -> pd.DataFrame:
    frame = generate_players(rows, seed=seed)
    frame["sessions_last_7d"] = frame["sessions_last_7d"] * 3 + 5
    return frame


def test_a_same_distribution_window_is_recorded_and_does_not_alarm(stack: FakeStack) -> None:
    version = stack.register()
    stack.capture("churn", version, END - timedelta(minutes=5), generate_players(600, seed=2))
    stack.capture("churn", version, END - timedelta(minutes=30), _shifted(3))  # an earlier window: ignored
    summary = _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["status"] == "ok" and record["rows"] == 600
    assert not record["drifted"] and record["score"] < 1
    assert summary["models"]["churn"]["retrain"]["started"] is False
    metrics = stack.cloudwatch.list_metrics(Namespace="LiveML", MetricName="DriftScore")["Metrics"]
    dims = [{d["Name"] for d in m["Dimensions"]} for m in metrics]
    assert {"model", "version"} in dims and {"model", "version", "feature"} in dims and set() in dims


def test_a_shifted_feature_is_named_top(stack: FakeStack) -> None:
    version = stack.register()
    stack.capture("churn", version, END - timedelta(minutes=5), _shifted(4))
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["drifted"] and record["top_feature"] == "sessions_last_7d"
    assert record["drifted_features"] == ["sessions_last_7d"]
    assert record["features"][0]["bins"]["labels"]  # what the report plots


def test_an_empty_window_of_the_production_version_is_not_enough_data(stack: FakeStack) -> None:
    version = stack.register()
    stack.registry.set_stage("churn", version, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["status"] == "not_enough_data" and record["rows"] == 0 and not record["drifted"]
    assert "fewer than min_rows" in record["reason"]
    assert stack.cloudwatch.list_metrics(Namespace="LiveML", MetricName="DriftScore")["Metrics"] == []


def test_a_version_without_a_reference_records_it(stack: FakeStack) -> None:
    version = stack.register(with_sketch=False)
    stack.capture("churn", version, END - timedelta(minutes=5), _shifted(5))
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["status"] == "no_reference" and not record["drifted"]


def test_captures_of_another_contract_record_contract_changed(stack: FakeStack) -> None:
    version = stack.register()
    frame = _shifted(6).rename(columns={"friends": "friend_count"})
    stack.capture("churn", version, END - timedelta(minutes=5), frame)
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["status"] == "contract_changed" and not record["drifted"]
    assert "friends" in record["reason"]


def test_captures_carry_their_contracts_hash_and_a_different_one_is_contract_changed(
    stack: FakeStack,
) -> None:
    version = stack.register()
    at = END - timedelta(minutes=5)
    stack.capture("churn", version, at, _shifted(4), contract_sha256=CONTRACT.sha256)
    _monitor(stack).run(Window.ending(END, 15))
    assert _record(stack, version)["status"] == "ok"  # the same contract: compared

    other = stack.register()
    stack.capture("churn", other, at, _shifted(4), contract_sha256="f" * 64)  # same names, other meaning
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, other)
    assert record["status"] == "contract_changed" and not record["drifted"]
    assert "ffffffffffff" in record["reason"] and CONTRACT.sha256[:12] in record["reason"]


def test_persistent_drift_starts_one_retraining_then_cools_down(stack: FakeStack) -> None:
    version = stack.register()
    stack.put(stack.bucket, "datasets/churn/liveml.yaml", b"monitor:\n  windows: 2\n  cooldown_minutes: 60\n")
    stack.put(stack.bucket, "datasets/churn/players.csv", b"a,b\n1,2\n")
    monitor = _monitor(stack)
    results = []
    for i in range(3):
        end = END + timedelta(minutes=15 * i)
        stack.capture("churn", version, end - timedelta(minutes=5), _shifted(10 + i))
        results.append(monitor.run(Window.ending(end, 15))["models"]["churn"]["retrain"])
    assert [r["started"] for r in results] == [False, True, False], results
    assert results[1]["trigger"] == "drift" and "sessions_last_7d" in results[1]["reason"]
    assert results[2]["reason"].startswith("cooling down")
    copies = stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="datasets/churn/retrain/")["Contents"]
    assert len(copies) == 1 and copies[0]["Key"].endswith("-drift/players.csv")
    meta = stack.s3.head_object(Bucket=stack.bucket, Key=copies[0]["Key"])["Metadata"]
    assert meta["liveml-trigger"] == "drift" and "2 consecutive window(s)" in meta["liveml-trigger-reason"]


def test_unreadable_capture_lines_are_counted_not_fatal(stack: FakeStack) -> None:
    version = stack.register()
    stack.capture("churn", version, END - timedelta(minutes=5), generate_players(300, seed=7))
    stack.put(
        stack.bucket,
        f"captures/model=churn/version={version}/dt=2025-06-02/hour=01/bad.jsonl",
        b"{not json\n[1]\n",
    )
    _monitor(stack).run(Window.ending(END, 15))
    record = _record(stack, version)
    assert record["status"] == "ok" and record["unreadable_lines"] == 2 and record["rows"] == 300


def test_monitor_settings_are_strict() -> None:
    assert PipelineSettings.from_yaml("monitor:\n  windows: 4\n").monitor == {"windows": 4}
    with pytest.raises(PipelineError, match="windws"):
        PipelineSettings.from_yaml("monitor:\n  windws: 4\n")
    with pytest.raises(PipelineError, match="retrain_on"):
        PipelineSettings.from_yaml("monitor:\n  retrain_on: [sometimes]\n")


def test_windows_are_minute_granular() -> None:
    window = Window.ending(datetime(2026, 12, 2, 1, 15, 42, tzinfo=UTC), 3)
    assert (window.start.minute, window.end.minute, window.end.second) == (12, 15, 0)
    assert window.stamp == "2026-12-02T01:15Z"
    assert Window.ending(datetime(2026, 12, 2, 1, 5, tzinfo=UTC), 90).hours() == [
        ("2026-12-01", "23"),
        ("2026-12-02", "00"),
        ("2026-12-02", "01"),
    ]


def test_the_report_draws_drift_distributions_and_live_accuracy(stack: FakeStack, tmp_path: Path) -> None:
    from liveml.monitoring.monitor import read_records
    from liveml.monitoring.report import write_report

    version = stack.register()
    for i, frame in enumerate([generate_players(400, seed=20), _shifted(21, 400)]):
        end = END + timedelta(minutes=15 * i)
        stack.capture("churn", version, end - timedelta(minutes=5), frame)
        _monitor(stack).run(Window.ending(end, 15))
        accuracy: dict[str, Any] = {
            "model": "churn",
            "version": str(version),
            "variant": "live",
            "window_end": end.isoformat(),
        }
        accuracy |= {
            "n": 400,
            "labelled": 300,
            "roc_auc": 0.84 - 0.1 * i,
            "roc_auc_ci": [0.8 - 0.1 * i, 0.88 - 0.1 * i],
        }
        accuracy |= {"accuracy": 0.8, "holdout_roc_auc": 0.86, "estimate": i == 1}
        stack.put(
            stack.bucket,
            f"monitoring/churn/accuracy/version={version}/{end:%Y-%m-%dT%H:%MZ}.json",
            json.dumps(accuracy).encode(),
        )
    drift = read_records(stack.s3, stack.bucket, "monitoring/churn/drift/")
    accuracy_records = read_records(stack.s3, stack.bucket, "monitoring/churn/accuracy/")
    assert [r["drifted"] for r in drift] == [False, True]
    html = write_report("churn", drift, accuracy_records, tmp_path / "monitoring.html").read_text()
    assert "sessions_last_7d: reference vs live" in html and "Live accuracy over time" in html
    assert html.count("data:image/png;base64,") >= 4  # drift over time, the feature, the prediction, accuracy


def test_the_lowest_measured_live_roc_auc_is_put_for_the_alarm(stack: FakeStack) -> None:
    version = stack.register()
    stack.capture("churn", version, END - timedelta(minutes=5), generate_players(300, seed=8))
    for estimate, roc_auc, end in ((False, 0.71, "2025-06-02T01:00Z"), (True, 0.5, "2025-06-02T01:15Z")):
        record = {"version": str(version), "window_end": end, "labelled": 400, "roc_auc": roc_auc}
        record |= {"holdout_roc_auc": 0.86, "estimate": estimate}
        key = f"monitoring/churn/accuracy/version={version}/{end}.json"
        stack.put(stack.bucket, key, json.dumps(record).encode())
    summary = _monitor(stack).run(Window.ending(END, 15))
    assert summary["min_live_roc_auc"] is None  # the latest record is an estimate: not a measurement
    key = f"monitoring/churn/accuracy/version={version}/2025-06-02T01:30Z.json"
    stack.put(stack.bucket, key, json.dumps({"labelled": 400, "roc_auc": 0.71, "estimate": False}).encode())
    assert _monitor(stack).run(Window.ending(END, 15))["min_live_roc_auc"] == 0.71
    names = {
        m["MetricName"]
        for m in stack.cloudwatch.list_metrics(Namespace="LiveML")["Metrics"]
        if not m["Dimensions"]
    }
    assert names == {"DriftScore", "LiveRocAuc"}
