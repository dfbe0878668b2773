"""`liveml models list|show|approve|reject`: the registry from the command line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect
from liveml.registry import ModelVersion, Registry

app = typer.Typer(help="Registered model versions: list, inspect, approve, reject.", no_args_is_help=True)
console = Console()
USER_OPTION = typer.Option("cli", "--by", help="Who decides (recorded in the version's history).")
REASON_OPTION = typer.Option("", "--reason", help="Why (recorded in the version's history).")


def _row(version: ModelVersion) -> list[str]:
    primary = next(
        (f"{k}={version.metrics[k]:.4f}" for k in ("roc_auc", "r2", "accuracy") if k in version.metrics), ""
    )
    return [
        version.model,
        str(version.version),
        version.approval.value,
        version.stage.value,
        version.family,
        primary,
        version.created_at[:19],
    ]


@app.command("list")
def list_versions(
    model: str | None = typer.Argument(None, help="Only this model."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Every version of every model (or of one), with approval and stage."""
    connect(aws, stack_name)
    registry = Registry()
    table = Table()
    for column in ("model", "version", "approval", "stage", "family", "metric", "created"):
        table.add_column(column)
    for name in [model] if model else registry.models():
        for version in registry.versions(name):
            table.add_row(*_row(version))
    console.print(table)


@app.command("show")
def show(
    model: str = typer.Argument(...),
    version: int = typer.Argument(...),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """One version: metrics, evaluation, lineage, artifacts and history."""
    connect(aws, stack_name)
    found = Registry().get(model, version)
    console.print(
        f"[bold]{found.model} v{found.version}[/] {found.approval.value} {found.stage.value} {found.family}"
    )
    for title, values in [
        ("metrics", {k: f"{v:.4f}" for k, v in found.metrics.items()}),
        ("lineage", found.lineage.model_dump(exclude={"settings", "parameters"})),
        ("parameters", found.lineage.parameters),
        ("evaluation", found.evaluation),
    ]:
        table = Table(title=title, show_header=False, title_justify="left")
        for key, value in values.items():
            table.add_row(key, str(value))
        console.print(table)
    artifacts = Table(title="artifacts", title_justify="left")
    for column in ("name", "sha256", "bytes", "uri"):
        artifacts.add_column(column)
    for name, artifact in found.artifacts.items():
        artifacts.add_row(name, artifact.sha256[:16] + "…", str(artifact.size_bytes), artifact.uri)
    console.print(artifacts)
    history = Table(title="history", title_justify="left")
    for column in ("at", "change", "by", "reason"):
        history.add_column(column)
    for entry in found.history:
        history.add_row(entry.at[:19], entry.change, entry.by, entry.reason)
    console.print(history)


def _decision(name: str, colour: str, doc: str) -> None:
    """``approve`` and ``reject``: the same arguments, one registry call each (it publishes the event)."""

    def command(
        model: str = typer.Argument(...),
        version: int = typer.Argument(...),
        by: str = USER_OPTION,
        reason: str = REASON_OPTION,
        aws: bool = AWS_OPTION,
        stack_name: str = STACK_OPTION,
    ) -> None:
        connect(aws, stack_name)
        decided = getattr(Registry(), name)(model, version, by=by, reason=reason)
        console.print(f"[{colour}]✓[/] {model} v{version} is {decided.approval.value}")

    command.__doc__ = doc
    app.command(name)(command)


_decision("approve", "green", "Approve a version waiting in PendingManualApproval (publishes ModelApproved).")
_decision("reject", "yellow", "Reject a version waiting in PendingManualApproval (publishes ModelRejected).")
