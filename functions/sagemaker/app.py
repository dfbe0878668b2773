"""The SageMaker branch's steps around the tuning job: build its request, then collect its best model."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.sagemaker import collect_model_step, prepare_tuning_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def prepare(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return prepare_tuning_step(RunState.from_event(event), event["validation"])


@logger.inject_lambda_context(log_event=True)
def collect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return collect_model_step(RunState.from_event(event), event["sagemaker"], event["tuning"])
