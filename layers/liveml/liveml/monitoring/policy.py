"""The retrain policy: drift or accuracy loss that persists starts the training pipeline, once.

Per model, in ``datasets/<model>/liveml.yaml``::

    monitor:
      windows: 3              # consecutive windows of drift (or of accuracy loss) before retraining
      cooldown_minutes: 1440  # no second retrain sooner than this after one started
      retrain_on: [drift, accuracy]
      accuracy_drop: 0.05     # live ROC AUC below the holdout's by more than this is a loss
      min_rows: 200           # a window with fewer captured rows is "not enough data"
      psi: 0.1                # effect floors of the drift verdict (liveml.monitoring.drift)
      null_rate: 0.05
      unseen_rate: 0.01

Retraining copies the latest dataset under ``datasets/<model>/`` to a new key with the S3 user metadata
``liveml-trigger`` and ``liveml-trigger-reason``; the copy starts the pipeline through the same
S3 → EventBridge → StartPipeline path as an upload, and the run records why it started. "Once" is a
conditional write in the registry table (``RETRAIN#LAST``): two monitor runs that decide together
start one pipeline, and none starts again within the cool-down.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from liveml.errors import LiveMLError
from liveml.pipeline.start import REASON_METADATA, TRIGGER_METADATA, Trigger, metadata_text

if TYPE_CHECKING:  # scipy stays out of the validate step, which checks these settings
    from liveml.monitoring.drift import DriftThresholds


class MonitorSettings(BaseModel):
    """A model's ``monitor:`` section; every field has a default, an unknown one is an error."""

    model_config = ConfigDict(extra="forbid")

    windows: int = Field(default=3, ge=1, le=1000)
    cooldown_minutes: float = Field(default=1440, ge=0)
    retrain_on: list[Trigger] = Field(default_factory=lambda: [Trigger.DRIFT, Trigger.ACCURACY])
    accuracy_drop: float = Field(default=0.05, gt=0, le=1)
    #: Labelled rows an accuracy record needs before it counts.
    min_labelled: int = Field(default=100, ge=1)
    min_rows: int = Field(default=200, ge=1)
    psi: float = Field(default=0.1, gt=0)
    null_rate: float = Field(default=0.05, gt=0, le=1)
    unseen_rate: float = Field(default=0.01, gt=0, le=1)
    alpha: float = Field(default=0.01, gt=0, lt=0.5)

    def thresholds(self) -> DriftThresholds:
        from liveml.monitoring.drift import DriftThresholds

        return DriftThresholds(
            psi=self.psi, null_rate=self.null_rate, unseen_rate=self.unseen_rate, alpha=self.alpha
        )


@dataclass(frozen=True)
class Decision:
    trigger: Trigger | None
    reason: str


def _drifted(record: dict[str, Any]) -> bool:
    return record.get("status") == "ok" and bool(record.get("drifted"))


def _drift_summary(record: dict[str, Any]) -> str:
    features = [f for f in record.get("features", []) if f.get("drifted")][:3]
    named = ", ".join(f"{f['feature']} ({'; '.join(f['reasons'])})" for f in features)
    if not named and (record.get("prediction") or {}).get("drifted"):
        named = "the prediction distribution"
    return named or "no feature named"


def _accuracy_loss(
    record: dict[str, Any], settings: MonitorSettings, drift_at: dict[str, dict[str, Any]]
) -> str | None:
    """Why this accuracy record is a loss, or None. An estimate counts only when drift corroborates it."""
    live, holdout = record.get("roc_auc"), record.get("holdout_roc_auc")
    if live is None or holdout is None or int(record.get("labelled") or 0) < settings.min_labelled:
        return None
    if float(holdout) - float(live) <= settings.accuracy_drop:
        return None
    kind = "estimated" if record.get("estimate") else "measured"
    if record.get("estimate") and not _drifted(drift_at.get(str(record.get("window_end")), {})):
        return None
    return f"{kind} ROC AUC {float(live):.3f} vs {float(holdout):.3f} on the holdout"


def decide(
    settings: MonitorSettings,
    drift_records: Sequence[dict[str, Any]],
    accuracy_records: Sequence[dict[str, Any]] = (),
) -> Decision:
    """Whether a version's recent records (oldest first) call for retraining, and why."""
    n = settings.windows
    if Trigger.DRIFT in settings.retrain_on:
        recent = list(drift_records)[-n:]
        if len(recent) == n and all(_drifted(r) for r in recent):
            last = recent[-1]
            return Decision(
                Trigger.DRIFT,
                f"drift in {n} consecutive window(s) up to {last['window_end']} (v{last['version']}, "
                f"score {float(last['score']):.2f}): {_drift_summary(last)}",
            )
    if Trigger.ACCURACY in settings.retrain_on:
        drift_at = {str(r.get("window_end")): r for r in drift_records}
        recent = list(accuracy_records)[-n:]
        losses = [_accuracy_loss(r, settings, drift_at) for r in recent]
        if len(recent) == n and all(losses):
            last = recent[-1]
            return Decision(
                Trigger.ACCURACY,
                f"accuracy loss in {n} consecutive window(s) up to {last['window_end']} "
                f"(v{last['version']}): {losses[-1]}",
            )
    return Decision(None, "no persistent drift or accuracy loss")


# ---------------------------------------------------------------------------- acting on a decision


class RetrainGate:
    """At most one retrain per model per cool-down: a conditional write in the registry table."""

    def __init__(self, table: str, *, dynamodb: Any) -> None:
        self.table = table
        self.db = dynamodb

    @staticmethod
    def _key(model: str) -> dict[str, Any]:
        return {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": "RETRAIN#LAST"}}

    def last(self, model: str) -> dict[str, Any] | None:
        item = self.db.get_item(TableName=self.table, Key=self._key(model), ConsistentRead=True).get("Item")
        return json.loads(item["doc"]["S"]) if item else None

    def claim(self, model: str, doc: dict[str, Any], *, now: datetime, cooldown: timedelta) -> bool:
        """Record this retrain unless one started within the cool-down; False when another holds it."""
        cutoff = (now - cooldown).isoformat()
        try:
            self.db.put_item(
                TableName=self.table,
                Item={**self._key(model), "at": {"S": now.isoformat()}, "doc": {"S": json.dumps(doc)}},
                ConditionExpression="attribute_not_exists(pk) OR #at < :cutoff",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":cutoff": {"S": cutoff}},
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True


def latest_dataset(bucket: str, model: str, *, s3: Any) -> dict[str, Any] | None:
    """The newest data object under ``datasets/<model>/`` (not a contract or settings file)."""
    from liveml.pipeline.settings import is_dataset_key

    newest: dict[str, Any] | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"datasets/{model}/"):
        for obj in page.get("Contents", []):
            if is_dataset_key(obj["Key"]) and (
                newest is None or obj["LastModified"] > newest["LastModified"]
            ):
                newest = obj
    return newest


def start_retraining(
    bucket: str, model: str, trigger: Trigger, reason: str, *, s3: Any, now: datetime | None = None
) -> str:
    """Copy the latest dataset to a new key that carries why; its upload event starts the pipeline."""
    source = latest_dataset(bucket, model, s3=s3)
    if source is None:
        raise LiveMLError(f"no dataset under s3://{bucket}/datasets/{model}/ to retrain {model} on")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    name = source["Key"].rsplit("/", 1)[-1]
    key = f"datasets/{model}/retrain/{stamp}-{trigger.value}/{name}"
    head = s3.head_object(Bucket=bucket, Key=source["Key"])
    s3.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": source["Key"]},
        MetadataDirective="REPLACE",
        ContentType=head.get("ContentType", "application/octet-stream"),
        Metadata={TRIGGER_METADATA: trigger.value, REASON_METADATA: metadata_text(reason)},
    )
    return f"s3://{bucket}/{key}"
