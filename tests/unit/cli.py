"""Running the ``liveml`` command in-process, through its real entry point."""

from __future__ import annotations

import sys

import pytest

from liveml.cli import main


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``liveml ARGS``; returns the exit code."""
    monkeypatch.setattr(sys, "argv", ["liveml", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0)
