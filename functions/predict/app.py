"""Predict function: the serving app (FastAPI) through Mangum, built once per sandbox.

The binding (``LIVEML_MODEL_BINDING``: the sha256-addressed document of every model this version
serves) is read and each model's manifest and contract verified at module scope, during Lambda init;
a model's ONNX session opens on its first request, never per request — or at init under SnapStart,
whose snapshot then holds it (the random state and AWS clients are renewed after each restore).
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.binding.constants import METRICS_NAMESPACE, SERVICE_NAME
from liveml.serving import build_runtime

logger = Logger(service=SERVICE_NAME)
copy_config_to_registered_loggers(source_logger=logger, include={"liveml"})
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
# This Metrics object carries only ColdStart; per-model metrics are written by the runtime when due.
warnings.filterwarnings("ignore", message="No application metrics to publish")

runtime = build_runtime(metrics_interval_s=0)
runtime.install_sigterm_handler()
runtime.register_snapstart_hooks()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runtime.invoke(event, context)
