"""CloudWatch metrics (EMF through powertools) per model version and variant.

Requests only bump in-memory counters (a dict update); :meth:`ServingMetrics.flush` writes one EMF
document per (version, variant) with powertools' ``EphemeralMetrics``, whose dimensions are its own —
the shared ``Metrics`` singleton holds one dimension set per flush, and an A/B function serves two
variants. Under uvicorn a flush happens every ``interval_s`` (checked on the request path, no timer
thread) and at shutdown. The Lambda handler calls :meth:`ServingMetrics.flush_if_due` after each
invocation: it writes when the last flush is ``max_age_s`` old (the first invocation of a sandbox
always writes) or when an error is pending, so a canary's error alarm sees errors at once while a busy
sandbox writes once a second instead of once a request. What a sandbox reclaimed right after a burst
still holds (at most ``max_age_s`` of counts, and no errors) is the price; it is documented.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from liveml.binding.constants import METRICS_NAMESPACE, SERVICE_NAME


@dataclass
class _Series:
    latency_ms: list[float] = field(default_factory=list)
    requests: int = 0
    predictions: int = 0
    client_errors: int = 0
    errors: int = 0
    classes: dict[str, int] = field(default_factory=dict)


class ServingMetrics:
    """Aggregates per (version, variant) and flushes as EMF."""

    def __init__(
        self,
        model: str,
        *,
        namespace: str = METRICS_NAMESPACE,
        service: str = SERVICE_NAME,
        interval_s: float = 60.0,
        max_age_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.namespace = namespace
        self.service = service
        self.interval_s = interval_s
        self.max_age_s = max_age_s
        self._clock = clock
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._lock = threading.Lock()
        self._last_flush = clock()
        self._flushed_once = False
        self._errors_pending = False

    def _get(self, version: str, variant: str, model: str | None) -> _Series:
        key = (model or self.model, version, variant)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        return series

    def record(
        self,
        version: str,
        variant: str,
        latency_ms: float,
        labels: list[str | None],
        *,
        model: str | None = None,
    ) -> None:
        """One request of ``model`` (default: this object's) answered with ``len(labels)`` predictions
        (labels are None for regression)."""
        with self._lock:
            s = self._get(version, variant, model)
            s.requests += 1
            s.latency_ms.append(latency_ms)
            s.predictions += len(labels)
            for label in labels:
                if label is not None:
                    s.classes[label] = s.classes.get(label, 0) + 1
            due = len(s.latency_ms) >= 100 or self._clock() - self._last_flush >= self.interval_s
        if due and self.interval_s > 0:
            self.flush()

    def error(self, version: str, variant: str, status: int, *, model: str | None = None) -> None:
        with self._lock:
            s = self._get(version, variant, model)
            self._errors_pending = True
            if status >= 500:
                s.errors += 1
            else:
                s.client_errors += 1

    def flush_if_due(self) -> bool:
        """Flush when an error is pending, on a sandbox's first call, or ``max_age_s`` after the last
        flush; True when it flushed."""
        with self._lock:
            due = bool(self._series) and (
                self._errors_pending
                or not self._flushed_once
                or self._clock() - self._last_flush >= self.max_age_s
            )
        if due:
            self.flush()
        return due

    def flush(self) -> None:
        with self._lock:
            series, self._series = self._series, {}
            self._last_flush = self._clock()
            self._flushed_once = True
            self._errors_pending = False
        for (model, version, variant), s in series.items():
            emf = EphemeralMetrics(namespace=self.namespace, service=self.service)
            emf.add_dimension(name="model", value=model)
            emf.add_dimension(name="version", value=version)
            emf.add_dimension(name="variant", value=variant)
            for value in s.latency_ms:
                emf.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=value)
            if s.requests:
                emf.add_metric(name="Requests", unit=MetricUnit.Count, value=s.requests)
                emf.add_metric(name="Predictions", unit=MetricUnit.Count, value=s.predictions)
            # Error counts only when non-zero: each metric costs ~10 µs per flush, and alarms read
            # Errors / Requests with FILL(0) (treat missing data as not breaching).
            if s.client_errors:
                emf.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=s.client_errors)
            if s.errors:
                emf.add_metric(name="Errors", unit=MetricUnit.Count, value=s.errors)
            for label, count in s.classes.items():
                emf.add_metric(name=f"PredictedClass_{label}"[:250], unit=MetricUnit.Count, value=count)
            emf.flush_metrics()
