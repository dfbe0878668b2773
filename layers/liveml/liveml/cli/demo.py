"""`liveml demo`: the main job, end to end on the deployed stack."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from liveml.aws import client
from liveml.aws.s3 import get_bytes
from liveml.binding import Binding
from liveml.binding.build import single_binding
from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect
from liveml.cli.monitor import print_summary
from liveml.cli.pipeline import report_outcome, watch
from liveml.cli.rollout import controller
from liveml.errors import LiveMLError
from liveml.modeldir import GOLDEN_REQUESTS
from liveml.pipeline import SETTINGS_FILE, find_execution
from liveml.registry import ModelVersion, Registry
from liveml.rollout.aliases import PredictFunction
from liveml.stack import StackOutputs
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
        # The last act: drift in 2 windows in a row starts one retraining (then 5 minutes' cool-down).
        "monitor": {"windows": 2, "cooldown_minutes": 5, "min_rows": 200},
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

    golden = json.loads(get_bytes(version.artifacts[GOLDEN_REQUESTS].uri))["requests"][0]
    request = {"player_id": "demo-player-1", "features": golden["features"]}
    status, answer = call_api(outputs, "POST", "/predict", request)
    console.print(f"POST /predict with the API key → {status} {json.dumps(answer)}")
    request["features"] = {**golden["features"], "level": "high"}
    status, answer = call_api(outputs, "POST", "/predict", request)
    console.print(f"POST /predict with a bad level  → {status} {json.dumps(answer)}")
    status, answer = call_api(outputs, "POST", "/predict", request, with_key=False)
    console.print(f"POST /predict without a key     → {status} {json.dumps(answer)}")

    closed_loop(outputs, version)


# ---------------------------------------------------------------------------- the last act: the loop


def _players(version: ModelVersion, *, shift: bool) -> list[dict[str, Any]]:
    """Simulated players: the version's holdout rows (its training distribution), or with
    sessions_last_7d tripled, as after an update that changed how people play."""
    from liveml.modeldir import HOLDOUT_ROWS

    lines = get_bytes(version.artifacts[HOLDOUT_ROWS].uri).decode().splitlines()
    rows = []
    for i, line in enumerate(lines):
        features = json.loads(line)
        player = str(features.pop("player_id", f"sim-{i}"))
        if shift and features.get("sessions_last_7d") is not None:
            features["sessions_last_7d"] = min(int(features["sessions_last_7d"]) * 3 + 5, 500)
        rows.append({"player_id": player, "features": features})
    return rows


def _send_events(outputs: StackOutputs, players: int = 200) -> tuple[int, int]:
    """A week of simulated players' sessions, purchases and levels, sent as a game sends them:
    batches of 500 to ``POST /events``. Returns (accepted, rejected)."""
    from liveml.data.synth_events import generate_events, to_batches  # pandas, only for this act

    start = datetime.now(UTC) - timedelta(days=7, hours=1)
    accepted = rejected = 0
    for batch in to_batches(generate_events(players, seed=7, start=start, days=7)):
        status, answer = call_api(outputs, "POST", "/events", {"game": "demo", "events": batch})
        if status != 200:
            raise LiveMLError(f"POST /events answered {status}: {answer}")
        accepted += int(answer["accepted"]) + int(answer["duplicates"])
        rejected += len(answer["rejected"])
    return accepted, rejected


def _send(outputs: StackOutputs, rows: list[dict[str, Any]], batch: int = 100) -> int:
    sent = 0
    for start in range(0, len(rows), batch):
        status, answer = call_api(outputs, "POST", "/predict/batch", {"rows": rows[start : start + batch]})
        if status != 200:
            raise LiveMLError(f"POST /predict/batch answered {status}: {answer}")
        sent += len(rows[start : start + batch])
    return sent


def _next_minute() -> datetime:
    """Wait for the next minute to begin (the schedule fires on minutes), and return it."""
    now = datetime.now(UTC)
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    with console.status(f"waiting for the monitor's next window, {boundary:%H:%M}Z"):
        time.sleep(max((boundary - now).total_seconds() + 2, 0))
    return boundary


def _monitor(outputs: StackOutputs, at: datetime) -> dict[str, Any]:
    from liveml.monitoring.monitor import invoke_monitor  # scipy: only when the act runs

    with console.status(f"monitor: the window ending {at:%H:%M}Z (invoked as its schedule would)"):
        summary = invoke_monitor(outputs.raw["MonitorFunctionName"], at)
    print_summary(summary)
    return summary


def closed_loop(outputs: StackOutputs, version: ModelVersion) -> None:
    """Players play, their requests are captured, drift is induced, the monitor flags it, the alarm
    fires, and one retraining run starts and registers a version whose lineage says why."""
    model = version.model
    console.rule("the loop: monitoring, drift, retraining")
    # Every request captured, flushed within a second, so the windows below see this act's traffic.
    function = PredictFunction(outputs.predict_function)
    capture = {"LIVEML_CAPTURE_SAMPLE_RATE": "1.0", "LIVEML_CAPTURE_MAX_AGE_S": "1"}
    with console.status("publishing the serving version with full capture"):
        function.route(
            function.publish(
                Binding.one(single_binding(version)), description="demo: full capture", extra_env=capture
            )
        )

    calm = _players(version, shift=False)
    console.print(f"[green]✓[/] {_send(outputs, calm)} players played as in training (POST /predict/batch)")
    accepted, rejected = _send_events(outputs)
    console.print(
        f"[green]✓[/] their games sent {accepted} events back (POST /events, {rejected} rejected): "
        "the next training data"
    )
    _monitor(outputs, _next_minute())

    drifted = _players(version, shift=True)
    sent = _send(outputs, drifted) + _send(outputs, drifted)
    console.print(
        f"[yellow]![/] {sent} requests from players who now play 3x as many sessions (drift induced)"
    )
    act_began = datetime.now(UTC) - timedelta(minutes=5)
    for _ in range(2):  # the policy asks for drift in 2 windows in a row
        retrain = _monitor(outputs, _next_minute())["models"][model]["retrain"]
    # The stack's own schedule may have run in between and started it: either way, one copy.
    s3 = client("s3")
    listed = s3.list_objects_v2(Bucket=outputs.data_bucket, Prefix=f"datasets/{model}/retrain/")
    copies = [c for c in listed.get("Contents", []) if c["LastModified"] >= act_began]
    if not copies:
        raise LiveMLError(f"the monitor did not start retraining: {retrain.get('reason')}")
    newest = max(copies, key=lambda c: c["LastModified"])

    cloudwatch = client("cloudwatch")
    alarm_name = outputs.raw["DriftAlarmName"]
    with console.status(f"waiting for the {alarm_name} alarm"):
        for _ in range(60):
            state = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]["StateValue"]
            if state == "ALARM":
                break
            time.sleep(2)
    console.print(f"alarm {alarm_name}: [bold]{state}[/] (notifies the alerts topic; so did the retrain)")

    bucket, key = outputs.data_bucket, newest["Key"]
    head = s3.head_object(Bucket=bucket, Key=key)
    console.print(
        f"[green]✓[/] retraining on s3://{bucket}/{key} (trigger {head['Metadata']['liveml-trigger']})"
    )
    execution = find_execution(outputs.training_state_machine_arn, bucket, key, head.get("VersionId"))
    summary = watch(execution.arn)
    report_outcome(summary)
    registered = (summary.output or {}).get("registration", {})
    retrained = Registry().get(model, int(registered["version"]))
    console.print(
        f"[green]✓[/] {model} v{retrained.version} registered; lineage trigger: "
        f"[bold]{retrained.lineage.trigger}[/] ({retrained.lineage.trigger_reason})"
    )
    console.print(f"see it: liveml monitor status {model}; liveml monitor report {model} -o monitoring.html")
