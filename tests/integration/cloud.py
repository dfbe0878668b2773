"""Helpers for tests against the deployed stack: uploads, runs and the alerts they raise."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from liveml.aws import client
from liveml.binding import Binding
from liveml.binding.build import single_binding
from liveml.contract import Contract
from liveml.pipeline import ExecutionSummary, find_execution, wait_for_execution
from liveml.registry import ModelVersion, Registry
from liveml.rollout.aliases import PredictFunction
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


def upload_settings(stack: StackOutputs, model: str, contract: Contract, settings: dict[str, Any]) -> None:
    """A model folder's contract and ``liveml.yaml`` (neither starts a run)."""
    upload(stack, f"datasets/{model}/contract.yaml", contract.to_yaml().encode())
    upload(stack, f"datasets/{model}/liveml.yaml", yaml.safe_dump(settings).encode())


def train_by_pipeline(
    stack: StackOutputs, prefix: str, contract: Contract, settings: dict[str, Any], frame: pd.DataFrame
) -> ModelVersion:
    """A fresh model trained by a real pipeline run on ``frame``: its version 1 in the registry."""
    model = unique_model(prefix)
    upload_settings(stack, model, contract, settings)
    key = f"datasets/{model}/players.csv"
    run = run_for(stack, key, upload(stack, key, csv_bytes(frame)))
    assert run.status == "SUCCEEDED", run.cause
    return Registry().get(model, 1)


@contextmanager
def captured_live(stack: StackOutputs, version: ModelVersion, purpose: str) -> Iterator[PredictFunction]:
    """``version`` alone on the `live` alias with every request captured; the alias is put back after."""
    function = PredictFunction(stack.predict_function)
    before = function.routing()
    capture = {"LIVEML_CAPTURE_SAMPLE_RATE": "1.0", "LIVEML_CAPTURE_MAX_AGE_S": "1"}
    description = f"{version.model} v{version.version} ({purpose})"
    function.route(
        function.publish(Binding.one(single_binding(version)), description=description, extra_env=capture)
    )
    try:
        yield function
    finally:
        function.route(before.version, before.extra, before.weight)


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
