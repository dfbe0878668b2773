"""Real models for the assistant's tests, and a registry holding them on moto (S3 + DynamoDB stand in
for the stack here: these are unit tests, with no LocalStack).

Three versions of one churn model, trained once per session on the same synthetic players:
v1 linear, v2 linear without the free-text column, v3 a random
forest — all small and quick, but real models trained on data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from liveml.registry import ModelVersion, RecordingPublisher, Registry
from tests.unit.aws import create_registry_table, register_model_dir

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_SLA = ROOT / "examples" / "sla.yaml"
BUCKET = "liveml-artifacts"
TABLE = "registry"


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from liveml.data.synth import generate_players, player_contract
    from liveml.training import train_model

    df = generate_players(1500, 7, "binary")
    contract = player_contract("binary")
    no_text = contract.model_copy(update={"columns": [c for c in contract.columns if c.name != "feedback"]})
    root = tmp_path_factory.mktemp("advise-models")
    plans: list[tuple[str, Any, Any, str]] = [
        ("v1", df, contract, "linear"),
        ("v2", df.drop(columns=["feedback"]), no_text, "linear"),
        ("v3", df, contract, "random_forest"),
    ]
    dirs = []
    for name, frame, c, family in plans:
        out = root / name
        train_model(frame, c, out, trials=2, time_budget_s=60, seed=0, folds=2, families=[family])
        dirs.append(out)
    return dirs


@dataclass
class FakeStack:
    registry: Registry
    s3: Any
    versions: list[ModelVersion]


@pytest.fixture
def stack(model_dirs: list[Path], moto: None, monkeypatch: pytest.MonkeyPatch) -> FakeStack:
    """A registry with the three versions (v1 in production) and their artifacts in S3."""
    from liveml.registry import Stage

    monkeypatch.setenv("LIVEML_REGISTRY_TABLE", TABLE)
    monkeypatch.setenv("LIVEML_ARTIFACTS_BUCKET", BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    db = boto3.client("dynamodb", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    create_registry_table(db, TABLE)
    registry = Registry(TABLE, dynamodb=db, publisher=RecordingPublisher())
    versions = [register_model_dir(registry, s3, BUCKET, "churn", d) for d in model_dirs]
    registry.set_stage("churn", 1, Stage.PRODUCTION, expected=Stage.CANDIDATE)
    # The CLI finds the stack through CloudFormation; here the environment above already points at it.
    monkeypatch.setattr("liveml.cli.advise.connect", lambda *_a, **_k: None)
    monkeypatch.setattr("liveml.registry.store.EventBridgePublisher", RecordingPublisher)
    return FakeStack(registry, s3, versions)
