"""Registered versions' artifacts, fetched from S3 and checked against the registry's sha256."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveml.advise.errors import AdviseError
from liveml.modeldir import (
    COMPACT,
    CONTRACT,
    GOLDEN_REQUESTS,
    HOLDOUT_REFERENCE,
    HOLDOUT_ROWS,
    MANIFEST,
    MODEL_CARD_JSON,
    ONNX,
    IntegrityError,
    fetch_verified,
    sha256_hex,
)
from liveml.registry import ModelVersion

#: What comparing and sizing a version reads (the report, trials and drift sample are not needed).
NEEDED = (
    MANIFEST,
    ONNX,
    COMPACT,
    CONTRACT,
    MODEL_CARD_JSON,
    HOLDOUT_ROWS,
    HOLDOUT_REFERENCE,
    GOLDEN_REQUESTS,
)


def fetch_version(version: ModelVersion, folder: Path, *, s3: Any = None) -> Path:
    """Download the artifacts a comparison needs into ``folder/<version>/``; a file whose sha256
    differs from what the registry recorded is refused."""
    target = folder / str(version.version)
    target.mkdir(parents=True, exist_ok=True)
    if MANIFEST not in version.artifacts:
        raise AdviseError(f"{version.model} v{version.version} has no {MANIFEST} artifact")
    for name in NEEDED:
        artifact = version.artifacts.get(name)
        if artifact is None:
            continue  # optional (the compact model exists only when the model fits it)
        path = target / name
        if path.is_file() and sha256_hex(path.read_bytes()) == artifact.sha256:
            continue  # already here and intact
        try:
            data = fetch_verified(artifact.uri, artifact.sha256, s3=s3)
        except IntegrityError as exc:
            raise AdviseError(
                f"{exc} (the registry's record of {version.model} v{version.version})"
            ) from None
        path.write_bytes(data)
    return target
