"""Shadow consumer: each SQS message is a sampled live request; the candidate version scores it and
the agreement, errors and latency are counted (``liveml.rollout.shadow``). powertools' batch processor
reports failed messages one by one, so only they are retried."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.binding.constants import PREDICT_FUNCTION
from liveml.binding.environment import require
from liveml.rollout import PredictFunction
from liveml.rollout.shadow import Shadow

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)
shadow = Shadow(PredictFunction(require(PREDICT_FUNCTION)))


def score(record: SQSRecord) -> None:
    shadow.consume(json.loads(record.body))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=score, processor=processor, context=context)
