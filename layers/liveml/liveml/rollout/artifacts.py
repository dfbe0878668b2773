"""A registered version's artifacts, read from S3 and checked against the registry's sha256."""

from __future__ import annotations

import json
from typing import Any

from liveml.modeldir import fetch_verified
from liveml.registry import ModelVersion
from liveml.rollout.errors import RolloutError


def read_model_file(version: ModelVersion, name: str, *, s3: Any = None) -> bytes:
    """A registered artifact's bytes, checked against the registry's sha256."""
    artifact = version.artifacts.get(name)
    if artifact is None:
        raise RolloutError(f"{version.model} v{version.version} has no {name}")
    return fetch_verified(artifact.uri, artifact.sha256, s3=s3)


def read_model_json(version: ModelVersion, name: str, *, s3: Any = None) -> Any:
    return json.loads(read_model_file(version, name, s3=s3))
