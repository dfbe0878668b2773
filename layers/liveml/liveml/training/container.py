"""The SageMaker training entry point (script mode): one tuning-job trial, one model directory.

SageMaker starts a training job with its layout: the ``train`` channel's files under
``SM_CHANNEL_TRAIN`` (the dataset version this run validated, and ``contract.yaml``), the job's
hyperparameters in ``/opt/ml/input/config/hyperparameters.json`` (every value a string), the model
directory to fill at ``SM_MODEL_DIR`` (tarred to ``model.tar.gz`` when the job ends), extra output
at ``SM_OUTPUT_DATA_DIR``, a reason for a failure in ``/opt/ml/output/failure``, and, with spot
training, ``/opt/ml/checkpoints`` synced to S3 across interruptions.

The trial runs through ``liveml.training.fit_and_export`` with ``trials=1`` and the job's values
as the first trial: the same cross-validation, refit, ONNX export and model directory as the Lambda
backend; the tuning job is the search. The objective is printed as ``OBJECTIVE_LINE`` says, which
the tuning job's metric definitions parse from the log (``METRIC_DEFINITIONS``).

Run it as the container does: ``python -m liveml.training.container`` (or the source bundle's
``train.py``) with those variables set.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveml.errors import LiveMLError

OPT_ML = Path("/opt/ml")
#: hyperparameters that configure the run rather than the trial (static in the tuning job)
STATIC = ("seed", "cv_folds", "dataset", "contract", "data_sha256")
#: number format the metric regexes accept
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
OBJECTIVE = "cv_score"
METRIC_DEFINITIONS = [
    {"Name": OBJECTIVE, "Regex": rf"liveml_metric {OBJECTIVE}={_NUMBER};"},
    {"Name": "holdout_score", "Regex": rf"liveml_metric holdout_score={_NUMBER};"},
    {"Name": "fit_seconds", "Regex": rf"liveml_metric fit_seconds={_NUMBER};"},
]


@dataclass(frozen=True)
class Layout:
    """Where SageMaker puts things; the environment variables win over ``/opt/ml`` defaults."""

    train: Path
    model: Path
    output_data: Path
    hyperparameters: Path
    failure: Path
    checkpoints: Path

    @classmethod
    def from_env(cls, root: Path = OPT_ML, environ: dict[str, str] | None = None) -> Layout:
        env = os.environ if environ is None else environ
        return cls(
            train=Path(env.get("SM_CHANNEL_TRAIN", root / "input/data/train")),
            model=Path(env.get("SM_MODEL_DIR", root / "model")),
            output_data=Path(env.get("SM_OUTPUT_DATA_DIR", root / "output/data")),
            hyperparameters=Path(env.get("SM_INPUT_CONFIG_DIR", root / "input/config"))
            / "hyperparameters.json",
            failure=Path(env.get("SM_OUTPUT_DIR", root / "output")) / "failure",
            checkpoints=Path(env.get("LIVEML_CHECKPOINT_DIR", root / "checkpoints")),
        )


def metric_line(name: str, value: float) -> str:
    """A log line the tuning job's metric definitions parse."""
    return f"liveml_metric {name}={value:.6f};"


def _static(hyperparameters: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = hyperparameters.get(name, default)
    return None if value is None else str(value).strip().strip('"')


def _copy_model(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, dirs_exist_ok=True)


def run_trial(layout: Layout) -> dict[str, Any]:
    """Train the job's one trial into ``layout.model``; returns the trial's summary."""
    from liveml.contract import Contract
    from liveml.data import read_dataset
    from liveml.training import fit_and_export
    from liveml.training.hyperparameters import trial_from_hyperparameters

    try:
        hyperparameters: dict[str, Any] = json.loads(layout.hyperparameters.read_text())
    except (OSError, ValueError) as exc:
        raise LiveMLError(f"cannot read the hyperparameters at {layout.hyperparameters}: {exc}") from None
    trial = trial_from_hyperparameters(hyperparameters)
    checkpoint = layout.checkpoints / "model"
    if (checkpoint / "manifest.json").is_file():
        # A spot interruption after the fit: the finished model directory is in the checkpoint.
        _copy_model(checkpoint, layout.model)
        manifest = json.loads((checkpoint / "manifest.json").read_text())
        return {
            "resumed": True,
            "cv_score": manifest["cv_score"],
            "family": manifest["family"],
            "trial": trial,
        }

    contract_name = _static(hyperparameters, "contract", "contract.yaml") or "contract.yaml"
    dataset_name = _static(hyperparameters, "dataset")
    if not dataset_name:
        raise LiveMLError("hyperparameter 'dataset' (the data file's name in the train channel) is missing")
    contract_path, data_path = layout.train / contract_name, layout.train / dataset_name
    for path in (contract_path, data_path):
        if not path.is_file():
            raise LiveMLError(
                f"{path} is not in the train channel ({sorted(p.name for p in layout.train.glob('*'))})"
            )
    contract = Contract.from_yaml(contract_path.read_text(), source=str(contract_path))
    df = read_dataset(data_path.read_bytes(), name=dataset_name, contract=contract)
    seed = int(_static(hyperparameters, "seed", "0") or 0)
    folds = int(_static(hyperparameters, "cv_folds", "5") or 5)

    started = time.monotonic()
    layout.output_data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="liveml-trial-", dir=layout.output_data.parent) as tmp:
        fit = fit_and_export(
            df,
            contract,
            Path(tmp) / "model",
            trials=1,
            # The training job's MaxRuntimeInSeconds bounds the trial, not a search budget.
            time_budget_s=float("inf"),
            seed=seed,
            folds=folds,
            families=[trial["family"]],
            first_trials=[trial],
            data_sha256=_static(hyperparameters, "data_sha256"),
        )
        if layout.checkpoints.is_dir():
            _copy_model(fit.out_dir, checkpoint)
        _copy_model(fit.out_dir, layout.model)
    seconds = time.monotonic() - started
    from liveml.training import PRIMARY_METRIC

    holdout = fit.metrics.get(PRIMARY_METRIC.get(str(contract.task), ""), float("nan"))
    summary = {
        "resumed": False,
        "family": fit.family,
        "trial": trial,
        "cv_score": fit.cv_score,
        "holdout_score": holdout,
        "fit_seconds": round(seconds, 3),
        "rows": len(df),
    }
    (layout.output_data / "trial.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def main(layout: Layout | None = None) -> int:
    """The container's entry: run the trial, print the metric lines, or write the failure reason."""
    layout = layout or Layout.from_env()
    try:
        summary = run_trial(layout)
    except LiveMLError as exc:
        # SageMaker shows this file's text as the job's FailureReason.
        layout.failure.parent.mkdir(parents=True, exist_ok=True)
        layout.failure.write_text(f"{type(exc).__name__}: {exc}")
        print(f"liveml trial failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    print(metric_line(OBJECTIVE, float(summary["cv_score"])), flush=True)
    if "holdout_score" in summary:
        print(metric_line("holdout_score", float(summary["holdout_score"])), flush=True)
        print(metric_line("fit_seconds", float(summary["fit_seconds"])), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
