"""Predict function: the serving app (FastAPI) through Mangum, built once per sandbox.

The bound model (``LIVEML_MODEL_BINDING``) is fetched, sha256-verified and opened here at module scope,
during Lambda init, never per request; Mangum's lifespan is off because it would run per invocation.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from liveml.serving import build_runtime
from liveml.serving.constants import METRICS_NAMESPACE, SERVICE_NAME

logger = Logger(service=SERVICE_NAME)
copy_config_to_registered_loggers(source_logger=logger, include={"liveml"})
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
# This Metrics object carries only ColdStart; per-variant metrics are flushed by after_invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# metrics_interval_s=0: per-variant metrics are flushed by after_invocation, once per invocation.
runtime = build_runtime(metrics_interval_s=0)
runtime.capture.install_sigterm_handler()
asgi = Mangum(runtime.app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        # Mangum's context protocol and powertools' LambdaContext describe the same object.
        response: dict[str, Any] = asgi(event, cast(Any, context))
        runtime.shadow.after(event, response)
        return response
    finally:
        runtime.after_invocation()
