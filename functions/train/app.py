"""Train state: search, refit and export the model (scikit-learn, optuna, skl2onnx) into S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.pipeline.steps.runs import RunState
from liveml.pipeline.steps.train import train_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The search's budget shrinks to what this invocation has left, so it never times out mid-upload.
    remaining_s = context.get_remaining_time_in_millis() / 1000.0
    # Back from Evaluate after a failed ONNX parity check: the last attempt and why it failed.
    return train_step(
        RunState.from_event(event),
        event["validation"],
        previous=event.get("training"),
        error=event.get("error"),
        remaining_s=remaining_s,
    )
