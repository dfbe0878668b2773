"""S3 objects by URI: the pointers Step Functions states pass around."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from liveml.aws.clients import client
from liveml.errors import LiveMLError

_CHUNK = 1 << 20


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise LiveMLError(f"{uri!r} is not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


def get_bytes(uri: str, *, version_id: str | None = None, s3: Any = None) -> bytes:
    bucket, key = split_uri(uri)
    args: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id and version_id != "null":
        args["VersionId"] = version_id
    body: bytes = (s3 or client("s3")).get_object(**args)["Body"].read()
    return body


def get_text_if_exists(uri: str, *, s3: Any = None) -> str | None:
    """The object's text, or ``None`` when there is no such object (optional settings files)."""
    s3 = s3 or client("s3")
    try:
        return get_bytes(uri, s3=s3).decode()
    except s3.exceptions.NoSuchKey:
        return None


def put_bytes(
    uri: str, data: bytes, *, content_type: str = "application/octet-stream", s3: Any = None
) -> str:
    """Write an object; returns its version id (``"null"`` on an unversioned bucket)."""
    bucket, key = split_uri(uri)
    answer = (s3 or client("s3")).put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    return str(answer.get("VersionId") or "null")


def sha256_of(uri: str, *, s3: Any = None) -> tuple[str, int]:
    """Stream an object and hash it: ``(sha256, size)``."""
    bucket, key = split_uri(uri)
    body = (s3 or client("s3")).get_object(Bucket=bucket, Key=key)["Body"]
    digest, size = hashlib.sha256(), 0
    for chunk in body.iter_chunks(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def upload_dir(folder: Path, prefix_uri: str, *, s3: Any = None) -> dict[str, str]:
    """Upload every file below ``folder`` under ``prefix_uri``; returns ``{relative path: uri}``."""
    s3 = s3 or client("s3")
    bucket, prefix = split_uri(prefix_uri.rstrip("/") + "/")
    uploaded: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        s3.upload_file(str(path), bucket, prefix + relative)
        uploaded[relative] = f"s3://{bucket}/{prefix}{relative}"
    return uploaded


def download_prefix(prefix_uri: str, folder: Path, *, s3: Any = None) -> list[Path]:
    """Download every object under ``prefix_uri`` into ``folder``, keeping relative paths."""
    s3 = s3 or client("s3")
    bucket, prefix = split_uri(prefix_uri.rstrip("/") + "/")
    written: list[Path] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            target = folder / obj["Key"][len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
            written.append(target)
    if not written:
        raise LiveMLError(f"nothing stored under {prefix_uri}")
    return written
