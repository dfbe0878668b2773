"""``liveml advise model``: the registry's candidate versions side by side on one holdout, and the
version to ship with reasons a producer can read.

Every candidate is scored on the *same* rows: the newest candidate's holdout (``holdout_rows.jsonl``
and its truth), fed through each version's own pre-graph step, as the champion/challenger gate does.
Then, deterministically:

1. the best primary metric (ROC AUC, or R² for regression) sets the bar; versions within
   ``tolerance`` of it are equally good for a player;
2. among those, prefer one that also runs on the device (a compact model), then the smallest accuracy
   gap across the segments (fairness), then the best calibration (expected calibration error), then the
   smallest ONNX file; ties go to the newer version.

Latency is measured and shown, but not used to choose: it varies from run to run and every candidate
here answers in well under a millisecond.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.advise.errors import AdviseError
from liveml.contract import Contract
from liveml.inference import ModelBundle, load_model_dir, read_artifact
from liveml.registry import Approval, ModelVersion, Stage

#: A segment with fewer holdout rows than this is too noisy to compare.
MIN_SEGMENT_ROWS = 30
#: A categorical column with more categories than this is an identifier, not a segment.
MAX_SEGMENTS = 20
DEFAULT_TOLERANCE = 0.005
LATENCY_CALLS = 200


@dataclass(frozen=True)
class Candidate:
    version: int
    family: str
    approval: str
    stage: str
    metrics: dict[str, float] = field(default_factory=dict)
    calibration_error: float | None = None
    #: reliability curve: (mean predicted probability, observed frequency) per bin
    calibration_curve: list[tuple[float, float]] = field(default_factory=list)
    latency_us: float | None = None
    onnx_bytes: int = 0
    on_device: bool = False
    #: column -> segment -> accuracy (classification) or MAE (regression) on the shared holdout
    segments: dict[str, dict[str, float]] = field(default_factory=dict)
    segment_gap: float | None = None
    excluded: str | None = None


@dataclass(frozen=True)
class ModelAdvice:
    model: str
    task: str
    primary_metric: str
    holdout_version: int
    holdout_rows: int
    tolerance: float
    segment_columns: list[str]
    candidates: list[Candidate]
    production: int | None
    recommended: int | None
    reasons: list[str]

    @property
    def headline(self) -> str:
        return f"Model {self.model!r} ({self.task}): which registered version to ship"

    def facts(self) -> dict[str, float]:
        """Every number the advice rests on, by name: what an LLM may cite and nothing else."""
        out: dict[str, float] = {
            "holdout_version": self.holdout_version,
            "holdout_rows": self.holdout_rows,
            "tolerance": self.tolerance,
        }
        if self.production is not None:
            out["production_version"] = self.production
        if self.recommended is not None:
            out["recommended_version"] = self.recommended
        for c in self.candidates:
            prefix = f"v{c.version}"
            out[f"{prefix}.version"] = c.version
            out[f"{prefix}.onnx_bytes"] = c.onnx_bytes
            for name, value in c.metrics.items():
                out[f"{prefix}.{name}"] = value
            if c.calibration_error is not None:
                out[f"{prefix}.calibration_error"] = c.calibration_error
            if c.segment_gap is not None:
                out[f"{prefix}.segment_gap"] = c.segment_gap
            if c.latency_us is not None:
                out[f"{prefix}.latency_us"] = c.latency_us
            for column, values in c.segments.items():
                for segment, value in values.items():
                    out[f"{prefix}.segment.{column}={segment}"] = value
        return out


def _truth(model_dir: Path) -> npt.NDArray[Any]:
    with np.load(model_dir / "holdout_reference.npz", allow_pickle=False) as npz:
        return np.asarray(npz["y_true"])


def _rows(model_dir: Path) -> list[dict[str, Any]]:
    from liveml.training.evaluate import read_holdout_rows

    return read_holdout_rows(model_dir)


def calibration(
    task: str, y: npt.NDArray[Any], outputs: npt.NDArray[np.float64], bins: int = 10
) -> tuple[float, list[tuple[float, float]]]:
    """Expected calibration error of the predicted probability (binary: the positive class; multiclass:
    the predicted class), over equal-width bins; and the reliability curve (mean predicted, observed)."""
    if task == "binary":
        conf, hit = outputs[:, 1], (y.astype(np.int64) == 1).astype(np.float64)
    else:
        conf = outputs.max(axis=1)
        hit = (outputs.argmax(axis=1) == y.astype(np.int64)).astype(np.float64)
    which = np.minimum((conf * bins).astype(np.int64), bins - 1)
    total, curve = 0.0, []
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            total += in_bin.mean() * abs(hit[in_bin].mean() - conf[in_bin].mean())
            curve.append((round(float(conf[in_bin].mean()), 4), round(float(hit[in_bin].mean()), 4)))
    return float(total), curve


def segment_columns(contract: Contract, chosen: list[str] | None) -> list[str]:
    """``chosen`` checked against the contract, or every categorical / boolean feature with at most
    ``MAX_SEGMENTS`` categories (device, country: groups of players a studio compares)."""
    features = {c.name: c for c in contract.features}
    if chosen:
        unknown = [c for c in chosen if c not in features]
        if unknown:
            raise AdviseError(
                f"--segment {unknown}: not feature columns of the contract ({sorted(features)})"
            )
        return list(chosen)
    return [
        c.name
        for c in contract.features
        if c.type.value == "boolean"
        or (c.type.value == "categorical" and c.categories and len(c.categories) <= MAX_SEGMENTS)
    ]


def _per_segment(
    task: str, y: npt.NDArray[Any], outputs: npt.NDArray[np.float64], rows: list[dict[str, Any]], column: str
) -> dict[str, float]:
    values = np.array([str(r.get(column)) for r in rows], dtype=object)
    out = {}
    for segment in sorted(set(values.tolist())):
        mask = values == segment
        if mask.sum() < MIN_SEGMENT_ROWS:
            continue
        if task == "regression":
            out[segment] = round(float(np.mean(np.abs(y[mask] - outputs[mask].reshape(-1)))), 4)
        else:
            out[segment] = round(float(np.mean(outputs[mask].argmax(axis=1) == y[mask].astype(np.int64))), 4)
    return out


def _latency_us(bundle: ModelBundle, rows: list[dict[str, Any]], as_of: float | None) -> float:
    sample = [{k: r.get(k) for k in bundle.feature_order} for r in rows[:LATENCY_CALLS]] or [{}]
    times = []
    for i in range(LATENCY_CALLS + 20):
        row = sample[i % len(sample)]
        t0 = time.perf_counter()
        bundle.onnx.predict([row], as_of=as_of)
        if i >= 20:  # warm-up first
            times.append((time.perf_counter() - t0) * 1e6)
    return round(statistics.median(times), 1)


def score_candidate(
    version: ModelVersion,
    model_dir: Path,
    *,
    task: str,
    classes: list[str] | None,
    rows: list[dict[str, Any]],
    y: npt.NDArray[Any],
    as_of: float | None,
    columns: list[str],
    estimate: npt.NDArray[np.float64] | None = None,
) -> Candidate:
    """``estimate``: this version's own outputs on ``rows`` from the model it scored on them before
    it was refit on every row (see ``liveml.training.evaluate``); its served model saw these rows."""
    from liveml.training.errors import TrainingError
    from liveml.training.evaluate import champion_outputs
    from liveml.training.metrics import holdout_metrics

    base: dict[str, Any] = {
        "version": version.version,
        "family": version.family,
        "approval": version.approval.value,
        "stage": version.stage.value,
    }
    try:
        bundle = load_model_dir(model_dir)
        outputs = (
            estimate
            if estimate is not None
            else champion_outputs(bundle, rows, task=task, classes=classes, as_of=as_of)
        )
    except (TrainingError, AdviseError) as exc:
        return Candidate(**base, excluded=str(exc))
    metrics = {
        k: round(float(v), 4)
        for k, v in holdout_metrics(task, y, outputs).items()
        if isinstance(v, int | float) and v is not None and k != "n"
    }
    segments = {c: _per_segment(task, y, outputs, rows, c) for c in columns}
    gaps = [max(v.values()) - min(v.values()) for v in segments.values() if len(v) >= 2]
    parity = bundle.manifest.get("parity") or {}
    ece, curve = (None, []) if task == "regression" else calibration(task, y, outputs)
    return Candidate(
        **base,
        metrics=metrics,
        calibration_error=None if ece is None else round(ece, 4),
        calibration_curve=curve,
        latency_us=_latency_us(bundle, rows, as_of),
        onnx_bytes=len(read_artifact(model_dir, bundle.manifest, "model.onnx")),
        on_device=bundle.compact is not None and parity.get("compact_max_abs_diff") is not None,
        segments=segments,
        segment_gap=round(max(gaps), 4) if gaps else None,
    )


def candidates_of(versions: list[ModelVersion], chosen: list[int] | None) -> list[ModelVersion]:
    """``chosen`` versions, or every version not rejected or archived."""
    by_number = {v.version: v for v in versions}
    if chosen:
        missing = [n for n in chosen if n not in by_number]
        if missing:
            raise AdviseError(f"--versions {missing}: not registered (have {sorted(by_number)})")
        return [by_number[n] for n in sorted(set(chosen))]
    return [
        v
        for v in sorted(versions, key=lambda v: v.version)
        if v.approval is not Approval.REJECTED and v.stage is not Stage.ARCHIVED
    ]


def compare(
    model: str,
    versions: dict[ModelVersion, Path] | list[tuple[ModelVersion, Path]],
    *,
    production: int | None = None,
    segments: list[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ModelAdvice:
    """Score each (version, local model directory) on the newest one's holdout and recommend one."""
    from liveml.training.metrics import PRIMARY_METRIC

    pairs = sorted(versions.items() if isinstance(versions, dict) else versions, key=lambda p: p[0].version)
    if not pairs:
        raise AdviseError(f"model {model!r} has no candidate versions to compare")
    if not 0 <= tolerance < 1:
        raise AdviseError(f"--tolerance must be in [0, 1), got {tolerance}")
    newest_version, newest_dir = pairs[-1]
    reference = load_model_dir(newest_dir)
    task, classes = reference.task, reference.classes
    contract = Contract.from_yaml(
        read_artifact(newest_dir, reference.manifest, "contract.yaml").decode(), source=str(newest_dir)
    )
    columns = segment_columns(contract, segments)
    rows, y = _rows(newest_dir), _truth(newest_dir)
    as_of = reference.onnx.pregraph.reference_time
    from liveml.training.evaluate import holdout_estimate

    own = holdout_estimate(newest_dir)  # the holdout is the newest version's: score it honestly
    scored = [
        score_candidate(
            v,
            d,
            task=task,
            classes=classes,
            rows=rows,
            y=y,
            as_of=as_of,
            columns=columns,
            estimate=own if d == newest_dir else None,
        )
        for v, d in pairs
    ]
    primary = PRIMARY_METRIC[task]
    recommended, reasons = recommend(
        scored, primary, tolerance, production, newest_version.version, len(rows)
    )
    return ModelAdvice(
        model=model,
        task=task,
        primary_metric=primary,
        holdout_version=newest_version.version,
        holdout_rows=len(rows),
        tolerance=tolerance,
        segment_columns=columns,
        candidates=scored,
        production=production,
        recommended=recommended,
        reasons=reasons,
    )


def _figure(x: float | None) -> str:
    return "none" if x is None else f"{x:.4f}"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def recommend(
    scored: list[Candidate],
    primary: str,
    tolerance: float,
    production: int | None,
    holdout_version: int,
    holdout_rows: int,
) -> tuple[int | None, list[str]]:
    """The rule in the module's docstring, and the reasons in plain words."""
    eligible = [c for c in scored if c.excluded is None and primary in c.metrics]
    reasons: list[str] = []
    if not eligible:
        return None, [
            "no candidate could be scored on the shared holdout: "
            + "; ".join(f"v{c.version}: {c.excluded}" for c in scored)
        ]
    best = max(c.metrics[primary] for c in eligible)
    equal = [c for c in eligible if c.metrics[primary] >= best - tolerance - 1e-12]

    def key(c: Candidate) -> tuple[Any, ...]:
        gap = math.inf if c.segment_gap is None else round(c.segment_gap, 2)
        ece = math.inf if c.calibration_error is None else round(c.calibration_error, 3)
        return (not c.on_device, gap, ece, c.onnx_bytes, -c.version)

    choice = min(equal, key=key)
    top = max(eligible, key=lambda c: (c.metrics[primary], c.version))
    where = f"on the same {holdout_rows} holdout players (v{holdout_version}'s holdout)"
    if choice.version == top.version:
        reasons.append(f"v{choice.version} has the best {primary}, {choice.metrics[primary]:.4f}, {where}")
    else:
        reasons.append(
            f"v{choice.version}'s {primary} {choice.metrics[primary]:.4f} is within {tolerance:g} of the "
            f"best (v{top.version}, {top.metrics[primary]:.4f}) {where}: players would not tell them apart"
        )
    for other in sorted(equal, key=lambda c: c.version):
        if other is choice:
            continue
        if choice.on_device and not other.on_device:
            reasons.append(f"it also runs on the device (compact model); v{other.version} does not")
        elif key(choice)[1] < key(other)[1]:
            reasons.append(
                f"it treats segments more evenly than v{other.version}: gap "
                f"{_figure(choice.segment_gap)} vs {_figure(other.segment_gap)}"
            )
        elif key(choice)[2] < key(other)[2]:
            reasons.append(
                f"its probabilities are better calibrated than v{other.version}'s "
                f"(calibration error {_figure(choice.calibration_error)} vs "
                f"{_figure(other.calibration_error)})"
            )
        elif choice.onnx_bytes < other.onnx_bytes:
            sizes = f"{_size(choice.onnx_bytes)} vs {_size(other.onnx_bytes)}"
            reasons.append(f"it is smaller than v{other.version} ({sizes})")
        else:
            reasons.append(f"it ties with v{other.version} and is newer")
    for other in sorted(eligible, key=lambda c: c.version):
        if other not in equal:
            reasons.append(
                f"v{other.version} ({other.family}) scores {other.metrics[primary]:.4f}, "
                f"{best - other.metrics[primary]:.4f} below the best"
            )
    for other in scored:
        if other.excluded:
            reasons.append(f"v{other.version} could not be compared: {other.excluded}")
    if choice.segment_gap is not None:
        what = "mean absolute error" if primary == "r2" else "accuracy"
        reasons.append(f"across segments its {what} varies by at most {choice.segment_gap:.4f}")
    if production is not None:
        if production == choice.version:
            reasons.append(f"v{choice.version} already serves in production: keep it")
        else:
            prod = next((c for c in eligible if c.version == production), None)
            if prod is not None:
                reasons.append(
                    f"it would replace production v{production} ({primary} {prod.metrics[primary]:.4f})"
                )
    return choice.version, reasons
