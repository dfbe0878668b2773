"""First state of the training pipeline: record the uploaded dataset version in the registry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.registry import record_dataset

logger = Logger()


@logger.inject_lambda_context(log_event=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    obj = event.detail["object"]
    record = record_dataset(event.detail["bucket"]["name"], obj["key"], obj.get("version-id"))
    return {**record.model_dump(), "s3_uri": record.s3_uri}
