"""The pipeline's Catch target: publish which state failed, why, and where the report is."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.notify import notify_failure

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return notify_failure(event["execution"], event["run"].get("error", {}), event["run"])
