"""Finding the execution an upload started (waiting for it: ``liveml.aws.stepfunctions``)."""

from __future__ import annotations

import time
from typing import Any

from liveml.aws import client
from liveml.aws.stepfunctions import (
    ExecutionSummary,
    StateTiming,
    describe_execution,
    state_timings,
    wait_for_execution,
)
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.start import execution_name


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


__all__ = [
    "ExecutionSummary",
    "StateTiming",
    "describe_execution",
    "find_execution",
    "state_timings",
    "wait_for_execution",
]
