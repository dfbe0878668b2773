"""Model bindings built from registry versions: which model version(s) a function version serves.

The binding is the JSON that ``liveml.serving.binding.ModelBinding`` reads from ``LIVEML_MODEL_BINDING``.
It is built here as plain data: the rollout function does not carry the serving stack (FastAPI,
ONNX Runtime), and importing any ``liveml.serving`` module would load it. A unit test checks that
what is built here is a valid ``ModelBinding``.
"""

from __future__ import annotations

import json
from typing import Any

from liveml.modeldir import MANIFEST, fetch_verified
from liveml.registry import ModelVersion
from liveml.rollout.errors import RolloutError

#: Same name as liveml.serving.constants.MODEL_BINDING (not imported, see above).
MODEL_BINDING = "LIVEML_MODEL_BINDING"
BUCKETS = 10_000

Binding = dict[str, Any]


def model_dir_uri(version: ModelVersion) -> tuple[str, str]:
    """``(s3://…/model/, sha256 of manifest.json)`` of a registered version."""
    manifest = version.artifacts.get(MANIFEST)
    if manifest is None:
        raise RolloutError(
            f"{version.model} v{version.version} has no manifest.json artifact: cannot bind it"
        )
    return manifest.uri.rsplit("/", 1)[0] + "/", manifest.sha256


def variant(version: ModelVersion, name: str = "default", split_bp: int = BUCKETS) -> dict[str, Any]:
    uri, sha = model_dir_uri(version)
    return {"name": name, "version": str(version.version), "split_bp": split_bp, "uri": uri, "sha256": sha}


def single_binding(version: ModelVersion) -> Binding:
    """One model version serving every request."""
    return {"model": version.model, "variants": [variant(version)]}


def experiment_binding(
    versions: dict[str, ModelVersion], split: dict[str, float], *, name: str, salt: str
) -> Binding:
    """Sticky A/B: variants named by ``versions``' keys, ``split`` in shares summing to 1."""
    names = list(versions)
    if set(split) != set(names):
        raise RolloutError(f"the split names {sorted(split)}, the variants are {sorted(names)}")
    bps = [round(split[n] * BUCKETS) for n in names]
    bps[-1] = BUCKETS - sum(bps[:-1])  # rounding must not lose a bucket
    model = {v.model for v in versions.values()}
    if len(model) != 1:
        raise RolloutError(f"an experiment compares versions of one model, got {sorted(model)}")
    return {
        "model": model.pop(),
        "variants": [variant(versions[n], n, bp) for n, bp in zip(names, bps, strict=True)],
        "experiment": {"name": name, "salt": salt},
    }


def describe(binding: Binding) -> str:
    """A Lambda version description naming the model versions, e.g. ``churn v3`` or ``churn A=v3 B=v4``."""
    variants = binding["variants"]
    if len(variants) == 1:
        return f"{binding['model']} v{variants[0]['version']}"
    parts = " ".join(f"{v['name']}=v{v['version']}:{v['split_bp'] / 100:g}%" for v in variants)
    return f"{binding['model']} {parts} ({binding['experiment']['name']})"


def read_model_file(version: ModelVersion, name: str, *, s3: Any = None) -> bytes:
    """A registered artifact's bytes, checked against the registry's sha256."""
    artifact = version.artifacts.get(name)
    if artifact is None:
        raise RolloutError(f"{version.model} v{version.version} has no {name}")
    return fetch_verified(artifact.uri, artifact.sha256, s3=s3)


def read_model_json(version: ModelVersion, name: str, *, s3: Any = None) -> Any:
    return json.loads(read_model_file(version, name, s3=s3))
