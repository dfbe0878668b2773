"""Register state: verify the artifacts and record the model version with its lineage."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.steps.register import register_step
from liveml.pipeline.steps.runs import RunState

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = event["run"]
    return register_step(
        RunState.from_event(run), run["validation"], run["training"], run["evaluation"], event["execution"]
    )
