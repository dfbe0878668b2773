"""`sam validate`, `sam build` and `sam deploy` (or `samlocal deploy` against LocalStack)."""

from __future__ import annotations

import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Any

from liveml.aws.clients import client, local_endpoint
from liveml.stack.errors import StackError
from liveml.stack.tools import build_environment, sam_executable

BUILD_DIR = ".aws-sam/build"


class DeployTarget(StrEnum):
    LOCAL = "local"  # LocalStack on the host, samconfig profile `local`
    AWS = "aws"  # the account in the environment, samconfig profile `default`

    @property
    def config_env(self) -> str:
        return "local" if self is DeployTarget.LOCAL else "default"


def _local_environment(environment: dict[str, str]) -> dict[str, str]:
    # LocalStack accepts any credentials; samlocal reads the endpoint from AWS_ENDPOINT_URL.
    return {
        **environment,
        "AWS_ACCESS_KEY_ID": environment.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": environment.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": environment.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": local_endpoint(),
        "DISABLE_DEPRECATION_NOTICE": "1",
        "SAM_CLI_TELEMETRY": "0",
    }


def _run(step: str, command: list[str], root: Path, environment: dict[str, str], fix: str) -> None:
    """Run one SAM step with its output in `.aws-sam/<step>.log`; fail with its last error line."""
    log = root / ".aws-sam" / f"{step}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run(command, cwd=root, env=environment, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines or ["(no output)"]
        raise StackError(f"`sam {step}` failed: {errors[-1]} (full log: {log}); {fix}")


def validate(root: Path) -> None:
    """Lint the template (cfn-lint through `sam validate --lint`): a template error stops here."""
    environment = _local_environment(build_environment())
    _run(
        "validate",
        [sam_executable("sam", root), "validate", "--lint", "--template", "template.yaml"],
        root,
        environment,
        "fix template.yaml and run the command again",
    )


def build(root: Path) -> None:
    """`sam build`: each function with its requirements, and the liveml layer."""
    environment = {**build_environment(), "SAM_CLI_TELEMETRY": "0"}
    _run(
        "build",
        [
            sam_executable("sam", root),
            "build",
            "--template",
            "template.yaml",
            "--build-dir",
            BUILD_DIR,
            "--cached",
            "--parallel",
        ],
        root,
        environment,
        "fix the failing function's code or requirements.txt and run the command again",
    )


def deploy(root: Path, target: DeployTarget, *, stack_name: str = "liveml") -> None:
    """Deploy the built stack; LocalStack through `samlocal`, AWS through `sam` with the default profile."""
    base = [
        "deploy",
        "--template-file",
        f"{BUILD_DIR}/template.yaml",
        # Absolute: SAM otherwise looks for samconfig.toml beside the built template.
        "--config-file",
        str(root / "samconfig.toml"),
        "--config-env",
        target.config_env,
        "--stack-name",
        stack_name,
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
    ]
    if target is DeployTarget.LOCAL:
        command = [sam_executable("samlocal", root), *base]
        environment = _local_environment(build_environment())
        fix = "check `liveml local status` and `liveml local logs`, then run `liveml deploy --local` again"
    else:
        command = [sam_executable("sam", root), *base]
        environment = build_environment()
        fix = "check your AWS credentials and the CloudFormation events of the stack"
    cloudformation = client(
        "cloudformation", endpoint_url=local_endpoint() if target is DeployTarget.LOCAL else None
    )
    _clear_failed_creation(cloudformation, stack_name)
    try:
        _run("deploy", command, root, environment, fix)
    except StackError as error:
        reason = first_failure(cloudformation, stack_name)
        raise StackError(f"{error} — {reason}" if reason else str(error)) from None


def _clear_failed_creation(cloudformation: Any, stack_name: str) -> None:
    """A stack whose first creation rolled back cannot be updated: delete it so the deploy can start over."""
    try:
        status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except cloudformation.exceptions.ClientError:
        return  # no such stack yet
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        cloudformation.delete_stack(StackName=stack_name)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
        )


def first_failure(cloudformation: Any, stack_name: str) -> str | None:
    """The first resource that failed in the stack's latest operation, with CloudFormation's reason."""
    try:
        stack_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    except cloudformation.exceptions.ClientError:
        return None
    failed = [
        e
        for e in reversed(events)  # oldest first
        if e.get("StackId", stack_id) == stack_id  # not the events of an earlier stack of the same name
        and e["ResourceStatus"].endswith("FAILED")
        and e["LogicalResourceId"] != stack_name
        and e.get("ResourceStatusReason")
    ]
    if not failed:
        return None
    return f"{failed[0]['LogicalResourceId']}: {failed[0]['ResourceStatusReason']}"
