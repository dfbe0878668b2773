"""Each function imports only what its package carries (Lambda refuses more than 250 MB
unzipped for a function with its layers).

Checked in fresh interpreters: the evaluate function must not load scikit-learn, scipy, pandas or
optuna; the train function must run a whole fit-and-export with ONNX Runtime and matplotlib made
unimportable, as they are in its package.
"""

from __future__ import annotations

from pathlib import Path

from tests.unit.fresh import loaded_after, run_fresh, unimportable

ROOT = Path(__file__).resolve().parents[3]


def test_evaluate_function_imports_no_training_stack() -> None:
    code = f"""
import sys
sys.path.insert(0, {str(ROOT / "functions" / "evaluate")!r})
import app, liveml.training.evaluate, liveml.pipeline.steps.evaluate
"""
    assert loaded_after(code, ["sklearn", "scipy", "pandas", "optuna", "skl2onnx", "pyarrow"]) == []


def test_train_function_runs_without_onnxruntime_or_matplotlib(tmp_path: Path) -> None:
    code = (
        unimportable("onnxruntime", "matplotlib")
        + f"""
import sys
sys.path.insert(0, {str(ROOT / "functions" / "train")!r})
import app
from liveml.data.synth import generate_players, player_contract
from liveml.training import fit_and_export
fit = fit_and_export(generate_players(400, seed=1), player_contract("binary"), {str(tmp_path / "m")!r},
                     trials=1, time_budget_s=20, folds=2, families=["linear"])
print(sorted(fit.manifest["artifacts"]))
"""
    )
    files = run_fresh(code)
    assert "model.onnx" in files and "holdout_rows.jsonl" in files and "report.html" not in files
