"""Putting metrics into CloudWatch: one namespace for everything the stack measures (its alarms and
dashboard read it), in batches CloudWatch accepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liveml.aws.clients import client
from liveml.binding.constants import METRICS_NAMESPACE

#: ``PutMetricData`` takes at most 1,000 metrics (and 1 MB) per call; 500 leaves room for dimensions.
BATCH = 500


def put_metrics(data: Sequence[dict[str, Any]], *, cloudwatch: Any = None) -> None:
    """Put ``data`` (``MetricData`` entries) into the stack's namespace; nothing to put, no call."""
    if not data:
        return
    cloudwatch = cloudwatch or client("cloudwatch")
    for start in range(0, len(data), BATCH):
        cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=list(data[start : start + BATCH]))
