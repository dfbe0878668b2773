"""The one place serving, rollouts and the shadow consumer read ``LIVEML_*`` environment variables (their
names are in :mod:`liveml.binding.constants`, each listed in ``liveml.config.VARIABLES``). An explicit
argument beats what is read here."""

from __future__ import annotations

import os
from collections.abc import Mapping

from liveml.config import BY_NAME, PREFIX


def read(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value; ``default`` when it is unset or empty. ``name`` must be listed in
    ``liveml.config.VARIABLES`` (so the README's table names it)."""
    if name.removeprefix(PREFIX) not in BY_NAME:
        raise KeyError(f"{name} is not listed in liveml.config.VARIABLES")
    value = (os.environ if environ is None else environ).get(name)
    return value if value else default


def read_float(name: str, default: float) -> float:
    raw = read(name)
    return float(raw) if raw else default


def read_int(name: str, default: int) -> int:
    raw = read(name)
    return int(raw) if raw else default


def require(name: str) -> str:
    value = read(name)
    if value is None:
        from liveml.binding.errors import BindingError

        raise BindingError(f"{name} is not set")
    return value
