"""``liveml contract``: draft a contract from data, and check one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Dataset contracts: draft one from data, check one.", no_args_is_help=True)


@app.command("infer")
def infer_command(
    data: Path = typer.Argument(..., help="CSV, Parquet or JSON lines (compressed too)."),
    target: str | None = typer.Option(None, "--target", "-t", help="Target column (guessed if left out)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the YAML here instead of stdout."),
    name: str | None = typer.Option(None, "--name", help="Contract name (default: the file's stem)."),
) -> None:
    """Draft a contract from DATA for a person to read and edit."""
    from liveml.contract import infer
    from liveml.data import read_dataset

    df = read_dataset(data)
    stem = data.name.split(".")[0] or "dataset"
    contract = infer(df, target=target, name=name or stem)
    text = contract.to_yaml()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    Console(stderr=True).print(
        f"wrote {out}: task {contract.task.value}, target {contract.target!r}, "
        f"{len(contract.features)} features. Review types, ranges and categories before use."
    )


@app.command("check")
def check_command(
    contract_path: Path = typer.Argument(..., metavar="CONTRACT", help="The contract YAML."),
) -> None:
    """Parse CONTRACT and print its summary; a bad contract names the field and why (exit 1)."""
    from liveml.contract import Contract

    contract = Contract.load(contract_path)
    table = Table(title=f"{contract.name} v{contract.version} ({contract.task.value})")
    table.add_column("#", justify="right")
    table.add_column("column")
    table.add_column("type")
    table.add_column("role")
    table.add_column("allowed")
    roles = {contract.target: "target", contract.entity_id: "entity id", contract.event_time: "event time"}
    feature_pos = {n: i for i, n in enumerate(contract.feature_names)}
    for col in contract.columns:
        allowed = ""
        if col.categories is not None:
            allowed = ", ".join(col.categories[:8]) + (" ..." if len(col.categories) > 8 else "")
        elif col.min is not None or col.max is not None:
            allowed = f"{col.min if col.min is not None else ''} .. {col.max if col.max is not None else ''}"
        pos = feature_pos.get(col.name)
        table.add_row(
            "" if pos is None else str(pos),
            col.name + ("" if col.nullable else " *"),
            col.type.value,
            roles.get(col.name, "feature"),
            allowed,
        )
    console = Console()
    console.print(table)
    classes = f", classes {contract.classes}" if contract.classes else ""
    console.print(f"target {contract.target!r}{classes}; * = not nullable; sha256 {contract.sha256}")
