"""What a training run tells its progress callback (each trial, and each phase as it begins), and how
``liveml train`` shows it: live on a terminal, one clean line per phase in a log."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from liveml.cli import app
from liveml.cli.train import TrainingProgress
from liveml.contract import Contract
from liveml.training import PhaseEvent, TrialEvent, train_model
from liveml.training.progress import PHASES

runner = CliRunner()


def run(players: tuple[pd.DataFrame, Contract], out: Path, **settings: Any) -> list[TrialEvent | PhaseEvent]:
    events: list[TrialEvent | PhaseEvent] = []
    df, contract = players
    train_model(df.head(500), contract, out, trials=2, time_budget_s=60, seed=0, folds=2,
                families=["linear"], progress=events.append, **settings)  # fmt: skip
    return events


def phases(events: list[TrialEvent | PhaseEvent]) -> list[str]:
    return [e.phase for e in events if isinstance(e, PhaseEvent)]


def test_every_phase_is_announced_in_order_with_the_trials_inside_the_search(
    players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    events = run(players, tmp_path / "model")
    assert phases(events) == list(PHASES)
    kinds = ["trial" if isinstance(e, TrialEvent) else e.phase for e in events]
    search, fit = kinds.index("search"), kinds.index("fit")
    assert set(kinds[search + 1 : fit]) == {"trial"} and kinds.count("trial") == 2
    details = {e.phase: e.detail for e in events if isinstance(e, PhaseEvent)}
    assert details["validate"] == "500 rows against the contract"
    assert details["fit"] == "linear (rank 1) on 400 rows, scored on 100"
    assert details["refit"] == "linear on all 500 rows"


def test_without_refit_there_is_no_refit_phase(
    players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    assert "refit" not in phases(run(players, tmp_path / "model", refit=False))


def _files(tmp_path: Path, players: tuple[pd.DataFrame, Contract], rows: int) -> list[str]:
    df, contract = players
    df.head(rows).to_csv(tmp_path / "players.csv", index=False)
    contract.save(tmp_path / "contract.yaml")
    return [str(tmp_path / "players.csv"), "--contract", str(tmp_path / "contract.yaml")]


def test_a_log_gets_one_plain_line_per_phase_with_its_time(
    players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    args = _files(tmp_path, players, 500)
    res = runner.invoke(
        app, ["train", *args, "--out", str(tmp_path / "m"), "--trials", "2", "--time-budget", "30"]
    )
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith(("done", "failed"))]
    assert [ln.split()[1] for ln in lines] == ["read", *PHASES]
    assert all(re.search(r" \d+\.\d s$", ln) for ln in lines), lines
    assert re.match(r"done   search   2 of 2 trials, best 0\.\d{4} \(\w+\) \d+\.\d s$", lines[2]), lines[2]
    # Nothing that redraws: no escape sequences, carriage returns or spinner frames.
    assert "\x1b" not in res.output and "\r" not in res.output and "⠋" not in res.output


def test_the_phase_that_fails_is_named_before_the_error(
    players: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    args = _files(tmp_path, players, 30)  # below the contract's min_rows: the data gate fails
    res = runner.invoke(app, ["train", *args, "--out", str(tmp_path / "m"), "--trials", "1"])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.startswith(("done", "failed"))]
    assert [ln.split()[:2] for ln in lines] == [["done", "read"], ["failed", "validate"]]
    assert "data quality gate failed" in res.output


def test_a_terminal_sees_each_phase_live_with_its_elapsed_time() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with TrainingProgress(console, trials=2) as progress:
        progress(PhaseEvent("search", "2 trials at most"))
        progress(TrialEvent(0, 2, "COMPLETE", 0.8, 0.8, "linear", 1.0))
        progress.bar.refresh()
        progress(PhaseEvent("refit", "linear on all 500 rows"))
        progress.bar.refresh()
    out = screen.getvalue()
    assert "search  " in out and "1/2  best 0.8000 (linear)" in out
    assert re.search(r"refit linear on all 500 rows .*0:00:00", out), out
    assert "done   search   1 of 2 trials, best 0.8000 (linear)" in out
    assert re.search(r"done   refit    linear on all 500 rows \d\.\d s", out)
