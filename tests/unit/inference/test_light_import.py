"""Importing the light runtime must not drag the training stack into the serving path."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["sklearn", "scipy", "optuna", "pandas", "skl2onnx", "matplotlib"]


def test_import_inference_stays_light() -> None:
    code = (
        "import json, sys, liveml.inference, liveml.inference.compact, liveml.inference.model_dir;"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
