"""Live accuracy function (EventBridge schedule): joins each exporting model's captured predictions
with the outcomes its later events reveal, writes one record per window and version to
``monitoring/<model>/accuracy/`` and puts ``LiveRocAuc``/``LiveAccuracy`` (``liveml.monitoring.accuracy``).
A failure raises, so Lambda retries it and then tells the alerts topic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.monitoring.accuracy import accuracy_scheduled

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return accuracy_scheduled(event.get("models"), windows=int(event.get("windows", 7)))
