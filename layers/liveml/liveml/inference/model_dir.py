"""Loading a model directory (``liveml.modeldir`` describes it) through its manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveml.inference.compact import CompactModel
from liveml.inference.onnx_model import OnnxModel
from liveml.inference.pregraph import PreGraph
from liveml.modeldir import (
    COMPACT,
    HOLDOUT_REFERENCE,
    MANIFEST,
    MANIFEST_FORMAT_VERSION,
    ONNX,
    ArtifactError,
    fetch_verified,
)


def read_manifest(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArtifactError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
        raise ArtifactError(f"{path}: format_version {manifest.get('format_version')!r} is not supported")
    return manifest


def read_artifact(
    model_dir: str | Path, manifest: dict[str, Any], name: str, *, verify: bool = True
) -> bytes:
    """The bytes of one artifact named in the manifest, checked against its sha256."""
    entry = manifest.get("artifacts", {}).get(name)
    if entry is None:
        raise ArtifactError(f"the manifest lists no artifact {name!r}")
    path = Path(model_dir) / entry["path"]
    try:
        return fetch_verified(path, entry["sha256"]) if verify else path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"{path}: {exc.strerror}") from None


def verify_artifacts(model_dir: str | Path, manifest: dict[str, Any]) -> None:
    """Check every artifact the manifest lists against its sha256 (``ArtifactError`` naming the first
    that does not match), not only the ones a model load reads."""
    for name in manifest.get("artifacts", {}):
        read_artifact(model_dir, manifest, name)


@dataclass
class ModelBundle:
    """A loaded model directory: its manifest, the ONNX model and, when present, the compact model."""

    path: Path
    manifest: dict[str, Any]
    onnx: OnnxModel
    compact: CompactModel | None

    @property
    def task(self) -> str:
        return str(self.manifest["task"])

    @property
    def classes(self) -> list[str] | None:
        classes = self.manifest.get("classes")
        return None if classes is None else [str(c) for c in classes]

    @property
    def feature_order(self) -> list[str]:
        return [str(f) for f in self.manifest["feature_order"]]


def load_model_dir(
    model_dir: str | Path, *, verify: bool = True, threads: int = 1, verify_all: bool = False
) -> ModelBundle:
    """Load ``model.onnx`` (and ``model.compact.json`` when listed), verifying their sha256; with
    ``verify_all`` every other listed artifact too (what the evaluate step and the registry need)."""
    path = Path(model_dir)
    manifest = read_manifest(path)
    if verify_all:
        verify_artifacts(path, manifest)
    pregraph = PreGraph.from_dict(manifest["preprocessing"])
    onnx = OnnxModel(
        read_artifact(path, manifest, ONNX, verify=verify),
        pregraph,
        task=manifest["task"],
        classes=manifest.get("classes"),
        threads=threads,
    )
    compact = None
    if COMPACT in manifest.get("artifacts", {}):
        raw = read_artifact(path, manifest, COMPACT, verify=verify)
        compact = CompactModel(json.loads(raw))
    return ModelBundle(path, manifest, onnx, compact)


def load_holdout_reference(
    model_dir: str | Path,
) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    """The saved holdout graph inputs and scikit-learn's outputs on them (``holdout_reference.npz``)."""
    path = Path(model_dir) / HOLDOUT_REFERENCE
    with np.load(path, allow_pickle=False) as npz:
        inputs = {}
        for key in npz.files:
            if key.startswith("input:"):
                arr = npz[key]
                inputs[key[6:]] = arr.astype(object) if arr.dtype.kind == "U" else arr
        expected = npz["expected"]
    return inputs, expected


def onnx_parity(bundle: ModelBundle) -> float:
    """Max |ONNX - scikit-learn| over the holdout saved beside the model (needs onnxruntime only)."""
    inputs, expected = load_holdout_reference(bundle.path)
    got = bundle.onnx.run_inputs(inputs)
    return float(np.max(np.abs(got - expected))) if expected.size else 0.0
