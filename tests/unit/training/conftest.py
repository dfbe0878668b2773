"""One small model trained once per session on synthetic players, shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.data.synth import generate_players, player_contract
from liveml.training import TrainResult, train_model


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
