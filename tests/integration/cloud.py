"""Helpers for tests against the deployed stack: uploads, runs and the alerts they raise."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from liveml.aws import client
from liveml.pipeline import ExecutionSummary, find_execution, wait_for_execution
from liveml.stack import StackOutputs


def unique_model(prefix: str) -> str:
    """A model name no other test uses, so runs and registry entries never mix."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload(stack: StackOutputs, key: str, body: bytes) -> str:
    """Put an object in the data bucket; returns its version id."""
    answer = client("s3").put_object(Bucket=stack.data_bucket, Key=key, Body=body)
    return str(answer["VersionId"])


def run_for(stack: StackOutputs, key: str, version_id: str, *, timeout_s: float = 600) -> ExecutionSummary:
    """Wait for the pipeline run the upload of ``key`` started, and return how it ended."""
    execution = find_execution(
        stack.training_state_machine_arn, stack.data_bucket, key, version_id, timeout_s=60
    )
    return wait_for_execution(execution.arn, timeout_s=timeout_s)


@dataclass
class Alerts:
    """Messages on the alerts topic, read through an SQS queue subscribed to it."""

    queue_url: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def _drain(self) -> None:
        sqs = client("sqs")
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = batch.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def for_model(self, model: str, *, timeout_s: float = 60) -> list[dict[str, Any]]:
        """The notifications about ``model`` (SNS envelopes: Subject, Message, MessageAttributes)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._drain()
            found = [
                m for m in self.seen if m.get("MessageAttributes", {}).get("model", {}).get("Value") == model
            ]
            if found or time.monotonic() > deadline:
                return found


def subscribe_alerts(stack: StackOutputs) -> Iterator[Alerts]:
    sqs, sns = client("sqs"), client("sns")
    queue_url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscription = sns.subscribe(TopicArn=stack.alerts_topic_arn, Protocol="sqs", Endpoint=queue_arn)
    try:
        yield Alerts(queue_url)
    finally:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        sqs.delete_queue(QueueUrl=queue_url)
