"""moto stands in for S3 and DynamoDB here (``tests/unit/conftest.py``): unit tests, no LocalStack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.unit.aws import create_registry_table


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
    create_registry_table(fake.dynamodb, fake.table)
    return fake
