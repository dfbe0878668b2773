"""Publishing to the alerts topic: one publisher for failed runs, rollouts and anything after them."""

from __future__ import annotations

from typing import Any

from liveml.aws.clients import client
from liveml.config import Settings

#: SNS refuses a longer subject.
MAX_SUBJECT = 100


def publish_alert(
    subject: str,
    lines: list[str],
    attributes: dict[str, str],
    *,
    topic_arn: str | None = None,
    sns: Any = None,
) -> dict[str, str]:
    """Publish ``lines`` as one message to the alerts topic (``LIVEML_ALERTS_TOPIC`` unless given);
    ``attributes`` become string message attributes that subscribers can filter on.
    Returns the subject and message sent."""
    message = "\n".join(lines)
    subject = subject[:MAX_SUBJECT]
    (sns or client("sns")).publish(
        TopicArn=topic_arn or Settings().require("alerts_topic"),
        Subject=subject,
        Message=message,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    return {"subject": subject, "message": message}
