"""``liveml rollout start|status|promote|rollback|abort``: the rollout state machine from the command line."""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect

app = typer.Typer(
    help="Roll a model version out behind the live alias: start, status, promote, rollback, abort.",
    no_args_is_help=True,
)
console = Console()
BY_OPTION = typer.Option("cli", "--by", help="Who acts (recorded in the registry's history).")
REASON_OPTION = typer.Option("", "--reason", help="Why (in the notification and the registry).")


def controller(aws: bool, stack_name: str) -> Any:
    from liveml.binding.constants import PREDICT_FUNCTION
    from liveml.registry import Registry
    from liveml.rollout import PredictFunction, RolloutError, RolloutStore
    from liveml.rollout.control import Controller

    outputs = connect(aws, stack_name)
    arn = outputs.raw.get("RolloutStateMachineArn")
    if not arn:
        raise RolloutError(f"stack {stack_name!r} has no rollout state machine: redeploy it (liveml deploy)")
    os.environ[PREDICT_FUNCTION] = outputs.predict_function
    return Controller(arn, PredictFunction(outputs.predict_function), Registry(), RolloutStore())


@app.command()
def start(
    model: str = typer.Argument(...),
    version: int = typer.Argument(...),
    strategy: str | None = typer.Option(None, help="all-at-once | canary | linear"),
    percent: int | None = typer.Option(None, help="canary: share of requests to the new version, percent"),
    step: int | None = typer.Option(None, "--step", help="linear: percent added per step"),
    bake: int | None = typer.Option(None, "--bake", help="seconds at each traffic step (linear: interval)"),
    check_every: int | None = typer.Option(None, "--check-every", help="seconds between health checks"),
    max_error_rate: float | None = typer.Option(None, help="health: highest error rate, 0..1"),
    max_p99_ms: float | None = typer.Option(None, help="health: highest p99 latency, ms"),
    drill_latency_ms: int | None = typer.Option(
        None, help="rehearse a rollback: the new version sleeps this long per request"
    ),
    wait: bool = typer.Option(False, "--wait", help="Wait until the rollout ends."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Start a rollout of MODEL VERSION (a second one of the same model is refused)."""
    settings: dict[str, Any] = {
        "strategy": strategy,
        "percent": percent,
        "step_percent": step,
        "bake_s": bake,
        "check_every_s": check_every,
        "max_error_rate": max_error_rate,
        "max_p99_ms": max_p99_ms,
    }
    if drill_latency_ms:
        settings["drill"] = {"latency_ms": drill_latency_ms}
    ctl = controller(aws, stack_name)
    arn = ctl.start(model, version, {k: v for k, v in settings.items() if v is not None})
    console.print(f"started {arn}")
    if wait:
        with console.status("rolling out..."):
            ended = ctl.wait(arn)
        _print_status(ctl.status(model))
        if ended["status"] != "SUCCEEDED":
            raise typer.Exit(1)


def _print_status(status: dict[str, Any]) -> None:
    live = status["live"]
    split = f", {live['weight']:.0%} to version {live['extra']}" if live["extra"] else ""
    console.print(f"[bold]{status['model']}[/]: live -> version {live['version']}{split}")
    console.print(
        f"registry production: v{status['production']}" if status["production"] else "no production"
    )
    held = status["in_progress"]
    if held:
        console.print(f"in progress: rollout {held['rollout_id']} of v{held['version']}")
    for waiting in status.get("queued", []):
        behind = waiting["behind"]
        console.print(
            f"[yellow]queued[/]: v{waiting['version']} waits for live since {waiting['since'][11:19]} UTC "
            f"(held by rollout {behind.get('rollout_id', '?')} of {behind.get('model', '?')} "
            f"v{behind.get('version', '?')})"
        )
    latest = status["latest"]
    if latest:
        console.print(
            f"latest rollout {latest['rollout_id']}: v{latest['version']} {latest.get('status')} "
            f"at {latest.get('percent', 0)}% ({latest.get('settings', {}).get('strategy')} "
            f"{latest.get('schedule')}); execution {status['execution_status'] or '-'}"
        )
        if latest.get("reason"):
            console.print(f"reason: {latest['reason']}")
        table = Table(title="events", title_justify="left")
        table.add_column("at")
        table.add_column("event")
        for event in latest.get("events", [])[-12:]:
            table.add_row(event["at"][11:19], event["event"])
        console.print(table)
    shadow = status.get("shadow") or {}
    state = shadow.get("state")
    if state:
        console.print(
            f"shadow of v{state['model_version']} (version {state['candidate']}) "
            f"at {state['sample_rate']:g}: {state['status']}"
        )
    for row in shadow.get("report", []):
        console.print(
            f"  candidate {row['candidate']} (v{row['model_version']}): {row['requests']} samples, agreement "
            f"{row['agreement']:.1%}, errors {row['error_rate']:.1%}, mean {row['mean_latency_ms']:.0f} ms, "
            f"p99 <= {row['p99_latency_ms_at_most']} ms"
        )


@app.command()
def status(model: str = typer.Argument(...), aws: bool = AWS_OPTION, stack_name: str = STACK_OPTION) -> None:
    """Where live points, the rollout in progress, the latest rollout's steps."""
    _print_status(controller(aws, stack_name).status(model))


@app.command()
def promote(
    model: str = typer.Argument(...),
    by: str = BY_OPTION,
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Promote the rollout in progress now: 100% to the new version."""
    done = controller(aws, stack_name).promote(model, by=by)
    console.print(
        f"[green]✓[/] {model} v{done['version']} promoted: live is 100% version {done['candidate']}"
    )


def _back_to_stable(name: str, said: str, doc: str) -> None:
    """``rollback`` and ``abort``: the same arguments, and both leave live on 100% of the stable version."""

    def command(
        model: str = typer.Argument(...),
        by: str = BY_OPTION,
        reason: str = REASON_OPTION,
        aws: bool = AWS_OPTION,
        stack_name: str = STACK_OPTION,
    ) -> None:
        done = getattr(controller(aws, stack_name), name)(model, by=by, reason=reason)
        console.print(
            "[yellow]✓[/] " + said.format(model=model, version=done["version"], stable=done["stable"])
        )

    command.__doc__ = doc
    app.command(name)(command)


_back_to_stable(
    "rollback",
    "{model} v{version} rolled back: live is 100% version {stable}",
    "Point live back at the previous version in one call, at any time (the version is rejected).",
)


@app.command("shadow")
def shadow_start(
    model: str = typer.Argument(...),
    version: int = typer.Argument(..., help="The candidate model version."),
    rate: float = typer.Option(0.1, "--rate", help="Share of answered /predict requests it also scores."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Shadow a candidate: it scores a sample of live requests in the background, never answering players."""
    from liveml.rollout.shadow import Shadow

    ctl = controller(aws, stack_name)
    state = Shadow(ctl.function, registry=ctl.registry, table=ctl.store.table).start(model, version, rate)
    console.print(
        f"[green]✓[/] shadowing {model} v{version} (version {state['candidate']}) at {rate:g}: "
        f"live -> version {state['primary']} (was {state['previous']}); report: liveml rollout status {model}"
    )


@app.command("shadow-stop")
def shadow_stop(
    model: str = typer.Argument(...), aws: bool = AWS_OPTION, stack_name: str = STACK_OPTION
) -> None:
    """Stop shadowing: live back on the version it served before (its counts stay for the report)."""
    from liveml.rollout.shadow import Shadow

    ctl = controller(aws, stack_name)
    state = Shadow(ctl.function, registry=ctl.registry, table=ctl.store.table).stop(model)
    console.print(f"[yellow]✓[/] shadow stopped: live -> version {state['previous']}")


_back_to_stable(
    "abort",
    "rollout of {model} v{version} aborted: live is 100% version {stable}",
    "Stop the rollout in progress: live back to 100% stable; the version stays an approved candidate.",
)
