"""Keeps the optional SageMaker Model Registry mirror in step with the registry, both ways."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.registry.sagemaker_mirror import SageMakerMirror

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return SageMakerMirror().handle(event)
