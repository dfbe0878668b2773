"""EventBridge target: start the training pipeline once per uploaded object version."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.config import Settings
from liveml.pipeline import start_run

logger = Logger()
STATE_MACHINE_ARN = Settings().require("training_state_machine")


@logger.inject_lambda_context(log_event=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    obj = event.detail["object"]
    result = start_run(STATE_MACHINE_ARN, event.detail["bucket"]["name"], obj["key"], obj.get("version-id"))
    logger.info("pipeline start", extra={"pipeline": result})  # a "name" key would clash with LogRecord
    return result
