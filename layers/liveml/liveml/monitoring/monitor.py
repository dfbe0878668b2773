"""One monitor run: every served model version's window of captures against its reference sketch.

Per (model, version) the run writes a monitoring record to
``s3://<data bucket>/monitoring/<model>/drift/version=<v>/<window end>.json`` and CloudWatch metrics
(namespace ``LiveML``): ``DriftScore`` by (model, version) and by (model, version, feature),
``DriftedFeatures`` and ``MonitoredRows`` by (model, version); and without dimensions, for the stack's
alarms, ``DriftScore`` (the largest in the run) and ``LiveRocAuc`` (the lowest measured live ROC AUC
among the versions' latest accuracy records). Then the retrain policy looks at the model's records.

A window with fewer than ``min_rows`` captures records ``not_enough_data``, a version without a
reference sketch ``no_reference``, captures whose features do not match the version's contract
``contract_changed``; none of them puts a drift score, so none alarms.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from liveml.aws import client
from liveml.aws.cloudwatch import put_metrics
from liveml.aws.s3 import get_bytes, get_text_if_exists
from liveml.config import Settings, env
from liveml.modeldir import MANIFEST, fetch_verified
from liveml.monitoring.drift import compare
from liveml.monitoring.policy import MonitorSettings, RetrainGate, decide, start_retraining
from liveml.monitoring.sketches import SKETCH_FILE, ReferenceSketch, prediction_values
from liveml.pipeline.settings import PipelineSettings
from liveml.registry import Registry, RegistryError

log = logging.getLogger(__name__)

CAPTURE_PREFIX = "captures"
MONITORING_PREFIX = "monitoring"
#: The default window, minutes (``LIVEML_MONITOR_WINDOW_MINUTES``); the schedule runs once per window.
DEFAULT_WINDOW_MINUTES = 15


class Status:
    OK = "ok"
    NOT_ENOUGH_DATA = "not_enough_data"
    NO_REFERENCE = "no_reference"
    CONTRACT_CHANGED = "contract_changed"


@dataclass(frozen=True)
class Window:
    """``[start, end)`` at minute granularity."""

    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime | None = None, minutes: int | None = None) -> Window:
        minutes = minutes or int(env("MONITOR_WINDOW_MINUTES") or DEFAULT_WINDOW_MINUTES)
        if minutes < 1:
            raise ValueError(f"a monitoring window is at least 1 minute, not {minutes}")
        end = (end or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
        return cls(end - timedelta(minutes=minutes), end)

    @property
    def stamp(self) -> str:
        """The window's end as a key-safe name: ``2026-12-02T01:15Z``."""
        return self.end.strftime("%Y-%m-%dT%H:%MZ")

    def hours(self) -> list[tuple[str, str]]:
        """The ``(dt, hour)`` capture partitions the window touches."""
        out = []
        at = self.start.replace(minute=0)
        while at < self.end:
            out.append((at.strftime("%Y-%m-%d"), at.strftime("%H")))
            at += timedelta(hours=1)
        return out

    def holds(self, ts: str) -> bool:
        try:
            moment = datetime.fromisoformat(ts)
        except (TypeError, ValueError):
            return False
        return self.start <= moment < self.end


def drift_key(model: str, version: str, window_end: str) -> str:
    return f"{MONITORING_PREFIX}/{model}/drift/version={version}/{window_end}.json"


def accuracy_prefix(model: str, version: str) -> str:
    return f"{MONITORING_PREFIX}/{model}/accuracy/version={version}/"


def read_records(s3: Any, bucket: str, prefix: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` monitoring records under a prefix, oldest first (keys sort by window end)."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json"))
    chosen = sorted(keys)[-limit:] if limit else sorted(keys)
    return [json.loads(get_bytes(f"s3://{bucket}/{k}", s3=s3)) for k in chosen]


# ---------------------------------------------------------------------------- the comparison


def check_contract(reference: ReferenceSketch, records: Sequence[dict[str, Any]]) -> str | None:
    """Why these captures were not written under the reference's contract, or None when they were:
    by the contract's sha256 that each capture carries, else (older captures) by their feature names."""
    hashes = {r["contract_sha256"] for r in records if isinstance(r.get("contract_sha256"), str)}
    if hashes - {reference.contract_sha256}:
        other, ours = sorted(hashes - {reference.contract_sha256})[0], reference.contract_sha256
        return f"captures were served under contract {other[:12]}, not the version's {ours[:12]}"
    known = set(reference.features) | set(reference.skipped)
    missing: set[str] = set()
    unknown: set[str] = set()
    for record in records:
        features = record.get("features")
        if not isinstance(features, dict):
            return "captures carry no feature object"
        missing |= set(reference.features) - features.keys()
        unknown |= features.keys() - known
    problems = []
    if missing:
        problems.append(f"features missing from captures: {', '.join(sorted(missing)[:10])}")
    if unknown:
        problems.append(f"features not in the version's contract: {', '.join(sorted(unknown)[:10])}")
    return "; ".join(problems) or None


def drift_record(
    model: str,
    version: str,
    window: Window,
    reference: ReferenceSketch | None,
    records: Sequence[dict[str, Any]],
    *,
    settings: MonitorSettings | None = None,
    task: str = "binary",
    classes: Sequence[str] | None = None,
    unreadable: int = 0,
) -> dict[str, Any]:
    """The monitoring record of one version's window (pure: no I/O)."""
    settings = settings or MonitorSettings()
    started = time.perf_counter()
    record: dict[str, Any] = {
        "model": model,
        "version": version,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "rows": len(records),
        "unreadable_lines": unreadable,
        "status": Status.OK,
        "reason": "",
        "score": None,
        "drifted": False,
        "drifted_features": [],
        "top_feature": None,
    }
    if reference is None:
        record.update(
            status=Status.NO_REFERENCE, reason=f"v{version} has no {SKETCH_FILE} (trained before sketches)"
        )
        return record
    if len(records) < settings.min_rows:
        record.update(
            status=Status.NOT_ENOUGH_DATA,
            reason=f"{len(records)} captured row(s) in the window, fewer than min_rows {settings.min_rows}",
        )
        return record
    changed = check_contract(reference, records)
    if changed:
        record.update(status=Status.CONTRACT_CHANGED, reason=changed)
        return record
    columns = {name: [r["features"].get(name) for r in records] for name in reference.features}
    outputs = [r.get("output") or {} for r in records]
    result = compare(
        reference,
        columns,
        predictions=prediction_values(task, outputs, classes),
        thresholds=settings.thresholds(),
    )
    record.update(result.to_dict())
    record["rows"] = len(records)
    record["thresholds"] = settings.model_dump(
        mode="json", include={"psi", "null_rate", "unseen_rate", "alpha"}
    )
    record["seconds"] = round(time.perf_counter() - started, 4)
    return record


# ---------------------------------------------------------------------------- reading and writing


def parse_lines(bodies: Iterable[bytes], window: Window) -> tuple[list[dict[str, Any]], int]:
    """Capture records inside the window, and the count of lines that were not JSON objects."""
    records: list[dict[str, Any]] = []
    unreadable = 0
    for body in bodies:
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                unreadable += 1
                continue
            if not isinstance(record, dict):
                unreadable += 1
            elif window.holds(str(record.get("ts", ""))):
                records.append(record)
    return records, unreadable


class Monitor:
    """Runs the monitor over every model in the registry. Takes its ports, so tests can pass fakes."""

    def __init__(
        self,
        *,
        bucket: str | None = None,
        registry: Registry | None = None,
        s3: Any = None,
        cloudwatch: Any = None,
        sns: Any = None,
        dynamodb: Any = None,
        alerts_topic: str | None = None,
    ) -> None:
        cfg = Settings()
        self.bucket = bucket or cfg.require("data_bucket")
        self.registry = registry or Registry()
        self.s3 = s3 or client("s3")
        self.cloudwatch = cloudwatch or client("cloudwatch")
        self.sns = sns
        self.alerts_topic = alerts_topic or cfg.alerts_topic
        self.gate = RetrainGate(self.registry.table, dynamodb=dynamodb or client("dynamodb"))

    # -- inputs ---------------------------------------------------------------------------------

    def captured_versions(self, model: str) -> list[str]:
        prefix = f"{CAPTURE_PREFIX}/model={model}/"
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/"
        )
        return [
            p["Prefix"][len(prefix) :].strip("/").removeprefix("version=")
            for page in pages
            for p in page.get("CommonPrefixes", [])
        ]

    def captures(self, model: str, version: str, window: Window) -> tuple[list[dict[str, Any]], int]:
        bodies = []
        for dt, hour in window.hours():
            prefix = f"{CAPTURE_PREFIX}/model={model}/version={version}/dt={dt}/hour={hour}/"
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    # a file is written after its records: one older than the window holds none of it
                    if obj["LastModified"] >= window.start:
                        bodies.append(self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read())
        return parse_lines(bodies, window)

    def reference(self, model: str, version: str) -> tuple[ReferenceSketch | None, str, list[str] | None]:
        """The version's sketch (sha256-checked), its task and classes; None when it has none."""
        try:
            found = self.registry.get(model, int(version))
        except (RegistryError, ValueError):
            return None, "binary", None
        artifact = found.artifacts.get(SKETCH_FILE)
        manifest_artifact = found.artifacts.get(MANIFEST)
        task, classes = "binary", None
        if manifest_artifact is not None:
            manifest = json.loads(fetch_verified(manifest_artifact.uri, manifest_artifact.sha256, s3=self.s3))
            task, classes = str(manifest.get("task", "binary")), manifest.get("classes")
        if artifact is None:
            return None, task, classes
        data = fetch_verified(artifact.uri, artifact.sha256, s3=self.s3)
        return ReferenceSketch.from_json(data), task, classes

    def settings(self, model: str) -> MonitorSettings:
        uri = f"s3://{self.bucket}/datasets/{model}/liveml.yaml"
        pipeline = PipelineSettings.from_yaml(get_text_if_exists(uri, s3=self.s3), where=uri)
        return MonitorSettings.model_validate(pipeline.monitor or {})

    def recent(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        return read_records(self.s3, self.bucket, prefix, limit)

    # -- one run --------------------------------------------------------------------------------

    def run(self, window: Window, *, models: Sequence[str] | None = None) -> dict[str, Any]:
        summary: dict[str, Any] = {"window_end": window.end.isoformat(), "models": {}}
        scores: list[float] = []
        roc_aucs: list[float] = []
        for model in models or self.registry.models():
            settings = self.settings(model)
            versions = set(self.captured_versions(model))
            production = self.registry.production(model)
            if production is not None:
                versions.add(str(production.version))
            records = []
            for version in sorted(versions, key=lambda v: (len(v), v)):
                reference, task, classes = self.reference(model, version)
                rows, unreadable = self.captures(model, version, window)
                record = drift_record(
                    model,
                    version,
                    window,
                    reference,
                    rows,
                    settings=settings,
                    task=task,
                    classes=classes,
                    unreadable=unreadable,
                )
                key = drift_key(model, version, window.stamp)
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=json.dumps(record).encode(),
                    ContentType="application/json",
                )
                self.put_metrics(record)
                if record["status"] == Status.OK:
                    scores.append(float(record["score"]))
                records.append(record)
            for version in versions:
                live = self.live_roc_auc(model, version, settings)
                if live is not None:
                    roc_aucs.append(live)
            summary["models"][model] = {
                "versions": [_brief(r) for r in records],
                "retrain": self.apply_policy(model, settings, records, window),
            }
        # Without dimensions, for the stack's alarms: the worst drift and the worst measured live ROC AUC.
        overall = [{"MetricName": "DriftScore", "Value": max(scores)}] if scores else []
        overall += [{"MetricName": "LiveRocAuc", "Value": min(roc_aucs)}] if roc_aucs else []
        put_metrics(overall, cloudwatch=self.cloudwatch)
        summary["max_score"] = max(scores, default=None)
        summary["min_live_roc_auc"] = min(roc_aucs, default=None)
        return summary

    def live_roc_auc(self, model: str, version: str, settings: MonitorSettings) -> float | None:
        """The version's latest measured (not estimated) live ROC AUC with enough labels, if any."""
        latest = self.recent(accuracy_prefix(model, version), 1)
        if not latest:
            return None
        record = latest[-1]
        enough = int(record.get("labelled") or 0) >= settings.min_labelled
        if record.get("estimate") or record.get("roc_auc") is None or not enough:
            return None
        return float(record["roc_auc"])

    def put_metrics(self, record: dict[str, Any]) -> None:
        dims = [
            {"Name": "model", "Value": record["model"]},
            {"Name": "version", "Value": str(record["version"])},
        ]
        data: list[dict[str, Any]] = [
            {"MetricName": "MonitoredRows", "Dimensions": dims, "Value": record["rows"]}
        ]
        if record["status"] == Status.OK:
            data.append({"MetricName": "DriftScore", "Dimensions": dims, "Value": record["score"]})
            data.append(
                {
                    "MetricName": "DriftedFeatures",
                    "Dimensions": dims,
                    "Value": len(record["drifted_features"]),
                }
            )
            for f in record["features"]:
                feature_dims = [*dims, {"Name": "feature", "Value": f["feature"]}]
                data.append({"MetricName": "DriftScore", "Dimensions": feature_dims, "Value": f["score"]})
        put_metrics(data, cloudwatch=self.cloudwatch)

    def apply_policy(
        self, model: str, settings: MonitorSettings, records: list[dict[str, Any]], window: Window
    ) -> dict[str, Any]:
        """Start one retraining when a version's drift or accuracy loss persists (and say so on SNS)."""
        for record in records:
            version = str(record["version"])
            drift = self.recent(f"{MONITORING_PREFIX}/{model}/drift/version={version}/", settings.windows)
            accuracy = self.recent(accuracy_prefix(model, version), settings.windows)
            decision = decide(settings, drift, accuracy)
            if decision.trigger is None:
                continue
            doc = {"trigger": decision.trigger.value, "reason": decision.reason, "version": version}
            now = datetime.now(UTC)
            if not self.gate.claim(
                model, doc, now=now, cooldown=timedelta(minutes=settings.cooldown_minutes)
            ):
                last = self.gate.last(model) or {}
                return {
                    "started": False,
                    "reason": f"cooling down: a retrain started at {last.get('at', '?')}",
                }
            dataset = start_retraining(
                self.bucket, model, decision.trigger, decision.reason, s3=self.s3, now=now
            )
            self.alert(
                model,
                f"LiveML: retraining {model} ({decision.trigger.value})",
                f"{decision.reason}\n\ndataset: {dataset}",
            )
            return {
                "started": True,
                "trigger": decision.trigger.value,
                "reason": decision.reason,
                "dataset": dataset,
            }
        return {"started": False, "reason": "no persistent drift or accuracy loss"}

    def alert(self, model: str, subject: str, message: str) -> None:
        if not self.alerts_topic:
            return
        sns = self.sns or client("sns")
        sns.publish(
            TopicArn=self.alerts_topic,
            Subject=subject[:100],
            Message=message,
            MessageAttributes={
                "model": {"DataType": "String", "StringValue": model},
                "kind": {"DataType": "String", "StringValue": "retrain"},
            },
        )


def _brief(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("version", "status", "reason", "rows", "score", "drifted", "top_feature", "drifted_features")
    return {k: record.get(k) for k in keys}


def run_monitor(
    window_end: datetime | None = None, *, minutes: int | None = None, **ports: Any
) -> dict[str, Any]:
    """The scheduled function's one call: the window ending at ``window_end`` (the schedule's time)."""
    return Monitor(**ports).run(Window.ending(window_end, minutes))


def scheduled_event(at: datetime, *, rule_arn: str = "") -> dict[str, Any]:
    """The event EventBridge's schedule sends the function (``time`` ends the window)."""
    return {
        "version": "0",
        "id": f"liveml-{at:%Y%m%dT%H%M%S}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": Settings().region,
        "resources": [rule_arn] if rule_arn else [],
        "detail": {},
    }


def invoke_monitor(
    function_name: str, at: datetime | None = None, *, lambda_client: Any = None
) -> dict[str, Any]:
    """Invoke the deployed monitor function as its schedule would, and return its summary."""
    from liveml.errors import LiveMLError

    event = scheduled_event(at or datetime.now(UTC))
    answer = (lambda_client or client("lambda")).invoke(
        FunctionName=function_name, Payload=json.dumps(event).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise LiveMLError(f"the monitor function failed: {message}")
    return dict(payload)
