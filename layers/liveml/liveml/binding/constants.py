"""Names of the serving and rollout settings (``LIVEML_*`` environment variables) and the binding's
constants, in one place. An explicit argument beats the environment; the environment beats defaults.
"""

from __future__ import annotations

# ---------------------------------------------------------------- what a function version serves
#: The binding this version serves: ``s3://<bucket>/bindings/<sha256>.json`` (the document, immutable and
#: addressed by its sha256, which is checked on read), or the document itself as JSON (uvicorn, tests,
#: versions published before bindings moved to S3).
MODEL_BINDING = "LIVEML_MODEL_BINDING"
#: A local model directory (uvicorn, tests); used when ``LIVEML_MODEL_BINDING`` is not set.
MODEL_DIR = "LIVEML_MODEL_DIR"
#: Name and version reported for a model bound by ``LIVEML_MODEL_DIR`` (its manifest has no version).
MODEL_NAME = "LIVEML_MODEL_NAME"
MODEL_VERSION = "LIVEML_MODEL_VERSION"
#: Where S3 artifacts are cached after download and sha256 check (Lambda: only /tmp is writable).
MODEL_CACHE_DIR = "LIVEML_MODEL_CACHE_DIR"
#: Where rollouts store binding documents (the stack's artifacts bucket).
ARTIFACTS_BUCKET = "LIVEML_ARTIFACTS_BUCKET"
#: Key prefix of the binding documents in that bucket.
BINDINGS_PREFIX = "bindings/"

# ---------------------------------------------------------------- serving
MAX_BATCH_ROWS = "LIVEML_MAX_BATCH_ROWS"
MAX_BODY_BYTES = "LIVEML_MAX_BODY_BYTES"
PRESIGN_EXPIRY_S = "LIVEML_PRESIGN_EXPIRY_S"
#: "true": serve the interactive /docs and /redoc pages (local development); off by default.
API_DOCS = "LIVEML_API_DOCS"
#: Fraction of requests captured to S3 for monitoring, 0..1.
CAPTURE_SAMPLE_RATE = "LIVEML_CAPTURE_SAMPLE_RATE"
#: Bucket of the captures; falls back to ``LIVEML_DATA_BUCKET``.
CAPTURE_BUCKET = "LIVEML_CAPTURE_BUCKET"
DATA_BUCKET = "LIVEML_DATA_BUCKET"
CAPTURE_PREFIX = "LIVEML_CAPTURE_PREFIX"
#: A buffer older than this is flushed: by the background thread, and at the end of a Lambda invocation.
CAPTURE_MAX_AGE_S = "LIVEML_CAPTURE_MAX_AGE_S"
CAPTURE_MAX_RECORDS = "LIVEML_CAPTURE_MAX_RECORDS"
#: Drill only (set by a rollout's ``drill`` on the version it publishes): added latency per request, ms.
DRILL_LATENCY_MS = "LIVEML_DRILL_LATENCY_MS"
#: Shadow tee of a published version: ``{"candidate", "model", "model_version", "sample_rate"}`` (JSON).
SHADOW = "LIVEML_SHADOW"
#: The SQS queue the shadow samples go to (from the stack).
SHADOW_QUEUE = "LIVEML_SHADOW_QUEUE"
#: Variables that belong to the one version they were published with, never carried to the next
#: (``LIVEML_SHADOW_QUEUE`` is the stack's, and stays).
PER_VERSION = (SHADOW,)
PER_VERSION_PREFIXES = ("LIVEML_DRILL_",)

METRICS_NAMESPACE = "LiveML"
SERVICE_NAME = "liveml-predict"

# ---------------------------------------------------------------- rollouts
PREDICT_FUNCTION = "LIVEML_PREDICT_FUNCTION"
PREDICT_ALIAS = "LIVEML_PREDICT_ALIAS"
ROLLOUT_STATE_MACHINE = "LIVEML_ROLLOUT_STATE_MACHINE"
#: JSON object of RolloutSettings fields: the stack's defaults.
ROLLOUT_DEFAULTS = "LIVEML_ROLLOUT_DEFAULTS"

# ---------------------------------------------------------------- variant assignment
#: Variant name when no A/B experiment is bound.
DEFAULT_VARIANT = "default"
#: Bucket space of the variant assignment: splits are given in basis points.
BUCKETS = 10_000
