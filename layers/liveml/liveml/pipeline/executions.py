"""Finding the execution an upload started, and waiting for it with progress."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from liveml.aws import client
from liveml.pipeline.errors import PipelineError

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


def _started_by(execution_input: dict[str, Any], key: str, version_id: str | None) -> bool:
    obj = execution_input.get("detail", {}).get("object", {})
    return bool(obj.get("key") == key and (version_id is None or obj.get("version-id") == version_id))


def _summary(sfn: Any, arn: str) -> ExecutionSummary:
    described = sfn.describe_execution(executionArn=arn)
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
    state_machine_arn: str, key: str, version_id: str | None = None, *, timeout_s: float = 60, sfn: Any = None
) -> ExecutionSummary:
    """The execution that the upload of ``key`` (at ``version_id``) started, once it appears."""
    sfn = sfn or client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while True:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
            for execution in page["executions"]:
                if execution["executionArn"] in seen:
                    continue
                summary = _summary(sfn, execution["executionArn"])
                if _started_by(summary.input, key, version_id):
                    return summary
                seen.add(execution["executionArn"])
        if time.monotonic() > deadline:
            raise PipelineError(
                f"no pipeline execution started for {key} within {timeout_s:.0f}s: "
                "check that the key is under datasets/<model>/ and the stack is deployed"
            )
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
        summary = _summary(sfn, arn)
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
