"""Live accuracy: captured predictions (written by the serving capture) joined with labels from later
events agree with scikit-learn on the same rows; windows whose horizon has not passed are estimated only
for a calibrated version; the intervals behave (Wilson against statsmodels, DeLong around the AUC)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, recall_score, roc_auc_score
from statsmodels.stats.proportion import proportion_confint

from liveml.monitoring import FolderEventStore
from liveml.monitoring.accuracy import (
    Holdout,
    expected_calibration_error,
    live_accuracy,
    roc_auc_delong,
    wilson,
)
from liveml.monitoring.events import Event, stored_line, write_lines
from liveml.monitoring.labels import LabelSpec
from liveml.serving.capture import PredictionCapture, S3CaptureSink

NOW = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
LABEL = LabelSpec(kind="churn", horizon_days=7)


@pytest.fixture
def s3(moto: None) -> Any:
    """moto stands in for S3 and CloudWatch in this unit test."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="data")
    return client


def simulate(
    s3: Any, store: FolderEventStore, *, n_per_day: int, day_list: list[datetime]
) -> list[dict[str, Any]]:
    """Predictions captured through the serving capture, and sessions after them that decide the labels:
    a churner (label 1) has no session within 7 days of the prediction. Returns the truth per capture."""
    rng = np.random.default_rng(5)
    truth = []
    lines = []
    moment = [day_list[0]]
    capture = PredictionCapture(
        S3CaptureSink("data", s3), model="churn", sample_rate=1.0, clock=lambda: moment[0].timestamp()
    )
    for d, day in enumerate(day_list):
        for i in range(n_per_day):
            player = f"p{d}-{i}"
            risk = rng.normal()
            p = float(1 / (1 + np.exp(-risk)))
            churned = int(rng.random() < 1 / (1 + np.exp(-1.4 * risk)))  # the model is good, not perfect
            moment[0] = day + timedelta(seconds=int(rng.integers(0, 86_400)))
            version = "3" if i % 2 else "4"
            capture.add(
                {
                    "variant": "A" if version == "3" else "B",
                    "player_id": player,
                    "features": {},
                    "output": {"prediction": "1" if p >= 0.5 else "0", "probabilities": {"0": 1 - p, "1": p}},
                },
                version=version,
            )
            if not churned:
                back = moment[0] + timedelta(days=float(rng.uniform(0.01, 6.9)))
                event = Event.model_validate(
                    {
                        "event_id": f"{player}-back",
                        "player_id": player,
                        "type": "session_start",
                        "timestamp": back.isoformat(),
                    }
                )
                lines.append(stored_line(event, "default", back))
            truth.append({"version": version, "day": day, "p": p, "y": churned})
    capture.flush()
    write_lines(store, lines, received_at=NOW)
    return truth


def holdout(calibrated: bool) -> Any:
    def lookup(model: str, version: str) -> Holdout:
        return Holdout(roc_auc=0.8, accuracy=0.74, ece=0.02 if calibrated else 0.2, calibrated=calibrated)

    return lookup


def accuracy(s3: Any, store: FolderEventStore, *, windows: int, calibrated: bool) -> Any:
    """``live_accuracy`` of churn on the captures ``simulate`` wrote, as of ``NOW``."""
    return live_accuracy(
        "churn",
        bucket="data",
        store=store,
        label=LABEL,
        game="default",
        s3=s3,
        now=NOW,
        windows=windows,
        holdout=holdout(calibrated=calibrated),
    )


def test_live_accuracy_agrees_with_scikit_learn_on_the_joined_rows(s3: Any, tmp_path: Path) -> None:
    store = FolderEventStore(tmp_path)
    day_list = [datetime(2026, 12, d, tzinfo=UTC) for d in (10, 11)]
    truth = simulate(s3, store, n_per_day=800, day_list=day_list)
    records = accuracy(s3, store, windows=10, calibrated=True)
    measured = [r for r in records if r["labelled"]]
    assert [(r["window_start"][:10], r["version"]) for r in measured] == [
        ("2026-12-10", "3"),
        ("2026-12-10", "4"),
        ("2026-12-11", "3"),
        ("2026-12-11", "4"),
    ]
    for record in measured:
        rows = [
            t
            for t in truth
            if t["version"] == record["version"] and t["day"].isoformat()[:10] == record["window_start"][:10]
        ]
        y = np.array([t["y"] for t in rows])
        p = np.array([t["p"] for t in rows])
        pred = (p >= 0.5).astype(int)
        assert record["n"] == record["labelled"] == len(rows)
        assert record["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert record["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
        assert record["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
        assert record["class_rates"]["1"]["recall"] == pytest.approx(recall_score(y, pred), abs=1e-12)
        assert record["roc_auc_ci"][0] < record["roc_auc"] < record["roc_auc_ci"][1]
        assert record["variant"] == ("A" if record["version"] == "3" else "B")
        assert record["estimate"] is False and record["holdout_roc_auc"] == 0.8
        stored = json.loads(
            s3.get_object(
                Bucket="data",
                Key=f"monitoring/churn/accuracy/version={record['version']}/"
                f"{record['window_end'][:10].replace('-', '')}T0000Z.json",
            )["Body"].read()
        )
        assert stored["roc_auc"] == record["roc_auc"]


def test_windows_before_their_horizon_are_estimated_only_when_calibrated(s3: Any, tmp_path: Path) -> None:
    store = FolderEventStore(tmp_path)
    simulate(s3, store, n_per_day=300, day_list=[datetime(2026, 12, 18, tzinfo=UTC)])  # due on the 26th
    (a, _) = accuracy(s3, store, windows=3, calibrated=True)
    assert a["estimate"] is True and a["labelled"] == 0 and a["labels_due"] == "2026-12-26T00:00:00Z"
    assert 0.5 < a["roc_auc"] < 1 and a["roc_auc_ci"][0] <= a["roc_auc"] <= a["roc_auc_ci"][1]
    (c, _) = accuracy(s3, store, windows=3, calibrated=False)
    assert c["estimate"] is False and c["roc_auc"] is None and c["accuracy"] is None


@pytest.mark.parametrize(("k", "n"), [(0, 5), (5, 5), (3, 10), (480, 1000), (1, 1)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(list(proportion_confint(k, n, method="wilson")), abs=1e-9)
    assert wilson(0, 0) is None


def test_delong_interval_matches_a_bootstrap_and_handles_ties() -> None:
    rng = np.random.default_rng(1)
    n = 800
    y = rng.integers(0, 2, n)
    s = np.round(y * 0.6 + rng.normal(0, 0.5, n), 1)  # rounded: many ties
    found = roc_auc_delong(y, s)
    assert found is not None
    auc, (lo, hi) = found
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    resampled = [roc_auc_score(y[i], s[i]) for i in rng.integers(0, n, (300, n))]
    assert (hi - lo) / (2 * 1.959964) == pytest.approx(np.std(resampled), rel=0.15)
    assert roc_auc_delong(np.zeros(5, dtype=int), np.arange(5.0)) is None


def test_calibration_error_tells_calibrated_from_overconfident() -> None:
    rng = np.random.default_rng(2)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(float)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p * 2 - 0.5, 0, 1)) > 0.1
