"""Training in two phases: ``fit_and_export`` (scikit-learn side: search, refit, export, write the
model directory) and ``liveml.training.evaluate`` (ONNX Runtime side); ``train_model`` runs both
into one directory, as ``liveml train`` always has. No ONNX Runtime or matplotlib is imported here,
so the Train Lambda need not carry them."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

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
from liveml.training.errors import ExportError, TrainingError
from liveml.training.evaluate import evaluate_model_dir
from liveml.training.export import (
    check_compact_parity,
    check_onnx_parity,
    graph_inputs,
    make_float32_exact,
    sklearn_outputs,
    to_compact,
    to_onnx,
)
from liveml.training.gates import check_gates
from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics
from liveml.training.parity import tolerance
from liveml.training.progress import Progress, begin
from liveml.training.tuning import SearchResult, make_pipeline, search

REFERENCE_SAMPLE_ROWS = 2000
GOLDEN_REQUEST_ROWS = 5
#: how many of the search's best configurations are tried, in order, before giving up on exporting
#: one that ONNX reproduces (each try costs one or two fits; only a failure pays for the next one)
MAX_CANDIDATES = 3


def fits_after_search(options: FitOptions) -> float:
    """The winner's fits after the search, in fits on the training rows: that one, and with refit
    one more on every row (1 / (1 - holdout fraction) as many rows)."""
    return 1.0 + (1.0 / (1.0 - options.holdout_fraction) if options.refit else 0.0)


def refit_note(holdout_fraction: float) -> str:
    """The model card's words for what the holdout figures estimate after a refit."""
    return (
        f"metrics are from a model fitted on {round(100 * (1 - holdout_fraction))}%, "
        "the served model is refit on 100%"
    )


#: What the time budget must leave after the search, measured on this project's 2-core machine: the
#: winner's fits (``fits_after_search``), fixed seconds, and feature-pipeline fits' worth of export,
#: compact parity, artifacts and evaluation (they scale with rows as that fit does).
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
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, np.generic):
        return _json_value(v.item())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _raw_rows(df: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    # Column by column, not ``iterrows``: that builds a Series per row (seconds for a 4,000-row holdout).
    present = [n for n in names if n in df.columns]
    columns = {n: [_json_value(v) for v in df[n].tolist()] for n in present}
    return [{n: columns[n][i] for n in present} for i in range(len(df))]


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
    overwrite: bool = False,
    **settings: Unpack[FitKeywords],
) -> FitResult:
    """Validate, search, refit and export one model into ``out_dir``: the first phase, needing
    scikit-learn, optuna and skl2onnx but not ONNX Runtime or matplotlib. The directory is complete
    except for what ``evaluate_model_dir`` adds (``report.html``, the ONNX-scored metrics and gates).
    ``settings``: the fields of :class:`FitOptions`."""
    options = FitOptions(**settings)
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(tmp, df, contract, options)
    fit.out_dir = out
    return fit


class FitKeywords(TypedDict, total=False):
    """The keyword arguments ``fit_and_export`` and ``train_model`` take for their :class:`FitOptions`."""

    trials: int
    time_budget_s: float
    seed: int
    progress: Progress | None
    data_sha256: str | None
    folds: int
    holdout_fraction: float
    families: list[str] | None
    validate: bool
    first_trials: list[dict[str, Any]] | None
    refit: bool
    exclude: list[dict[str, Any]]


@dataclass(frozen=True)
class FitOptions:
    """How ``fit_and_export`` and ``train_model`` search and split (their keyword arguments)."""

    trials: int = 30
    time_budget_s: float = 300.0
    seed: int = 0
    #: told of each trial (``TrialEvent``) and of each phase as it begins (``PhaseEvent``)
    progress: Progress | None = None
    data_sha256: str | None = None
    folds: int = 5
    holdout_fraction: float = 0.2
    families: list[str] | None = None
    validate: bool = True
    #: The search's first trials (see ``tuning.search``): one, for a SageMaker training job.
    first_trials: list[dict[str, Any]] | None = None
    #: Refit the chosen configuration on every row (train + holdout) once its holdout figures pass
    #: the contract's gates; the served model then saw 25% more data. Off: the model that was scored
    #: on the holdout is the one served.
    refit: bool = True
    #: Configurations (``{"family", "params"}``) not to serve whatever their score: ones whose ONNX
    #: export failed parity where ONNX Runtime runs (the pipeline's Evaluate step), with the reason.
    exclude: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Fitted:
    """The served pipeline and everything the model directory is written from."""

    contract: Contract
    task: str
    classes: list[str] | None
    result: SearchResult
    #: the configuration served (the search's best, or the runner-up that passed parity)
    candidate: _Candidate
    #: the pipeline that serves: refit on every row, or the holdout-scored one without refit
    pipeline: Any
    #: the rows it was trained and scored on
    split: _Split
    #: the served pipeline's outputs on the holdout: what ONNX parity is checked against
    expected: npt.NDArray[np.float64]
    #: the holdout-scored (80%) pipeline's outputs on the holdout: the honest estimate
    estimate: npt.NDArray[np.float64]
    metrics: dict[str, Any]
    onnx_bytes: bytes
    compact: dict[str, Any] | None
    compact_diff: float | None
    data_sha256: str | None
    #: what happened to the refit: {"done": bool, "rows": N served model was fitted on, "reason"}
    refit: dict[str, Any] = field(default_factory=dict)
    #: better-ranked candidates that could not be served, each with the reason
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Candidate:
    """One completed configuration of the search."""

    rank: int
    family: str
    params: dict[str, Any]
    cv_score: float


def ranked_candidates(result: SearchResult) -> list[_Candidate]:
    """The search's completed configurations, best mean CV score first (ties: earlier trial),
    each configuration once; the first is ``result``'s own choice."""
    done = [
        t for t in result.trials if t.state == "COMPLETE" and t.value is not None and math.isfinite(t.value)
    ]
    done.sort(key=lambda t: (-float(t.value or 0.0), t.number))
    seen: set[str] = set()
    out = [_Candidate(1, result.family, dict(result.params), float(result.cv_score))]
    seen.add(json.dumps([result.family, result.params], sort_keys=True, default=str))
    for t in done:
        key = json.dumps([t.family, t.params], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(_Candidate(len(out) + 1, t.family, dict(t.params), float(t.value or 0.0)))
    return out


def _prepare(df: pd.DataFrame, contract: Contract, options: FitOptions) -> tuple[pd.DataFrame, str | None]:
    """The data gate and conforming (unless ``validate`` is off), then only the labelled rows."""
    data_sha256 = options.data_sha256
    if options.validate:
        from liveml.data import SOURCE_ATTR, check, conform

        begin(options.progress, "validate", f"{len(df)} rows against the contract")
        check(df, contract)
        source = df.attrs.get(SOURCE_ATTR) or {}
        df = conform(df, contract)
        data_sha256 = data_sha256 or source.get("sha256")
    return df[df[contract.target].notna()].reset_index(drop=True), data_sha256


def _fit(df: pd.DataFrame, contract: Contract, options: FitOptions, *, report: bool = False) -> _Fitted:
    """Split a holdout, search, then fit, refit and export the best configuration that ONNX
    reproduces (the search's best unless it fails to export; see ``_fit_candidate``). ``report``:
    the caller draws the HTML report after this (``train_model``), so the search leaves it time."""
    started = time.monotonic()
    # Paid inside the budget but before the search plans its deadline, not after it: the export's
    # first skl2onnx import (2.7 s at load 9 on two cores), pyplot's (3.7 s), and the report's
    # figures as this machine draws them now (0.4-1.3 s each at load 11).
    importlib.import_module("skl2onnx")
    report_s = reporting.FIGURES * reporting.figure_seconds() if report else 0.0
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

    begin(options.progress, "search", f"{options.trials} trials at most")
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
        finish_fits=fits_after_search(options),
        finish_overhead_s=FINISH_OVERHEAD_S + report_s,
        finish_front_factor=FINISH_FRONT_FACTOR,
        seed=options.seed,
        folds=options.folds,
        families=options.families,
        interactions=inter,
        progress=options.progress,
        first_trials=options.first_trials,
    )
    split = _Split(df, train, hold, y, y_train, y_hold, spec, inter)
    rejected: list[dict[str, Any]] = []
    candidates = ranked_candidates(result)
    for candidate in list(candidates):
        excluded = next((e for e in options.exclude if _same_configuration(e, candidate)), None)
        if excluded is not None:
            candidates.remove(candidate)
            rejected.append({**_described(candidate), "reason": str(excluded.get("reason", "excluded"))})
    for candidate in candidates[:MAX_CANDIDATES]:
        try:
            fitted = _fit_candidate(candidate, split, contract, task, classes, options)
        except ExportError as exc:
            # Recorded in the model card; the next-best configuration gets its chance.
            rejected.append({**_described(candidate), "reason": str(exc)})
            continue
        fitted.result, fitted.rejected, fitted.data_sha256 = result, rejected, data_sha256
        return fitted
    reasons = "; ".join(f"#{r['rank']} {r['family']}: {r['reason']}" for r in rejected)
    raise ExportError(
        f"none of the search's {len(rejected)} best configurations exports faithfully: {reasons}"
    )


def _described(candidate: _Candidate) -> dict[str, Any]:
    return {
        "rank": candidate.rank,
        "family": candidate.family,
        "params": candidate.params,
        "cv_score": candidate.cv_score,
    }


def _same_configuration(entry: dict[str, Any], candidate: _Candidate) -> bool:
    key = json.dumps([entry.get("family"), entry.get("params")], sort_keys=True, default=str)
    return key == json.dumps([candidate.family, candidate.params], sort_keys=True, default=str)


@dataclass
class _Split:
    """The labelled rows, their holdout split and the search's feature choices."""

    df: pd.DataFrame
    train: pd.DataFrame
    hold: pd.DataFrame
    y: npt.NDArray[Any]
    y_train: npt.NDArray[Any]
    y_hold: npt.NDArray[Any]
    spec: dict[str, Any]
    interactions: list[str]


def _fit_candidate(
    candidate: _Candidate,
    split: _Split,
    contract: Contract,
    task: str,
    classes: list[str] | None,
    options: FitOptions,
) -> _Fitted:
    """Fit one configuration on the training rows and score it on the holdout; if its figures pass
    the contract's gates, refit it on every row (``options.refit``); export the served pipeline.

    Cost, for the search's deadline: one fit of the chosen configuration on the training rows plus,
    with refit, one more on all rows (1.25x the rows), then the ONNX and compact exports (under a
    second for most models). A runner-up is fitted only when a better candidate failed to export.
    ``ExportError`` when the served pipeline cannot be exported faithfully."""

    def fitted(rows: pd.DataFrame, y: npt.NDArray[Any]) -> Any:
        pipe = make_pipeline(
            split.spec, candidate.family, candidate.params, task, options.seed, split.interactions
        )
        with threadpool_limits(limits=1):
            pipe.fit(rows, y)
        return make_float32_exact(pipe)

    chosen = f"{candidate.family} (rank {candidate.rank})"
    begin(options.progress, "fit", f"{chosen} on {len(split.train)} rows, scored on {len(split.hold)}")
    scored = fitted(split.train, split.y_train)
    estimate = sklearn_outputs(scored, split.hold, task)
    metrics = holdout_metrics(task, split.y_hold, estimate)
    failed_gates = [g["gate"] for g in check_gates(contract.gates, metrics) if not g["passed"]]
    if not options.refit:
        served, refit = scored, {"done": False, "rows": len(split.train), "reason": "refit turned off"}
    elif failed_gates:
        # The Evaluate step will reject this model on these figures; a refit would be wasted.
        served = scored
        refit = {"done": False, "rows": len(split.train), "reason": f"gates failed: {failed_gates}"}
    else:
        begin(options.progress, "refit", f"{candidate.family} on all {len(split.df)} rows")
        served = fitted(split.df, split.y)
        refit = {"done": True, "rows": len(split.df), "reason": refit_note(options.holdout_fraction)}

    begin(options.progress, "export", "ONNX and the compact model, their parity")
    onnx_bytes = to_onnx(served, task)
    if importlib.util.find_spec("onnxruntime") is not None:
        # Where ONNX Runtime is installed (the CLI, tests), parity is checked here, so a failure can
        # still fall back to the runner-up; the Train function has none and Evaluate checks it there.
        check_onnx_parity(onnx_bytes, served, split.hold, task, classes)
    expected = estimate if served is scored else sklearn_outputs(served, split.hold, task)
    compact = to_compact(served, task, classes)
    return _Fitted(
        contract=contract,
        task=task,
        classes=classes,
        result=SearchResult(candidate.family, candidate.params, candidate.cv_score),
        candidate=candidate,
        pipeline=served,
        split=split,
        expected=expected,
        estimate=estimate,
        metrics=metrics,
        onnx_bytes=onnx_bytes,
        compact=compact,
        compact_diff=check_compact_parity(compact, served, split.hold, task, expected) if compact else None,
        data_sha256=None,
        refit=refit,
    )


def _fit_into(
    tmp: Path, df: pd.DataFrame, contract: Contract, options: FitOptions, *, report: bool = False
) -> FitResult:
    started = time.monotonic()
    fitted = _fit(df, contract, options, report=report)
    begin(options.progress, "write", "the model directory: reference data, golden requests, card")
    manifest = _write_model_dir(tmp, fitted, options)
    return FitResult(
        tmp,
        manifest,
        fitted.metrics,
        fitted.candidate.family,
        fitted.candidate.params,
        fitted.candidate.cv_score,
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
    contract, train, hold = fitted.contract, fitted.split.train, fitted.split.hold
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
        # The holdout-scored model's outputs: unseen rows, as live traffic will be.
        predictions=holdout_predictions(fitted.estimate, fitted.task, fitted.classes),
        seed=seed,
    )
    _write(tmp / REFERENCE_SKETCH, sketch.to_json())

    inputs = graph_inputs(fitted.pipeline, hold)
    # Strings as fixed-width unicode: the file then loads without pickle (allow_pickle=False).
    arrays: dict[str, Any] = {
        f"input:{k}": (v.astype(str) if v.dtype == object else v) for k, v in inputs.items()
    }
    # ``expected``: the served pipeline's outputs (ONNX parity); ``estimate``: the holdout-scored
    # pipeline's (the metrics and the champion comparison, never a model scored on rows it saw).
    np.savez_compressed(
        tmp / HOLDOUT_REFERENCE,
        expected=fitted.expected,
        estimate=fitted.estimate,
        y_true=fitted.split.y_hold,
        **arrays,
    )

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
    contract, result, task, chosen = fitted.contract, fitted.result, fitted.task, fitted.candidate
    importances = reporting.feature_importances(fitted.pipeline)
    return {
        "name": contract.name,
        "task": task,
        "classes": fitted.classes,
        "family": chosen.family,
        "params": chosen.params,
        "primary_metric": PRIMARY_METRIC[task],
        "metrics": fitted.metrics,
        "gates": [],
        "created_at": created,
        "code_version": liveml.__version__,
        "contract": {"name": contract.name, "version": contract.version, "sha256": contract.sha256},
        "data": {
            "sha256": fitted.data_sha256,
            "rows": len(fitted.split.df),
            "train_rows": len(fitted.split.train),
            "holdout_rows": len(fitted.split.hold),
            #: the rows the served model was fitted on (all of them after a refit)
            "served_model_rows": fitted.refit["rows"],
        },
        "refit": fitted.refit,
        "selection": {
            "rank": chosen.rank,
            "rejected": fitted.rejected,
        },
        "search": {
            "trials": len(result.trials),
            "seconds": round(result.duration_s, 2),
            "seed": options.seed,
            "folds": options.folds,
            "cv_score": chosen.cv_score,
            "best_cv_score": result.cv_score,
            # The winner's lead over the runner-up, against twice the standard error of their paired
            # fold differences: within noise, another configuration would have done as well.
            "within_noise": result.within_noise,
            "noise_margin": result.noise,
            "lead": result.margin,
            "stopped_by": result.stopped_by,
            "families": sorted({t.family for t in result.trials}),
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
    contract, chosen, task = fitted.contract, fitted.candidate, fitted.task
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
        "family": chosen.family,
        "params": chosen.params,
        "primary_metric": PRIMARY_METRIC[task],
        "cv_score": chosen.cv_score,
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
    champion_dir: str | Path | None = None,
    overwrite: bool = False,
    **settings: Unpack[FitKeywords],
) -> TrainResult:
    """Validate, search, refit, export, evaluate, gate and document one model into ``out_dir``:
    both phases in one go (``liveml train``).

    Everything is written into a temporary sibling directory that is renamed to ``out_dir`` only
    when every step passed, so a failure (``DataQualityError``, ``ModelPerformanceError``,
    ``ExportError``, ...) never leaves a model directory behind.
    """
    started = time.monotonic()
    options = FitOptions(**settings)
    out = Path(out_dir)
    with _staged(out, overwrite) as tmp:
        fit = _fit_into(tmp, df, contract, options, report=True)
        what = "parity, golden requests, gates" + (", the champion" if champion_dir else "")
        begin(options.progress, "evaluate", f"with ONNX Runtime: {what}, importance, report")
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
