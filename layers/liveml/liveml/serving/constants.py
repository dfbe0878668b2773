"""Environment variables of the serving path, in one place. An explicit argument beats them."""

from __future__ import annotations

#: JSON of a :class:`~liveml.serving.binding.ModelBinding`: which model version(s) this function serves.
MODEL_BINDING = "LIVEML_MODEL_BINDING"
#: A local model directory (uvicorn, tests); used when ``LIVEML_MODEL_BINDING`` is not set.
MODEL_DIR = "LIVEML_MODEL_DIR"
#: Name and version reported for a model bound by ``LIVEML_MODEL_DIR`` (its manifest has no version).
MODEL_NAME = "LIVEML_MODEL_NAME"
MODEL_VERSION = "LIVEML_MODEL_VERSION"
#: Where S3 artifacts are cached after download and sha256 check (Lambda: only /tmp is writable).
MODEL_CACHE_DIR = "LIVEML_MODEL_CACHE_DIR"

MAX_BATCH_ROWS = "LIVEML_MAX_BATCH_ROWS"
MAX_BODY_BYTES = "LIVEML_MAX_BODY_BYTES"
PRESIGN_EXPIRY_S = "LIVEML_PRESIGN_EXPIRY_S"

#: Fraction of requests captured to S3 for monitoring, 0..1.
CAPTURE_SAMPLE_RATE = "LIVEML_CAPTURE_SAMPLE_RATE"
#: Bucket of the captures; falls back to ``LIVEML_DATA_BUCKET``.
CAPTURE_BUCKET = "LIVEML_CAPTURE_BUCKET"
CAPTURE_PREFIX = "LIVEML_CAPTURE_PREFIX"
#: A buffer older than this is flushed: by the background thread, and at the end of a Lambda invocation.
CAPTURE_MAX_AGE_S = "LIVEML_CAPTURE_MAX_AGE_S"
CAPTURE_MAX_RECORDS = "LIVEML_CAPTURE_MAX_RECORDS"

#: Drill only (set by a rollout's ``drill`` on the version it publishes): added latency per request, ms.
DRILL_LATENCY_MS = "LIVEML_DRILL_LATENCY_MS"

METRICS_NAMESPACE = "LiveML"
SERVICE_NAME = "liveml-predict"

#: Variant name when no A/B experiment is bound.
DEFAULT_VARIANT = "default"
#: Bucket space of the variant assignment: splits are given in basis points.
BUCKETS = 10_000
