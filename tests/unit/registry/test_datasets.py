"""Recording dataset versions. moto stands in for S3 and DynamoDB: these are unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from liveml.registry import RegistryError, dataset_model_name, record_dataset

TABLE = "registry"
BUCKET = "liveml-data"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LIVEML_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
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
        yield s3, dynamodb


@pytest.mark.parametrize(
    ("key", "model"),
    [("datasets/churn/players.csv", "churn"), ("datasets/segments/2026/11/day.parquet", "segments")],
)
def test_model_name_comes_from_the_key(key: str, model: str) -> None:
    assert dataset_model_name(key) == model


@pytest.mark.parametrize(
    "key", ["datasets/players.csv", "raw/churn/players.csv", "datasets//x.csv", "datasets/churn/"]
)
def test_keys_outside_datasets_model_are_refused(key: str) -> None:
    with pytest.raises(RegistryError, match="datasets/<model>/<file>"):
        dataset_model_name(key)


def test_records_the_exact_version_and_its_sha256(aws: tuple[Any, Any]) -> None:
    s3, dynamodb = aws
    first = s3.put_object(Bucket=BUCKET, Key="datasets/churn/p.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket=BUCKET, Key="datasets/churn/p.csv", Body=b"a,b\n3,4\n")  # a newer version

    record = record_dataset(BUCKET, "datasets/churn/p.csv", first["VersionId"], table=TABLE)

    assert record.version_id == first["VersionId"]
    assert record.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert record.size_bytes == 8
    item = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": "MODEL#churn"}, "sk": {"S": f"DATASET#{first['VersionId']}"}}
    )
    assert item["Item"]["sha256"]["S"] == record.sha256


def test_a_duplicate_event_keeps_the_first_record(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    put = s3.put_object(Bucket=BUCKET, Key="datasets/churn/p.csv", Body=b"x")
    first = record_dataset(BUCKET, "datasets/churn/p.csv", put["VersionId"], table=TABLE)
    again = record_dataset(BUCKET, "datasets/churn/p.csv", put["VersionId"], table=TABLE)
    assert again == first
