"""Connecting a command to the deployed stack: LocalStack by default, AWS with --aws; or, where a command
can, to a local model directory instead of the registry's (--model-dir)."""

from __future__ import annotations

import os
from typing import Any

import typer

from liveml.aws import use_localstack
from liveml.stack import StackOutputs, read_outputs

AWS_OPTION = typer.Option(False, "--aws", help="Use the stack on AWS instead of LocalStack on the host.")
STACK_OPTION = typer.Option("liveml", "--stack-name", help="CloudFormation stack name.")


def model_dir_option(help: str) -> Any:
    """``--model-dir``: an existing local model directory to use instead of the registry's copy; ``help``
    says what the command does with it."""
    return typer.Option(
        None,
        "--model-dir",
        exists=True,
        file_okay=False,
        help=f"a local model directory (`liveml train --out`): {help}",
    )


def connect(aws: bool = False, stack_name: str = "liveml") -> StackOutputs:
    """Read the stack's outputs and point the library's settings (``LIVEML_*``) at its resources."""
    if not aws:
        use_localstack()
    outputs = read_outputs(stack_name, local=not aws)
    os.environ.update(
        {
            "LIVEML_DATA_BUCKET": outputs.data_bucket,
            "LIVEML_ARTIFACTS_BUCKET": outputs.artifacts_bucket,
            "LIVEML_REGISTRY_TABLE": outputs.registry_table,
            "LIVEML_EVENT_BUS": outputs.event_bus,
            "LIVEML_ALERTS_TOPIC": outputs.alerts_topic_arn,
        }
    )
    return outputs
