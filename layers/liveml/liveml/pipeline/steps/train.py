"""Train: search, refit and export a model from the validated dataset version, into S3.

The first phase of training only (``liveml.training.fit_and_export``): the Train function carries
scikit-learn, optuna and skl2onnx but not ONNX Runtime or matplotlib (Lambda's 250 MB), so ONNX
parity, metrics, gates and the report are the Evaluate step's. The model directory goes to
``runs/<model>/<run id>/model/``; only its URI and a small summary pass on.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from liveml.aws.s3 import get_bytes, upload_dir
from liveml.contract import Contract
from liveml.errors import catch_reason
from liveml.modeldir import MANIFEST
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.settings import PipelineSettings
from liveml.pipeline.steps.runs import RunState

#: Seconds kept back from the function's remaining time for the refit, export and upload after the
#: search: a budget that eats them all would time out with nothing to show.
RESERVE_S = 120.0
MIN_SEARCH_S = 10.0
#: Seconds kept back from the step's budget for uploading the model directory (a few MB; 0.2-0.6 s
#: measured on LocalStack for 20k rows), so the whole step, not only the training call, keeps it.
UPLOAD_RESERVE_S = 1.0
#: The run fails when this many configurations have failed ONNX parity in Evaluate; before that, the
#: state machine sends the failure back to Train, which serves the next-best configuration.
MAX_PARITY_FAILURES = 2
#: holdout metrics small enough for the state (no confusion matrix)
SUMMARY_METRICS = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "log_loss",
    "rmse",
    "mae",
    "r2",
)


def search_budget(settings: PipelineSettings, remaining_s: float | None, spent_s: float = 0.0) -> float:
    """What the training call may spend. The settings' time budget covers the whole Train step, so
    what the step already spent (``spent_s``: imports, reading the contract and the data) and the
    upload after it come out of it; the invocation's remaining time (minus ``RESERVE_S``) caps it."""
    budget = float(settings.time_budget_s) - spent_s - UPLOAD_RESERVE_S
    if remaining_s is not None:
        budget = min(budget, remaining_s - spent_s - RESERVE_S)
    return max(MIN_SEARCH_S, budget)


def excluded_configurations(
    previous: dict[str, Any] | None, error: dict[str, Any] | None, *, s3: Any = None
) -> list[dict[str, Any]]:
    """What this attempt must not serve: the configurations of earlier attempts whose ONNX export the
    Evaluate step found unfaithful (``error`` is its Catch's ``{"Error", "Cause"}``). Too many of them
    fail the run with every reason."""
    if not previous or not error or error.get("Error") != "OnnxParityError":
        return []
    manifest = json.loads(get_bytes(previous["model_uri"] + MANIFEST, s3=s3))
    excluded = [
        *previous.get("excluded", []),
        {
            "family": manifest["family"],
            "params": manifest["params"],
            "reason": f"failed ONNX parity in Evaluate ({catch_reason(error)})",
        },
    ]
    if len(excluded) >= MAX_PARITY_FAILURES:
        reasons = "; ".join(f"{e['family']}: {e['reason']}" for e in excluded)
        raise PipelineError(f"{len(excluded)} configurations failed ONNX parity, giving up: {reasons}")
    return excluded


def train_step(
    state: RunState,
    validation: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    remaining_s: float | None = None,
    started: float | None = None,
    artifacts_bucket: str | None = None,
    workdir: Path | None = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Train the run's model and upload its directory; returns ``{"model_uri", "family", "cv_score",
    "trials", "seconds", "metrics", "excluded", "timings"}``. ``previous`` and ``error``: the last
    attempt's result and the Evaluate failure that sent the run back here (see
    ``excluded_configurations``). The budget's clock starts at ``started`` (``time.monotonic()``;
    by default now, the handler's start): the training stack's imports, the data read and the
    upload are inside it, as the state's time is."""
    started = time.monotonic() if started is None else started
    from liveml.data import read_dataset  # pandas: only the functions that train load it
    from liveml.training import fit_and_export

    settings = PipelineSettings.model_validate(validation["settings"])
    excluded = excluded_configurations(previous, error, s3=s3)
    contract_uri = validation["contract_uri"]
    contract = Contract.from_yaml(get_bytes(contract_uri, s3=s3).decode(), source=contract_uri)
    if contract.sha256 != validation["contract_sha256"]:
        # The contract was replaced between Validate and Train: the data was not checked against it.
        raise PipelineError(
            f"{contract_uri} changed since this run validated the data "
            f"(sha256 {contract.sha256[:12]} != {validation['contract_sha256'][:12]}): upload the data again"
        )
    dataset = validation["dataset"]
    raw = get_bytes(state.dataset_uri, version_id=state.version_id, s3=s3)
    df = read_dataset(raw, name=state.key, contract=contract)
    read_s = time.monotonic() - started  # imports, contract and data: spent before the search

    model_uri = state.run_uri("model/", artifacts_bucket=artifacts_bucket)
    with tempfile.TemporaryDirectory(prefix="liveml-train-", dir=workdir) as tmp:
        fit = fit_and_export(
            df,
            contract,
            Path(tmp) / "model",
            trials=settings.trials,
            time_budget_s=search_budget(settings, remaining_s, read_s),
            seed=settings.seed,
            folds=settings.cv_folds,
            data_sha256=dataset.get("sha256"),
            exclude=excluded,
        )
        fitted = time.monotonic()
        upload_dir(fit.out_dir, model_uri, s3=s3)
    done = time.monotonic()
    return {
        "model_uri": model_uri,
        "family": fit.family,
        "cv_score": fit.cv_score,
        "trials": fit.trials,
        "seconds": round(fit.seconds, 2),
        "metrics": {k: fit.metrics[k] for k in SUMMARY_METRICS if k in fit.metrics},
        "excluded": excluded,
        # Where the step's time went, against its budget (the benchmark prints these).
        "timings": {
            "budget_s": float(settings.time_budget_s),
            "step_s": round(done - started, 2),
            "read_s": round(read_s, 2),
            "fit_s": round(fitted - started - read_s, 2),
            "upload_s": round(done - fitted, 2),
        },
    }
