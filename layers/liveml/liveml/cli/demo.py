"""`liveml demo`: the main job, end to end on the deployed stack."""

from __future__ import annotations

import io
import json
import time

import typer
import yaml
from rich.console import Console
from rich.table import Table

from liveml.aws import client
from liveml.aws.s3 import get_bytes
from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect
from liveml.cli.pipeline import report_outcome, watch
from liveml.cli.rollout import controller
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
    """Generate players, upload them with their contract, watch the pipeline train and register a model,
    roll it out as a canary, and ask the API for a prediction."""
    from liveml.data.synth import generate_players, player_contract  # pandas: only when the demo runs

    outputs = connect(aws, stack_name)
    s3 = client("s3")
    folder = f"datasets/{model}/"
    # The demo starts its rollout itself (below), with a bake short enough to watch.
    settings = {
        "trials": trials,
        "time_budget_s": time_budget,
        "cv_folds": 3,
        "seed": seed,
        "rollout": {"auto": False},
    }
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

    rollout = controller(aws, stack_name)
    canary = {"strategy": "canary", "percent": 20, "bake_s": 10, "check_every_s": 5}
    arn = rollout.start(model, version.version, canary)
    # A model's first version has nothing to be a canary against: it goes to 100% after its smoke test.
    steps = "smoke test, 20% canary, health checks, 100%" if version.version > 1 else "smoke test, 100%"
    with console.status(f"rolling out v{version.version}: {steps}"):
        ended = rollout.wait(arn, timeout_s=600)
    if ended["status"] != "SUCCEEDED":
        console.print(f"[red]✗[/] rollout {ended['status']}: {ended.get('cause') or ended.get('error')}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] v{version.version} serves 100% of `live` (liveml rollout status {model})")

    golden = json.loads(get_bytes(version.artifacts["golden_requests.json"].uri))["requests"][0]
    request = {"player_id": "demo-player-1", "features": golden["features"]}
    status, answer = call_api(outputs, "POST", "/predict", request)
    console.print(f"POST /predict with the API key → {status} {json.dumps(answer)}")
    request["features"] = {**golden["features"], "level": "high"}
    status, answer = call_api(outputs, "POST", "/predict", request)
    console.print(f"POST /predict with a bad level  → {status} {json.dumps(answer)}")
    status, answer = call_api(outputs, "POST", "/predict", request, with_key=False)
    console.print(f"POST /predict without a key     → {status} {json.dumps(answer)}")
