"""Rollout outcomes on the alerts topic (the same topic the training pipeline uses)."""

from __future__ import annotations

from typing import Any

from liveml.aws import client
from liveml.config import Settings


def publish(
    model: str, outcome: str, subject: str, lines: list[str], *, topic_arn: str | None = None, sns: Any = None
) -> dict[str, Any]:
    """Publish one notification; ``outcome`` (promoted, rolled_back, refused, ...) is a message attribute
    so subscribers can filter on it."""
    message = "\n".join(lines)
    subject = subject[:100]
    (sns or client("sns")).publish(
        TopicArn=topic_arn or Settings().require("alerts_topic"),
        Subject=subject,
        Message=message,
        MessageAttributes={
            "model": {"DataType": "String", "StringValue": model},
            "outcome": {"DataType": "String", "StringValue": outcome},
            "kind": {"DataType": "String", "StringValue": "rollout"},
        },
    )
    return {"outcome": outcome, "subject": subject, "message": message}
