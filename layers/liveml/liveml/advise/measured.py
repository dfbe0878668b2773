"""The model's measured cost per request and its EKS sizing: the one place the assistant imports the
serving path's Kubernetes module (measurement in a fresh process, sizing, manifests)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from liveml.advise.errors import AdviseError
from liveml.eks.kubernetes import (
    SERVER_OVERHEAD_MS,
    Measurement,
    Sizing,
    base_manifests,
    measure,
    size,
)

__all__ = [
    "SERVER_OVERHEAD_MS",
    "Measurement",
    "Sizing",
    "base_manifests",
    "load_measurement",
    "measure_model",
    "measurement_dict",
    "size",
]


def measure_model(model_dir: Path, *, requests: int = 500) -> Measurement:
    """Median and p99 ms per single-row request through the serving app, and resident memory."""
    try:
        return measure(model_dir, requests=requests)
    except RuntimeError as exc:
        raise AdviseError(str(exc)) from None


def load_measurement(path: Path) -> Measurement:
    """A measurement saved before: ``measurement.json`` from ``liveml advise deploy`` or the
    ``sizing.json`` that ``liveml eks render`` writes (its ``measurement`` key)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AdviseError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise AdviseError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("measurement"), dict):
        data = data["measurement"]
    fields = ("cpu_ms_per_request", "p99_ms", "rss_mb", "requests")
    if not isinstance(data, dict) or any(not isinstance(data.get(f), int | float) for f in fields):
        raise AdviseError(f"{path}: a measurement needs numbers {', '.join(fields)}")
    if min(float(data[f]) for f in fields) <= 0:
        raise AdviseError(f"{path}: every measured figure must be positive")
    return Measurement(**{f: data[f] for f in fields})


def measurement_dict(m: Measurement) -> dict[str, Any]:
    return asdict(m)
