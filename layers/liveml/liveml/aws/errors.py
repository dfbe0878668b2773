"""One line for an AWS failure a person can fix: what is wrong and what to run, never a traceback."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

#: Error codes that mean "the resource the command needs is not there": the stack is not deployed
#: (or LocalStack was restarted, which discards everything).
_MISSING = {
    "ResourceNotFoundException",
    "NoSuchBucket",
    "StateMachineDoesNotExist",
    "ExecutionDoesNotExist",
    "NotFoundException",
    "NotFound",
}


def explain(exc: BaseException) -> str | None:
    """The one-line explanation of a boto3/botocore failure, or ``None`` for anything else."""
    if isinstance(exc, EndpointConnectionError):
        endpoint = str(exc.kwargs.get("endpoint_url", "") or "the endpoint")
        if "127.0.0.1" in endpoint or "localhost" in endpoint:
            return (
                f"cannot reach LocalStack at {endpoint}: it is not running. "
                "Run `liveml local up`, then `liveml deploy --local` (a stopped LocalStack keeps no stack)"
            )
        return f"cannot reach {endpoint}: check your network and AWS region"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set a profile (AWS_PROFILE) or keys, or drop --aws to use LocalStack"
    if isinstance(exc, NoRegionError):
        return "no AWS region set: export AWS_REGION (or LIVEML_REGION)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "")).strip()
        operation = exc.operation_name
        if code in _MISSING or "does not exist" in message or "not found" in message.lower():
            return (
                f"{operation}: {message or code}. The stack or one of its resources is missing: "
                "run `liveml deploy --local` (or `--aws`), then try again"
            )
        return f"{operation} failed: {code}: {message}"
    if isinstance(exc, BotoCoreError):
        return f"AWS call failed: {exc}"
    return None
