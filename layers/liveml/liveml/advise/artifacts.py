"""Registered versions' artifacts, fetched from S3 and checked against the registry's sha256."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveml.advise.errors import AdviseError
from liveml.aws.s3 import get_bytes
from liveml.inference import sha256_bytes
from liveml.registry import ModelVersion

#: What comparing and sizing a version reads (the report, trials and drift sample are not needed).
NEEDED = (
    "manifest.json",
    "model.onnx",
    "model.compact.json",
    "contract.yaml",
    "model_card.json",
    "holdout_rows.jsonl",
    "holdout_reference.npz",
    "golden_requests.json",
)


def fetch_version(version: ModelVersion, folder: Path, *, s3: Any = None) -> Path:
    """Download the artifacts a comparison needs into ``folder/<version>/``; a file whose sha256
    differs from what the registry recorded is refused."""
    target = folder / str(version.version)
    target.mkdir(parents=True, exist_ok=True)
    if "manifest.json" not in version.artifacts:
        raise AdviseError(f"{version.model} v{version.version} has no manifest.json artifact")
    for name in NEEDED:
        artifact = version.artifacts.get(name)
        if artifact is None:
            continue  # optional (the compact model exists only when the model fits it)
        path = target / name
        if path.is_file() and sha256_bytes(path.read_bytes()) == artifact.sha256:
            continue  # already here and intact
        data = get_bytes(artifact.uri, s3=s3)
        if sha256_bytes(data) != artifact.sha256:
            raise AdviseError(
                f"{artifact.uri}: sha256 differs from what the registry recorded for "
                f"{version.model} v{version.version}: refusing to use it"
            )
        path.write_bytes(data)
    return target
