"""Resources the unit tests create in moto (the ``moto`` fixture of ``tests/unit/conftest.py``), shaped
as the stack's template shapes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveml.inference import read_manifest
from liveml.modeldir import sha256_hex
from liveml.registry import Artifact, Lineage, ModelVersion, Registry


def create_registry_table(dynamodb: Any, name: str) -> None:
    """The model registry's table: one item per ``pk`` (the model) and ``sk`` (version, alias, event)."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def register_model_dir(registry: Registry, s3: Any, bucket: str, model: str, model_dir: Path) -> ModelVersion:
    """Upload a trained model directory as the pipeline's register step does, and record it, approved,
    with its artifacts and metrics."""
    manifest = read_manifest(model_dir)
    number = len(registry.versions(model)) + 1
    artifacts = {}
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        key = f"models/{model}/{number}/{path.name}"
        data = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        artifacts[path.name] = Artifact(
            uri=f"s3://{bucket}/{key}", sha256=sha256_hex(data), size_bytes=len(data)
        )
    lineage = Lineage(
        dataset_uri="s3://data/datasets/churn/players.csv",
        dataset_version_id="1",
        dataset_sha256="0" * 64,
        contract_sha256=manifest["contract_sha256"],
        code_version="test",
    )
    metrics = {k: float(v) for k, v in manifest["metrics"].items() if isinstance(v, int | float)}
    return registry.register(
        model,
        lineage=lineage,
        artifacts=artifacts,
        metrics=metrics,
        family=manifest["family"],
        auto_approve=True,
    )
