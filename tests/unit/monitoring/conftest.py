"""moto stands in for S3, DynamoDB, CloudWatch and SNS here: these are unit tests, with no LocalStack."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

from liveml.data.synth import generate_players, player_contract
from liveml.modeldir import sha256_hex
from liveml.monitoring.sketches import SKETCH_FILE, reference_sketch
from liveml.registry import Artifact, Lineage, Registry
from liveml.registry.events import RecordingPublisher
from tests.unit.aws import create_registry_table

CONTRACT = player_contract("binary")
FEATURES = [c for c in CONTRACT.feature_names if c not in ("event_time",)]


@dataclass
class FakeStack:
    s3: Any
    dynamodb: Any
    cloudwatch: Any
    sns: Any
    registry: Registry
    topic: str
    bucket: str = "liveml-data"
    artifacts: str = "liveml-artifacts"

    def put(self, bucket: str, key: str, body: bytes) -> str:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def register(self, model: str = "churn", *, with_sketch: bool = True) -> int:
        train = generate_players(4000, seed=1)
        sketch = reference_sketch(
            CONTRACT,
            {c: train[c].to_numpy() for c in train.columns},
            task="binary",
            predictions=list(np.random.default_rng(0).beta(2, 5, 1000)),
        )
        files = {"manifest.json": json.dumps({"task": "binary", "classes": ["0", "1"]}).encode()}
        if with_sketch:
            files[SKETCH_FILE] = sketch.to_json().encode()
        n = len(self.registry.versions(model)) + 1
        artifacts = {
            name: Artifact(
                uri=self.put(self.artifacts, f"{model}/{n}/{name}", body),
                sha256=sha256_hex(body),
                size_bytes=len(body),
            )
            for name, body in files.items()
        }
        lineage = Lineage(
            dataset_uri="s3://x/datasets/churn/p.csv",
            dataset_version_id="v",
            dataset_sha256="0" * 64,
            contract_sha256=CONTRACT.sha256,
            code_version="0",
        )
        version = self.registry.register(
            model, lineage=lineage, artifacts=artifacts, metrics={}, family="x", auto_approve=True
        )
        return version.version

    def capture(
        self, model: str, version: int, at: datetime, frame: pd.DataFrame, contract_sha256: str | None = None
    ) -> None:
        """Capture files as liveml.serving.capture writes them (probabilities as the reference's), each
        record under ``contract_sha256`` when given (as serving writes them; older captures had none)."""
        lines = []
        probabilities = np.random.default_rng(len(frame)).beta(2, 5, len(frame))
        for row, probability in zip(frame.to_dict(orient="records"), probabilities, strict=True):
            features = {
                k: (None if isinstance(v, float) and np.isnan(v) else v)
                for k, v in row.items()
                if k in FEATURES
            }
            features["event_time"] = "2026-12-01T00:00:00+00:00"
            record = {
                "ts": at.isoformat(),
                "model": model,
                "version": str(version),
                "variant": "live",
                "player_id": str(row["player_id"]),
                "features": {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in features.items()},
                "output": {
                    "prediction": "0",
                    "probabilities": {"0": 1 - probability, "1": float(probability)},
                },
                "latency_ms": 1.0,
            }
            if contract_sha256 is not None:
                record["contract_sha256"] = contract_sha256
            lines.append(json.dumps(record, default=str))
        key = (
            f"captures/model={model}/version={version}/dt={at:%Y-%m-%d}/hour={at:%H}/"
            f"{at:%M%S}-{len(lines)}.jsonl"
        )
        self.put(self.bucket, key, ("\n".join(lines) + "\n").encode())


@pytest.fixture
def stack(moto: None) -> FakeStack:
    s3 = boto3.client("s3", region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for bucket in ("liveml-data", "liveml-artifacts"):
        s3.create_bucket(Bucket=bucket)
    create_registry_table(dynamodb, "registry")
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    return FakeStack(
        s3=s3,
        dynamodb=dynamodb,
        cloudwatch=boto3.client("cloudwatch", region_name="us-east-1"),
        sns=sns,
        registry=Registry("registry", dynamodb=dynamodb, publisher=RecordingPublisher()),
        topic=topic,
    )
