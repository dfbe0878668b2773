"""Step Functions executions: describing one, waiting for it to finish, timing its states.

One poller for every caller (the training pipeline, rollouts, the CLI, the tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from liveml.aws.clients import client
from liveml.errors import LiveMLError

FINISHED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class ExecutionTimeoutError(LiveMLError):
    """An execution still running when its caller stopped waiting."""


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
        return self.status in FINISHED


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


def entered_states(arn: str, *, sfn: Any = None) -> list[str]:
    """The names of the states the execution entered so far, in order."""
    history = (sfn or client("stepfunctions")).get_execution_history(executionArn=arn, maxResults=1000)
    return [
        e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e
    ]


def wait_for_execution(
    arn: str,
    *,
    timeout_s: float = 900,
    poll_s: float = 1.0,
    sfn: Any = None,
    on_progress: Callable[[ExecutionSummary, list[str]], None] | None = None,
) -> ExecutionSummary:
    """Poll until the execution finishes (``ExecutionTimeoutError`` after ``timeout_s``);
    ``on_progress`` gets each summary and the states entered so far."""
    sfn = sfn or client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while True:
        summary = describe_execution(arn, sfn=sfn)
        if on_progress:
            on_progress(summary, entered_states(arn, sfn=sfn))
        if summary.finished:
            return summary
        if time.monotonic() > deadline:
            raise ExecutionTimeoutError(
                f"execution {summary.name} still {summary.status} after {timeout_s:.0f}s"
            )
        time.sleep(poll_s)


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
