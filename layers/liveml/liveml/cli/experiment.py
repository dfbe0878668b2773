"""``liveml experiment``: plan an A/B test's sample size, analyse it from local files, simulate one;
``create|status|conclude`` run it on the deployed stack (S3 state, the live alias, a rollout to conclude).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION

if TYPE_CHECKING:
    from liveml.experiments import Analysis, SampleSizePlan
    from liveml.rollout.control import Controller
    from liveml.rollout.live_experiments import ExperimentRegistry

app = typer.Typer(
    help="A/B experiments: sample size up front, analysis and verdict, report.", no_args_is_help=True
)


class _Kind(StrEnum):
    RATE = "rate"
    MEAN = "mean"


_VERDICT_STYLE = {
    "promote_b": "bold green",
    "keep_a": "bold blue",
    "keep_running": "bold",
    "invalid": "bold red",
}


def _plan_table(plan: SampleSizePlan, title: str) -> Table:
    table = Table(title=title)
    table.add_column("variant")
    table.add_column("fixed horizon", justify="right")
    table.add_column("required (final look)", justify="right")
    for name, n in plan.per_variant.items():
        table.add_row(name, f"{plan.fixed_horizon[name]:,}", f"{n:,}")
    return table


@app.command("plan")
def plan_command(
    kind: _Kind = typer.Option(_Kind.RATE, "--kind", help="rate (0/1 outcome) or mean (continuous)."),
    baseline: float = typer.Option(..., "--baseline", help="Control's rate (0..1) or mean."),
    mde: float = typer.Option(
        ..., "--mde", help="Minimum detectable effect, absolute (rate points or units)."
    ),
    std: float | None = typer.Option(None, "--std", help="Per-player standard deviation (mean metrics)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided significance level."),
    power: float = typer.Option(0.8, "--power", help="Chance of detecting an effect of size MDE."),
    looks: int = typer.Option(1, "--looks", min=1, max=20, help="Planned analyses (1: fixed horizon)."),
    share_b: float = typer.Option(0.5, "--share-b", help="Share of players in B (A gets the rest)."),
) -> None:
    """Players needed per variant, before the experiment starts."""
    from liveml.experiments import ExperimentError, Metric, plan_sample_size

    if not 0 < share_b < 1:
        raise ExperimentError(f"--share-b must be in (0, 1), got {share_b}")
    try:
        metric = Metric(name="metric", kind=kind.value, baseline=baseline, mde=mde, std=std)
    except ValueError as exc:
        raise ExperimentError(f"invalid plan: {exc}") from None
    if not (0 < alpha < 0.5 and 0.5 < power < 1):
        raise ExperimentError(f"alpha must be in (0, 0.5) and power in (0.5, 1), got {alpha}, {power}")
    plan = plan_sample_size(metric, alpha, power, 1 - share_b, share_b, looks=looks)
    console = Console()
    console.print(
        _plan_table(
            plan, f"{kind.value}: baseline {baseline:g}, MDE {mde:g}, alpha {alpha:g}, power {power:g}"
        )
    )
    console.print(f"total players: {plan.total:,}")
    if looks > 1:
        pairs = ", ".join(f"{n:,} (|z| ≥ {b:.3f})" for n, b in zip(plan.looks, plan.boundaries, strict=True))
        console.print(f"looks (O'Brien-Fleming, inflation {plan.inflation:.3f}): {pairs}")


def _print_analysis(result: Analysis, console: Console) -> None:
    table = Table(title=f"{result.experiment}: {result.metric} ({result.kind.value})")
    for column in ("variant", "model", "assigned", "analysed", "required", result.metric):
        table.add_column(column, justify="left" if column in ("variant", "model") else "right")
    for v in result.variants:
        table.add_row(
            v.name, v.model_version, f"{v.assigned:,}", f"{v.n:,}", f"{v.required:,}", f"{v.mean:.4g}"
        )
    console.print(table)
    e = result.effect
    relative = f" ({e.relative:+.2%})" if e.relative is not None else ""
    console.print(
        f"effect B - A: {e.absolute:+.4g}{relative}, "
        f"{e.confidence:.0%} CI [{e.ci_low:.4g}, {e.ci_high:.4g}], "
        f"p = {e.p_value:.3g} ({e.test}, all data, nominal)"
    )
    srm = result.srm
    console.print(f"sample ratio: p = {srm.p_value:.3g} " + ("[red]MISMATCH[/]" if srm.mismatch else "ok"))
    for note in result.notes:
        console.print(f"note: {note}")
    style = _VERDICT_STYLE[result.verdict.value]
    console.print(f"[{style}]verdict: {result.verdict.value}[/] — {result.reason}", highlight=False)


@app.command("analyze")
def analyze_command(
    assignments: Path = typer.Option(..., "--assignments", "-a", help="CSV: player_id, variant, first_seen."),
    outcomes: Path = typer.Option(..., "--outcomes", "-o", help="CSV: player_id, value, timestamp."),
    experiment: Path = typer.Option(..., "--experiment", "-e", help="The experiment YAML."),
    report: Path | None = typer.Option(None, "--report", help="Write the HTML report here."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the analysis as JSON here."),
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Recompute sticky assignments from the salt."
    ),
) -> None:
    """Effect, interval, p-value, sample-ratio check and the verdict, from local files."""
    from liveml.experiments import (
        ASSIGNMENT_COLUMNS,
        OUTCOME_COLUMNS,
        Experiment,
        analyze,
        read_table,
        write_report,
    )

    exp = Experiment.from_yaml(experiment)
    result = analyze(
        exp,
        read_table(assignments, ASSIGNMENT_COLUMNS, "assignments"),
        read_table(outcomes, OUTCOME_COLUMNS, "outcomes"),
        verify_assignments=verify,
    )
    console = Console()
    _print_analysis(result, console)
    if json_out is not None:
        json_out.write_text(result.model_dump_json(indent=1), encoding="utf-8")
        console.print(f"wrote {json_out}")
    if report is not None:
        write_report(result, report)
        console.print(f"wrote {report}")


@app.command("simulate")
def simulate_command(
    experiment: Path = typer.Option(..., "--experiment", "-e", help="The experiment YAML."),
    truth: list[str] = typer.Option(
        ..., "--truth", "-t", help="VARIANT=VALUE: true rate or mean, per variant."
    ),
    players: int = typer.Option(20_000, "--players", "-n", min=2, help="Players enrolled."),
    seed: int = typer.Option(0, "--seed", "-s"),
    out_dir: Path = typer.Option(Path(), "--out-dir", help="Writes assignments.csv and outcomes.csv here."),
) -> None:
    """Simulated assignments and outcomes, to try ``analyze`` or a report without real players."""
    from liveml.experiments import Experiment, ExperimentError, simulate

    values: dict[str, float] = {}
    for item in truth:
        name, sep, value = item.partition("=")
        try:
            values[name] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ExperimentError(f"--truth takes VARIANT=NUMBER, got {item!r}")
    sim = simulate(values, players, seed, experiment=Experiment.from_yaml(experiment))
    out_dir.mkdir(parents=True, exist_ok=True)
    sim.assignments.to_csv(out_dir / "assignments.csv", index=False)
    sim.outcomes.to_csv(out_dir / "outcomes.csv", index=False)
    Console(stderr=True).print(
        f"wrote {out_dir / 'assignments.csv'} and {out_dir / 'outcomes.csv'} ({players} players)"
    )


def _experiments(aws: bool, stack_name: str) -> tuple[ExperimentRegistry, Controller]:
    from liveml.cli.rollout import controller
    from liveml.rollout.live_experiments import ExperimentRegistry

    ctl = controller(aws, stack_name)
    return ExperimentRegistry(ctl.function, store=ctl.store), ctl


@app.command("create")
def create_command(
    experiment: Path = typer.Option(..., "--experiment", "-e", help="The experiment YAML."),
    mode: str = typer.Option(
        "sticky", "--mode", help="sticky (hash of salt + player) or alias (per request)."
    ),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Start serving an experiment: its required sample size first, then live points at its binding."""
    from liveml.experiments import Experiment

    exp = Experiment.from_yaml(experiment)
    console = Console()
    console.print(_plan_table(exp.plan(), f"{exp.name}: players needed before a verdict"))
    registry, _ = _experiments(aws, stack_name)
    state = registry.create(exp, experiment.read_text(encoding="utf-8"), mode=mode)
    console.print(
        f"[green]✓[/] {exp.name} running ({mode}): live -> version(s) "
        f"{', '.join(state['serving_versions'])}, previously {state['previous_version']}"
    )


@app.command("status")
def status_command(
    name: str = typer.Argument(..., help="Experiment name."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """The experiment's state: variants, split, required players, what live serves."""
    registry, _ = _experiments(aws, stack_name)
    state = registry.status(name)
    console = Console()
    table = Table(title=f"{name}: {state['status']} ({state['mode']})")
    for column in ("variant", "model version", "share", "required"):
        table.add_column(column)
    for variant, version in state["variants"].items():
        table.add_row(
            variant,
            version,
            f"{state['split'][variant]:.0%}",
            f"{state['required_per_variant'].get(variant, 0):,}",
        )
    console.print(table)
    live = state["live"]
    console.print(
        f"live -> version {live['version']}"
        + (f" + {live['weight']:.0%} {live['extra']}" if live["extra"] else "")
        + ("" if state["live_serves_it"] else " [yellow](not this experiment)[/]")
    )
    if state.get("winner"):
        console.print(f"winner {state['winner']}: rollout {state.get('rollout_execution')}")


@app.command("conclude")
def conclude_command(
    name: str = typer.Argument(..., help="Experiment name."),
    winner: str = typer.Option(..., "--winner", help="The variant to roll out (from `analyze`'s verdict)."),
    strategy: str | None = typer.Option(None, help="Rollout strategy for the winner (default: the stack's)."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """End the experiment by rolling the winner out through the rollout state machine."""
    registry, ctl = _experiments(aws, stack_name)
    settings = {"strategy": strategy} if strategy else {}
    state = registry.conclude(name, winner, ctl, settings)
    Console().print(f"[green]✓[/] {name} concluded: {winner} rolls out ({state['rollout_execution']})")
