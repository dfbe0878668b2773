"""`liveml upload`, `liveml pipeline watch`, `liveml runs list|show`: the training pipeline from outside."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from liveml.aws import client
from liveml.aws.s3 import get_bytes
from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect
from liveml.modeldir import MANIFEST, TRIALS
from liveml.pipeline import (
    SETTINGS_FILE,
    ExecutionSummary,
    PipelineError,
    PipelineSettings,
    describe_execution,
    find_execution,
    state_timings,
    wait_for_execution,
)
from liveml.stack import StackOutputs

app = typer.Typer()
pipeline_app = typer.Typer(help="Watch training pipeline runs.", no_args_is_help=True)
runs_app = typer.Typer(
    help="Past runs: trials, metrics, outcome (experiment tracking).", no_args_is_help=True
)
console = Console()
_STATUS_STYLE = {"running": "yellow", "succeeded": "green", "failed": "red"}


def _timings_table(summary: ExecutionSummary, arn: str) -> Table:
    table = Table(title=f"{summary.name}  [bold]{summary.status}[/]")
    table.add_column("state")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    for timing in state_timings(arn):
        seconds = timing.seconds if timing.seconds is not None else time.time() - timing.started
        style = _STATUS_STYLE.get(timing.status, "")
        table.add_row(timing.name, f"[{style}]{timing.status}[/]", f"{seconds:.1f}")
    return table


def watch(arn: str, *, timeout_s: float = 1800) -> ExecutionSummary:
    """A live table of the execution's states until it finishes."""
    with Live(console=console, refresh_per_second=2) as live:
        return wait_for_execution(
            arn, timeout_s=timeout_s, on_progress=lambda summary, _: live.update(_timings_table(summary, arn))
        )


def report_outcome(summary: ExecutionSummary) -> None:
    if summary.status == "SUCCEEDED":
        registration = (summary.output or {}).get("registration", {})
        console.print(
            f"[green]✓[/] registered version {registration.get('version')} "
            f"({registration.get('approval')}, {registration.get('stage')})"
        )
        return
    reason = summary.cause or summary.error or summary.status
    with contextlib.suppress(ValueError, AttributeError):  # a Lambda error's cause is JSON
        reason = json.loads(reason).get("errorMessage", reason)
    console.print(f"[red]✗[/] {summary.status}: {reason}")
    raise typer.Exit(1)


def _execution_arn(outputs: StackOutputs, name: str) -> str:
    return outputs.training_state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name


@app.command("upload")
def upload(
    data: Path = typer.Argument(..., exists=True, dir_okay=False, help="The dataset file."),
    model: str = typer.Option(
        ..., "--model", "-m", help="Model name: the data goes under datasets/<model>/."
    ),
    contract: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Upload this contract first."
    ),
    settings: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Upload this liveml.yaml first."
    ),
    wait: bool = typer.Option(True, help="Watch the run until it finishes."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Upload a dataset (and optionally its contract and settings); the upload starts a pipeline run."""
    outputs = connect(aws, stack_name)
    s3 = client("s3")
    folder = f"datasets/{model}/"
    if settings is not None:
        parsed = PipelineSettings.from_yaml(
            settings.read_text(), where=str(settings)
        )  # refuse a bad file here
        s3.put_object(Bucket=outputs.data_bucket, Key=folder + SETTINGS_FILE, Body=settings.read_bytes())
        console.print(f"[green]✓[/] settings → s3://{outputs.data_bucket}/{folder}{SETTINGS_FILE}")
    else:
        parsed = PipelineSettings()
    if contract is not None:
        from liveml.contract import Contract

        Contract.load(contract)  # a contract that does not parse is refused before anything is uploaded
        key = folder + parsed.contract
        s3.put_object(Bucket=outputs.data_bucket, Key=key, Body=contract.read_bytes())
        console.print(f"[green]✓[/] contract → s3://{outputs.data_bucket}/{key}")
    key = folder + data.name
    put = s3.put_object(Bucket=outputs.data_bucket, Key=key, Body=data.read_bytes())
    console.print(f"[green]✓[/] data → s3://{outputs.data_bucket}/{key} (version {put.get('VersionId')})")
    execution = find_execution(
        outputs.training_state_machine_arn, outputs.data_bucket, key, put.get("VersionId")
    )
    console.print(f"run [bold]{execution.name}[/] started")
    if wait:
        report_outcome(watch(execution.arn))


@pipeline_app.command("watch")
def pipeline_watch(
    run: str | None = typer.Argument(None, help="Run id (execution name); default: the latest run."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """A live view of a run's states and their times."""
    outputs = connect(aws, stack_name)
    if run is None:
        latest = client("stepfunctions").list_executions(
            stateMachineArn=outputs.training_state_machine_arn, maxResults=1
        )["executions"]
        if not latest:
            raise PipelineError("no pipeline runs yet: upload a dataset with `liveml upload`")
        run = str(latest[0]["name"])
    report_outcome(watch(_execution_arn(outputs, run)))


@runs_app.command("list")
def runs_list(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's runs."),
    limit: int = typer.Option(20, min=1, help="How many runs."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Past runs, newest first."""
    outputs = connect(aws, stack_name)
    sfn = client("stepfunctions")
    table = Table()
    for column in ("run", "status", "started", "seconds"):
        table.add_column(column)
    shown = 0
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=outputs.training_state_machine_arn
    ):
        for execution in page["executions"]:
            if model and not execution["name"].startswith(f"{model}-"):
                continue
            stop = execution.get("stopDate")
            seconds = f"{(stop - execution['startDate']).total_seconds():.1f}" if stop else "…"
            table.add_row(
                execution["name"], execution["status"], f"{execution['startDate']:%Y-%m-%d %H:%M:%S}", seconds
            )
            shown += 1
            if shown >= limit:
                break
        if shown >= limit:
            break
    console.print(table)


@runs_app.command("show")
def runs_show(
    run: str = typer.Argument(..., help="Run id (execution name)."),
    trials: int = typer.Option(10, min=0, help="How many of the best trials to list."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """A run's states, metrics and best trials."""
    outputs = connect(aws, stack_name)
    summary = describe_execution(_execution_arn(outputs, run))
    console.print(_timings_table(summary, summary.arn))
    model = summary.input.get("model", "")
    prefix = f"s3://{outputs.artifacts_bucket}/runs/{model}/{run}/model/"
    try:
        manifest = json.loads(get_bytes(prefix + MANIFEST))
        trial_rows = json.loads(get_bytes(prefix + TRIALS))
    except client("s3").exceptions.NoSuchKey:
        console.print("no model was trained in this run")
        return
    metrics = Table(title=f"{manifest.get('family')}  holdout metrics", show_header=False)
    for name, value in manifest.get("metrics", {}).items():
        if isinstance(value, int | float):
            metrics.add_row(name, f"{value:.4f}")
    console.print(metrics)
    finished = [t for t in trial_rows if t.get("value") is not None]
    best = sorted(finished, key=lambda t: t["value"], reverse=True)[:trials]
    table = Table(title=f"best {len(best)} of {len(trial_rows)} trials")
    for column in ("trial", "family", "cv score", "params"):
        table.add_column(column)
    for trial in best:
        table.add_row(
            str(trial.get("number")),
            str(trial.get("family")),
            f"{trial['value']:.4f}",
            json.dumps(trial.get("params"))[:80],
        )
    console.print(table)


app.add_typer(pipeline_app, name="pipeline")
app.add_typer(runs_app, name="runs")
