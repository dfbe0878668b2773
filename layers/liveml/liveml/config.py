"""Every ``LIVEML_*`` environment variable, named once, and the settings read from them.

An explicit argument always wins over the environment; the environment wins over the defaults.
``VARIABLES`` lists each variable with its default, the module that reads it and what it means;
the README's table is generated from it (``python -m liveml.config``) and a test keeps the two equal.
``env`` refuses a name that is not in the list, so a new variable cannot go unlisted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PREFIX = "LIVEML_"


@dataclass(frozen=True)
class Variable:
    name: str  # without the prefix
    default: str | None
    read_by: str
    meaning: str

    @property
    def full_name(self) -> str:
        return PREFIX + self.name


VARIABLES: tuple[Variable, ...] = (
    # The stack's resources: set on every function by the template, and by the CLI from the stack's outputs.
    Variable("REGION", None, "liveml.config", "AWS region (then `AWS_REGION`, then us-east-1)"),
    Variable(
        "ENDPOINT_URL", None, "liveml.config", "AWS endpoint (then `AWS_ENDPOINT_URL`); unset means AWS"
    ),
    Variable("DATA_BUCKET", None, "liveml.config", "bucket of datasets and captures"),
    Variable("ARTIFACTS_BUCKET", None, "liveml.config", "bucket of model directories and run reports"),
    Variable("REGISTRY_TABLE", None, "liveml.config", "DynamoDB table of the model registry"),
    Variable("EVENT_BUS", None, "liveml.config", "EventBridge bus of registry and rollout events"),
    Variable("ALERTS_TOPIC", None, "liveml.config", "SNS topic of failed runs, rollbacks and alerts"),
    Variable("TRAINING_STATE_MACHINE", None, "liveml.config", "the training pipeline StartPipeline starts"),
    # Serving (the predict function, uvicorn on EKS).
    Variable("MODEL_BINDING", None, "liveml.serving", "JSON: which model version(s) this function serves"),
    Variable("MODEL_DIR", None, "liveml.serving", "a local model directory, when no binding is set"),
    Variable("MODEL_NAME", None, "liveml.serving", "name reported for a model bound by `LIVEML_MODEL_DIR`"),
    Variable(
        "MODEL_VERSION", None, "liveml.serving", "version reported for a model bound by `LIVEML_MODEL_DIR`"
    ),
    Variable(
        "MODEL_CACHE_DIR", "<tmp>/liveml-models", "liveml.serving", "where verified S3 artifacts are cached"
    ),
    Variable("MAX_BATCH_ROWS", "1000", "liveml.serving", "rows a `/predict/batch` request may carry"),
    Variable("MAX_BODY_BYTES", "1048576", "liveml.serving", "largest request body accepted"),
    Variable("PRESIGN_EXPIRY_S", "3600", "liveml.serving", "lifetime of the presigned model URLs"),
    Variable("API_DOCS", "false", "liveml.serving", "`true`: serve the `/docs` and `/redoc` pages"),
    Variable("CAPTURE_SAMPLE_RATE", "0", "liveml.serving", "fraction of requests captured to S3 (0..1)"),
    Variable("CAPTURE_BUCKET", "`LIVEML_DATA_BUCKET`", "liveml.serving", "bucket of the captures"),
    Variable("CAPTURE_PREFIX", "captures", "liveml.serving", "key prefix of the captures"),
    Variable("CAPTURE_MAX_AGE_S", "30", "liveml.serving", "a capture buffer older than this is flushed"),
    Variable("CAPTURE_MAX_RECORDS", "1000", "liveml.serving", "a capture buffer this full is flushed"),
    Variable("DRILL_LATENCY_MS", "0", "liveml.serving", "drills only: latency added to each request"),
    Variable(
        "SHADOW", None, "liveml.serving", "JSON: the candidate that scores sampled requests in the shadows"
    ),
    Variable("SHADOW_QUEUE", None, "liveml.serving", "SQS queue of the shadow samples"),
    # Data and tools.
    Variable("MAX_DATASET_BYTES", "2147483648", "liveml.data", "most bytes a dataset may decompress to"),
    Variable(
        "ADVISE_BEDROCK_MODEL", None, "liveml.advise", "Bedrock model id `liveml advise --llm bedrock` uses"
    ),
    # The serving app on EKS (`liveml eks render`).
    Variable("EKS_IMAGE", None, "liveml.eks", "serving image, pinned by digest (`<repo>@sha256:<hex>`)"),
    Variable("EKS_ROLE_ARN", None, "liveml.eks", "IAM role the pods assume (IRSA)"),
    Variable("EKS_OIDC_PROVIDER", None, "liveml.eks", "the cluster's OIDC issuer (the role's trust)"),
    # Player events (the ingest function, `liveml events`).
    Variable("EVENTS_TABLE", None, "liveml.monitoring", "DynamoDB table of the event ids already stored"),
    Variable("EVENTS_DEDUPE_DAYS", "7", "liveml.monitoring", "days an event id is remembered"),
    Variable("EVENTS_FOLDER", None, "liveml.monitoring", "store events in this local folder, not S3"),
    Variable("EVENTS_MAX_BATCH", "500", "liveml.monitoring", "events a `POST /events` batch may carry"),
    Variable("EVENTS_MAX_BODY_BYTES", "1048576", "liveml.monitoring", "largest `POST /events` body"),
    Variable("API_KEY", None, "liveml.cli", "the API key `liveml events send --url` uses"),
    Variable(
        "MONITOR_WINDOW_MINUTES", "15", "liveml.monitoring", "minutes of captures one drift window covers"
    ),
    # The SageMaker training backend.
    Variable("SAGEMAKER_ROLE_ARN", None, "liveml.pipeline", "the execution role SageMaker jobs run as"),
    Variable(
        "SAGEMAKER_SOURCE_URI",
        "s3://<bucket>/sagemaker/sourcedir.tar.gz",
        "liveml.pipeline",
        "the jobs' source bundle",
    ),
    Variable(
        "CHECKPOINT_DIR", "/opt/ml/checkpoints", "liveml.training", "the SageMaker entry point's checkpoints"
    ),
    # Rollouts.
    Variable(
        "PREDICT_FUNCTION", None, "liveml.rollout", "the predict function whose `live` alias rollouts move"
    ),
    Variable("PREDICT_ALIAS", "live", "liveml.rollout", "the alias rollouts move"),
    Variable("ROLLOUT_STATE_MACHINE", None, "liveml.rollout", "the rollout state machine"),
    Variable("ROLLOUT_DEFAULTS", None, "liveml.rollout", "JSON: the stack's rollout settings"),
    # Running here: LocalStack on the host, the SAM CLI.
    Variable("LOCALSTACK_PORT", "4566", "liveml.localcloud", "LocalStack's port on 127.0.0.1"),
    Variable("LOCALSTACK_DIR", "<project>/.localstack", "liveml.localcloud", "LocalStack's state folder"),
    Variable(
        "LOCALSTACK_PYTHON", "<state>/venv", "liveml.localcloud", "the Python 3.12+ that runs LocalStack"
    ),
    Variable("LOCALSTACK_TIMEOUT", "90", "liveml.localcloud", "seconds to wait for LocalStack's health"),
    Variable(
        "LAMBDA_PYTHON", "<the running Python>", "liveml.localcloud", "the Python 3.12 that runs handlers"
    ),
    Variable("LAMBDA_ISOLATION", "runtime", "liveml.localcloud", "`runtime` (Lambda's packages) or `venv`"),
    Variable("BOOTSTRAP_PORT", None, "liveml.localcloud.bootstrap", "internal: a handler process's port"),
    Variable("SAM_BIN", None, "liveml.stack", "folder of `sam`/`samlocal`, before `.venv-sam/bin`"),
)
BY_NAME = {v.name: v for v in VARIABLES}


def env(name: str, default: str | None = None) -> str | None:
    """The value of ``LIVEML_<name>``, or ``default``. ``name`` must be listed in ``VARIABLES``."""
    if name not in BY_NAME:
        raise KeyError(f"{PREFIX}{name} is not listed in liveml.config.VARIABLES")
    return os.environ.get(PREFIX + name, default)


@dataclass(frozen=True)
class Settings:
    """What the functions and the CLI need to find the stack's resources."""

    region: str = field(default_factory=lambda: env("REGION") or os.environ.get("AWS_REGION") or "us-east-1")
    #: ``None`` means real AWS; LocalStack sets ``AWS_ENDPOINT_URL`` inside its functions.
    endpoint_url: str | None = field(
        default_factory=lambda: env("ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    )
    data_bucket: str | None = field(default_factory=lambda: env("DATA_BUCKET"))
    artifacts_bucket: str | None = field(default_factory=lambda: env("ARTIFACTS_BUCKET"))
    registry_table: str | None = field(default_factory=lambda: env("REGISTRY_TABLE"))
    event_bus: str | None = field(default_factory=lambda: env("EVENT_BUS"))
    alerts_topic: str | None = field(default_factory=lambda: env("ALERTS_TOPIC"))
    training_state_machine: str | None = field(default_factory=lambda: env("TRAINING_STATE_MACHINE"))

    def require(self, name: str) -> str:
        """The setting ``name``, or a clear error naming the variable that is missing."""
        value = getattr(self, name)
        if not value:
            from liveml.errors import LiveMLError

            raise LiveMLError(f"{PREFIX}{name.upper()} is not set")
        return str(value)


def markdown_table() -> str:
    """The README's table of variables."""
    rows = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    for v in VARIABLES:
        default = v.default if v.default is None or v.default.startswith(("<", "`")) else f"`{v.default}`"
        rows.append(f"| `{v.full_name}` | {default or '—'} | `{v.read_by}` | {v.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
