"""Importing the light runtime must not drag the training stack into the serving path."""

from __future__ import annotations

from tests.unit.fresh import loaded_after

HEAVY = ["sklearn", "scipy", "optuna", "pandas", "skl2onnx", "matplotlib"]


def test_import_inference_stays_light() -> None:
    code = "import liveml.inference, liveml.inference.compact, liveml.inference.model_dir"
    assert loaded_after(code, HEAVY) == []
