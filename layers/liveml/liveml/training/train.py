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
from liveml.inference import MANIFEST_FORMAT_VERSION, sha256_bytes
from liveml.inference.onnx_model import predictions_from_outputs
from liveml.training import report as reporting
from liveml.training.errors import TrainingError
from liveml.training.evaluate import HOLDOUT_ROWS, evaluate_model_dir
from liveml.training.export import (
    check_compact_parity,
    graph_inputs,
    sklearn_outputs,
    to_compact,
    to_onnx,
)
from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics
from liveml.training.parity import tolerance
from liveml.training.search import SearchResult, TrialEvent, make_pipeline, search

REFERENCE_SAMPLE_ROWS = 2000
GOLDEN_REQUESTS = 5


@dataclass
class FitResult:
    """What ``fit_and_export`` wrote: an exported, not yet evaluated model directory. ``metrics``
    are scikit-learn's on the holdout (the evaluation recomputes them from the ONNX outputs)."""

    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    family: str
    params: dict[str, Any]
    cv_score: float
    trials: int
    seconds: float
    compact_parity: float | None


@dataclass
class TrainResult:
    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    family: str
    params: dict[str, Any]
    cv_score: float
    trials: int
    seconds: float
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
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(
            tmp,
            df,
            contract,
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
    fit.out_dir = out
    return fit


def _fit_into(
    tmp: Path,
    df: pd.DataFrame,
    contract: Contract,
    trials: int,
    time_budget_s: float,
    seed: int,
    progress: Callable[[TrialEvent], None] | None,
    data_sha256: str | None,
    folds: int,
    holdout_fraction: float,
    families: list[str] | None,
    validate: bool,
    first_trials: list[dict[str, Any]] | None = None,
) -> FitResult:
    started = time.monotonic()
    task = str(contract.task)
    if validate:
        from liveml.data import SOURCE_ATTR, check, conform

        check(df, contract)
        source = df.attrs.get(SOURCE_ATTR) or {}
        df = conform(df, contract)
        data_sha256 = data_sha256 or source.get("sha256")
    df = df[df[contract.target].notna()].reset_index(drop=True)
    y, classes = encode_target(contract, df[contract.target])
    stratify = y if classes is not None else None
    try:
        idx_train, idx_hold = train_test_split(
            np.arange(len(df)), test_size=holdout_fraction, random_state=seed, stratify=stratify
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
        trials=trials,
        time_budget_s=time_budget_s,
        seed=seed,
        folds=folds,
        families=families,
        interactions=inter,
        progress=progress,
        first_trials=first_trials,
    )
    pipeline = make_pipeline(spec, result.family, result.params, task, seed, inter)
    with threadpool_limits(limits=1):
        pipeline.fit(train, y_train)
    expected = sklearn_outputs(pipeline, hold, task)
    metrics = holdout_metrics(task, y_hold, expected)

    # ONNX parity needs ONNX Runtime: evaluate_model_dir checks it against ``expected``, saved below.
    onnx_bytes = to_onnx(pipeline, task)
    compact = to_compact(pipeline, task, classes)
    compact_diff = check_compact_parity(compact, pipeline, hold, task, expected) if compact else None

    manifest = _write_model_dir(
        tmp,
        contract=contract,
        pipeline=pipeline,
        task=task,
        classes=classes,
        result=result,
        metrics=metrics,
        onnx_bytes=onnx_bytes,
        compact=compact,
        compact_diff=compact_diff,
        train=train,
        hold=hold,
        y_hold=y_hold,
        expected=expected,
        seed=seed,
        folds=folds,
        data_sha256=data_sha256,
        rows=len(df),
    )
    return FitResult(
        tmp,
        manifest,
        metrics,
        result.family,
        result.params,
        result.cv_score,
        len(result.trials),
        time.monotonic() - started,
        compact_diff,
    )


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
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(
            tmp,
            df,
            contract,
            trials,
            time_budget_s,
            seed,
            progress,
            data_sha256,
            folds,
            holdout_fraction,
            families,
            validate,
        )
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


def _write_model_dir(
    tmp: Path,
    *,
    contract: Contract,
    pipeline: Any,
    task: str,
    classes: list[str] | None,
    result: SearchResult,
    metrics: dict[str, Any],
    onnx_bytes: bytes,
    compact: dict[str, Any] | None,
    compact_diff: float | None,
    train: pd.DataFrame,
    hold: pd.DataFrame,
    y_hold: npt.NDArray[Any],
    expected: npt.NDArray[np.float64],
    seed: int,
    folds: int,
    data_sha256: str | None,
    rows: int,
) -> dict[str, Any]:
    pregraph = pipeline.named_steps["pregraph"].pregraph_
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    _write(tmp / "model.onnx", onnx_bytes)
    if compact is not None:
        _write(tmp / "model.compact.json", json.dumps(compact, separators=(",", ":")))
    _write(tmp / "contract.yaml", contract.to_yaml())
    _write(tmp / "trials.json", json.dumps([t.to_dict() for t in result.trials], indent=1))

    sample_cols = [c.name for c in contract.columns if c.name in train.columns]
    sample = train[sample_cols].sample(n=min(REFERENCE_SAMPLE_ROWS, len(train)), random_state=seed)
    sample.to_csv(tmp / "reference_sample.csv", index=False)

    inputs = graph_inputs(pipeline, hold)
    # Strings as fixed-width unicode: the file then loads without pickle (allow_pickle=False).
    arrays: dict[str, Any] = {
        f"input:{k}": (v.astype(str) if v.dtype == object else v) for k, v in inputs.items()
    }
    np.savez_compressed(tmp / "holdout_reference.npz", expected=expected, y_true=y_hold, **arrays)

    # Raw and typed (JSON numbers, strings, ISO datetimes): any model's pre-graph step reads them,
    # so the evaluate step can score the champion on exactly this holdout.
    raw_cols = [c.name for c in contract.columns if c.name in hold.columns and c.name != contract.target]
    _write(
        tmp / HOLDOUT_ROWS,
        "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in _raw_rows(hold, raw_cols)),
    )

    golden = _golden_requests(pipeline, contract, hold, task, classes)
    _write(tmp / "golden_requests.json", json.dumps(golden, indent=1))

    importances = reporting.feature_importances(pipeline)
    card: dict[str, Any] = {
        "name": contract.name,
        "task": task,
        "classes": classes,
        "family": result.family,
        "params": result.params,
        "primary_metric": PRIMARY_METRIC[task],
        "metrics": metrics,
        "gates": [],
        "created_at": created,
        "code_version": liveml.__version__,
        "contract": {"name": contract.name, "version": contract.version, "sha256": contract.sha256},
        "data": {"sha256": data_sha256, "rows": rows, "train_rows": len(train), "holdout_rows": len(hold)},
        "search": {
            "trials": len(result.trials),
            "seconds": round(result.duration_s, 2),
            "seed": seed,
            "folds": folds,
            "cv_score": result.cv_score,
        },
        "parity": {
            "onnx_max_abs_diff": None,  # measured by evaluate_model_dir, with ONNX Runtime
            "compact_max_abs_diff": compact_diff,
            "tolerance": tolerance(task),
        },
        "golden_requests": len(golden["requests"]),
        "feature_importances": importances[:30],
    }
    _write(tmp / "model_card.json", json.dumps(card, indent=1))

    artifacts = {}
    for path in sorted(tmp.iterdir()):
        data = path.read_bytes()
        artifacts[path.name] = {"path": path.name, "sha256": sha256_bytes(data), "bytes": len(data)}
    manifest: dict[str, Any] = {
        "format_version": MANIFEST_FORMAT_VERSION,
        "name": contract.name,
        "task": task,
        "target": contract.target,
        "classes": classes,
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
        "metrics": metrics,
        "gates": [],
        "parity": card["parity"],
        "evaluation": None,  # set by evaluate_model_dir
        "artifacts": artifacts,
        "created_at": created,
        "code_version": liveml.__version__,
        "contract_sha256": contract.sha256,
        "data_sha256": data_sha256,
        "seed": seed,
    }
    _write(tmp / "manifest.json", json.dumps(manifest, indent=1))
    return manifest


def _golden_requests(
    pipeline: Any,
    contract: Contract,
    hold: pd.DataFrame,
    task: str,
    classes: list[str] | None,
) -> dict[str, Any]:
    """A few holdout rows as raw feature dicts with scikit-learn's answers; the evaluation replays
    them through the ONNX runtime's dict path, so the rollout's smoke test can trust them."""
    rows = hold.head(GOLDEN_REQUESTS)
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
