"""Prediction capture: keys, sampling, and that nothing accepted is lost silently.

moto stands in for S3 here because these are unit tests (no network); the LocalStack integration
tests check the same against a real S3 API.
"""

from __future__ import annotations

import atexit
import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveml.serving import PredictionCapture, S3CaptureSink, ServingModels, ServingSettings, create_app

BUCKET = "liveml-data"


def _objects(s3: Any) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
        out[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return out


class Clock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_records_land_partitioned_by_model_version_day_and_hour(s3: Any) -> None:
    clock = Clock()
    cap = PredictionCapture(S3CaptureSink(BUCKET, s3), model="churn", sample_rate=1.0, clock=clock)
    cap.add({"variant": "A", "features": {"level": 3}}, version="3")
    clock.now += 3600  # next hour
    cap.add({"variant": "B", "features": {"level": 4}}, version="4")
    assert cap.flush() == 2
    keys = sorted(_objects(s3))
    assert keys[0].startswith("captures/model=churn/version=3/dt=2026-01-01/hour=00/")
    assert keys[1].startswith("captures/model=churn/version=4/dt=2026-01-01/hour=01/")
    assert all(k.endswith(".jsonl") for k in keys)
    record = _objects(s3)[keys[0]][0]
    assert (
        record["model"] == "churn" and record["version"] == "3" and record["ts"].startswith("2026-01-01T00")
    )


def test_flush_is_due_by_age_or_size_and_after_invocation_flushes_old_buffers(s3: Any) -> None:
    clock = Clock()
    cap = PredictionCapture(
        S3CaptureSink(BUCKET, s3), model="m", sample_rate=1.0, max_age_s=30, max_records=3, clock=clock
    )
    cap._thread = threading.current_thread()  # no background thread: drive it by hand
    cap.add({"i": 1}, version="1")
    assert not cap.due() and cap.after_invocation() == 0  # young buffer: the invocation does not pay
    clock.now += 31
    assert cap.after_invocation() == 1  # old buffer: flushed before the sandbox may freeze
    for i in range(3):
        cap.add({"i": i}, version="1")
    assert cap.due()  # full


def test_failed_puts_keep_records_and_retry(s3: Any) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.fail = True
            self.inner = S3CaptureSink(BUCKET, s3)

        def put(self, key: str, body: bytes) -> None:
            if self.fail:
                raise ConnectionError("S3 unreachable")
            self.inner.put(key, body)

    clock = Clock()
    sink = Flaky()
    cap = PredictionCapture(sink, model="m", sample_rate=1.0, clock=clock)
    cap.add({"i": 1}, version="1")
    cap.add({"i": 2}, version="1")
    assert cap.flush() == 0 and cap.pending() == 2 and cap.stats.failed_puts == 1
    assert not cap.due()  # backing off
    sink.fail = False
    clock.now += 120
    assert cap.flush() == 2 and cap.pending() == 0
    assert [r["i"] for recs in _objects(s3).values() for r in recs] == [1, 2]
    assert cap.stats.dropped == 0


def test_overflow_while_s3_is_down_is_counted_not_silent(caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        def put(self, key: str, body: bytes) -> None:
            raise ConnectionError("down")

    cap = PredictionCapture(Down(), model="m", sample_rate=1.0, max_pending_records=5)
    for i in range(8):
        cap.add({"i": i}, version="1")
    cap.flush()
    assert cap.pending() == 5 and cap.stats.dropped == 3
    assert "dropped the 3 oldest" in caplog.text
    atexit.unregister(cap.close)  # S3 stays "down": no final flush attempt at interpreter exit


def test_close_flushes_everything_and_background_thread_flushes_by_age(s3: Any) -> None:
    cap = PredictionCapture(S3CaptureSink(BUCKET, s3), model="m", sample_rate=1.0, max_age_s=0.05)
    cap.add({"i": 1}, version="1")  # starts the background thread
    for _ in range(200):
        if cap.stats.flushed:
            break
        threading.Event().wait(0.01)
    assert cap.stats.flushed == 1
    cap.add({"i": 2}, version="1")
    cap.close()
    assert cap.pending() == 0 and cap.stats.flushed == 2


def test_sample_rate() -> None:
    values = iter([0.05, 0.5, 0.09, 0.99])
    cap = PredictionCapture(S3CaptureSink("b"), model="m", sample_rate=0.1, rng=lambda: next(values))
    assert [cap.sampled() for _ in range(4)] == [True, False, True, False]
    assert not PredictionCapture(None, model="m", sample_rate=1.0).sampled()  # no sink, no capture
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        PredictionCapture(S3CaptureSink("b"), model="m", sample_rate=1.5)


def test_the_api_captures_features_outputs_version_variant_and_latency(
    s3: Any, models: ServingModels, features: dict[str, Any]
) -> None:
    cap = PredictionCapture(S3CaptureSink(BUCKET, s3), model="churn", sample_rate=1.0, max_age_s=3600)
    app = create_app(models, ServingSettings(), capture=cap)
    with TestClient(app) as client:  # leaving the client runs the lifespan shutdown: a final flush
        for i in range(3):
            assert (
                client.post("/predict", json={"player_id": f"p{i}", "features": features}).status_code == 200
            )
        assert (
            client.post(
                "/predict/batch", json={"rows": [{"player_id": "b", "features": features}]}
            ).status_code
            == 200
        )
        assert cap.pending() == 4
    records = [r for recs in _objects(s3).values() for r in recs]
    assert len(records) == 4
    first = records[0]
    assert first["player_id"] == "p0" and first["version"] == "3" and first["variant"] == "default"
    assert first["features"]["level"] == features["level"]
    assert first["output"]["prediction"] in ("0", "1") and first["latency_ms"] > 0
