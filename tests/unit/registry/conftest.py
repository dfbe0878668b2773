"""moto stands in for S3 and DynamoDB here: these are unit tests, with no LocalStack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws


@dataclass
class FakeAws:
    s3: Any
    dynamodb: Any
    table: str = "registry"
    bucket: str = "liveml-data"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LIVEML_ENDPOINT_URL", raising=False)
    with mock_aws():
        fake = FakeAws(
            boto3.client("s3", region_name="us-east-1"), boto3.client("dynamodb", region_name="us-east-1")
        )
        fake.s3.create_bucket(Bucket=fake.bucket)
        fake.s3.put_bucket_versioning(Bucket=fake.bucket, VersioningConfiguration={"Status": "Enabled"})
        fake.dynamodb.create_table(
            TableName=fake.table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield fake
