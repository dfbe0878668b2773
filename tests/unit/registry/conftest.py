"""moto stands in for S3 and DynamoDB here (``tests/unit/conftest.py``): unit tests, no LocalStack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest


@dataclass
class FakeAws:
    s3: Any
    dynamodb: Any
    table: str = "registry"
    bucket: str = "liveml-data"


@pytest.fixture
def aws(moto: None) -> FakeAws:
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
    return fake
