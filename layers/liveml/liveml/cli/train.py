"""``liveml train`` and ``liveml predict``.

Exit codes: 0 success; 1 data quality, a failed gate, a failed export or any other expected error
(one clear message, no model directory left behind); 2 bad usage (typer's own).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from liveml.errors import LiveMLError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from liveml.training import PhaseEvent, TrialEvent

app = typer.Typer(no_args_is_help=True)


class TrainingProgress:
    """``liveml train``'s progress: a bar for the search's trials, a spinner for each phase after it (the
    winner's fit, the refit, export and parity, writing, evaluation and report), each with its elapsed
    time; a phase that ends leaves one line with its time. Without a terminal (CI logs) only those lines
    are written, nothing that redraws. The training code's ``progress`` callback drives it."""

    def __init__(self, console: Console, trials: int) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console, self.trials = console, trials
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.phase = ""
        self.status = ""
        self.started = 0.0

    def __enter__(self) -> TrainingProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end(failed=exc[0] is not None)  # the error's own message follows
        self.bar.__exit__(None, None, None)

    def __call__(self, event: TrialEvent | PhaseEvent) -> None:
        from liveml.training import PhaseEvent

        if isinstance(event, PhaseEvent):
            if event.phase == "search":
                self.begin("search", "", total=self.trials, status=f"0/{self.trials}")
            else:
                self.begin(event.phase, event.detail)
        elif self.task is not None and self.phase == "search":
            best = "-" if event.best_value is None else f"{event.best_value:.4f} ({event.best_family})"
            self.status = f"{event.number + 1} of {event.total} trials, best {best}"
            self.bar.update(self.task, advance=1, status=f"{event.number + 1}/{event.total}  best {best}")

    def begin(self, phase: str, description: str, *, total: int | None = None, status: str = "") -> None:
        """End the phase under way (its line and time), start ``phase``."""
        self.end()
        self.phase, self.status, self.started = phase, description, time.monotonic()
        self.task = self.bar.add_task(f"[bold]{phase}[/] {escape(description)}", total=total, status=status)

    def end(self, *, failed: bool = False) -> None:
        if self.task is None:
            return
        self.bar.remove_task(self.task)
        self.task = None
        seconds = time.monotonic() - self.started
        outcome = "[red]failed[/]" if failed else "[green]done[/]  "
        # One line each, never wrapped: a CI log keeps it whole.
        line = f"{outcome} {self.phase:<8} {escape(self.status)} [dim]{seconds:.1f} s[/]"
        self.console.print(line, soft_wrap=True)


@app.command("train")
def train_command(
    data: Path = typer.Argument(..., help="Dataset: CSV, Parquet or JSON lines, compressed or not."),
    contract: Path = typer.Option(..., "--contract", "-c", help="The dataset contract (YAML)."),
    out: Path = typer.Option(Path("model"), "--out", "-o", help="Model directory to write."),
    trials: int = typer.Option(30, "--trials", "-n", min=1, help="Trial budget of the search."),
    time_budget: float = typer.Option(
        300.0,
        "--time-budget",
        "-t",
        min=1.0,
        help="Seconds for the whole run: search, final fit, export and report.",
    ),
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
    from liveml.contract import Contract
    from liveml.data import DataQualityError, read_dataset
    from liveml.training import ModelPerformanceError, train_model

    try:
        with TrainingProgress(err, trials) as progress:
            spec = Contract.load(contract)
            progress.begin("read", data.name)
            df = read_dataset(data, contract=spec)
            result = train_model(
                df,
                spec,
                out,
                trials=trials,
                time_budget_s=time_budget,
                seed=seed,
                champion_dir=champion,
                progress=progress,
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
