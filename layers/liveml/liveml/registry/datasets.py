"""Recording uploaded datasets: which exact object version a pipeline run trains on."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from liveml.aws import client
from liveml.config import Settings
from liveml.registry.errors import RegistryError

DATASETS_PREFIX = "datasets/"
_CHUNK = 1 << 20


class DatasetRecord(BaseModel):
    """One uploaded object version: the lineage root of every model trained on it."""

    model: str
    bucket: str
    key: str
    version_id: str
    sha256: str
    size_bytes: int
    recorded_at: str

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def dataset_model_name(key: str) -> str:
    """The model a dataset key belongs to: ``datasets/<model>/<file>`` → ``<model>``."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] + "/" != DATASETS_PREFIX or not parts[1] or not parts[-1]:
        raise RegistryError(f"dataset key {key!r} is not of the form datasets/<model>/<file>")
    return parts[1]


def record_dataset(
    bucket: str,
    key: str,
    version_id: str | None,
    *,
    table: str | None = None,
    s3: Any = None,
    dynamodb: Any = None,
) -> DatasetRecord:
    """Hash the object version and record it; a second call for the same version returns the first record."""
    model = dataset_model_name(key)
    s3 = s3 or client("s3")
    dynamodb = dynamodb or client("dynamodb")
    table = table or Settings().require("registry_table")

    get_args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        get_args["VersionId"] = version_id
    obj = s3.get_object(**get_args)
    digest = hashlib.sha256()
    size = 0
    # Stream: datasets can be larger than the function's memory.
    for chunk in obj["Body"].iter_chunks(_CHUNK):
        digest.update(chunk)
        size += len(chunk)

    record = DatasetRecord(
        model=model,
        bucket=bucket,
        key=key,
        version_id=obj.get("VersionId") or version_id or "null",
        sha256=digest.hexdigest(),
        size_bytes=size,
        recorded_at=datetime.now(UTC).isoformat(),
    )
    item = {
        "pk": {"S": f"MODEL#{model}"},
        "sk": {"S": f"DATASET#{record.version_id}"},
        **{name: {"S": str(value)} for name, value in record.model_dump().items() if name != "size_bytes"},
        "size_bytes": {"N": str(size)},
    }
    try:
        dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(sk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        # The same object version was recorded already (a duplicate event): keep the first record.
        existing = dynamodb.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})["Item"]
        fields = {name: value.get("S", value.get("N")) for name, value in existing.items()}
        return DatasetRecord.model_validate({k: v for k, v in fields.items() if k not in ("pk", "sk")})
    return record
