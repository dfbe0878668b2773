"""`liveml demo`: the main job, end to end on the deployed stack."""

from __future__ import annotations

import io
import time

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from liveml.aws import client, use_localstack
from liveml.pipeline import ExecutionSummary, find_execution, wait_for_execution
from liveml.stack import read_outputs
from liveml.stack.api import call_api

app = typer.Typer()
console = Console()


def _players_csv(rows: int, seed: int) -> bytes:
    from liveml.data.synth import generate_players  # pandas: only when the demo runs

    buffer = io.StringIO()
    generate_players(rows, seed).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@app.command("demo")
def demo(
    model: str = typer.Option("churn", help="Model name: the data goes under datasets/<model>/."),
    rows: int = typer.Option(5000, min=1, help="Synthetic players to generate."),
    seed: int = typer.Option(7, help="Seed of the synthetic data."),
    stack_name: str = typer.Option("liveml", help="CloudFormation stack name."),
    timeout: float = typer.Option(900, help="Seconds to wait for the pipeline."),
) -> None:
    """Upload synthetic player data, watch the pipeline it starts, show the result, call the API."""
    use_localstack()
    outputs = read_outputs(stack_name)
    s3 = client("s3")

    with console.status(f"generating {rows} synthetic players"):
        body = _players_csv(rows, seed)
    key = f"datasets/{model}/players-{time.strftime('%Y%m%dT%H%M%S')}.csv"
    put = s3.put_object(Bucket=outputs.data_bucket, Key=key, Body=body)
    console.print(f"[green]✓[/] uploaded s3://{outputs.data_bucket}/{key} (version {put.get('VersionId')})")

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("waiting for the pipeline to start")
        execution = find_execution(
            outputs.training_state_machine_arn, outputs.data_bucket, key, put.get("VersionId")
        )

        def show(summary: ExecutionSummary, states: list[str]) -> None:
            where = states[-1] if states else "starting"
            bar.update(task, description=f"pipeline {summary.name[:40]}: {summary.status} at {where}")

        result = wait_for_execution(execution.arn, timeout_s=timeout, on_progress=show)
    if result.status != "SUCCEEDED":
        console.print(f"[red]✗[/] pipeline {result.status}: {result.error}: {result.cause}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] pipeline SUCCEEDED ({result.name})")

    dataset = (result.output or {}).get("recorded", {}).get("dataset", {})
    table = Table(title="dataset version recorded in the registry", show_header=False)
    for name in ("model", "s3_uri", "version_id", "sha256", "size_bytes"):
        table.add_row(name, str(dataset.get(name)))
    console.print(table)

    status, answer = call_api(outputs, "GET", "/health")
    console.print(f"GET /health with the API key → {status} {answer}")
    status, answer = call_api(outputs, "GET", "/health", with_key=False)
    console.print(f"GET /health without a key   → {status} {answer}")
