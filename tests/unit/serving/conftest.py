"""Fixtures of the serving tests: one real model, trained once per session on synthetic players."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from liveml.binding import ModelBinding
from liveml.serving import ServingModels, ServingSettings, create_app, load_models
from tests.servers import free_port, running

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


def dockerfile_command() -> list[str]:
    """The container's start command, exactly as eks/Dockerfile's exec-form CMD states it."""
    for line in (ROOT / "eks" / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            command: list[str] = json.loads(line[4:])
            return command
    raise AssertionError("eks/Dockerfile has no exec-form CMD")


@contextmanager
def serve_locally(model_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run the Dockerfile's command on 127.0.0.1 (a free port) with ``model_dir`` bound; yield its URL.

    Only --host and --port change: the container listens on 0.0.0.0:8080, a test must not."""
    command = dockerfile_command()
    port = free_port()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    bin_dir = str(Path(sys.executable).parent)
    proc_env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "LIVEML_MODEL_DIR": str(model_dir),
        **(env or {}),
    }
    proc_env.pop("LIVEML_MODEL_BINDING", None)
    url = f"http://127.0.0.1:{port}"
    with running(command, proc_env, ROOT, f"{url}/health", timeout=60):
        yield url


@pytest.fixture
def start_command() -> list[str]:
    return dockerfile_command()


@pytest.fixture
def local_server() -> Any:
    """``with local_server(model_dir, env) as url:`` — the Dockerfile's command on 127.0.0.1."""
    return serve_locally


@pytest.fixture
def s3(moto: None) -> Any:
    """moto S3 with the stack's buckets: captures go to the data bucket, model directories to artifacts."""
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in ("liveml-data", "liveml-artifacts"):
        client.create_bucket(Bucket=bucket)
    return client
