"""Recording dataset versions. moto stands in for S3 and DynamoDB: these are unit tests."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from liveml.registry import RegistryError, dataset_model_name, record_dataset

if TYPE_CHECKING:
    from tests.unit.registry.conftest import FakeAws


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


def test_records_the_exact_version_and_its_sha256(aws: FakeAws) -> None:
    s3, dynamodb, bucket, table = aws.s3, aws.dynamodb, aws.bucket, aws.table
    first = s3.put_object(Bucket=bucket, Key="datasets/churn/p.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket=bucket, Key="datasets/churn/p.csv", Body=b"a,b\n3,4\n")  # a newer version

    record = record_dataset(bucket, "datasets/churn/p.csv", first["VersionId"], table=table)

    assert record.version_id == first["VersionId"]
    assert record.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert record.size_bytes == 8
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "MODEL#churn"}, "sk": {"S": f"DATASET#{first['VersionId']}"}}
    )
    assert item["Item"]["sha256"]["S"] == record.sha256


def test_a_duplicate_event_keeps_the_first_record(aws: FakeAws) -> None:
    s3, bucket, table = aws.s3, aws.bucket, aws.table
    put = s3.put_object(Bucket=bucket, Key="datasets/churn/p.csv", Body=b"x")
    first = record_dataset(bucket, "datasets/churn/p.csv", put["VersionId"], table=table)
    again = record_dataset(bucket, "datasets/churn/p.csv", put["VersionId"], table=table)
    assert again == first
