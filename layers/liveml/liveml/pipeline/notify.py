"""Telling people a run failed: which state, why, and where the report is."""

from __future__ import annotations

from typing import Any

from liveml.aws import client
from liveml.aws.sns import publish_alert
from liveml.config import Settings
from liveml.errors import catch_reason
from liveml.modeldir import REPORT

_FAILED_EVENTS = (
    "TaskFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "TaskTimedOut",
    "ExecutionFailed",
)


def failing_state(execution_arn: str, *, sfn: Any = None) -> str:
    """The state that failed, read from the execution's history (the Catch does not carry it)."""
    sfn = sfn or client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=500)[
        "events"
    ]
    failed_seen = False
    for event in events:
        if event["type"] in _FAILED_EVENTS:
            failed_seen = True
        elif failed_seen and "stateEnteredEventDetails" in event:
            return str(event["stateEnteredEventDetails"]["name"])
    return "unknown"


#: Files a run writes as it goes; the notification links those that exist.
RUN_REPORTS = ("validation.json", "evaluation.json", f"model/{REPORT}")


def _run_reports(run: dict[str, Any], *, s3: Any) -> list[str]:
    if not run.get("model") or not run.get("run_id"):
        return []
    bucket = Settings().require("artifacts_bucket")
    s3 = s3 or client("s3")
    found = []
    for name in RUN_REPORTS:
        key = f"runs/{run['model']}/{run['run_id']}/{name}"
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError:
            continue
        found.append(f"s3://{bucket}/{key}")
    return found


def notify_failure(
    execution_arn: str,
    error: dict[str, Any],
    run: dict[str, Any],
    *,
    topic_arn: str | None = None,
    sfn: Any = None,
    sns: Any = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Publish the failure to the alerts topic; return what was sent (the state machine's Fail uses it)."""
    state = failing_state(execution_arn, sfn=sfn)
    why = catch_reason(error)
    model = run.get("model", "?")
    dataset = f"s3://{run.get('bucket', '?')}/{run.get('key', '?')}"
    reports = _run_reports(run, s3=s3)
    lines = [
        f"The LiveML training pipeline for model {model!r} failed at {state}.",
        f"Reason: {why}",
        f"Dataset: {dataset} (version {run.get('version_id', '?')})",
        f"Execution: {execution_arn}",
    ]
    lines.extend(f"Report: {uri}" for uri in reports)
    lines.append("Nothing was registered; the model in production is unchanged.")
    sent = publish_alert(
        f"LiveML: {model} pipeline failed at {state}",
        lines,
        {"model": str(model), "state": state},
        topic_arn=topic_arn,
        sns=sns,
    )
    return {"state": state, "reason": why, **sent}
