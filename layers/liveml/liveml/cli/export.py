"""``liveml export``: build a model's dataset from player events and write it under datasets/<model>/."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console

from liveml.cli._stack import AWS_OPTION, STACK_OPTION
from liveml.errors import LiveMLError

app = typer.Typer()


def _cutoff(text: str | None) -> datetime | None:
    from liveml.monitoring.events import aware_datetime

    if text is None:
        return None
    try:
        return aware_datetime(text)
    except ValueError as exc:
        raise LiveMLError(f"--cutoff {exc}, e.g. 2026-11-01T00:00:00Z") from None


@app.command("export")
def export(
    model: str = typer.Argument(..., help="The model whose liveml.yaml has an `export:` section."),
    cutoff: str | None = typer.Option(
        None, "--cutoff", help="Features as of this instant (default: the latest with complete labels)."
    ),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Export MODEL's labelled dataset from the events in S3; its upload starts a pipeline run."""
    from liveml.cli._stack import connect
    from liveml.monitoring.export import export_model
    from liveml.monitoring.ingest import S3EventStore

    when = _cutoff(cutoff)  # a bad instant fails before the stack is looked up
    outputs = connect(aws, stack_name)
    console = Console()
    with console.status(f"exporting {model} from raw events"):
        result = export_model(
            model, bucket=outputs.data_bucket, store=S3EventStore(outputs.data_bucket), cutoff=when
        )
    console.print(
        f"wrote {result.uri}: {result.rows} players ({result.positives} positive) as of {result.cutoff}, "
        f"from {result.events} events — the pipeline starts from it (`liveml pipeline watch`)"
    )
