"""Evaluate state: ONNX parity, gates and champion/challenger on the ONNX file that will serve."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.steps.evaluate import evaluate_step
from liveml.pipeline.steps.runs import RunState

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return evaluate_step(RunState.from_event(event), event["training"])
