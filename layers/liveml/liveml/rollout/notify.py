"""Rollout outcomes on the alerts topic (the same topic and publisher the training pipeline uses)."""

from __future__ import annotations

from typing import Any

from liveml.aws.sns import publish_alert


def publish(
    model: str, outcome: str, subject: str, lines: list[str], *, topic_arn: str | None = None, sns: Any = None
) -> dict[str, Any]:
    """Publish one notification; ``outcome`` (promoted, rolled_back, refused, ...) is a message attribute
    so subscribers can filter on it."""
    sent = publish_alert(
        subject,
        lines,
        {"model": model, "outcome": outcome, "kind": "rollout"},
        topic_arn=topic_arn,
        sns=sns,
    )
    return {"outcome": outcome, **sent}
