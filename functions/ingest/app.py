"""Ingest function: ``POST /events`` from API Gateway — each event validated, stored once in S3
(``raw/events/…``), answered per event (``liveml.monitoring.ingest``). No web framework on this path:
the proxy event goes straight to the ingestor, so a cold start stays short."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.monitoring.ingest import default_ingestor, handle_apigw

logger = Logger()
metrics = Metrics()
ingestor = default_ingestor()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response, counts = handle_apigw(ingestor, event)
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return response
