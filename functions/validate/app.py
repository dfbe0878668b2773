"""Validate state: record the dataset version, read settings and contract, run the data gate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.validate import validate_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return validate_step(RunState.from_event(event))
