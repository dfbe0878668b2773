"""The ``liveml`` command: one typer app, one module per command group.

Each group module defines ``app`` (a ``typer.Typer``) or a command function and is attached here,
so ``liveml --help`` lists everything and each module stays small.
"""

from __future__ import annotations

import importlib

import typer
from rich.console import Console
from rich.markup import escape

from liveml.errors import LiveMLError

app = typer.Typer(
    name="liveml",
    help="LiveML: train, register, roll out, serve and monitor player models on AWS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (module, name of the sub-command group). Modules import their heavy libraries lazily,
# so `liveml --help` stays fast.
_GROUPS: list[tuple[str, str]] = [
    ("liveml.cli.local", "local"),
    ("liveml.cli.deploy", ""),
    ("liveml.cli.demo", ""),
    ("liveml.cli.pipeline", ""),
    ("liveml.cli.models", "models"),
    ("liveml.cli.contract", "contract"),
    ("liveml.cli.data", "data"),
    ("liveml.cli.train", ""),
    ("liveml.cli.eks", "eks"),
    ("liveml.cli.experiment", "experiment"),
    ("liveml.cli.rollout", "rollout"),
    ("liveml.cli.advise", "advise"),
    ("liveml.cli.events", "events"),
    ("liveml.cli.export", ""),
    ("liveml.cli.monitor", "monitor"),
    ("liveml.cli.sagemaker", "sagemaker"),
]


def _attach() -> None:
    for module_name, group in _GROUPS:
        sub: typer.Typer = importlib.import_module(module_name).app
        if group:
            app.add_typer(sub, name=group)
        else:
            app.registered_commands.extend(sub.registered_commands)
            app.registered_groups.extend(sub.registered_groups)


_attach()


def main() -> None:
    """Console entry point: an expected failure is one line on stderr and exit code 1, never a trace."""
    try:
        app()
    except LiveMLError as exc:
        _fail(str(exc))
    except Exception as exc:
        # AWS failures a person can fix (LocalStack stopped, no stack): one line, not botocore's trace.
        from liveml.aws import explain

        reason = explain(exc)
        if reason is None:
            raise
        _fail(reason)


def _fail(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    raise SystemExit(1) from None
