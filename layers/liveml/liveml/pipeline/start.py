"""Starting the pipeline for an uploaded object, exactly once per object version."""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from liveml.aws import client
from liveml.pipeline.settings import is_dataset_key
from liveml.registry import dataset_model_name

#: S3 user metadata on a dataset object that says why it was written (absent: an upload).
TRIGGER_METADATA = "liveml-trigger"
REASON_METADATA = "liveml-trigger-reason"
#: S3 user metadata is ASCII and at most 2 KB in all.
_REASON_MAX = 1000


class Trigger(StrEnum):
    """Why a pipeline run started; recorded in the run and in the registered version's lineage."""

    UPLOAD = "upload"
    DRIFT = "drift"
    ACCURACY = "accuracy"
    SCHEDULE = "schedule"
    EXPORT = "export"


def metadata_text(text: str) -> str:
    """What S3 user metadata can carry: printable ASCII, bounded."""
    return re.sub(r"[^ -~]", "?", text)[:_REASON_MAX]


class RunRequest(BaseModel):
    """The pipeline's input: a pointer at one object version, never the data, and why it runs."""

    bucket: str
    key: str
    version_id: str
    model: str
    trigger: str = Trigger.UPLOAD.value
    trigger_reason: str = ""


def read_trigger(bucket: str, key: str, version_id: str | None, *, s3: Any) -> tuple[str, str]:
    """Why the object was written, from its metadata: ``(trigger, reason)``; ``upload`` when absent.

    An unknown trigger is kept as written (a newer writer), but made safe to record."""
    args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id and version_id != "null":
        args["VersionId"] = version_id
    meta = {k.lower(): v for k, v in s3.head_object(**args).get("Metadata", {}).items()}
    trigger = metadata_text(meta.get(TRIGGER_METADATA, "")).strip().lower() or Trigger.UPLOAD.value
    return trigger[:40], metadata_text(meta.get(REASON_METADATA, ""))


def execution_name(bucket: str, key: str, version_id: str) -> str:
    """A name derived from the object version, so a duplicate event cannot start a second run.

    Step Functions names are at most 80 characters of ``[A-Za-z0-9_-]``.
    """
    model = re.sub(r"[^A-Za-z0-9_-]", "-", dataset_model_name(key))[:40]
    digest = hashlib.sha256(f"{bucket}/{key}?versionId={version_id}".encode()).hexdigest()[:32]
    return f"{model}-{digest}"


def start_run(
    state_machine_arn: str,
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    sfn: Any = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Start the pipeline for one upload; report what happened instead of raising for ignorable events."""
    if not is_dataset_key(key):
        return {"started": False, "reason": f"{key} configures the pipeline; it is not a dataset"}
    version = version_id or "null"
    trigger, reason = read_trigger(bucket, key, version_id, s3=s3 or client("s3"))
    request = RunRequest(
        bucket=bucket,
        key=key,
        version_id=version,
        model=dataset_model_name(key),
        trigger=trigger,
        trigger_reason=reason,
    )
    name = execution_name(bucket, key, version)
    sfn = sfn or client("stepfunctions")
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(request.model_dump())
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return {
            "started": False,
            "reason": "duplicate event: this object version already has a run",
            "name": name,
        }
    return {"started": True, "name": name, "executionArn": started["executionArn"], "trigger": trigger}
