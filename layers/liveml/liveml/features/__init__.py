"""Feature engineering: one scikit-learn ``Pipeline`` per model, decided column by column from the contract.

The first step (``pregraph``) is the light runtime's pre-graph step (datetime parts, the infrequent
bucket), so training, ONNX serving and the Unity client compute the same inputs; the rest converts
to ONNX with skl2onnx. See ``pipeline.py`` for why each block looks the way it does.
"""

from __future__ import annotations

from liveml.features.pipeline import (
    TEXT_MAX_FEATURES,
    build_pipeline,
    frame_columns,
    pregraph_spec,
    strongest_numeric,
)
from liveml.features.pregraph import PreGraphTransformer

__all__ = [
    "TEXT_MAX_FEATURES",
    "PreGraphTransformer",
    "build_pipeline",
    "frame_columns",
    "pregraph_spec",
    "strongest_numeric",
]
