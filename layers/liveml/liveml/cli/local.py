"""``liveml local up|down|status|logs``: LocalStack on the host, as one managed process group."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Run LocalStack on this machine (no Docker): up, down, status, logs.", no_args_is_help=True
)
console = Console()


@app.command()
def up(
    timeout: float = typer.Option(
        None, help="Seconds to wait for health (default 90, LIVEML_LOCALSTACK_TIMEOUT)."
    ),
    no_dynamodb: bool = typer.Option(False, "--no-dynamodb", help="Skip the offline DynamoDB set-up."),
) -> None:
    """Start LocalStack on 127.0.0.1:4566 (or report the one already running)."""
    from dataclasses import replace

    from liveml.localcloud import LocalCloudConfig
    from liveml.localcloud import up as start

    cfg = LocalCloudConfig()
    if timeout is not None:
        cfg = replace(cfg, health_timeout=timeout)
    if no_dynamodb:
        cfg = replace(cfg, dynamodb=False)
    started = time.monotonic()
    first = cfg.python_override is None and not (cfg.venv_dir / "bin" / "python").exists()
    note = " (first run: creating its venv, about a minute)" if first else ""
    with console.status(f"Starting LocalStack{note}..."):
        st = start(cfg)
    if st.already_running:
        console.print(f"LocalStack already running: pid {st.pid}, {st.endpoint}")
    else:
        console.print(f"LocalStack up in {time.monotonic() - started:.1f} s: pid {st.pid}, {st.endpoint}")
    console.print(f"state {st.state_dir}  log {st.log_file}")


@app.command()
def down() -> None:
    """Stop LocalStack and every process of its group (Lambda environments included).

    LocalStack keeps nothing across a stop: the stack, its buckets, models and registry entries are gone.
    """
    from liveml.localcloud import down as stop

    with console.status("Stopping LocalStack..."):
        stopped = stop()
    if stopped:
        console.print(
            "LocalStack stopped. Every deployed resource, model and registry entry on it is discarded: "
            "after `liveml local up`, run `liveml deploy --local` again."
        )
    else:
        console.print("LocalStack was not running.")


@app.command()
def status() -> None:
    """Show whether LocalStack runs, its pid, endpoint and services."""
    from liveml.localcloud import status as current

    st = current()
    table = Table(show_header=False, box=None)
    state = (
        "[green]running[/]"
        if st.running and st.healthy
        else "[yellow]starting[/]"
        if st.running
        else "[red]stopped[/]"
    )
    table.add_row("state", state)
    if st.running:
        table.add_row("pid / pgid", f"{st.pid} / {st.pgid}")
        table.add_row("endpoint", st.endpoint)
        table.add_row("version", st.version or "?")
        if st.uptime_seconds is not None:
            table.add_row("uptime", f"{st.uptime_seconds:.0f} s")
        running = sorted(name for name, value in st.services.items() if value == "running")
        table.add_row("services running", ", ".join(running) or "none yet (they start on first use)")
    table.add_row("state dir", str(st.state_dir))
    table.add_row("log", str(st.log_file))
    console.print(table)
    if not st.running:
        raise typer.Exit(3)


@app.command()
def logs(
    lines: int = typer.Option(50, "--lines", "-n", help="How many lines from the end."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C to stop)."),
) -> None:
    """Print LocalStack's log."""
    from liveml.localcloud import logs as read

    try:
        for line in read(lines=lines, follow=follow):
            typer.echo(line)
    except KeyboardInterrupt:
        pass
