"""`liveml demo`: the main job, end to end on the deployed stack."""

from __future__ import annotations

import io
import time

import typer
import yaml
from rich.console import Console
from rich.table import Table

from liveml.aws import client
from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect
from liveml.cli.pipeline import report_outcome, watch
from liveml.pipeline import SETTINGS_FILE, find_execution
from liveml.registry import Registry
from liveml.stack.api import call_api

app = typer.Typer()
console = Console()


@app.command("demo")
def demo(
    model: str = typer.Option("churn", help="Model name: the data goes under datasets/<model>/."),
    rows: int = typer.Option(5000, min=200, help="Synthetic players to generate."),
    seed: int = typer.Option(7, help="Seed of the synthetic data."),
    trials: int = typer.Option(12, min=1, help="Model search trials."),
    time_budget: float = typer.Option(90, min=5, help="Model search budget in seconds."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Generate player data, upload it with its contract, watch the pipeline train and register a model."""
    from liveml.data.synth import generate_players, player_contract  # pandas: only when the demo runs

    outputs = connect(aws, stack_name)
    s3 = client("s3")
    folder = f"datasets/{model}/"
    settings = {"trials": trials, "time_budget_s": time_budget, "cv_folds": 3, "seed": seed}
    s3.put_object(
        Bucket=outputs.data_bucket, Key=folder + "contract.yaml", Body=player_contract().to_yaml().encode()
    )
    s3.put_object(
        Bucket=outputs.data_bucket, Key=folder + SETTINGS_FILE, Body=yaml.safe_dump(settings).encode()
    )
    console.print(f"[green]✓[/] contract and settings → s3://{outputs.data_bucket}/{folder}")

    with console.status(f"generating {rows} synthetic players"):
        buffer = io.StringIO()
        generate_players(rows, seed).to_csv(buffer, index=False)
    key = f"{folder}players-{time.strftime('%Y%m%dT%H%M%S')}.csv"
    put = s3.put_object(Bucket=outputs.data_bucket, Key=key, Body=buffer.getvalue().encode())
    console.print(f"[green]✓[/] {rows} players → s3://{outputs.data_bucket}/{key}")

    execution = find_execution(
        outputs.training_state_machine_arn, outputs.data_bucket, key, put.get("VersionId")
    )
    summary = watch(execution.arn)
    report_outcome(summary)

    registered = (summary.output or {}).get("registration", {})
    version = Registry().get(model, int(registered["version"]))
    table = Table(
        title=f"{model} v{version.version} in the registry", show_header=False, title_justify="left"
    )
    table.add_row("family", version.family)
    table.add_row("approval / stage", f"{version.approval.value} / {version.stage.value}")
    for metric in ("roc_auc", "accuracy", "f1", "brier"):
        if metric in version.metrics:
            table.add_row(metric, f"{version.metrics[metric]:.4f}")
    table.add_row("dataset", f"{version.lineage.dataset_uri} @ {version.lineage.dataset_version_id}")
    table.add_row("dataset sha256", version.lineage.dataset_sha256)
    table.add_row("artifacts", ", ".join(sorted(version.artifacts)))
    console.print(table)

    status, answer = call_api(outputs, "GET", "/health")
    console.print(f"GET /health with the API key → {status} {answer}")
    status, answer = call_api(outputs, "GET", "/health", with_key=False)
    console.print(f"GET /health without a key   → {status} {answer}")
