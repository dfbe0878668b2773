"""Training in two phases: ``fit_and_export`` (scikit-learn side: search, refit, export, write the
model directory) and ``liveml.training.evaluate`` (ONNX Runtime side); ``train_model`` runs both
into one directory, as ``liveml train`` always has. No ONNX Runtime or matplotlib is imported here,
so the Train Lambda need not carry them."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

import liveml
from liveml.contract import Contract
from liveml.features import pregraph_spec, strongest_numeric
from liveml.inference.onnx_model import predictions_from_outputs
from liveml.modeldir import (
    COMPACT,
    CONTRACT,
    GOLDEN_REQUESTS,
    HOLDOUT_REFERENCE,
    HOLDOUT_ROWS,
    MANIFEST_FORMAT_VERSION,
    MODEL_CARD_JSON,
    ONNX,
    REFERENCE_SAMPLE,
    REFERENCE_SKETCH,
    TRIALS,
    ArtifactEntry,
    Manifest,
    seal,
    write_manifest,
)
from liveml.monitoring.sketches import holdout_predictions, reference_sketch
from liveml.training import report as reporting
from liveml.training.errors import TrainingError
from liveml.training.evaluate import evaluate_model_dir
from liveml.training.export import (
    check_compact_parity,
    graph_inputs,
    sklearn_outputs,
    to_compact,
    to_onnx,
)
from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics
from liveml.training.parity import tolerance
from liveml.training.tuning import SearchResult, TrialEvent, make_pipeline, search

REFERENCE_SAMPLE_ROWS = 2000
GOLDEN_REQUEST_ROWS = 5
#: What the time budget must leave after the search, measured on this project's 2-core machine:
#: fits of the winner on the training rows, fixed seconds, and feature-pipeline fits' worth of
#: export, compact parity, artifacts and evaluation (they scale with rows as that fit does).
FITS_AFTER_SEARCH = 1.0
FINISH_OVERHEAD_S = 2.0
FINISH_FRONT_FACTOR = 4.0


@dataclass
class _Trained:
    """What every training call reports about the model it wrote."""

    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    family: str
    params: dict[str, Any]
    cv_score: float
    trials: int
    seconds: float


@dataclass
class FitResult(_Trained):
    """What ``fit_and_export`` wrote: an exported, not yet evaluated model directory. ``metrics``
    are scikit-learn's on the holdout (the evaluation recomputes them from the ONNX outputs)."""

    compact_parity: float | None


@dataclass
class TrainResult(_Trained):
    """What ``train_model`` wrote: an evaluated model directory that passed its gates."""

    onnx_parity: float
    compact_parity: float | None
    gates: list[dict[str, Any]] = field(default_factory=list)


def _label_text(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def encode_target(contract: Contract, values: pd.Series[Any]) -> tuple[npt.NDArray[Any], list[str] | None]:
    """Class indices (in the contract's class order) or float values."""
    if str(contract.task) == "regression":
        return values.to_numpy(dtype=np.float64), None
    texts = [_label_text(v) for v in values]
    classes = list(contract.classes) if contract.classes else sorted(set(texts))
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({t for t in texts if t not in index})
    if unknown:
        raise TrainingError(
            f"target {contract.target!r}: values {unknown[:5]} are not among the classes {classes}"
        )
    return np.array([index[t] for t in texts], dtype=np.int64), classes


def _json_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, np.generic):
        return _json_value(v.item())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _raw_rows(df: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    return [{n: _json_value(row[n]) for n in names if n in df.columns} for _, row in df.iterrows()]


def _write(path: Path, data: bytes | str) -> None:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def _staged(out: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary sibling of ``out`` that replaces it only if the block succeeds, so a failure
    never leaves a model directory (or a half-written one) behind."""
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise TrainingError(f"{out} exists and is not empty (pass overwrite=True / --force to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private; a model directory is meant to be shared
        if out.exists():
            shutil.rmtree(out)
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fit_and_export(
    df: pd.DataFrame,
    contract: Contract,
    out_dir: str | Path,
    *,
    trials: int = 30,
    time_budget_s: float = 300.0,
    seed: int = 0,
    progress: Callable[[TrialEvent], None] | None = None,
    data_sha256: str | None = None,
    folds: int = 5,
    holdout_fraction: float = 0.2,
    families: list[str] | None = None,
    validate: bool = True,
    overwrite: bool = False,
    first_trials: list[dict[str, Any]] | None = None,
) -> FitResult:
    """Validate, search, refit and export one model into ``out_dir``: the first phase, needing
    scikit-learn, optuna and skl2onnx but not ONNX Runtime or matplotlib. The directory is complete
    except for what ``evaluate_model_dir`` adds (``report.html``, the ONNX-scored metrics and gates)."""
    options = FitOptions(
        trials,
        time_budget_s,
        seed,
        progress,
        data_sha256,
        folds,
        holdout_fraction,
        families,
        validate,
        first_trials,
    )
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(tmp, df, contract, options)
    fit.out_dir = out
    return fit


@dataclass(frozen=True)
class FitOptions:
    """How ``fit_and_export`` and ``train_model`` search and split (their keyword arguments)."""

    trials: int = 30
    time_budget_s: float = 300.0
    seed: int = 0
    progress: Callable[[TrialEvent], None] | None = None
    data_sha256: str | None = None
    folds: int = 5
    holdout_fraction: float = 0.2
    families: list[str] | None = None
    validate: bool = True
    #: The search's first trials (see ``tuning.search``): one, for a SageMaker training job.
    first_trials: list[dict[str, Any]] | None = None


@dataclass
class _Fitted:
    """The refit pipeline and everything the model directory is written from."""

    contract: Contract
    task: str
    classes: list[str] | None
    result: SearchResult
    pipeline: Any
    train: pd.DataFrame
    hold: pd.DataFrame
    y_hold: npt.NDArray[Any]
    expected: npt.NDArray[np.float64]
    metrics: dict[str, Any]
    onnx_bytes: bytes
    compact: dict[str, Any] | None
    compact_diff: float | None
    rows: int
    data_sha256: str | None


def _prepare(df: pd.DataFrame, contract: Contract, options: FitOptions) -> tuple[pd.DataFrame, str | None]:
    """The data gate and conforming (unless ``validate`` is off), then only the labelled rows."""
    data_sha256 = options.data_sha256
    if options.validate:
        from liveml.data import SOURCE_ATTR, check, conform

        check(df, contract)
        source = df.attrs.get(SOURCE_ATTR) or {}
        df = conform(df, contract)
        data_sha256 = data_sha256 or source.get("sha256")
    return df[df[contract.target].notna()].reset_index(drop=True), data_sha256


def _fit(df: pd.DataFrame, contract: Contract, options: FitOptions) -> _Fitted:
    """Split a holdout, search, refit the best pipeline on the rest and export it."""
    started = time.monotonic()
    df, data_sha256 = _prepare(df, contract, options)
    task = str(contract.task)
    y, classes = encode_target(contract, df[contract.target])
    stratify = y if classes is not None else None
    try:
        idx_train, idx_hold = train_test_split(
            np.arange(len(df)),
            test_size=options.holdout_fraction,
            random_state=options.seed,
            stratify=stratify,
        )
    except ValueError as exc:
        raise TrainingError(f"cannot split a holdout: {exc}") from None
    train, hold = df.iloc[idx_train].reset_index(drop=True), df.iloc[idx_hold].reset_index(drop=True)
    y_train, y_hold = y[idx_train], y[idx_hold]

    spec = pregraph_spec(contract)
    inter = strongest_numeric(spec, train, y_train, k=4)
    result: SearchResult = search(
        train,
        y_train,
        spec,
        task,
        trials=options.trials,
        # The budget is for the whole run: what was spent validating is gone, and the search keeps
        # time free for what follows it: the winner's fit, then export, parity and evaluation
        # (about 4 feature-pipeline fits' worth here, plus imports and the report).
        time_budget_s=max(options.time_budget_s - (time.monotonic() - started), 1e-3),
        finish_fits=FITS_AFTER_SEARCH,
        finish_overhead_s=FINISH_OVERHEAD_S,
        finish_front_factor=FINISH_FRONT_FACTOR,
        seed=options.seed,
        folds=options.folds,
        families=options.families,
        interactions=inter,
        progress=options.progress,
        first_trials=options.first_trials,
    )
    pipeline = make_pipeline(spec, result.family, result.params, task, options.seed, inter)
    with threadpool_limits(limits=1):
        pipeline.fit(train, y_train)
    expected = sklearn_outputs(pipeline, hold, task)

    # ONNX parity needs ONNX Runtime: evaluate_model_dir checks it against ``expected``, saved beside.
    compact = to_compact(pipeline, task, classes)
    return _Fitted(
        contract=contract,
        task=task,
        classes=classes,
        result=result,
        pipeline=pipeline,
        train=train,
        hold=hold,
        y_hold=y_hold,
        expected=expected,
        metrics=holdout_metrics(task, y_hold, expected),
        onnx_bytes=to_onnx(pipeline, task),
        compact=compact,
        compact_diff=check_compact_parity(compact, pipeline, hold, task, expected) if compact else None,
        rows=len(df),
        data_sha256=data_sha256,
    )


def _fit_into(tmp: Path, df: pd.DataFrame, contract: Contract, options: FitOptions) -> FitResult:
    started = time.monotonic()
    fitted = _fit(df, contract, options)
    manifest = _write_model_dir(tmp, fitted, options)
    return FitResult(
        tmp,
        manifest,
        fitted.metrics,
        fitted.result.family,
        fitted.result.params,
        fitted.result.cv_score,
        len(fitted.result.trials),
        time.monotonic() - started,
        fitted.compact_diff,
    )


def _write_model_dir(tmp: Path, fitted: _Fitted, options: FitOptions) -> dict[str, Any]:
    """Every artifact, then the model card, then the manifest that seals them (last)."""
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    golden = _write_artifacts(tmp, fitted, options.seed)
    card = _model_card(fitted, options, created, golden_requests=len(golden["requests"]))
    _write(tmp / MODEL_CARD_JSON, json.dumps(card, indent=1))
    manifest = _manifest(fitted, options, created, parity=card["parity"], artifacts=seal(tmp))
    write_manifest(tmp, manifest)
    return dict(manifest)


def _write_artifacts(tmp: Path, fitted: _Fitted, seed: int) -> dict[str, Any]:
    """The model, its contract, the trials and the reference data; returns the golden requests."""
    contract, train, hold = fitted.contract, fitted.train, fitted.hold
    _write(tmp / ONNX, fitted.onnx_bytes)
    if fitted.compact is not None:
        _write(tmp / COMPACT, json.dumps(fitted.compact, separators=(",", ":")))
    _write(tmp / CONTRACT, contract.to_yaml())
    _write(tmp / TRIALS, json.dumps([t.to_dict() for t in fitted.result.trials], indent=1))

    sample_cols = [c.name for c in contract.columns if c.name in train.columns]
    sample = train[sample_cols].sample(n=min(REFERENCE_SAMPLE_ROWS, len(train)), random_state=seed)
    sample.to_csv(tmp / REFERENCE_SAMPLE, index=False)
    # Binned once here, so the monitor compares a window of captures in one pass.
    sketch = reference_sketch(
        contract,
        {c: train[c].to_numpy() for c in sample_cols},
        task=fitted.task,
        predictions=holdout_predictions(fitted.expected, fitted.task, fitted.classes),
        seed=seed,
    )
    _write(tmp / REFERENCE_SKETCH, sketch.to_json())

    inputs = graph_inputs(fitted.pipeline, hold)
    # Strings as fixed-width unicode: the file then loads without pickle (allow_pickle=False).
    arrays: dict[str, Any] = {
        f"input:{k}": (v.astype(str) if v.dtype == object else v) for k, v in inputs.items()
    }
    np.savez_compressed(tmp / HOLDOUT_REFERENCE, expected=fitted.expected, y_true=fitted.y_hold, **arrays)

    # Raw and typed (JSON numbers, strings, ISO datetimes): any model's pre-graph step reads them,
    # so the evaluate step can score the champion on exactly this holdout.
    raw_cols = [c.name for c in contract.columns if c.name in hold.columns and c.name != contract.target]
    _write(
        tmp / HOLDOUT_ROWS,
        "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in _raw_rows(hold, raw_cols)),
    )

    golden = _golden_requests(fitted.pipeline, contract, hold, fitted.task, fitted.classes)
    _write(tmp / GOLDEN_REQUESTS, json.dumps(golden, indent=1))
    return golden


def _model_card(
    fitted: _Fitted, options: FitOptions, created: str, *, golden_requests: int
) -> dict[str, Any]:
    contract, result, task = fitted.contract, fitted.result, fitted.task
    importances = reporting.feature_importances(fitted.pipeline)
    return {
        "name": contract.name,
        "task": task,
        "classes": fitted.classes,
        "family": result.family,
        "params": result.params,
        "primary_metric": PRIMARY_METRIC[task],
        "metrics": fitted.metrics,
        "gates": [],
        "created_at": created,
        "code_version": liveml.__version__,
        "contract": {"name": contract.name, "version": contract.version, "sha256": contract.sha256},
        "data": {
            "sha256": fitted.data_sha256,
            "rows": fitted.rows,
            "train_rows": len(fitted.train),
            "holdout_rows": len(fitted.hold),
        },
        "search": {
            "trials": len(result.trials),
            "seconds": round(result.duration_s, 2),
            "seed": options.seed,
            "folds": options.folds,
            "cv_score": result.cv_score,
        },
        "parity": {
            "onnx_max_abs_diff": None,  # measured by evaluate_model_dir, with ONNX Runtime
            "compact_max_abs_diff": fitted.compact_diff,
            "tolerance": tolerance(task),
        },
        "golden_requests": golden_requests,
        "feature_importances": importances[:30],
    }


def _manifest(
    fitted: _Fitted,
    options: FitOptions,
    created: str,
    *,
    parity: dict[str, Any],
    artifacts: dict[str, ArtifactEntry],
) -> Manifest:
    contract, result, task = fitted.contract, fitted.result, fitted.task
    pregraph = fitted.pipeline.named_steps["pregraph"].pregraph_
    return {
        "format_version": MANIFEST_FORMAT_VERSION,
        "name": contract.name,
        "task": task,  # type: ignore[typeddict-item]  # the contract's task is one of the three
        "target": contract.target,
        "classes": fitted.classes,
        "entity_id": contract.entity_id,
        "event_time": contract.event_time,
        "feature_order": contract.feature_names,
        "graph_inputs": [
            {"name": g.name, "type": g.dtype, "source": g.source} for g in pregraph.graph_inputs()
        ],
        "preprocessing": pregraph.to_dict(),
        "family": result.family,
        "params": result.params,
        "primary_metric": PRIMARY_METRIC[task],
        "cv_score": result.cv_score,
        "metrics": fitted.metrics,
        "gates": [],
        "parity": parity,
        "evaluation": None,  # set by evaluate_model_dir
        "artifacts": artifacts,
        "created_at": created,
        "code_version": liveml.__version__,
        "contract_sha256": contract.sha256,
        "data_sha256": fitted.data_sha256,
        "seed": options.seed,
    }


def train_model(
    df: pd.DataFrame,
    contract: Contract,
    out_dir: str | Path,
    *,
    trials: int = 30,
    time_budget_s: float = 300.0,
    seed: int = 0,
    champion_dir: str | Path | None = None,
    progress: Callable[[TrialEvent], None] | None = None,
    data_sha256: str | None = None,
    folds: int = 5,
    holdout_fraction: float = 0.2,
    families: list[str] | None = None,
    validate: bool = True,
    overwrite: bool = False,
) -> TrainResult:
    """Validate, search, refit, export, evaluate, gate and document one model into ``out_dir``:
    both phases in one go (``liveml train``).

    Everything is written into a temporary sibling directory that is renamed to ``out_dir`` only
    when every step passed, so a failure (``DataQualityError``, ``ModelPerformanceError``,
    ``ExportError``, ...) never leaves a model directory behind.
    """
    started = time.monotonic()
    options = FitOptions(
        trials, time_budget_s, seed, progress, data_sha256, folds, holdout_fraction, families, validate
    )
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(tmp, df, contract, options)
        evaluation = evaluate_model_dir(tmp, champion_dir=champion_dir, contract=contract)
        evaluation.raise_on_failures()
    return TrainResult(
        out,
        evaluation.manifest,
        evaluation.metrics,
        fit.family,
        fit.params,
        fit.cv_score,
        fit.trials,
        time.monotonic() - started,
        float(evaluation.parity["onnx_max_abs_diff"]),
        fit.compact_parity,
        evaluation.gates,
    )


def _golden_requests(
    pipeline: Any,
    contract: Contract,
    hold: pd.DataFrame,
    task: str,
    classes: list[str] | None,
) -> dict[str, Any]:
    """A few holdout rows as raw feature dicts with scikit-learn's answers; the evaluation replays
    them through the ONNX runtime's dict path, so the rollout's smoke test can trust them."""
    rows = hold.head(GOLDEN_REQUEST_ROWS)
    names = contract.feature_names + ([contract.event_time] if contract.event_time else [])
    feats = _raw_rows(rows, names)
    as_of = pipeline.named_steps["pregraph"].pregraph_.reference_time
    expected = sklearn_outputs(pipeline, rows, task)
    preds = predictions_from_outputs(expected, task, classes)
    return {
        "version": 1,
        "as_of": as_of,
        "tolerance": tolerance(task),
        "requests": [{"features": f, "expected": p.to_dict()} for f, p in zip(feats, preds, strict=True)],
    }
