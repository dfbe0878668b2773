"""Finding the execution an upload started, and waiting for it with progress."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from liveml.aws import client
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.start import execution_name

_FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class ExecutionSummary(BaseModel):
    arn: str
    name: str
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in _FINISHED


def describe_execution(arn: str, *, sfn: Any = None) -> ExecutionSummary:
    """The execution's status, input and output or error."""
    described = (sfn or client("stepfunctions")).describe_execution(executionArn=arn)
    return ExecutionSummary(
        arn=arn,
        name=described["name"],
        status=described["status"],
        input=json.loads(described.get("input") or "{}"),
        output=json.loads(described["output"]) if described.get("output") else None,
        error=described.get("error"),
        cause=described.get("cause"),
    )


def find_execution(
    state_machine_arn: str,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    timeout_s: float = 60,
    sfn: Any = None,
) -> ExecutionSummary:
    """The execution that the upload of ``key`` at ``version_id`` started, once it appears.

    Its name is derived from the object version (``liveml.pipeline.start``), so no listing is needed.
    """
    sfn = sfn or client("stepfunctions")
    name = execution_name(bucket, key, version_id or "null")
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return describe_execution(arn, sfn=sfn)
        except sfn.exceptions.ExecutionDoesNotExist:
            if time.monotonic() > deadline:
                raise PipelineError(
                    f"no pipeline run started for s3://{bucket}/{key} within {timeout_s:.0f}s: check that "
                    "the key is datasets/<model>/<file> and that the stack is deployed (`liveml outputs`)"
                ) from None
            time.sleep(0.5)


def wait_for_execution(
    arn: str,
    *,
    timeout_s: float = 900,
    sfn: Any = None,
    on_progress: Callable[[ExecutionSummary, list[str]], None] | None = None,
) -> ExecutionSummary:
    """Poll until the execution finishes; ``on_progress`` gets the states entered so far."""
    sfn = sfn or client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while True:
        summary = describe_execution(arn, sfn=sfn)
        if on_progress:
            history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            entered = [
                e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
            ]
            on_progress(summary, entered)
        if summary.finished:
            return summary
        if time.monotonic() > deadline:
            raise PipelineError(f"execution {summary.name} still {summary.status} after {timeout_s:.0f}s")
        time.sleep(1)


class StateTiming(BaseModel):
    """One state's run inside an execution."""

    name: str
    status: str  # running | succeeded | failed
    started: float
    ended: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


def state_timings(arn: str, *, sfn: Any = None) -> list[StateTiming]:
    """The states an execution entered, in order, with their durations (from its history)."""
    sfn = sfn or client("stepfunctions")
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    timings: list[StateTiming] = []
    for event in events:
        at = event["timestamp"].timestamp()
        if "stateEnteredEventDetails" in event:
            timings.append(
                StateTiming(name=event["stateEnteredEventDetails"]["name"], status="running", started=at)
            )
        elif "stateExitedEventDetails" in event and timings and timings[-1].status == "running":
            # A caught failure also exits its state: only a state still running succeeded.
            timings[-1].status, timings[-1].ended = "succeeded", at
        elif event["type"].endswith(("Failed", "TimedOut")) and timings and timings[-1].ended is None:
            timings[-1].status, timings[-1].ended = "failed", at
    return timings
