"""Live accuracy: captured predictions joined with the outcomes that later events reveal.

For each window of predictions (a day by default) and each model version (with its A/B variant), once
the window's horizon has passed: ROC AUC with a DeLong interval, accuracy and per-class rates with Wilson
intervals, the Brier score and reliability bins — beside the holdout figures the registry holds. Before
the horizon has passed, and only where the version is calibrated on its holdout (expected calibration
error at most ``max_ece``), an estimate from its own probabilities (``estimate: true``): what the figures
would be if each player's outcome came with the probability the model gave it.

One record per window and version goes to ``s3://<data bucket>/monitoring/<model>/accuracy/
version=<v>/<window_end>.json``; measured windows also become the CloudWatch metrics ``LiveRocAuc`` and
``LiveAccuracy`` (dimensions model, version).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from liveml.monitoring.events import EventStore, days
from liveml.monitoring.labels import LabelSpec, events_frame, outcomes

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Z95 = 1.959963984540054


# ------------------------------------------------------------------ statistics


def wilson(successes: int, n: int, z: float = Z95) -> list[float] | None:
    """Wilson score interval of a proportion: sound at any n, including 0 or n successes."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _midranks(x: FloatArray) -> FloatArray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sorted_x = x[order]
    # Tied values share the mean of their positions (1-based).
    _, first, counts = np.unique(sorted_x, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def roc_auc_delong(
    y: np.ndarray[Any, Any], s: FloatArray, z: float = Z95
) -> tuple[float, list[float]] | None:
    """ROC AUC and its DeLong (1988) interval (Sun & Xu's fast midrank form), clipped to [0, 1];
    ``None`` when one class is absent."""
    positives, negatives = s[y == 1], s[y == 0]
    m, n = len(positives), len(negatives)
    if m == 0 or n == 0:
        return None
    both = _midranks(np.concatenate([positives, negatives]))
    within_pos, within_neg = _midranks(positives), _midranks(negatives)
    auc = float((both[:m].sum() - m * (m + 1) / 2) / (m * n))
    v10 = (both[:m] - within_pos) / n
    v01 = 1.0 - (both[m:] - within_neg) / m
    variance = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    half = z * math.sqrt(max(float(variance), 0.0))
    return auc, [max(0.0, auc - half), min(1.0, auc + half)]


def reliability(y: FloatArray, p: FloatArray, bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width probability bins: predicted mean, observed rate (with its Wilson interval), count."""
    index = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    out = []
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        if n == 0:
            continue
        hits = int(y[inside].sum())
        out.append(
            {
                "bin": [b / bins, (b + 1) / bins],
                "n": n,
                "predicted": float(p[inside].mean()),
                "observed": hits / n,
                "observed_ci": wilson(hits, n),
            }
        )
    return out


def expected_calibration_error(y: FloatArray, p: FloatArray, bins: int = 10) -> float:
    table = reliability(y, p, bins)
    return float(sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in table) / max(len(y), 1))


def measured(y: np.ndarray[Any, Any], p: FloatArray, pred: np.ndarray[Any, Any]) -> dict[str, Any]:
    """The figures of one window from its labelled rows."""
    n = len(y)
    correct = int((pred == y).sum())
    auc = roc_auc_delong(y, p)
    rates = {}
    for cls in (0, 1):
        support = int((y == cls).sum())
        hits = int(((pred == cls) & (y == cls)).sum())
        rates[str(cls)] = {
            "n": support,
            "recall": hits / support if support else None,
            "recall_ci": wilson(hits, support),
            "predicted_share": float((pred == cls).mean()) if n else None,
        }
    return {
        "roc_auc": auc[0] if auc else None,
        "roc_auc_ci": auc[1] if auc else None,
        "accuracy": correct / n if n else None,
        "accuracy_ci": wilson(correct, n),
        "brier": float(np.mean((p - y) ** 2)) if n else None,
        "positive_rate": float(y.mean()) if n else None,
        "reliability": reliability(y.astype(np.float64), p),
        "class_rates": rates,
    }


def estimated(
    p: FloatArray, pred: np.ndarray[Any, Any], *, draws: int = 200, seed: int = 0
) -> dict[str, Any]:
    """What a calibrated model's figures would be: expected accuracy and Brier in closed form, AUC and
    the intervals from labels drawn as Bernoulli(p) (a parametric bootstrap)."""
    rng = np.random.default_rng(seed)
    confidence = np.where(pred == 1, p, 1 - p)
    aucs, accs = [], []
    for _ in range(draws):
        y = (rng.random(len(p)) < p).astype(np.int64)
        found = roc_auc_delong(y, p)
        if found:
            aucs.append(found[0])
        accs.append(float((pred == y).mean()))
    return {
        "roc_auc": float(np.mean(aucs)) if aucs else None,
        "roc_auc_ci": [float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975))] if aucs else None,
        "accuracy": float(confidence.mean()),
        "accuracy_ci": [float(np.quantile(accs, 0.025)), float(np.quantile(accs, 0.975))],
        "brier": float(np.mean(p * (1 - p))),
        "positive_rate": float(p.mean()),
        "reliability": None,
        "class_rates": None,
    }


# ------------------------------------------------------------------ inputs


def read_captures(
    s3: Any, bucket: str, model: str, start: datetime, end: datetime, *, prefix: str = "captures"
) -> pd.DataFrame:
    """Captured predictions of ``model`` in [start, end): ``ts``, ``version``, ``variant``, ``player_id``,
    ``p`` (probability of the positive class, the last in class order) and ``pred`` (0/1)."""
    import pandas as pd

    wanted = {d.isoformat() for d in days(start, end)}
    rows: list[tuple[str, str, str, str, float, int]] = []
    base = f"{prefix}/model={model}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
        for obj in page.get("Contents", []):
            parts = dict(p.split("=", 1) for p in obj["Key"][len(base) :].split("/")[:-1] if "=" in p)
            if parts.get("dt") not in wanted:
                continue
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            for raw in body.splitlines():
                record = json.loads(raw)
                output = record.get("output") or {}
                probabilities = output.get("probabilities")
                if not isinstance(probabilities, dict) or len(probabilities) != 2:
                    continue  # a regression or multiclass model: live accuracy here is binary
                positive = list(probabilities)[-1]
                rows.append(
                    (
                        record["ts"],
                        str(record.get("version", parts.get("version"))),
                        str(record.get("variant") or "none"),
                        str(record["player_id"]),
                        float(probabilities[positive]),
                        int(str(output.get("prediction")) == positive),
                    )
                )
    frame = pd.DataFrame(rows, columns=["ts", "version", "variant", "player_id", "p", "pred"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return frame[(frame["ts"] >= pd.Timestamp(start)) & (frame["ts"] < pd.Timestamp(end))].reset_index(
        drop=True
    )


@dataclass(frozen=True)
class Holdout:
    """What the registry knows of a version: its holdout figures and whether it is calibrated."""

    roc_auc: float | None
    accuracy: float | None
    ece: float | None
    calibrated: bool


def registry_holdout(model: str, version: str, *, max_ece: float = 0.05) -> Holdout:
    """The registered version's holdout metrics, and its calibration measured on the stored holdout
    reference (labels and probabilities), verified by sha256."""
    from liveml.aws.s3 import get_bytes
    from liveml.registry import Registry
    from liveml.registry.errors import VersionNotFoundError

    try:
        entry = Registry().get(model, int(version))
    except (VersionNotFoundError, ValueError):
        log.warning("%s v%s is not in the registry: no holdout figures, no estimate", model, version)
        return Holdout(roc_auc=None, accuracy=None, ece=None, calibrated=False)
    ece = None
    artifact = entry.artifacts.get("holdout_reference.npz")
    if artifact is not None:
        data = get_bytes(artifact.uri)
        if hashlib.sha256(data).hexdigest() == artifact.sha256:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                # The holdout-scored model's probabilities when the served one was refit on every
                # row: the refit model has seen the holdout and would look better calibrated there.
                probs = npz["estimate"] if "estimate" in npz.files else npz["expected"]
                if "y_true" in npz.files and probs.ndim == 2 and probs.shape[1] == 2:
                    ece = expected_calibration_error(
                        npz["y_true"].astype(np.float64), probs[:, 1].astype(np.float64)
                    )
        else:
            log.error("holdout reference of %s v%s fails its sha256: calibration unknown", model, version)
    return Holdout(
        roc_auc=entry.metrics.get("roc_auc"),
        accuracy=entry.metrics.get("accuracy"),
        ece=ece,
        calibrated=ece is not None and ece <= max_ece,
    )


# ------------------------------------------------------------------ the scheduled step


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_key(model: str, version: str, window_end: datetime) -> str:
    return f"monitoring/{model}/accuracy/version={version}/{window_end.astimezone(UTC):%Y%m%dT%H%MZ}.json"


def score_windows(
    model: str,
    captures: pd.DataFrame,
    events: pd.DataFrame,
    label: LabelSpec,
    *,
    windows: list[tuple[datetime, datetime]],
    now: datetime,
    holdout: Callable[[str], Holdout],
) -> list[dict[str, Any]]:
    """One record per (window, version) with predictions: measured when the horizon has passed, else an
    estimate where the version is calibrated, else a record saying the labels are not due yet."""
    import pandas as pd

    records = []
    for start, end in windows:
        inside = captures[(captures["ts"] >= pd.Timestamp(start)) & (captures["ts"] < pd.Timestamp(end))]
        for version, rows in inside.groupby("version", sort=True):
            known = holdout(str(version))
            due = end + label.horizon <= now
            p = rows["p"].to_numpy(dtype=np.float64)
            pred = rows["pred"].to_numpy(dtype=np.int64)
            record: dict[str, Any] = {
                "model": model,
                "version": str(version),
                "variant": "+".join(sorted(rows["variant"].unique())),
                "window_start": _iso(start),
                "window_end": _iso(end),
                "labels_due": _iso(end + label.horizon),
                "n": len(rows),
                "labelled": 0,
                "estimate": False,
                "holdout_roc_auc": known.roc_auc,
                "holdout_accuracy": known.accuracy,
                "holdout_ece": known.ece,
                "calibrated": known.calibrated,
                "label": label.model_dump(),
            }
            if due:
                y = outcomes(events, rows["player_id"], rows["ts"], label)
                record |= measured(y, p, pred) | {"labelled": len(rows)}
            elif known.calibrated:
                record |= estimated(p, pred) | {"estimate": True}
            else:
                record |= {
                    "roc_auc": None,
                    "roc_auc_ci": None,
                    "accuracy": None,
                    "accuracy_ci": None,
                    "brier": None,
                }
            records.append(record)
    return records


def day_windows(
    now: datetime, count: int, length: timedelta = timedelta(days=1)
) -> list[tuple[datetime, datetime]]:
    """The last ``count`` whole windows before ``now`` (UTC days by default), oldest first."""
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(end - length * (i + 1), end - length * i) for i in reversed(range(count))]


def live_accuracy(
    model: str,
    *,
    bucket: str,
    store: EventStore,
    label: LabelSpec,
    game: str,
    s3: Any = None,
    cloudwatch: Any = None,
    now: datetime | None = None,
    windows: int = 7,
    holdout: Callable[[str, str], Holdout] = registry_holdout,
) -> list[dict[str, Any]]:
    """Score ``model``'s last ``windows`` days, write each record to S3 and measured ones to CloudWatch."""
    from liveml.aws.clients import client

    s3 = s3 or client("s3")
    now = now or datetime.now(UTC)
    spans = day_windows(now, windows)
    start, end = spans[0][0], spans[-1][1]
    captures = read_captures(s3, bucket, model, start, end)
    events = events_frame(
        store, game=game, types=label.event_types, start=start, end=min(now, end + label.horizon)
    )
    known: dict[str, Holdout] = {}

    def lookup(version: str) -> Holdout:
        if version not in known:
            known[version] = holdout(model, version)
        return known[version]

    records = score_windows(model, captures, events, label, windows=spans, now=now, holdout=lookup)
    metric_data: list[dict[str, Any]] = []
    for record in records:
        window_end = datetime.fromisoformat(record["window_end"])
        s3.put_object(
            Bucket=bucket,
            Key=record_key(model, record["version"], window_end),
            Body=json.dumps(record, indent=1).encode(),
            ContentType="application/json",
        )
        if record["labelled"] and record["roc_auc"] is not None:
            dims = [{"Name": "model", "Value": model}, {"Name": "version", "Value": record["version"]}]
            metric_data += [
                {
                    "MetricName": "LiveRocAuc",
                    "Dimensions": dims,
                    "Value": record["roc_auc"],
                    "Timestamp": window_end,
                },
                {
                    "MetricName": "LiveAccuracy",
                    "Dimensions": dims,
                    "Value": record["accuracy"],
                    "Timestamp": window_end,
                },
            ]
    from liveml.aws.cloudwatch import put_metrics

    put_metrics(metric_data, cloudwatch=cloudwatch)
    return records


def accuracy_scheduled(models: list[str] | None = None, *, windows: int = 7) -> dict[str, Any]:
    """Every model with an ``export:`` section (its label definition and game), or ``models``."""
    from liveml.config import Settings
    from liveml.monitoring.export import exporting_models, model_export_settings
    from liveml.monitoring.ingest import S3EventStore

    bucket = Settings().require("data_bucket")
    store = S3EventStore(bucket)
    summary, failures = {}, []
    for model in models or exporting_models(bucket, s3=store.s3):
        try:
            _, settings = model_export_settings(bucket, model, s3=store.s3)
            records = live_accuracy(
                model,
                bucket=bucket,
                store=store,
                label=settings.label,
                game=settings.game,
                s3=store.s3,
                windows=windows,
            )
            summary[model] = len(records)
        except Exception as exc:
            log.exception("live accuracy of %s failed", model)
            failures.append(f"{model}: {exc}")
    if failures:
        from liveml.monitoring.errors import MonitoringError

        raise MonitoringError("live accuracy failed for " + "; ".join(failures))
    return {"records": summary}
