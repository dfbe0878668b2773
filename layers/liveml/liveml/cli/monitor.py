"""`liveml monitor status|report|run`: drift and live accuracy of the served model versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect

app = typer.Typer(
    help="Drift and live accuracy of served model versions: status, report, run.", no_args_is_help=True
)
console = Console()


def _score(value: float | None) -> str:
    if value is None:
        return "-"
    colour = "red" if value > 1 else "green"
    return f"[{colour}]{value:.2f}[/]"


@app.command("status")
def status(
    model: str | None = typer.Argument(None, help="Only this model."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """The latest window of every monitored version: status, score, drifted features, live accuracy."""
    from liveml.aws import client
    from liveml.monitoring.monitor import MONITORING_PREFIX, accuracy_prefix, read_records
    from liveml.monitoring.policy import RetrainGate
    from liveml.registry import Registry

    outputs = connect(aws, stack_name)
    s3, registry = client("s3"), Registry()
    gate = RetrainGate(outputs.registry_table, dynamodb=client("dynamodb"))
    table = Table(title="monitoring (latest window per version)")
    for column in (
        "model",
        "version",
        "window end",
        "status",
        "rows",
        "drift",
        "drifted features",
        "live ROC AUC",
    ):
        table.add_column(column)
    retrains = []
    for name in [model] if model else registry.models():
        prefix = f"{MONITORING_PREFIX}/{name}/drift/"
        # one listing of the version= folders, not a read of every record
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=outputs.data_bucket, Prefix=prefix, Delimiter="/"
        )
        folders = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        versions = sorted(
            (f[len(prefix) :].strip("/").removeprefix("version=") for f in folders),
            key=lambda v: (len(v), v),
        )
        for version in versions:
            last = read_records(s3, outputs.data_bucket, f"{prefix}version={version}/", 1)[-1]
            accuracy = read_records(s3, outputs.data_bucket, accuracy_prefix(name, str(version)), 1)
            live = "-"
            if accuracy and accuracy[-1].get("roc_auc") is not None:
                a = accuracy[-1]
                estimated = " (est.)" if a.get("estimate") else ""
                live = f"{a['roc_auc']:.3f}{estimated} vs {a.get('holdout_roc_auc') or 0:.3f}"
            table.add_row(
                name,
                f"v{version}",
                str(last["window_end"])[:16],
                str(last["status"]) + (f": {last['reason']}" if last.get("reason") else ""),
                str(last["rows"]),
                _score(last.get("score")),
                ", ".join(last.get("drifted_features") or []) or "-",
                live,
            )
        last_retrain = gate.last(name)
        if last_retrain:
            retrains.append(
                f"{name}: retraining started ({last_retrain['trigger']}): {last_retrain['reason']}"
            )
    console.print(table)
    for line in retrains:
        console.print(line)


@app.command("report")
def report(
    model: str = typer.Argument(...),
    out: Path = typer.Option(Path("monitoring.html"), "--out", "-o", help="Where to write the HTML report."),
    windows: int = typer.Option(
        500, "--windows", help="At most this many of the latest windows per version."
    ),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """An HTML report: drift over time, reference vs live distributions, live accuracy per version."""
    from liveml.aws import client
    from liveml.monitoring.monitor import MONITORING_PREFIX, read_records
    from liveml.monitoring.report import write_report

    outputs = connect(aws, stack_name)
    s3 = client("s3")
    with console.status("reading monitoring records"):
        drift = read_records(s3, outputs.data_bucket, f"{MONITORING_PREFIX}/{model}/drift/")
        accuracy = read_records(s3, outputs.data_bucket, f"{MONITORING_PREFIX}/{model}/accuracy/")
    by_version: dict[str, list[dict[str, object]]] = {}
    for record in drift:
        by_version.setdefault(str(record["version"]), []).append(record)
    drift = [r for rows in by_version.values() for r in rows[-windows:]]
    with console.status("drawing plots"):
        path = write_report(model, drift, accuracy, out)
    console.print(f"{len(drift)} drift window(s), {len(accuracy)} accuracy record(s) -> [bold]{path}[/]")


@app.command("run")
def run(
    at: datetime | None = typer.Option(None, "--at", help="End of the window (UTC); default now."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Invoke the deployed monitor function now, as its schedule does, and show what it found."""
    from liveml.monitoring.monitor import invoke_monitor

    outputs = connect(aws, stack_name)
    end = (at.replace(tzinfo=UTC) if at and at.tzinfo is None else at) or datetime.now(UTC)
    with console.status(f"monitoring the window ending {end:%Y-%m-%d %H:%M}Z"):
        summary = invoke_monitor(outputs.raw["MonitorFunctionName"], end)
    print_summary(summary)


def print_summary(summary: dict[str, object]) -> None:
    table = Table(title=f"monitor run, window ending {summary.get('window_end')}")
    for column in ("model", "version", "status", "rows", "drift", "top feature", "drifted features"):
        table.add_column(column)
    models = summary.get("models") or {}
    assert isinstance(models, dict)
    for name, found in models.items():
        for v in found["versions"]:
            table.add_row(
                name,
                f"v{v['version']}",
                str(v["status"]) + (f": {v['reason']}" if v.get("reason") else ""),
                str(v["rows"]),
                _score(v.get("score")),
                str(v.get("top_feature") or "-"),
                ", ".join(v.get("drifted_features") or []) or "-",
            )
    console.print(table)
    for name, found in models.items():
        retrain = found["retrain"]
        if retrain.get("started"):
            console.print(
                f"[bold yellow]{name}: retraining started ({retrain['trigger']})[/]: {retrain['reason']}"
            )
