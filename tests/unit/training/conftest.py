"""One small model trained once per session on synthetic players, shared by the training tests."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Unpack

import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.data.synth import generate_players, player_contract
from liveml.training import TrainResult, train_model
from liveml.training.train import FitKeywords

#: The briefest real training: one linear trial over two folds.
QUICK: FitKeywords = {"trials": 1, "time_budget_s": 30, "seed": 0, "folds": 2, "families": ["linear"]}


class Trainer(Protocol):
    def __call__(self, contract: Contract | None = None, **options: Unpack[FitKeywords]) -> TrainResult: ...


@pytest.fixture(scope="session")
def players() -> tuple[pd.DataFrame, Contract]:
    return generate_players(800, seed=11, task="binary"), player_contract("binary")


@pytest.fixture(scope="session")
def trained(players: tuple[pd.DataFrame, Contract], tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    df, contract = players
    out = tmp_path_factory.mktemp("models") / "champ"
    return train_model(df, contract, out, trials=3, time_budget_s=60, seed=0, folds=3)


@pytest.fixture(scope="session")
def model_dir(trained: TrainResult) -> Path:
    return trained.out_dir


@pytest.fixture
def train_players(players: tuple[pd.DataFrame, Contract], tmp_path: Path) -> Trainer:
    """``train_players(**options)``: the players trained into ``tmp_path / "m"``, ``QUICK`` unless the
    options say otherwise; ``contract=`` trains them under another contract."""
    df, players_contract = players

    def train(contract: Contract | None = None, **options: Unpack[FitKeywords]) -> TrainResult:
        settings: FitKeywords = {**QUICK, **options}
        return train_model(df, contract or players_contract, tmp_path / "m", **settings)

    return train
