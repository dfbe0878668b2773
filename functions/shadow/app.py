"""Shadow consumer: each SQS message is a sampled live request; the candidate version scores it and
the agreement, errors and latency are counted (``liveml.rollout.shadow``). Failed messages are
reported individually so only they are retried."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.rollout import PredictFunction
from liveml.rollout.settings import PREDICT_FUNCTION
from liveml.rollout.shadow import Shadow

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    shadow = Shadow(PredictFunction(os.environ[PREDICT_FUNCTION]))
    failures = []
    for record in event.get("Records", []):
        try:
            shadow.consume(json.loads(record["body"]))
        except Exception:
            logger.exception("shadow sample not scored", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
