"""Starting the pipeline for an uploaded object, exactly once per object version."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel

from liveml.aws import client
from liveml.pipeline.settings import is_dataset_key
from liveml.registry import dataset_model_name


class RunRequest(BaseModel):
    """The pipeline's input: a pointer at one object version, never the data."""

    bucket: str
    key: str
    version_id: str
    model: str


def execution_name(bucket: str, key: str, version_id: str) -> str:
    """A name derived from the object version, so a duplicate event cannot start a second run.

    Step Functions names are at most 80 characters of ``[A-Za-z0-9_-]``.
    """
    model = re.sub(r"[^A-Za-z0-9_-]", "-", dataset_model_name(key))[:40]
    digest = hashlib.sha256(f"{bucket}/{key}?versionId={version_id}".encode()).hexdigest()[:32]
    return f"{model}-{digest}"


def start_run(
    state_machine_arn: str, bucket: str, key: str, version_id: str | None, *, sfn: Any = None
) -> dict[str, Any]:
    """Start the pipeline for one upload; report what happened instead of raising for ignorable events."""
    if not is_dataset_key(key):
        return {"started": False, "reason": f"{key} configures the pipeline; it is not a dataset"}
    version = version_id or "null"
    request = RunRequest(bucket=bucket, key=key, version_id=version, model=dataset_model_name(key))
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
    return {"started": True, "name": name, "executionArn": started["executionArn"]}
