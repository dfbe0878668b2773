"""The loop on LocalStack: simulated players' events go in through API Gateway, the export function
turns them into a labelled dataset under datasets/<model>/ (and a pipeline run starts from it), and the
accuracy function's live figures from delayed labels agree with a direct computation."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score

from liveml.aws import client
from liveml.data.synth_events import events_contract, export_settings, generate_events, to_batches
from liveml.monitoring.accuracy import record_key
from liveml.monitoring.export import TRIGGER_METADATA
from liveml.pipeline import find_execution
from liveml.serving.capture import PredictionCapture, S3CaptureSink
from liveml.stack import StackOutputs
from liveml.stack.api import call_api
from tests.integration.cloud import unique_model, upload_settings

NOW = datetime.now(UTC)
HORIZON = 14


def invoke(stack: StackOutputs, output: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer = client("lambda").invoke(FunctionName=stack.raw[output], Payload=json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


@pytest.fixture(scope="module")
def simulated(stack: StackOutputs) -> Iterator[tuple[str, pd.DataFrame]]:
    """A fresh model whose liveml.yaml exports from a fresh game, and 29 days of that game's events
    sent through POST /events."""
    model = unique_model("loop")
    settings = {
        "trials": 2,
        "time_budget_s": 20,
        "cv_folds": 3,
        "rollout": {"auto": False},
        "export": {**export_settings(horizon_days=HORIZON, lookback_days=14), "game": model},
    }
    upload_settings(stack, model, events_contract(), settings)
    frame = generate_events(700, 11, start=NOW - timedelta(days=29.5), days=29)
    frame = frame[frame["timestamp"] < NOW - timedelta(minutes=1)]
    for batch in to_batches(frame):
        # As the contract tells clients: a 5xx means resend the same events (their ids make it safe).
        for _ in range(3):
            status, answer = call_api(stack, "POST", "/events", {"game": model, "events": batch})
            if status < 500:
                break
        assert status == 200 and answer["accepted"] + answer["duplicates"] == len(batch), answer
        assert not answer["rejected"], answer
    yield model, frame


def test_the_scheduled_export_writes_a_labelled_dataset_that_starts_the_pipeline(
    stack: StackOutputs, simulated: tuple[str, pd.DataFrame]
) -> None:
    model, frame = simulated
    (result,) = invoke(stack, "ExportFunctionName", {"models": [model]})["exports"]
    key = result["uri"].removeprefix(f"s3://{stack.data_bucket}/")
    assert key.startswith(f"datasets/{model}/export-")
    s3 = client("s3")
    head = s3.head_object(Bucket=stack.data_bucket, Key=key)
    assert head["Metadata"][TRIGGER_METADATA] == "schedule"
    dataset = pd.read_csv(io.BytesIO(s3.get_object(Bucket=stack.data_bucket, Key=key)["Body"].read()))
    assert list(dataset.columns) == events_contract().column_names
    cutoff = pd.Timestamp(result["cutoff"])
    # The label, recomputed from the simulated events: no session within the horizon after the cutoff.
    sessions = frame[frame["type"] == "session_start"]
    back = sessions[
        (sessions["timestamp"] >= cutoff) & (sessions["timestamp"] < cutoff + timedelta(days=HORIZON))
    ]
    expected = (~dataset["player_id"].isin(set(back["player_id"]))).astype(int)
    assert (dataset["churned"] == expected).all()
    assert 0 < dataset["churned"].mean() < 1 and len(dataset) >= 200

    execution = find_execution(
        stack.training_state_machine_arn, stack.data_bucket, key, head.get("VersionId"), timeout_s=120
    )
    assert execution.arn  # the export's upload started a run: the loop is closed
    # A retry of the same schedule does not export (and start) twice.
    (again,) = invoke(stack, "ExportFunctionName", {"models": [model]})["exports"]
    assert again["skipped"] == "already exported"


def test_live_accuracy_from_delayed_labels_agrees_with_a_direct_computation(
    stack: StackOutputs, simulated: tuple[str, pd.DataFrame]
) -> None:
    model, frame = simulated
    rng = np.random.default_rng(3)
    day = (NOW - timedelta(days=HORIZON + 2)).replace(hour=0, minute=0, second=0, microsecond=0)
    sessions = frame[frame["type"] == "session_start"]
    players = sorted(frame["player_id"].unique())[:400]
    moments = [day + timedelta(seconds=int(s)) for s in rng.integers(0, 86_400, len(players))]
    truth = []
    for player, moment in zip(players, moments, strict=True):
        own = sessions[(sessions["player_id"] == player) & (sessions["timestamp"] >= moment)]
        truth.append(int(not (own["timestamp"] < moment + timedelta(days=HORIZON)).any()))
    y = np.array(truth)
    p = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.25, len(y)), 0.01, 0.99)  # a useful, imperfect model

    clock = [moments[0]]
    capture = PredictionCapture(
        S3CaptureSink(stack.data_bucket), model=model, sample_rate=1.0, clock=lambda: clock[0].timestamp()
    )
    for player, moment, prob in zip(players, moments, p, strict=True):
        clock[0] = moment
        output = {"prediction": "1" if prob >= 0.5 else "0", "probabilities": {"0": 1 - prob, "1": prob}}
        capture.add({"variant": "none", "player_id": player, "features": {}, "output": output}, version="1")
    capture.flush()

    invoke(stack, "AccuracyFunctionName", {"models": [model], "windows": HORIZON + 4})
    key = record_key(model, "1", day + timedelta(days=1))
    record = json.loads(client("s3").get_object(Bucket=stack.data_bucket, Key=key)["Body"].read())
    assert record["labelled"] == record["n"] == len(players) and record["estimate"] is False
    assert record["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
    assert record["accuracy"] == pytest.approx(accuracy_score(y, (p >= 0.5).astype(int)), abs=1e-9)
    assert record["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-9)
    assert record["roc_auc_ci"][0] < record["roc_auc"] < record["roc_auc_ci"][1]
    for field in (
        "model",
        "version",
        "variant",
        "window_start",
        "window_end",
        "holdout_roc_auc",
        "holdout_accuracy",
    ):
        assert field in record
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stats = client("cloudwatch").list_metrics(Namespace="LiveML", MetricName="LiveRocAuc")
        if any({"Name": "model", "Value": model} in m["Dimensions"] for m in stats["Metrics"]):
            break
        time.sleep(2)
    else:
        pytest.fail("LiveRocAuc was not put for the model")
