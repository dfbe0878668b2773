"""The light inference runtime, shared by serving, the evaluate step and ``liveml predict``.

Importing it loads numpy and the standard library only (onnxruntime when a model is created);
never scikit-learn, scipy, optuna or pandas — a unit test holds it to that.

    from liveml.inference import load_model_dir
    bundle = load_model_dir("model/")            # verifies every artifact's sha256
    bundle.onnx.predict([{"sessions": 12, "device": "ios", ...}])   # -> list[Prediction]
    bundle.compact.predict(rows) if bundle.compact else None        # the on-device reference
"""

from __future__ import annotations

from liveml.inference.compact import COMPACT_FORMAT, COMPACT_VERSION, CompactModel
from liveml.inference.errors import ArtifactError, InferenceError, InputError
from liveml.inference.model_dir import (
    ModelBundle,
    load_holdout_reference,
    load_model_dir,
    onnx_parity,
    read_artifact,
    read_manifest,
    verify_artifacts,
)
from liveml.inference.onnx_model import OnnxModel, Prediction, predictions_from_outputs
from liveml.inference.pregraph import (
    DATETIME_PARTS,
    MISSING,
    OTHER,
    ColumnSpec,
    GraphInput,
    PreGraph,
    datetime_features,
    to_epoch_seconds,
    to_float32,
)
from liveml.modeldir import MANIFEST_FORMAT_VERSION

__all__ = [
    "COMPACT_FORMAT",
    "COMPACT_VERSION",
    "DATETIME_PARTS",
    "MANIFEST_FORMAT_VERSION",
    "MISSING",
    "OTHER",
    "ArtifactError",
    "ColumnSpec",
    "CompactModel",
    "GraphInput",
    "InferenceError",
    "InputError",
    "ModelBundle",
    "OnnxModel",
    "PreGraph",
    "Prediction",
    "datetime_features",
    "load_holdout_reference",
    "load_model_dir",
    "onnx_parity",
    "predictions_from_outputs",
    "read_artifact",
    "read_manifest",
    "to_epoch_seconds",
    "to_float32",
    "verify_artifacts",
]
