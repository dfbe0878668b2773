"""Fixtures of the serving tests: one real model, trained once per session on synthetic players."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from liveml.serving import ModelBinding, ServingModels, ServingSettings, create_app, load_models

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model directory (manifest, ONNX, contract, golden requests), as ``liveml train`` writes it."""
    from liveml.data.synth import generate_players, player_contract
    from liveml.training import train_model

    out = tmp_path_factory.mktemp("model") / "churn"
    df = generate_players(1500, 7, "binary")
    # Two quick trials of one family: the serving tests need a real model, not a good one.
    train_model(
        df, player_contract("binary"), out, trials=2, time_budget_s=60, seed=0, folds=2, families=["linear"]
    )
    return out


@pytest.fixture(scope="session")
def golden(model_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((model_dir / "golden_requests.json").read_text())
    return data


@pytest.fixture
def features(golden: dict[str, Any]) -> dict[str, Any]:
    """A valid feature dict (with the event time, so outputs are reproducible)."""
    return dict(golden["requests"][0]["features"])


@pytest.fixture(scope="session")
def models(model_dir: Path) -> ServingModels:
    return load_models(ModelBinding.from_dir(model_dir, model="churn", version="3"))


@pytest.fixture
def app(models: ServingModels) -> FastAPI:
    return create_app(
        models, ServingSettings(max_batch_rows=5, max_body_bytes=20_000, capture_sample_rate=0.0)
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def event() -> Any:
    """``event("apigw_predict.json")``: a stored API Gateway (REST, v1) proxy event."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((EVENTS / name).read_text())
        return data

    return load
