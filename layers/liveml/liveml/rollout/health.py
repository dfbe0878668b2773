"""Is the new version healthy? Two sources, one verdict.

1. **A bounded probe**, sent by the check itself to the new version directly: holdout rows of the
   model (``holdout_rows.jsonl``), one request each. Error rate, p99 latency, and the predicted-class
   shares against the holdout's (the column sums of the evaluation's confusion matrix). It works the
   same on LocalStack and AWS, and it judges the new version even when few players reach it.
2. **CloudWatch metrics** the predict function publishes (EMF: ``Requests``, ``Errors``, ``Latency``
   per model version and variant) over the bake so far: the players' own traffic. Where no data
   exists (little traffic, or LocalStack, which does not turn EMF logs into metrics) it abstains.

Any threshold crossed by either source fails the check, with every reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from liveml.rollout.probe import ProbeResult
from liveml.rollout.settings import RolloutSettings

log = logging.getLogger(__name__)

NAMESPACE = "LiveML"
SERVICE = "liveml-predict"


@dataclass
class Health:
    healthy: bool
    reasons: list[str] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "reasons": self.reasons,
            "probe": self.probe,
            "metrics": self.metrics,
        }


def holdout_class_shares(manifest: dict[str, Any]) -> dict[str, float] | None:
    """Predicted-class shares on the holdout: column sums of the confusion matrix (None for regression)."""
    matrix = (manifest.get("metrics") or {}).get("confusion_matrix")
    classes = manifest.get("classes")
    if not matrix or not classes:
        return None
    totals = [sum(row[j] for row in matrix) for j in range(len(classes))]
    n = sum(totals)
    return {str(c): t / n for c, t in zip(classes, totals, strict=True)} if n else None


def class_shift(observed: dict[str, int], reference: dict[str, float]) -> float:
    """Total variation distance between observed class counts and reference shares (0: same, 1: disjoint)."""
    n = sum(observed.values())
    if not n:
        return 1.0
    labels = set(observed) | set(reference)
    return 0.5 * sum(abs(observed.get(c, 0) / n - reference.get(c, 0.0)) for c in labels)


def traffic_metrics(cloudwatch: Any, model: str, version: str, since: datetime) -> dict[str, Any]:
    """Requests, errors and p99 latency the new version reported since ``since``; {} without data."""
    dims = [
        {"Name": "service", "Value": SERVICE},
        {"Name": "model", "Value": model},
        {"Name": "version", "Value": version},
        {"Name": "variant", "Value": "default"},
    ]
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = min(since, end - timedelta(minutes=2))

    def total(metric: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName=metric, Dimensions=dims,
            StartTime=start, EndTime=end, Period=60, Statistics=["Sum"],
        )["Datapoints"]  # fmt: skip
        return float(sum(p["Sum"] for p in points))

    try:
        requests = total("Requests")
        if not requests:
            return {}
        errors = total("Errors")
        latency = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName="Latency", Dimensions=dims,
            StartTime=start, EndTime=end, Period=60, ExtendedStatistics=["p99"],
        )["Datapoints"]  # fmt: skip
    except Exception as exc:  # a metrics read must never decide a rollout by crashing
        log.warning("no CloudWatch metrics for %s v%s: %s", model, version, exc)
        return {}
    p99 = max((float(p.get("ExtendedStatistics", {}).get("p99", 0)) for p in latency), default=0.0)
    return {"requests": requests, "errors": errors, "error_rate": errors / requests, "p99_ms": p99}


def judge(
    settings: RolloutSettings,
    probed: ProbeResult,
    reference_shares: dict[str, float] | None,
    traffic: dict[str, Any],
) -> Health:
    reasons: list[str] = []
    if probed.error_rate > settings.max_error_rate:
        reasons.append(
            f"probe error rate {probed.error_rate:.1%} over {settings.max_error_rate:.1%} "
            f"({probed.errors} of {probed.requests})"
        )
    if probed.p99_ms > settings.max_p99_ms:
        reasons.append(f"probe p99 latency {probed.p99_ms:.0f} ms over {settings.max_p99_ms:.0f} ms")
    shift = None
    if reference_shares is not None and probed.classes:
        shift = class_shift(probed.classes, reference_shares)
        if shift > settings.max_class_shift:
            reasons.append(
                f"predicted-class shares moved {shift:.2f} (total variation) from the holdout's, "
                f"over {settings.max_class_shift:.2f}"
            )
    if traffic:
        if traffic["error_rate"] > settings.max_error_rate:
            reasons.append(
                f"live error rate {traffic['error_rate']:.1%} over {settings.max_error_rate:.1%} "
                f"({traffic['errors']:.0f} of {traffic['requests']:.0f} requests)"
            )
        if traffic["p99_ms"] > settings.max_p99_ms:
            reasons.append(f"live p99 latency {traffic['p99_ms']:.0f} ms over {settings.max_p99_ms:.0f} ms")
    summary = probed.summary()
    if shift is not None:
        summary["class_shift"] = round(shift, 4)
    return Health(not reasons, reasons, summary, traffic)
