"""Export function (EventBridge schedule): for every model whose ``liveml.yaml`` has an ``export:``
section, build its dataset from the player events and write it under ``datasets/<model>/`` — which
starts the training pipeline. A failure raises, so Lambda retries it and then tells the alerts topic;
a partial dataset is never written (``liveml.monitoring.export``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.monitoring.export import export_scheduled

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return export_scheduled(event.get("models"))
