"""Rollout state machine steps: ``{"action": "prepare" | "smoke" | "shift" | "check" | "promote" |
"rollback" | "refused", ...}`` -> the next rollout document (``liveml.rollout.steps``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.rollout.steps import run_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(str(event.get("action", "")), event)
