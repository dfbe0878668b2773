"""Scheduled: drift of every served model version's last window, monitoring records, metrics, retraining."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from liveml.monitoring.monitor import run_monitor

logger = Logger()


@logger.inject_lambda_context(log_event=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    # The schedule's own time ends the window, so a late or retried invocation judges the same minutes.
    summary = run_monitor(datetime.fromisoformat(event.time))
    logger.info("monitor run", extra={"monitor": summary})
    return summary
