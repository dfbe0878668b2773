"""`liveml deploy` and `liveml outputs`: build and deploy the SAM stack, show what clients need."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from liveml.aws import use_localstack
from liveml.stack import DeployTarget, StackOutputs, build, deploy, read_outputs, validate
from liveml.stack.tools import project_root

app = typer.Typer()
console = Console()


def _target(local: bool, aws: bool) -> DeployTarget:
    if local and aws:
        raise typer.BadParameter("choose one of --local and --aws")
    return DeployTarget.AWS if aws else DeployTarget.LOCAL


def show_outputs(outputs: StackOutputs) -> None:
    table = Table(title=f"stack {outputs.stack_name}", show_header=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for label, value in [
        ("API URL", outputs.api_url),
        ("API key id", outputs.api_key_id),
        ("API key", outputs.api_key),
        ("data bucket", outputs.data_bucket),
        ("artifacts bucket", outputs.artifacts_bucket),
        ("registry table", outputs.registry_table),
        ("event bus", outputs.event_bus),
        ("alerts topic", outputs.alerts_topic_arn),
        ("training pipeline", outputs.training_state_machine_arn),
        ("predict function", outputs.predict_function),
    ]:
        table.add_row(label, value)
    console.print(table)


@app.command("deploy")
def deploy_command(
    local: bool = typer.Option(False, "--local", help="Deploy to LocalStack on the host (the default)."),
    aws: bool = typer.Option(False, "--aws", help="Deploy to AWS with the samconfig `default` profile."),
    stack_name: str = typer.Option("liveml", help="CloudFormation stack name."),
) -> None:
    """Validate, build and deploy the stack, then print its outputs."""
    target = _target(local, aws)
    root = project_root()
    if target is DeployTarget.LOCAL:
        use_localstack()
    with console.status("validating template.yaml"):
        validate(root)
    console.print("[green]✓[/] template valid")
    with console.status("sam build (functions and layers)"):
        build(root)
    console.print("[green]✓[/] built")
    with console.status(f"deploying stack {stack_name} to {target.value}"):
        deploy(root, target, stack_name=stack_name)
    console.print("[green]✓[/] deployed")
    show_outputs(read_outputs(stack_name, local=target is DeployTarget.LOCAL))


@app.command("outputs")
def outputs_command(
    local: bool = typer.Option(False, "--local", help="Read the stack on LocalStack (the default)."),
    aws: bool = typer.Option(False, "--aws", help="Read the stack on AWS."),
    stack_name: str = typer.Option("liveml", help="CloudFormation stack name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Print the deployed stack's outputs (API URL, API key, buckets, …)."""
    target = _target(local, aws)
    if target is DeployTarget.LOCAL:
        use_localstack()
    outputs = read_outputs(stack_name, local=target is DeployTarget.LOCAL)
    if as_json:
        print(outputs.model_dump_json(indent=2))
    else:
        show_outputs(outputs)
