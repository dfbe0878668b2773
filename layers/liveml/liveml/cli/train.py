"""``liveml train`` and ``liveml predict``.

Exit codes: 0 success; 1 data quality, a failed gate, a failed export or any other expected error
(one clear message, no model directory left behind); 2 bad usage (typer's own).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from liveml.errors import LiveMLError

app = typer.Typer(no_args_is_help=True)


@app.command("train")
def train_command(
    data: Path = typer.Argument(..., help="Dataset: CSV, Parquet or JSON lines, compressed or not."),
    contract: Path = typer.Option(..., "--contract", "-c", help="The dataset contract (YAML)."),
    out: Path = typer.Option(Path("model"), "--out", "-o", help="Model directory to write."),
    trials: int = typer.Option(30, "--trials", "-n", min=1, help="Trial budget of the search."),
    time_budget: float = typer.Option(300.0, "--time-budget", "-t", min=1.0, help="Seconds for the search."),
    seed: int = typer.Option(0, "--seed", "-s", help="Same seed and data, same model (trial-bound runs)."),
    champion: Path | None = typer.Option(None, "--champion", help="Current model directory to beat."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
    refit: bool = typer.Option(
        True,
        "--refit/--no-refit",
        help="Refit the chosen model on every row once its holdout figures pass the gates (default); "
        "--no-refit serves the model fitted on 80% that the holdout scored.",
    ),
) -> None:
    """Validate DATA against the contract, search and train a model, gate it, export it to OUT."""
    console = Console()
    err = Console(stderr=True)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from liveml.contract import Contract
    from liveml.data import DataQualityError, read_dataset
    from liveml.training import ModelPerformanceError, TrialEvent, train_model

    try:
        spec = Contract.load(contract)
        df = read_dataset(data, contract=spec)
        with Progress(
            TextColumn("[bold]search"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task_id = bar.add_task("trials", total=trials, best="-")

            def on_trial(e: TrialEvent) -> None:
                best = "-" if e.best_value is None else f"{e.best_value:.4f} ({e.best_family})"
                bar.update(task_id, advance=1, best=best)

            result = train_model(
                df,
                spec,
                out,
                trials=trials,
                time_budget_s=time_budget,
                seed=seed,
                champion_dir=champion,
                progress=on_trial,
                overwrite=force,
                refit=refit,
            )
    except DataQualityError as exc:
        err.print(exc.report.render())
        err.print(f"[bold red]data quality gate failed:[/] {escape(exc.report.summary())}; no model written")
        raise typer.Exit(1) from None
    except ModelPerformanceError as exc:
        err.print(f"[bold red]gate failed:[/] {escape(str(exc))}; no model written")
        raise typer.Exit(1) from None
    except LiveMLError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}; no model written")
        raise typer.Exit(1) from None

    table = Table(title=f"{spec.name}: {result.family}", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        if key != "confusion_matrix":
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    table.add_row("cv score", f"{result.cv_score:.4f}")
    table.add_row("trials", str(result.trials))
    table.add_row("onnx parity", f"{result.onnx_parity:.2e}")
    table.add_row(
        "compact parity", "n/a" if result.compact_parity is None else f"{result.compact_parity:.2e}"
    )
    table.add_row("seconds", f"{result.seconds:.1f}")
    for gate in result.gates:
        table.add_row(f"gate {gate['gate']}", "passed" if gate["passed"] else "FAILED")
    console.print(table)
    console.print(f"model written to [bold]{escape(str(result.out_dir))}[/]")


@app.command("predict")
def predict_command(
    model: Path = typer.Argument(..., help="A model directory written by `liveml train`."),
    rows: Path = typer.Argument(..., help="CSV of raw rows (the contract's feature columns)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write predictions here (CSV); default stdout."
    ),
) -> None:
    """Predict ROWS with the model's ONNX artifact (through the light runtime, no scikit-learn)."""
    from liveml.inference import load_model_dir

    err = Console(stderr=True)
    try:
        bundle = load_model_dir(model)
        with rows.open(newline="", encoding="utf-8-sig") as fh:
            records: list[dict[str, Any]] = [
                {k: (None if v == "" else v) for k, v in r.items()} for r in csv.DictReader(fh)
            ]
        preds = bundle.onnx.predict(records)
    except (LiveMLError, OSError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    classes = bundle.classes or []
    header = (
        ["value"] if bundle.task == "regression" else ["label", "confidence", *(f"p_{c}" for c in classes)]
    )
    fh_out = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        writer = csv.writer(fh_out)
        writer.writerow(header)
        for p in preds:
            if bundle.task == "regression":
                writer.writerow([p.value])
            else:
                probs = p.probabilities or {}
                writer.writerow([p.label, p.confidence, *(probs[c] for c in classes)])
    finally:
        if out:
            fh_out.close()
    if out:
        err.print(f"{len(preds)} predictions written to {escape(str(out))}")
