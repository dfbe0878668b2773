"""``liveml data``: synthetic players, and the data gate on a file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    help="Datasets: generate synthetic players, validate a file against a contract.", no_args_is_help=True
)


class _SynthTask(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"


def contract_path_for(data_path: Path) -> Path:
    """Where ``synth`` writes the contract: ``players.csv.gz`` -> ``players.contract.yaml``."""
    return data_path.with_name(data_path.name.split(".")[0] + ".contract.yaml")


@app.command("synth")
def synth_command(
    rows: int = typer.Option(5000, "--rows", "-n", min=1, help="How many players."),
    seed: int = typer.Option(7, "--seed", "-s", help="Same seed, same data."),
    out: Path = typer.Option(
        Path("players.csv"), "--out", "-o", help="Output file: .csv, .csv.gz, .parquet or .jsonl."
    ),
    task: _SynthTask = typer.Option(
        _SynthTask.BINARY, "--task", help="binary (churned) or multiclass (segment)."
    ),
) -> None:
    """Write ROWS synthetic players to OUT, and their contract beside it."""
    from liveml.data.synth import generate_players, player_contract
    from liveml.errors import LiveMLError

    df = generate_players(rows, seed, task.value)
    lower = out.name.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if lower.endswith(".parquet"):
        df.to_parquet(out, index=False)
    elif lower.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        df.to_json(out, orient="records", lines=True)
    elif lower.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip")):
        df.to_csv(out, index=False)
    else:
        raise LiveMLError(f"{out}: use .csv, .csv.gz, .csv.bz2, .csv.zip, .parquet or .jsonl")
    contract_path = player_contract(task.value).save(contract_path_for(out))
    Console(stderr=True).print(f"wrote {out} ({rows} rows, seed {seed}) and {contract_path}")


@app.command("validate")
def validate_command(
    data: Path = typer.Argument(..., help="CSV, Parquet or JSON lines (compressed too)."),
    contract_path: Path = typer.Option(..., "--contract", "-c", help="The contract YAML."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
) -> None:
    """Run the data gate on DATA: a table of issues, exit 1 when it fails."""
    from liveml.contract import Contract
    from liveml.data import validate_source

    contract = Contract.load(contract_path)
    report = validate_source(data, contract, name=data.name)
    if json_out is not None:
        json_out.write_text(report.to_json(), encoding="utf-8")
    console = Console()
    console.print(report.render())
    console.print(report.summary())
    if not report.passed:
        raise typer.Exit(1)
